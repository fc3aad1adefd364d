// Moving one file tensor into its place in the parameter layout and back out, for every
// mapping a family declares (families/types.ts): row offsets of fused parameters, GPT-2's
// Conv1D transposes and llama.cpp's Q/K row interleave.
import type { TensorMapping } from './families/types';

/**
 * Row of the Hugging Face (rotate-half) order that stored row r holds, when llama.cpp's
 * converter interleaved `heads` heads of HD rows each: within a head, stored rows 2i and 2i+1
 * are rows i and i + HD/2.
 */
export function unpermutedRow(r: number, rows: number, heads: number): number {
  if (heads === 0) return r;
  const HD = rows / heads;
  const h = Math.floor(r / HD);
  const k = r - h * HD;
  return h * HD + (k & 1) * (HD / 2) + (k >> 1);
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies `src` (the file tensor, stored layout) into the internal parameter `dst` ((rows, in) row-major). */
export function copyTensorIntoParam(map: TensorMapping, src: Float32Array, dst: Float32Array): void {
  if (map.transpose) {
    const [rows, cols] = map.shape as [number, number]; // stored (in, out) = (rows, cols)
    const base = map.rowOffset * rows;
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < cols; o++) dst[base + o * rows + i] = src[i * cols + o]!;
    }
    return;
  }
  const inner = map.shape.length === 2 ? map.shape[1]! : 1;
  if (map.unpermuteHeads === 0) {
    dst.set(src.subarray(0, elements(map.shape)), map.rowOffset * inner);
    return;
  }
  const rows = map.shape[0]!;
  for (let r = 0; r < rows; r++) {
    const to = (map.rowOffset + unpermutedRow(r, rows, map.unpermuteHeads)) * inner;
    dst.set(src.subarray(r * inner, (r + 1) * inner), to);
  }
}

/** The inverse of copyTensorIntoParam: the file tensor (stored layout) out of an internal parameter. */
export function copyParamIntoTensor(map: TensorMapping, param: Float32Array, out: Float32Array): void {
  if (map.transpose) {
    const [rows, cols] = map.shape as [number, number];
    const base = map.rowOffset * rows;
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < cols; o++) out[i * cols + o] = param[base + o * rows + i]!;
    }
    return;
  }
  const inner = map.shape.length === 2 ? map.shape[1]! : 1;
  const rows = map.shape.length === 2 ? map.shape[0]! : elements(map.shape);
  if (map.unpermuteHeads === 0) {
    out.set(param.subarray(map.rowOffset * inner, map.rowOffset * inner + rows * inner));
    return;
  }
  for (let r = 0; r < rows; r++) {
    const from = (map.rowOffset + unpermutedRow(r, rows, map.unpermuteHeads)) * inner;
    out.set(param.subarray(from, from + inner), r * inner);
  }
}
