// ggml's other 32-weight block formats, which llama.cpp's K-quant recipes fall back to for a
// matrix whose rows are not a multiple of 256 wide (Qwen2.5-0.5B's 896: its Q4_K_M file holds
// Q5_0 where Q4_K does not fit, Q5_1 for Q5_K_M):
//   Q4_1  20 bytes: d (F16), m (F16), qs[16]            weight = d * nibble + m
//   Q5_0  22 bytes: d (F16), qh (u32 LE), qs[16]        weight = d * (nibble | bit << 4) - 16d
//   Q5_1  24 bytes: d (F16), m (F16), qh (u32 LE), qs[16] weight = d * (nibble | bit << 4) + m
// In qs[j] the low nibble is weight j and the high nibble weight j + 16; bit j of qh is the
// fifth bit of weight j (j = 0..31). Products in float32, as ggml computes them.
import { f16FloatTable, f32ToF16Scalar } from './half';
import { checkDequantizeArgs, checkQuantizeArgs } from './blocks';

export const LEGACY_BLOCK_ELEMS = 32;
export const Q4_1_BLOCK_BYTES = 20;
export const Q5_0_BLOCK_BYTES = 22;
export const Q5_1_BLOCK_BYTES = 24;

function u32At(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Dequantizes blocks laid out as [d][m?][qh?][qs]: `hasMin` adds m, `hasHigh` reads the fifth bits, `offset` is the level of code 0 in steps of d. */
function dequantizeBlocks(name: string, src: Uint8Array, dst: Float32Array, bytes: number, hasMin: boolean, hasHigh: boolean, offset: number): void {
  const blocks = checkDequantizeArgs(name, src, dst, LEGACY_BLOCK_ELEMS, bytes);
  const half = f16FloatTable();
  for (let b = 0, o = 0, y = 0; b < blocks; b++, o += bytes, y += LEGACY_BLOCK_ELEMS) {
    const d = half[src[o]! | (src[o + 1]! << 8)]!;
    const m = hasMin ? half[src[o + 2]! | (src[o + 3]! << 8)]! : Math.fround(-offset * d);
    const qhAt = o + (hasMin ? 4 : 2);
    const qh = hasHigh ? u32At(src, qhAt) : 0;
    const qs = qhAt + (hasHigh ? 4 : 0);
    for (let j = 0; j < 16; j++) {
      const v = src[qs + j]!;
      const lo = (v & 15) | (((qh >>> j) & 1) << 4);
      const hi = (v >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
      // Q5_0 subtracts 16 before scaling (d * (q - 16)), which is exact in float32 as d * q - 16d is not.
      dst[y + j] = hasMin ? Math.fround(d * lo) + m : d * (lo - offset);
      dst[y + 16 + j] = hasMin ? Math.fround(d * hi) + m : d * (hi - offset);
    }
  }
}

export function dequantizeQ4_1(src: Uint8Array, dst: Float32Array): void {
  dequantizeBlocks('Q4_1', src, dst, Q4_1_BLOCK_BYTES, true, false, 0);
}

export function dequantizeQ5_0(src: Uint8Array, dst: Float32Array): void {
  dequantizeBlocks('Q5_0', src, dst, Q5_0_BLOCK_BYTES, false, true, 16);
}

export function dequantizeQ5_1(src: Uint8Array, dst: Float32Array): void {
  dequantizeBlocks('Q5_1', src, dst, Q5_1_BLOCK_BYTES, true, true, 0);
}

/** Quantizes with `levels` codes: min/max scaling when `hasMin`, else the value of largest magnitude on code 0 (as Q4_0 does). */
function quantizeBlocks(name: string, src: Float32Array, dst: Uint8Array, bytes: number, hasMin: boolean, hasHigh: boolean, levels: number): void {
  const blocks = checkQuantizeArgs(name, src, dst, LEGACY_BLOCK_ELEMS, bytes);
  const half = f16FloatTable();
  const top = levels - 1;
  for (let b = 0, o = 0, x = 0; b < blocks; b++, o += bytes, x += LEGACY_BLOCK_ELEMS) {
    let lo = Infinity;
    let hi = -Infinity;
    let m = 0;
    for (let j = 0; j < LEGACY_BLOCK_ELEMS; j++) {
      const v = src[x + j]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      if (Math.abs(v) > Math.abs(m)) m = v;
    }
    const dh = f32ToF16Scalar(hasMin ? (hi - lo) / top : m / -(levels / 2));
    const d = half[dh]!;
    const mh = f32ToF16Scalar(lo);
    const min = hasMin ? half[mh]! : -(levels / 2) * d;
    const id = d !== 0 && Number.isFinite(d) ? 1 / d : 0;
    dst[o] = dh & 0xff;
    dst[o + 1] = dh >>> 8;
    if (hasMin) {
      dst[o + 2] = mh & 0xff;
      dst[o + 3] = mh >>> 8;
    }
    const qhAt = o + (hasMin ? 4 : 2);
    const qs = qhAt + (hasHigh ? 4 : 0);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const a = Math.min(top, Math.max(0, Math.round((src[x + j]! - min) * id)));
      const c = Math.min(top, Math.max(0, Math.round((src[x + 16 + j]! - min) * id)));
      dst[qs + j] = (a & 15) | ((c & 15) << 4);
      qh |= ((a >> 4) << j) | ((c >> 4) << (j + 16));
    }
    if (hasHigh) {
      dst[qhAt] = qh & 0xff;
      dst[qhAt + 1] = (qh >>> 8) & 0xff;
      dst[qhAt + 2] = (qh >>> 16) & 0xff;
      dst[qhAt + 3] = (qh >>> 24) & 0xff;
    }
  }
}

export function quantizeQ4_1(src: Float32Array, dst: Uint8Array): void {
  quantizeBlocks('Q4_1', src, dst, Q4_1_BLOCK_BYTES, true, false, 16);
}

export function quantizeQ5_0(src: Float32Array, dst: Uint8Array): void {
  quantizeBlocks('Q5_0', src, dst, Q5_0_BLOCK_BYTES, false, true, 32);
}

export function quantizeQ5_1(src: Float32Array, dst: Uint8Array): void {
  quantizeBlocks('Q5_1', src, dst, Q5_1_BLOCK_BYTES, true, true, 32);
}
