// Q8_0: blocks of 32 weights in 34 bytes, ggml's block_q8_0.
//   bytes 0..1   d, the block's scale (F16, little-endian)
//   bytes 2..33  q[0..31], signed 8-bit
// weight j = d * q[j], computed as one float32 product like ggml's dequantize_row_q8_0.

import { f16FloatTable, f32ToF16Scalar } from './half';
import { checkDequantizeArgs, checkQuantizeArgs } from './blocks';

export const Q8_0_BLOCK_ELEMS = 32;
export const Q8_0_BLOCK_BYTES = 34;

/** Weights of whole Q8_0 blocks. src: (blocks * 34) bytes -> dst: (blocks * 32) */
export function dequantizeQ8_0(src: Uint8Array, dst: Float32Array): void {
  const blocks = checkDequantizeArgs('Q8_0', src, dst, Q8_0_BLOCK_ELEMS, Q8_0_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let b = 0, o = 0, y = 0; b < blocks; b++, o += Q8_0_BLOCK_BYTES, y += Q8_0_BLOCK_ELEMS) {
    const d = half[src[o] | (src[o + 1] << 8)];
    const q = o + 2;
    for (let j = 0; j < Q8_0_BLOCK_ELEMS; j++) dst[y + j] = d * ((src[q + j] << 24) >> 24); // (x << 24) >> 24: the byte as int8
  }
}

/**
 * Q8_0 blocks of src, absmax scaling: d = max|x| / 127 rounded to F16, q = round(x / d) in
 * [-127, 127] (computed with the stored F16 d, so the rounding of d does not add error).
 * src: (blocks * 32) -> dst: (blocks * 34) bytes
 */
export function quantizeQ8_0(src: Float32Array, dst: Uint8Array): void {
  const blocks = checkQuantizeArgs('Q8_0', src, dst, Q8_0_BLOCK_ELEMS, Q8_0_BLOCK_BYTES);
  const half = f16FloatTable();
  for (let b = 0, o = 0, x = 0; b < blocks; b++, o += Q8_0_BLOCK_BYTES, x += Q8_0_BLOCK_ELEMS) {
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK_ELEMS; j++) amax = Math.max(amax, Math.abs(src[x + j]));
    const dh = f32ToF16Scalar(amax / 127);
    const d = half[dh];
    const id = d > 0 && Number.isFinite(d) ? 1 / d : 0;
    dst[o] = dh & 0xff;
    dst[o + 1] = dh >>> 8;
    for (let j = 0; j < Q8_0_BLOCK_ELEMS; j++) {
      const q = Math.min(127, Math.max(-127, Math.round(src[x + j] * id)));
      dst[o + 2 + j] = q & 0xff;
    }
  }
}
