// The K-quant matrix products (Q4_K, Q5_K, Q6_K) of the fast backend: the load-time packing of a
// file's super-blocks into the kernels' layout, the input quantization the decode kernels
// multiply against (ggml's Q8_K: 8-bit values with one scale per 256 inputs), and plain
// TypeScript references of the kernels' arithmetic (matmul_q4k, matmul_q5k, matmul_q6k,
// quantize_q8k in kernels.wat), which the tests hold the kernels to exactly. Q5_K takes Q4_K's
// input layout (Q4K_WINDOW).
//
// Packed layouts (row-major, no rows interleaved: a row's super-blocks are read in order):
//   Q4_K  qs (OC, C/256, 8, 16): per sub-block of 32 codes, byte i = code i | code 16 + i << 4
//         (the file keeps sub-blocks 2c and 2c + 1 in the two nibbles of one 32-byte chunk;
//         one sub-block per 16-byte load lets the kernel scale it right away);
//         meta (OC, C/256, 24): d f32, dmin f32, sc[8] u8, m[8] u8 (the 6-bit codes unpacked).
//   Q5_K  qs as Q4_K's (the codes' low 4 bits); meta (OC, C/256, 56): Q4_K's 24 bytes, then per
//         sub-block a 32-bit word of the codes' fifth bits, placed for the kernel's i16 lanes
//         (packQ5KForward).
//   Q6_K  qs (OC, C/256, 192) the file's ql | qh bytes unchanged;
//         meta (OC, C/256, 20): d f32, the 16 int8 group scales in Q6K_SCALE_ORDER.
// 152, 184 and 212 bytes per 256 weights against the file's 144, 176 and 210 (4.75, 5.75 and
// 6.63 bits a weight).
//
// A super-block's product is integer up to one float step per lane: Q4_K
//   sum_s d sc_s (q_s . x_s) xd - dmin m_s (sum x_s) xd, with x = xd * qx,
// Q6_K sum_g d sc_g ((q_g . x_g) - 32 sum x_g) xd; the integer sums are split over 4 lanes as
// the kernels' vectors hold them (see matmulQ4KForward), each lane meets floats once per
// super-block, and the row's result is (l0 + l1) + (l2 + l3).
import { f16FloatTable } from '../formats/half';
import { kMin, kScale, QK_K, Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES } from '../formats/kquants';

export const QK = QK_K;
/** Bytes per super-block of the packed streams. */
export const Q4K_QS_BYTES = 128;
export const Q4K_META_BYTES = 24;
export const Q5K_META_BYTES = 56;
export const Q6K_QS_BYTES = 192;
export const Q6K_META_BYTES = 20;
/** int16 input sums per 256 inputs (Q4_K uses the first 8: per 32; Q6_K all 16: per 16). */
export const Q8K_SUMS = 16;
/** Half-width S of the input layout's windows: the distance between the two nibbles of a weight byte. */
export const Q4K_WINDOW = 16;
export const Q6K_WINDOW = 64;
/**
 * Q6_K group scales in kernel order: position p holds group Q6K_SCALE_ORDER[p] (bits 0 and 2
 * of the index swapped, its own inverse): step t of matmul_q6k uses positions 2t, 2t + 1.
 */
export const Q6K_SCALE_ORDER: readonly number[] = Array.from({ length: 16 }, (_, g) => swap02(g));

function swap02(g: number): number {
  return (g & 10) | ((g & 1) << 2) | ((g & 4) >> 2);
}

/** Round half to even, as WebAssembly's f32.nearest. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Rows of x (N, C) to Q8_K with the kernel's float32 arithmetic: per 256 inputs
 * d = max|x| / 127, q = nearest-even(x * (1 / d)). C must be a multiple of 256.
 */
export function quantizeQ8KForward(
  q: Int8Array | Int16Array, // (N, C)
  d: Float32Array, // (N, C / 256)
  x: Float32Array, // (N, C)
  N: number,
  C: number,
): void {
  if (C % QK !== 0) throw new RangeError(`Q8_K needs rows that are a multiple of ${QK} wide (got ${C})`);
  const blocks = (N * C) / QK;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    let m = 0;
    for (let i = 0; i < QK; i++) m = Math.max(m, Math.abs(x[base + i]!));
    const s = Math.fround(m / 127);
    const id = s > 0 ? Math.fround(1 / s) : 0;
    d[b] = s;
    for (let i = 0; i < QK; i++) q[base + i] = roundEven(Math.fround(x[base + i]! * id));
  }
}

/**
 * Q8_K values q (N, C) in the layout quantize_q8k writes for window half-width S (16: Q4_K,
 * 64: Q6_K): in each window of 2S inputs, for o = 0, 16, .. S - 16, the 32 int16
 * [256 q[o + 2k], 16 q[S + o + 2k], q[o + 2k + 1], 256 q[S + o + 2k + 1]] (k = 0..7, each
 * bracket 8 values), against the weights' nibbles as i16 at scales 1, 16, 256, 1; and the sums
 * xb (N, C/256, 16): per 32 inputs in order (S = 16, 8 used, the rest 0) or per 16 inputs in
 * Q6K_SCALE_ORDER (S = 64).
 */
export function q8kInputLayout(
  xq: Int16Array, // (N, C)
  xb: Int16Array, // (N, C / 256, 16)
  q: Int8Array | Int16Array, // (N, C)
  N: number,
  C: number,
  S: number,
): void {
  const blocks = (N * C) / QK;
  const scale = [256, 16, 1, 256];
  xb.fill(0, 0, blocks * Q8K_SUMS);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < QK; i++) {
      const v = q[b * QK + i]!;
      const W = i - (i % (2 * S));
      let p = i % (2 * S);
      const hi = p >= S ? 1 : 0;
      if (hi) p -= S;
      const slot = hi + 2 * (p & 1);
      xq[b * QK + W + 2 * (p & ~15) + 8 * slot + ((p & 15) >> 1)] = v * scale[slot]!;
      const g = S === Q6K_WINDOW ? swap02(i >> 4) : i >> 5;
      xb[b * Q8K_SUMS + g] = xb[b * Q8K_SUMS + g]! + v;
    }
  }
}

function checkRows(name: string, src: Uint8Array, blockBytes: number, rows: number, C: number): number {
  if (C % QK !== 0) throw new RangeError(`${name}: rows of ${C} weights are not whole super-blocks of ${QK}`);
  const nb = C / QK;
  if (src.length < rows * nb * blockBytes) throw new RangeError(`${name}: ${rows} rows of ${C} need ${rows * nb * blockBytes} bytes, got ${src.length}`);
  return nb;
}

/** The 8 (sc, m) 6-bit pairs of the 12 scale bytes at src[at] into meta[m..m + 8) and meta[m + 8..m + 16) (kScale, kMin). */
function unpackScales(src: Uint8Array, at: number, meta: Uint8Array, m: number): void {
  for (let s = 0; s < 4; s++) {
    const lo = src[at + s]!;
    const mid = src[at + s + 4]!;
    const hi = src[at + s + 8]!;
    meta[m + s] = lo & 63;
    meta[m + 8 + s] = mid & 63;
    meta[m + 4 + s] = (hi & 15) | ((lo >> 6) << 4);
    meta[m + 12 + s] = (hi >> 4) | ((mid >> 6) << 4);
  }
}

/**
 * A Q4_K / Q5_K super-block's low code bits (the 128 bytes at src[at], ggml's chunks of 64
 * codes: byte i of chunk c holds codes 64c + i and 64c + 32 + i) as one sub-block per 16 bytes
 * (byte i: code i | code 16 + i << 4) at qs[q], four bytes at a time.
 */
function repackNibbles(sv: DataView, at: number, qv: DataView, q: number): void {
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 16; i += 4) {
      const w0 = sv.getUint32(at + 32 * c + i, true);
      const w1 = sv.getUint32(at + 32 * c + 16 + i, true);
      qv.setUint32(q + 32 * c + i, (w0 & 0x0f0f0f0f) | ((w1 & 0x0f0f0f0f) << 4), true);
      qv.setUint32(q + 32 * c + 16 + i, ((w0 >>> 4) & 0x0f0f0f0f) | (w1 & 0xf0f0f0f0), true);
    }
  }
}

function views(...a: Uint8Array[]): DataView[] {
  return a.map((x) => new DataView(x.buffer, x.byteOffset, x.byteLength));
}

/** A Q4_K or Q5_K super-block's factors (they share the layout: d and dmin F16, 12 bytes of 6-bit sc/m) as d f32, dmin f32, sc[8], m[8] at meta[m]. */
function putFactors(src: Uint8Array, at: number, mv: DataView, meta: Uint8Array, m: number, half: Float32Array): void {
  mv.setFloat32(m, half[src[at]! | (src[at + 1]! << 8)]!, true);
  mv.setFloat32(m + 4, half[src[at + 2]! | (src[at + 3]! << 8)]!, true);
  unpackScales(src, at + 4, meta, m + 8);
}

/**
 * Q4_K rows (the file's blocks, src (rows, C/256, 144)) to the kernel's streams: qs (rows,
 * C/256, 8, 16) one sub-block per 16 bytes (byte i: code i | code 16 + i << 4), meta (rows,
 * C/256, 24) = d f32, dmin f32, sc[8], m[8].
 */
export function packQ4KForward(qs: Uint8Array, meta: Uint8Array, src: Uint8Array, rows: number, C: number): void {
  const nb = checkRows('packQ4KForward', src, Q4_K_BLOCK_BYTES, rows, C);
  const half = f16FloatTable();
  const [sv, qv, mv] = views(src, qs, meta);
  for (let b = 0; b < rows * nb; b++) {
    const at = b * Q4_K_BLOCK_BYTES;
    const m = b * Q4K_META_BYTES;
    putFactors(src, at, mv, meta, m, half);
    repackNibbles(sv, at + 16, qv, b * Q4K_QS_BYTES);
  }
}

/**
 * Q5_K rows (src (rows, C/256, 176)) to the kernel's streams: qs (rows, C/256, 8, 16) the codes'
 * low 4 bits as packQ4KForward lays Q4_K's, meta (rows, C/256, 56): d f32, dmin f32, sc[8],
 * m[8], then per sub-block a 32-bit word of the fifth bits: for i16 lane k = 2j + e of the
 * sub-block's 16 qs bytes (codes 2k, 16 + 2k, 2k + 1, 17 + 2k), their bits at 16e + j, 16e + 4 + j,
 * 16e + 8 + j, 16e + 12 + j.
 */
export function packQ5KForward(qs: Uint8Array, meta: Uint8Array, src: Uint8Array, rows: number, C: number): void {
  const nb = checkRows('packQ5KForward', src, Q5_K_BLOCK_BYTES, rows, C);
  const half = f16FloatTable();
  const [sv, qv, mv] = views(src, qs, meta);
  for (let b = 0; b < rows * nb; b++) {
    const at = b * Q5_K_BLOCK_BYTES;
    const m = b * Q5K_META_BYTES;
    putFactors(src, at, mv, meta, m, half);
    repackNibbles(sv, at + 48, qv, b * Q4K_QS_BYTES);
    // The fifth bit of code i of sub-block s is bit s of qh[i] (qh: the 32 bytes from at + 16).
    for (let s = 0; s < 8; s++) {
      let word = 0;
      for (let k = 0; k < 8; k++) {
        const base = 16 * (k & 1) + (k >> 1);
        word |= (((src[at + 16 + 2 * k]! >> s) & 1) << base) | (((src[at + 32 + 2 * k]! >> s) & 1) << (base + 4))
          | (((src[at + 17 + 2 * k]! >> s) & 1) << (base + 8)) | (((src[at + 33 + 2 * k]! >> s) & 1) << (base + 12));
      }
      mv.setUint32(m + 24 + 4 * s, word >>> 0, true);
    }
  }
}

/**
 * Q6_K rows (src (rows, C/256, 210)) to the kernel's streams: qs (rows, C/256, 192) the ql and
 * qh bytes unchanged, meta (rows, C/256, 20) = d f32 and the int8 scales in Q6K_SCALE_ORDER.
 */
export function packQ6KForward(qs: Uint8Array, meta: Uint8Array, src: Uint8Array, rows: number, C: number): void {
  const nb = checkRows('packQ6KForward', src, Q6_K_BLOCK_BYTES, rows, C);
  const half = f16FloatTable();
  const [sv, qv, mv] = views(src, qs, meta);
  for (let b = 0; b < rows * nb; b++) {
    const at = b * Q6_K_BLOCK_BYTES;
    const q = b * Q6K_QS_BYTES;
    for (let i = 0; i < Q6K_QS_BYTES; i += 4) qv.setUint32(q + i, sv.getUint32(at + i, true), true);
    const m = b * Q6K_META_BYTES;
    mv.setFloat32(m, half[src[at + 208]! | (src[at + 209]! << 8)]!, true);
    for (let p = 0; p < 16; p++) meta[m + 4 + p] = src[at + 192 + Q6K_SCALE_ORDER[p]!]!;
  }
}

const sums = new Int32Array(16);
const lanes = new Float64Array(4);
const acc = new Float64Array(4);

/** The row's lanes summed as $hsum does, then the bias as $store adds it (mode STORE). */
function finish(bias: Float32Array | null, o: number): number {
  const f = Math.fround;
  const v = f(f(acc[0]! + acc[1]!) + f(acc[2]! + acc[3]!));
  return bias !== null ? f(v + bias[o]!) : v;
}

/**
 * Reference Q8_K x Q4_K product, the kernel's arithmetic: out (N, OC) = x . W^T + bias with
 * x = xd * q (quantizeQ8KForward) and W the file's Q4_K rows w (OC, C/256, 144). Per super-block,
 * lane j gets isum_j = sum over sub-blocks s of sc_s times the integer dot of the codes i of s
 * with i % 16 in 4j .. 4j + 3, and msum_j = m_2j bs_2j + m_(2j+1) bs_(2j+1) (bs_s: the input
 * sum over sub-block s), then in float32 acc_j = (acc_j + isum_j (d xd)) - msum_j (dmin xd).
 */
export function matmulQ4KForward(
  out: Float32Array, // (N, OC)
  q: Int8Array | Int16Array, // (N, C)
  xd: Float32Array, // (N, C / 256)
  w: Uint8Array, // (OC, C / 256, 144)
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  // Code i (0..31) of sub-block s: nibble s & 1 of byte i of chunk s >> 1 (qs from byte 16).
  scaleMinForward(out, q, xd, w, bias, N, C, OC, Q4_K_BLOCK_BYTES, (at, s, i) => (w[at + 16 + 32 * (s >> 1) + i]! >> (4 * (s & 1))) & 15);
}

/** As matmulQ4KForward for the file's Q5_K rows w (OC, C/256, 176) (matmul_q5k): codes of 5 bits, the same sums. */
export function matmulQ5KForward(
  out: Float32Array, // (N, OC)
  q: Int8Array | Int16Array, // (N, C)
  xd: Float32Array, // (N, C / 256)
  w: Uint8Array, // (OC, C / 256, 176)
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  // The low 4 bits as Q4_K's (qs from byte 48), the fifth bit s of qh[i] (qh from byte 16).
  scaleMinForward(out, q, xd, w, bias, N, C, OC, Q5_K_BLOCK_BYTES,
    (at, s, i) => ((w[at + 48 + 32 * (s >> 1) + i]! >> (4 * (s & 1))) & 15) | (((w[at + 16 + i]! >> s) & 1) << 4));
}

function scaleMinForward(
  out: Float32Array, q: Int8Array | Int16Array, xd: Float32Array, w: Uint8Array, bias: Float32Array | null,
  N: number, C: number, OC: number, blockBytes: number, code: (at: number, s: number, i: number) => number,
): void {
  const f = Math.fround;
  const half = f16FloatTable();
  const nb = C / QK;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      acc.fill(0);
      for (let b = 0; b < nb; b++) {
        const at = (o * nb + b) * blockBytes;
        const x0 = n * C + b * QK;
        lanes.fill(0);
        for (let s = 0; s < 8; s++) {
          const sc = kScale(w, at + 4, s);
          let t = 0;
          for (let i = 0; i < 32; i++) {
            const v = q[x0 + 32 * s + i]!;
            lanes[(i & 15) >> 2] += sc * code(at, s, i) * v;
            t += v;
          }
          sums[s] = t;
        }
        const xs = xd[n * nb + b]!;
        const dx = f(half[w[at]! | (w[at + 1]! << 8)]! * xs);
        const mx = f(half[w[at + 2]! | (w[at + 3]! << 8)]! * xs);
        for (let j = 0; j < 4; j++) {
          const isum = lanes[j]!;
          const msum = kMin(w, at + 4, 2 * j) * sums[2 * j]! + kMin(w, at + 4, 2 * j + 1) * sums[2 * j + 1]!;
          acc[j] = f(f(acc[j]! + f(f(isum) * dx)) - f(f(msum) * mx));
        }
      }
      out[n * OC + o] = finish(bias, o);
    }
  }
}

/** The 6-bit code (0..63) of weight i (0..255) of the Q6_K super-block at w[at]. */
function q6At(w: Uint8Array, at: number, i: number): number {
  const h = i >> 7;
  const k = (i >> 5) & 3;
  const l = i & 31;
  const byte = w[at + 64 * h + l + (k & 1) * 32]!;
  return (k < 2 ? byte & 15 : byte >> 4) | (((w[at + 128 + 32 * h + l]! >> (2 * k)) & 3) << 4);
}

/**
 * Reference Q8_K x Q6_K product, the kernel's arithmetic: out (N, OC) = x . W^T + bias with W
 * the file's Q6_K rows w (OC, C/256, 210). Per super-block, lane j gets t_j = sum over groups g
 * of sc_g times the integer dot of the codes (0..63) i of g with i % 16 in 4j .. 4j + 3, less
 * 32 sum of sc_g bs_g (bs_g: the input sum over group g) over the groups at positions 2j,
 * 2j + 1, 8 + 2j, 9 + 2j of Q6K_SCALE_ORDER; then in float32 acc_j = acc_j + f32(t_j) (d xd).
 */
export function matmulQ6KForward(
  out: Float32Array, // (N, OC)
  q: Int8Array | Int16Array, // (N, C)
  xd: Float32Array, // (N, C / 256)
  w: Uint8Array, // (OC, C / 256, 210)
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  const f = Math.fround;
  const half = f16FloatTable();
  const nb = C / QK;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      acc.fill(0);
      for (let b = 0; b < nb; b++) {
        const at = (o * nb + b) * Q6_K_BLOCK_BYTES;
        const x0 = n * C + b * QK;
        lanes.fill(0);
        const sc = (g: number): number => (w[at + 192 + g]! << 24) >> 24;
        for (let g = 0; g < 16; g++) {
          let t = 0;
          for (let i = 0; i < 16; i++) {
            const v = q[x0 + 16 * g + i]!;
            lanes[i >> 2] += sc(g) * q6At(w, at, 16 * g + i) * v;
            t += v;
          }
          sums[g] = t;
        }
        const dx = f(half[w[at + 208]! | (w[at + 209]! << 8)]! * xd[n * nb + b]!);
        for (let j = 0; j < 4; j++) {
          let corr = 0;
          for (const p of [2 * j, 2 * j + 1, 8 + 2 * j, 9 + 2 * j]) corr += sc(Q6K_SCALE_ORDER[p]!) * sums[Q6K_SCALE_ORDER[p]!]!;
          acc[j] = f(acc[j]! + f(f(lanes[j]! - 32 * corr) * dx));
        }
      }
      out[n * OC + o] = finish(bias, o);
    }
  }
}
