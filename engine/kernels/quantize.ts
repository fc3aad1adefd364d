// Lower-precision weights: F16 and Q8_0 (llama.cpp's 8-bit format: blocks of 32 int8 values
// with one f32 scale = max|x| / 127). Also the plain TypeScript references of the quantized
// matrix products that the WebAssembly kernels are tested against.
import { f16FloatTable, f32ToF16, f16ToF32 } from '../formats/half';

export const Q8_BLOCK = 32;

/** Round half to even, as WebAssembly's f32.nearest. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Rows of x (N, C) to Q8_0 with the same float32 arithmetic as the kernels: d = max|x| / qmax,
 * q = nearest-even(x * (1 / d)) in [-qmax, qmax]; qmax 127 (Q8_0), or 63 for the 7-bit input of
 * the relaxed-SIMD tiles (quantize_q8_7). C must be a multiple of 32.
 */
export function quantizeQ8Forward(
  q: Int8Array | Int16Array, // (N, C)
  scales: Float32Array, // (N, C / 32)
  x: Float32Array, // (N, C)
  N: number,
  C: number,
  qmax = 127,
): void {
  if (C % Q8_BLOCK !== 0) throw new RangeError(`Q8_0 needs rows that are a multiple of ${Q8_BLOCK} wide (got ${C})`);
  const blocks = (N * C) / Q8_BLOCK;
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_BLOCK;
    let m = 0;
    for (let i = 0; i < Q8_BLOCK; i++) m = Math.max(m, Math.abs(x[base + i]!));
    const d = Math.fround(m / qmax);
    const id = d > 0 ? Math.fround(1 / d) : 0;
    scales[b] = d;
    for (let i = 0; i < Q8_BLOCK; i++) q[base + i] = roundEven(Math.fround(x[base + i]! * id));
  }
}

/**
 * Where quantize_q8_7 puts input (n, k) of a row C wide: rows in groups of 4, each group's columns
 * in steps of 4 with the 4 rows' 4 bytes side by side ((N/4, C/4, 4, 4)).
 */
export function q7TiledIndex(n: number, k: number, C: number): number {
  return (n >> 2) * 4 * C + (k >> 2) * 16 + (n & 3) * 4 + (k & 3);
}

/** Rows in one interleaved group of the packed Q8_0 layout (packQ8Forward). */
export const Q8_PACK_ROWS = 4;

/**
 * Row-major Q8_0 weights q (OC, C) with scales s (OC, C/32) to the layout the decode kernel
 * streams: groups of 4 rows, and in each group block by block the 4 rows' 32 values side by
 * side, wp (ceil(OC/4), C/32, 4, 32) with scales sp (ceil(OC/4), C/32, 4). The rows that fill
 * the last group are zero. One pass over a group reads its bytes in order, once.
 */
export function packQ8Forward(
  wp: Int8Array, // (ceil(OC / 4), C / 32, 4, 32)
  sp: Float32Array, // (ceil(OC / 4), C / 32, 4)
  q: Int8Array, // (OC, C)
  s: Float32Array, // (OC, C / 32)
  OC: number,
  C: number,
): void {
  const nb = C / Q8_BLOCK;
  const groups = Math.ceil(OC / Q8_PACK_ROWS);
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < nb; b++) {
      for (let r = 0; r < Q8_PACK_ROWS; r++) {
        const o = g * Q8_PACK_ROWS + r;
        const tile = (g * nb + b) * Q8_PACK_ROWS + r;
        if (o < OC) {
          wp.set(q.subarray(o * C + b * Q8_BLOCK, o * C + (b + 1) * Q8_BLOCK), tile * Q8_BLOCK);
          sp[tile] = s[o * nb + b]!;
        } else {
          wp.fill(0, tile * Q8_BLOCK, (tile + 1) * Q8_BLOCK);
          sp[tile] = 0;
        }
      }
    }
  }
}

/** The GGUF block formats whose weights are Q8_0 integers under the block's own scale: packed without rounding. */
export type Q8ExactBlocks = 'Q8_0' | 'Q4_0' | 'Q5_0';

const EXACT_BLOCK_BYTES: Record<Q8ExactBlocks, number> = { Q8_0: 34, Q4_0: 18, Q5_0: 22 };

/**
 * Rows of a GGUF Q8_0, Q4_0 or Q5_0 matrix (OC, C), its blocks as the file holds them, straight
 * into packQ8Forward's layout: the same scale (F16 widened), and as integers the int8 values,
 * Q4_0's nibbles minus 8 or Q5_0's 5-bit codes minus 16, so the packed weights equal the file's
 * exactly. One pass, no allocation (loading a 0.5B model packs ~150M weights this way).
 */
export function packQ8FromBlocks(
  wp: Int8Array, // (ceil(OC / 4), C / 32, 4, 32)
  sp: Float32Array, // (ceil(OC / 4), C / 32, 4)
  blocks: Uint8Array, // (OC, C / 32) blocks of the format
  format: Q8ExactBlocks,
  OC: number,
  C: number,
): void {
  const nb = C / Q8_BLOCK;
  const bb = EXACT_BLOCK_BYTES[format];
  const half = f16FloatTable();
  const groups = Math.ceil(OC / Q8_PACK_ROWS);
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < nb; b++) {
      for (let r = 0; r < Q8_PACK_ROWS; r++) {
        const o = g * Q8_PACK_ROWS + r;
        const tile = (g * nb + b) * Q8_PACK_ROWS + r;
        const dst = tile * Q8_BLOCK;
        if (o >= OC) {
          wp.fill(0, dst, dst + Q8_BLOCK);
          sp[tile] = 0;
          continue;
        }
        const at = (o * nb + b) * bb;
        sp[tile] = half[blocks[at]! | (blocks[at + 1]! << 8)]!;
        if (format === 'Q8_0') {
          for (let i = 0; i < Q8_BLOCK; i++) wp[dst + i] = (blocks[at + 2 + i]! << 24) >> 24;
        } else if (format === 'Q4_0') {
          for (let i = 0; i < 16; i++) {
            const v = blocks[at + 2 + i]!;
            wp[dst + i] = (v & 15) - 8;
            wp[dst + 16 + i] = (v >>> 4) - 8;
          }
        } else {
          const qh = (blocks[at + 2]! | (blocks[at + 3]! << 8) | (blocks[at + 4]! << 16) | (blocks[at + 5]! << 24)) >>> 0;
          for (let i = 0; i < 16; i++) {
            const v = blocks[at + 6 + i]!;
            wp[dst + i] = ((v & 15) | (((qh >>> i) & 1) << 4)) - 16;
            wp[dst + 16 + i] = ((v >>> 4) | (((qh >>> (i + 16)) & 1) << 4)) - 16;
          }
        }
      }
    }
  }
}

/**
 * Rows quantized by quantizeQ8Forward (q, s) in the layout the decode kernel multiplies
 * (quantize_q8 writes it): in each 16 values the 8 even-indexed ones, then the 8 odd-indexed
 * ones times 256 (the kernel reads int8 weights as i16 pairs and shifts instead of widening,
 * which scales its dots by 256); scales d / 256 undo that.
 */
export function q8InputLayout(
  xq: Int16Array, // (N, C)
  xs: Float32Array, // (N, C / 32)
  q: Int16Array | Int8Array, // (N, C)
  s: Float32Array, // (N, C / 32)
  N: number,
  C: number,
): void {
  for (let c = 0; c < N * C; c += 16) {
    for (let k = 0; k < 8; k++) {
      xq[c + k] = q[c + 2 * k]!;
      xq[c + 8 + k] = q[c + 2 * k + 1]! * 256;
    }
  }
  for (let b = 0; b < (N * C) / Q8_BLOCK; b++) xs[b] = s[b]! / 256;
}

export function dequantizeQ8(out: Float32Array, q: Int8Array, scales: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = q[i]! * scales[Math.floor(i / Q8_BLOCK)]!;
}

export function toF16(w: Float32Array): Uint16Array {
  const out = new Uint16Array(w.length);
  f32ToF16(out, w);
  return out;
}

export function fromF16(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  f16ToF32(out, h);
  return out;
}

/**
 * Reference Q8_0 x Q8_0 product: out (N, OC) = sum over blocks of ws * xs * (integer dot) + bias.
 * Integer block sums are exact; the scaling follows the kernel's order.
 */
export function matmulQ8Forward(
  out: Float32Array, // (N, OC)
  xq: Int16Array | Int8Array, // (N, C)
  xs: Float32Array, // (N, C / 32)
  wq: Int8Array, // (OC, C)
  ws: Float32Array, // (OC, C / 32)
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  const nb = C / Q8_BLOCK;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        let d = 0;
        const xi = n * C + b * Q8_BLOCK;
        const wi = o * C + b * Q8_BLOCK;
        for (let i = 0; i < Q8_BLOCK; i++) d += xq[xi + i]! * wq[wi + i]!;
        acc += d * Math.fround(ws[o * nb + b]! * xs[n * nb + b]!);
      }
      out[n * OC + o] = acc + (bias !== null ? bias[o]! : 0);
    }
  }
}
