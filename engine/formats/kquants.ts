// The K-quants Q4_K, Q5_K and Q6_K: ggml's super-blocks of 256 weights (QK_K).
//
// Q4_K and Q5_K cut the super-block into 8 sub-blocks of 32 weights; sub-block s has a 6-bit
// scale sc[s] and a 6-bit min m[s], and weight = d * sc[s] * q - dmin * m[s], where d and dmin
// are the super-block's F16 factors and q is 4 bits (Q4_K) or 5 bits (Q5_K).
//   Q4_K, 144 bytes: d (0..1), dmin (2..3), scales (4..15), qs (16..143)
//   Q5_K, 176 bytes: d (0..1), dmin (2..3), scales (4..15), qh (16..47), qs (48..175)
// The 12 scale bytes hold the 8 (sc, m) pairs, 6 bits each:
//   s = 0..3: sc = bytes[s] & 63,                      m = bytes[s + 4] & 63
//   s = 4..7: sc = bytes[s + 4] & 15 | (bytes[s - 4] >> 6) << 4,
//             m  = bytes[s + 4] >> 4 | (bytes[s] >> 6) << 4
// (the top two bits of sc[4..7] ride in bytes 0..3, those of m[4..7] in bytes 4..7).
// qs runs in 4 chunks of 32 bytes, one per 64 weights: in chunk c, byte l's low nibble is weight
// 64c + l (sub-block 2c) and its high nibble weight 64c + 32 + l (sub-block 2c + 1).
// Q5_K's fifth bit of those two weights is bit 2c (low nibble's) and bit 2c + 1 (high nibble's)
// of qh[l], so q = nibble + 16 * bit.
//
// Q6_K, 210 bytes: ql (0..127), qh (128..191), scales (192..207, int8), d (208..209, F16).
// 16 groups of 16 weights, group g has the int8 scale scales[g]; weight = d * scales[g] * (q - 32)
// with q 6 bits. The super-block runs in 2 halves of 128 weights, half h reading ql from byte
// 64h and qh from byte 128 + 32h; within a half, for l = 0..31, with ql[.] and qh[.] relative
// to those starts:
//   weight l      : low nibble of ql[l]      | bits 0-1 of qh[l] << 4
//   weight l + 32 : low nibble of ql[l + 32] | bits 2-3 of qh[l] << 4
//   weight l + 64 : high nibble of ql[l]     | bits 4-5 of qh[l] << 4
//   weight l + 96 : high nibble of ql[l + 32]| bits 6-7 of qh[l] << 4
//
// Arithmetic gives ggml's float32 results bit for bit: d * sc and dmin * m are exact in float32
// (an 11-bit F16 significand times a 6- or 8-bit code), and so is d * sc * q for Q4_K / Q5_K (at
// most 22 bits), so their one rounding is the final subtraction, done when the value is stored;
// Q6_K's d * sc * (q - 32) is rounded once, also on the store. (Checked against llama.cpp's
// dequantize_row_* in test/unit/weightFormats.test.ts.)

import { f16FloatTable, f32ToF16Scalar } from './half';
import { checkDequantizeArgs, checkQuantizeArgs } from './blocks';

export const QK_K = 256;
export const Q4_K_BLOCK_BYTES = 144;
export const Q5_K_BLOCK_BYTES = 176;
export const Q6_K_BLOCK_BYTES = 210;

/** 6-bit scale of sub-block s (0..7) from the 12 packed scale bytes starting at bytes[at]. */
export function kScale(bytes: Uint8Array, at: number, s: number): number {
  return s < 4 ? bytes[at + s] & 63 : (bytes[at + s + 4] & 15) | ((bytes[at + s - 4] >>> 6) << 4);
}

/** 6-bit min of sub-block s (0..7) from the 12 packed scale bytes starting at bytes[at]. */
export function kMin(bytes: Uint8Array, at: number, s: number): number {
  return s < 4 ? bytes[at + s + 4] & 63 : (bytes[at + s + 4] >>> 4) | ((bytes[at + s] >>> 6) << 4);
}

/** Writes 8 (sc, m) pairs of 6 bits each into 12 bytes at bytes[at] (the inverse of kScale / kMin). */
function packScales(bytes: Uint8Array, at: number, sc: Uint8Array, m: Uint8Array): void {
  for (let s = 0; s < 4; s++) {
    bytes[at + s] = (sc[s] & 63) | ((sc[s + 4] >>> 4) << 6);
    bytes[at + s + 4] = (m[s] & 63) | ((m[s + 4] >>> 4) << 6);
    bytes[at + s + 8] = (sc[s + 4] & 15) | ((m[s + 4] & 15) << 4);
  }
}

/** Weights of whole Q4_K super-blocks. src: (blocks * 144) bytes -> dst: (blocks * 256) */
export function dequantizeQ4_K(src: Uint8Array, dst: Float32Array): void {
  const blocks = checkDequantizeArgs('Q4_K', src, dst, QK_K, Q4_K_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let blk = 0, o = 0, y = 0; blk < blocks; blk++, o += Q4_K_BLOCK_BYTES) {
    const d = half[src[o] | (src[o + 1] << 8)];
    const dmin = half[src[o + 2] | (src[o + 3] << 8)];
    for (let c = 0; c < 4; c++, y += 64) {
      const d1 = d * kScale(src, o + 4, 2 * c);
      const m1 = dmin * kMin(src, o + 4, 2 * c);
      const d2 = d * kScale(src, o + 4, 2 * c + 1);
      const m2 = dmin * kMin(src, o + 4, 2 * c + 1);
      const qs = o + 16 + 32 * c;
      for (let l = 0; l < 32; l++) {
        const v = src[qs + l];
        dst[y + l] = d1 * (v & 15) - m1;
        dst[y + 32 + l] = d2 * (v >>> 4) - m2;
      }
    }
  }
}

/** Weights of whole Q5_K super-blocks. src: (blocks * 176) bytes -> dst: (blocks * 256) */
export function dequantizeQ5_K(src: Uint8Array, dst: Float32Array): void {
  const blocks = checkDequantizeArgs('Q5_K', src, dst, QK_K, Q5_K_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let blk = 0, o = 0, y = 0; blk < blocks; blk++, o += Q5_K_BLOCK_BYTES) {
    const d = half[src[o] | (src[o + 1] << 8)];
    const dmin = half[src[o + 2] | (src[o + 3] << 8)];
    const qh = o + 16;
    for (let c = 0; c < 4; c++, y += 64) {
      const d1 = d * kScale(src, o + 4, 2 * c);
      const m1 = dmin * kMin(src, o + 4, 2 * c);
      const d2 = d * kScale(src, o + 4, 2 * c + 1);
      const m2 = dmin * kMin(src, o + 4, 2 * c + 1);
      const qs = o + 48 + 32 * c;
      const shift = 2 * c;
      for (let l = 0; l < 32; l++) {
        const v = src[qs + l];
        const h = src[qh + l] >>> shift; // bit 0: the low nibble's fifth bit, bit 1: the high nibble's
        dst[y + l] = d1 * ((v & 15) | ((h & 1) << 4)) - m1;
        dst[y + 32 + l] = d2 * ((v >>> 4) | ((h & 2) << 3)) - m2;
      }
    }
  }
}

/** Weights of whole Q6_K super-blocks. src: (blocks * 210) bytes -> dst: (blocks * 256) */
export function dequantizeQ6_K(src: Uint8Array, dst: Float32Array): void {
  const blocks = checkDequantizeArgs('Q6_K', src, dst, QK_K, Q6_K_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let blk = 0, o = 0, y = 0; blk < blocks; blk++, o += Q6_K_BLOCK_BYTES) {
    const d = half[src[o + 208] | (src[o + 209] << 8)];
    const sc = o + 192;
    for (let h = 0; h < 2; h++, y += 128) {
      const ql = o + 64 * h;
      const qh = o + 128 + 32 * h;
      for (let g = 0; g < 2; g++) {
        // Groups 8h + g, +2, +4, +6 cover weights 16g.., 32 + 16g.., 64 + 16g.., 96 + 16g.. of this half.
        const s = sc + 8 * h + g;
        const d0 = d * ((src[s] << 24) >> 24);
        const d1 = d * ((src[s + 2] << 24) >> 24);
        const d2 = d * ((src[s + 4] << 24) >> 24);
        const d3 = d * ((src[s + 6] << 24) >> 24);
        for (let l = 16 * g; l < 16 * g + 16; l++) {
          const lo = src[ql + l];
          const hi = src[ql + l + 32];
          const b = src[qh + l];
          dst[y + l] = d0 * (((lo & 15) | ((b & 3) << 4)) - 32);
          dst[y + l + 32] = d1 * (((hi & 15) | ((b & 12) << 2)) - 32);
          dst[y + l + 64] = d2 * (((lo >>> 4) | (b & 48)) - 32);
          dst[y + l + 96] = d3 * (((hi >>> 4) | ((b & 192) >>> 2)) - 32);
        }
      }
    }
  }
}

// ---- Reference quantizers (for writing test model files) ----
//
// Q4_K / Q5_K: each sub-block's range [min(0, lo), hi] gives its scale (hi - lo') / nmax and its
// min -lo' >= 0; d and dmin are the largest of those over the super-block divided by 63, so the
// largest 6-bit code is 63 and the others use the range in proportion. The levels q are then
// chosen against the scales as stored (F16 d and dmin, 6-bit codes), so rounding the scales moves
// the grid but adds no bias. Q6_K: each group's signed scale maps its value of largest magnitude
// to -32; d maps the group scale of largest magnitude to -128, the int8 codes' full range.

const subScale = new Float32Array(8);
const subMin = new Float32Array(8);
const scCode = new Uint8Array(8);
const mCode = new Uint8Array(8);
const levels = new Uint8Array(QK_K);

/** Chooses scales and levels of one Q4_K / Q5_K super-block at src[x..x+255]; writes d, dmin and the scale bytes at dst[o..o+15], levels into `levels`. */
function quantizeScaleMinBlock(src: Float32Array, x: number, nmax: number, dst: Uint8Array, o: number): void {
  const half = f16FloatTable();
  let maxScale = 0;
  let maxMin = 0;
  for (let s = 0; s < 8; s++) {
    let lo = 0; // the min is stored as a non-negative offset subtracted, so the range always reaches down to 0
    let hi = -Infinity;
    for (let l = 0; l < 32; l++) {
      const v = src[x + 32 * s + l];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    subScale[s] = (hi - lo) / nmax;
    subMin[s] = -lo;
    if (subScale[s] > maxScale) maxScale = subScale[s];
    if (subMin[s] > maxMin) maxMin = subMin[s];
  }
  const dh = f32ToF16Scalar(maxScale / 63);
  const mh = f32ToF16Scalar(maxMin / 63);
  const d = half[dh];
  const dmin = half[mh];
  const id = d > 0 && Number.isFinite(d) ? 1 / d : 0;
  const imin = dmin > 0 && Number.isFinite(dmin) ? 1 / dmin : 0;
  for (let s = 0; s < 8; s++) {
    scCode[s] = Math.min(63, Math.round(subScale[s] * id));
    mCode[s] = Math.min(63, Math.round(subMin[s] * imin));
  }
  dst[o] = dh & 0xff;
  dst[o + 1] = dh >>> 8;
  dst[o + 2] = mh & 0xff;
  dst[o + 3] = mh >>> 8;
  packScales(dst, o + 4, scCode, mCode);
  for (let s = 0; s < 8; s++) {
    const ds = d * scCode[s]; // exact in float32, as the dequantizer computes it
    const dm = dmin * mCode[s];
    const ids = ds > 0 ? 1 / ds : 0;
    for (let l = 0; l < 32; l++) {
      const q = Math.round((src[x + 32 * s + l] + dm) * ids);
      levels[32 * s + l] = q < 0 ? 0 : q > nmax ? nmax : q;
    }
  }
}

/** Q4_K super-blocks of src. src: (blocks * 256) -> dst: (blocks * 144) bytes */
export function quantizeQ4_K(src: Float32Array, dst: Uint8Array): void {
  const blocks = checkQuantizeArgs('Q4_K', src, dst, QK_K, Q4_K_BLOCK_BYTES);
  for (let blk = 0, o = 0, x = 0; blk < blocks; blk++, o += Q4_K_BLOCK_BYTES, x += QK_K) {
    quantizeScaleMinBlock(src, x, 15, dst, o);
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) dst[o + 16 + 32 * c + l] = levels[64 * c + l] | (levels[64 * c + 32 + l] << 4);
    }
  }
}

/** Q5_K super-blocks of src. src: (blocks * 256) -> dst: (blocks * 176) bytes */
export function quantizeQ5_K(src: Float32Array, dst: Uint8Array): void {
  const blocks = checkQuantizeArgs('Q5_K', src, dst, QK_K, Q5_K_BLOCK_BYTES);
  for (let blk = 0, o = 0, x = 0; blk < blocks; blk++, o += Q5_K_BLOCK_BYTES, x += QK_K) {
    quantizeScaleMinBlock(src, x, 31, dst, o);
    for (let l = 0; l < 32; l++) dst[o + 16 + l] = 0;
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const a = levels[64 * c + l];
        const b = levels[64 * c + 32 + l];
        dst[o + 48 + 32 * c + l] = (a & 15) | ((b & 15) << 4);
        dst[o + 16 + l] |= ((a >>> 4) << (2 * c)) | ((b >>> 4) << (2 * c + 1));
      }
    }
  }
}

const groupScale = new Float32Array(16);

/** Q6_K super-blocks of src. src: (blocks * 256) -> dst: (blocks * 210) bytes */
export function quantizeQ6_K(src: Float32Array, dst: Uint8Array): void {
  const blocks = checkQuantizeArgs('Q6_K', src, dst, QK_K, Q6_K_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let blk = 0, o = 0, x = 0; blk < blocks; blk++, o += Q6_K_BLOCK_BYTES, x += QK_K) {
    let big = 0; // the group scale of largest magnitude, with its sign
    for (let g = 0; g < 16; g++) {
      let m = 0;
      for (let l = 0; l < 16; l++) {
        const v = src[x + 16 * g + l];
        if (Math.abs(v) > Math.abs(m)) m = v;
      }
      groupScale[g] = m / -32;
      if (Math.abs(groupScale[g]) > Math.abs(big)) big = groupScale[g];
    }
    const dh = f32ToF16Scalar(big / -128);
    const d = half[dh];
    const id = d !== 0 && Number.isFinite(d) ? 1 / d : 0;
    dst[o + 208] = dh & 0xff;
    dst[o + 209] = dh >>> 8;
    for (let i = 0; i < 192; i++) dst[o + i] = 0;
    for (let g = 0; g < 16; g++) {
      const code = Math.min(127, Math.max(-128, Math.round(groupScale[g] * id)));
      dst[o + 192 + g] = code & 0xff;
      const ds = d * code;
      const ids = ds !== 0 ? 1 / ds : 0;
      for (let l = 0; l < 16; l++) {
        const w = 16 * g + l; // weight index in the super-block
        const q = Math.min(31, Math.max(-32, Math.round(src[x + w] * ids))) + 32;
        // Where weight w lives: half h, column l' in 0..31, quarter k (0..3) of that half.
        const h = w >>> 7;
        const k = (w >>> 5) & 3;
        const col = w & 31;
        const qlAt = o + 64 * h + col + (k & 1) * 32; // quarters 0, 2 -> ql[col]; 1, 3 -> ql[col + 32]
        dst[qlAt] |= k < 2 ? q & 15 : (q & 15) << 4; // quarters 0, 1 low nibble; 2, 3 high nibble
        dst[o + 128 + 32 * h + col] |= (q >>> 4) << (2 * k);
      }
    }
  }
}
