// Q4_0: blocks of 32 weights in 18 bytes, ggml's block_q4_0.
//   bytes 0..1   d, the block's scale (F16, little-endian)
//   bytes 2..17  qs[0..15]: the low nibble of qs[j] is weight j, the high nibble weight j + 16
// weight = d * (nibble - 8), one float32 product, so the levels run -8d .. 7d.

import { f16FloatTable, f32ToF16Scalar } from './half';
import { checkDequantizeArgs, checkQuantizeArgs } from './blocks';

export const Q4_0_BLOCK_ELEMS = 32;
export const Q4_0_BLOCK_BYTES = 18;

/** Weights of whole Q4_0 blocks. src: (blocks * 18) bytes -> dst: (blocks * 32) */
export function dequantizeQ4_0(src: Uint8Array, dst: Float32Array): void {
  const blocks = checkDequantizeArgs('Q4_0', src, dst, Q4_0_BLOCK_ELEMS, Q4_0_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let b = 0, o = 0, y = 0; b < blocks; b++, o += Q4_0_BLOCK_BYTES, y += Q4_0_BLOCK_ELEMS) {
    const d = half[src[o] | (src[o + 1] << 8)];
    const qs = o + 2;
    for (let j = 0; j < 16; j++) {
      const v = src[qs + j];
      dst[y + j] = d * ((v & 15) - 8);
      dst[y + 16 + j] = d * ((v >>> 4) - 8);
    }
  }
}

/**
 * Q4_0 blocks of src: the value of largest magnitude m (with its sign) maps to level -8, so
 * d = m / -8 (rounded to F16) and q = round(x / d) + 8 clamped to [0, 15]; -m itself lands on
 * 7d. src: (blocks * 32) -> dst: (blocks * 18) bytes
 */
export function quantizeQ4_0(src: Float32Array, dst: Uint8Array): void {
  const blocks = checkQuantizeArgs('Q4_0', src, dst, Q4_0_BLOCK_ELEMS, Q4_0_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let b = 0, o = 0, x = 0; b < blocks; b++, o += Q4_0_BLOCK_BYTES, x += Q4_0_BLOCK_ELEMS) {
    let m = 0;
    for (let j = 0; j < Q4_0_BLOCK_ELEMS; j++) if (Math.abs(src[x + j]) > Math.abs(m)) m = src[x + j];
    const dh = f32ToF16Scalar(m / -8);
    const d = half[dh];
    const id = d !== 0 && Number.isFinite(d) ? 1 / d : 0;
    dst[o] = dh & 0xff;
    dst[o + 1] = dh >>> 8;
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(15, Math.max(0, Math.round(src[x + j] * id) + 8));
      const hi = Math.min(15, Math.max(0, Math.round(src[x + 16 + j] * id) + 8));
      dst[o + 2 + j] = lo | (hi << 4);
    }
  }
}
