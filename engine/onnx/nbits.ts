// A file's quantized blocks as onnxruntime's MatMulNBits weights (com.microsoft, onnxruntime
// 1.30), with no rounding of any weight. MatMulNBits computes with w = scale * (u - zp) per block
// of `block` weights along K, u unsigned `bits`-bit codes packed low nibble first, and with no
// zero-point input zp = 2^(bits - 1) (8 or 128). Its CPU kernel packs 4-bit and 8-bit blocks of
// 16 or 32 for its int8 path (accuracy_level 4); a float zero point sends it to a path that
// dequantizes the whole matrix on every call, so a format with a per-block minimum keeps the
// default zero point and carries an offset per 32-weight block instead:
//   w = scale * (u - zp) + offset,  y = MatMulNBits(x) + blockSums(x) . offsets^T
// (export.ts adds the second term; it is 1/32 of the multiply-adds of the first).
//   format  bits block  scale      u                       offset
//   Q8_0     8    32    d          q + 128                 -
//   Q4_0     4    32    d          q (zp 8: q - 8)         -
//   Q4_1     4    32    d          q                       8d + m
//   Q5_0     8    32    d          q + 112 (q - 16)        -
//   Q5_1     8    32    d          q + 128                 m
//   Q4_K     4    32    d * sc     q                       8 d sc - dmin m
//   Q5_K     8    32    d * sc     q + 128                 -dmin m
//   Q6_K     8    16    d * sc     q + 96  (q - 32)        -
// The scales are ggml's factors exactly (d * sc is exact in float32, see formats/kquants.ts), so
// every scale * (u - zp) equals ggml's product; an offset is one float32 rounding of its sum
// where ggml rounds d sc q - dmin m per weight. The block layouts are the formats' own headers.
// MatMulNBits has no 5- or 6-bit codes, so Q5_0, Q5_1, Q5_K and Q6_K take 8 bits a weight (plus a
// float32 scale per block): 1.13-1.25 bytes a weight against 0.69-0.82 in the file, the price of
// running them exactly (Qwen2.5-0.5B's Q4_K_M file, mostly Q5_0 and Q6_K: 398 MB, exported 543 MB).
import type { WeightType } from '../formats/formats';
import { f16FloatTable } from '../formats/half';
import { kMin, kScale } from '../formats/kquants';

export interface NBitsLayout {
  bits: 4 | 8;
  /** Weights per MatMulNBits block (one scale each). */
  block: 16 | 32;
  /** Whether each 32-weight block adds an offset. */
  offsets: boolean;
}

/** Weights per offset. */
export const OFFSET_BLOCK = 32;

const LAYOUTS: Partial<Record<WeightType, NBitsLayout>> = {
  Q8_0: { bits: 8, block: 32, offsets: false },
  Q4_0: { bits: 4, block: 32, offsets: false },
  Q4_1: { bits: 4, block: 32, offsets: true },
  Q5_0: { bits: 8, block: 32, offsets: false },
  Q5_1: { bits: 8, block: 32, offsets: true },
  Q4_K: { bits: 4, block: 32, offsets: true },
  Q5_K: { bits: 8, block: 32, offsets: true },
  Q6_K: { bits: 8, block: 16, offsets: false },
};

/** The MatMulNBits form of a stored format, or null for the float formats (F32, F16, BF16). */
export function nbitsLayout(type: WeightType): NBitsLayout | null {
  return LAYOUTS[type] ?? null;
}

/** Whether the ONNX export runs a stored format: float formats as float32, the rest as MatMulNBits. */
export function onnxRunsFormat(type: WeightType): boolean {
  return type === 'F32' || type === 'F16' || type === 'BF16' || LAYOUTS[type] !== undefined;
}

export interface NBitsWeights {
  b: Uint8Array; // (rows, cols / block, block * bits / 8)
  scales: Float32Array; // (rows, cols / block)
  offsets: Float32Array | null; // (rows, cols / 32)
}

/** Bytes of the B input for rows x cols weights. */
export function nbitsBytes(layout: NBitsLayout, rows: number, cols: number): number {
  return (rows * cols * layout.bits) / 8;
}

/** Writes the 32 codes in u (0..15) as 16 bytes at b[at], low nibble first. */
function packNibbles(u: Uint8Array, b: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) b[at + i] = u[2 * i]! | (u[2 * i + 1]! << 4);
}

const codes = new Uint8Array(256);

/**
 * The MatMulNBits weights of whole blocks of `type` (rows of the matrix in order; the output
 * arrays are written at the positions of the first block, so parts convert into one group).
 * src: blocks in the file's layout -> out.b / out.scales / out.offsets from element `at` (in weights).
 */
export function toNBits(type: WeightType, src: Uint8Array, out: NBitsWeights, at: number): void {
  const half = f16FloatTable();
  const { b, scales, offsets } = out;
  const h16 = (o: number): number => half[src[o]! | (src[o + 1]! << 8)]!;
  switch (type) {
    case 'Q8_0':
      for (let o = 0, x = at; o < src.length; o += 34, x += 32) {
        scales[x / 32] = h16(o);
        for (let j = 0; j < 32; j++) b[x + j] = src[o + 2 + j]! ^ 0x80; // int8 q -> q + 128
      }
      return;
    case 'Q4_0':
    case 'Q4_1': {
      const bytes = type === 'Q4_0' ? 18 : 20;
      const qs = type === 'Q4_0' ? 2 : 4;
      for (let o = 0, x = at; o < src.length; o += bytes, x += 32) {
        const d = h16(o);
        scales[x / 32] = d;
        if (offsets) offsets[x / 32] = Math.fround(8 * d + h16(o + 2));
        for (let j = 0; j < 16; j++) {
          codes[j] = src[o + qs + j]! & 15;
          codes[j + 16] = src[o + qs + j]! >>> 4;
        }
        packNibbles(codes, b, x / 2);
      }
      return;
    }
    case 'Q5_0':
    case 'Q5_1': {
      const bytes = type === 'Q5_0' ? 22 : 24;
      const qhAt = type === 'Q5_0' ? 2 : 4;
      const bias = type === 'Q5_0' ? 112 : 128;
      for (let o = 0, x = at; o < src.length; o += bytes, x += 32) {
        scales[x / 32] = h16(o);
        if (offsets) offsets[x / 32] = h16(o + 2);
        const qh = (src[o + qhAt]! | (src[o + qhAt + 1]! << 8) | (src[o + qhAt + 2]! << 16) | (src[o + qhAt + 3]! << 24)) >>> 0;
        const qs = o + qhAt + 4;
        for (let j = 0; j < 16; j++) {
          b[x + j] = ((src[qs + j]! & 15) | (((qh >>> j) & 1) << 4)) + bias;
          b[x + 16 + j] = ((src[qs + j]! >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) + bias;
        }
      }
      return;
    }
    case 'Q4_K':
    case 'Q5_K': {
      const five = type === 'Q5_K';
      const bytes = five ? 176 : 144;
      for (let o = 0, x = at; o < src.length; o += bytes, x += 256) {
        const d = h16(o);
        const dmin = h16(o + 2);
        for (let s = 0; s < 8; s++) {
          const ds = Math.fround(d * kScale(src, o + 4, s));
          const dm = Math.fround(dmin * kMin(src, o + 4, s));
          const blk = x / 32 + s;
          scales[blk] = ds;
          // Chunk s >> 1 of 32 bytes holds sub-block s in its low (even s) or high (odd s) nibbles.
          const qs = o + (five ? 48 : 16) + 32 * (s >>> 1);
          const shift = 4 * (s & 1);
          if (five) {
            offsets![blk] = -dm;
            for (let l = 0; l < 32; l++) b[x + 32 * s + l] = (((src[qs + l]! >>> shift) & 15) | (((src[o + 16 + l]! >>> s) & 1) << 4)) + 128;
          } else {
            offsets![blk] = Math.fround(8 * ds - dm);
            for (let l = 0; l < 32; l++) codes[l] = (src[qs + l]! >>> shift) & 15;
            packNibbles(codes, b, (x + 32 * s) / 2);
          }
        }
      }
      return;
    }
    case 'Q6_K':
      for (let o = 0, x = at; o < src.length; o += 210, x += 256) {
        const d = h16(o + 208);
        for (let g = 0; g < 16; g++) scales[x / 16 + g] = d * ((src[o + 192 + g]! << 24) >> 24);
        for (let h = 0; h < 2; h++) {
          const ql = o + 64 * h;
          const qh = o + 128 + 32 * h;
          const y = x + 128 * h;
          for (let l = 0; l < 32; l++) {
            const hb = src[qh + l]!;
            // q - 32 + 128: the code under MatMulNBits' zero point 128.
            b[y + l] = ((src[ql + l]! & 15) | ((hb & 3) << 4)) + 96;
            b[y + l + 32] = ((src[ql + l + 32]! & 15) | ((hb & 12) << 2)) + 96;
            b[y + l + 64] = ((src[ql + l]! >>> 4) | (hb & 48)) + 96;
            b[y + l + 96] = ((src[ql + l + 32]! >>> 4) | ((hb & 192) >>> 2)) + 96;
          }
        }
      }
      return;
    default:
      throw new RangeError(`${type} has no MatMulNBits form; float formats are exported as float32`);
  }
}
