// Moving KV-cache rows between two backends that run the same model (runtime/phaseSplit.ts):
// onnxruntime prefills into its f32 cache, the js backend decodes from its f32 or f16 one, and
// the positions one of them wrote are copied into the other before it runs. Both caches hold,
// per layer, keys and values as (KVH, stride, HD): stride is the js cache's context length and
// onnxruntime's current buffer capacity, so a copy is one block of (to - from) x HD elements
// per layer, kind and KV head, converted between f32 and f16 on the way when the formats differ
// (rounding to nearest even, as the js backend stores a new f16 key).
import { f16ToF32, f32ToF16 } from '../formats/half';

/** One layer's keys or values, (KVH, stride, HD): float32 values or float16 bit patterns. */
export type KvRowArray = Float32Array | Uint16Array;

export interface KvLayers {
  keys: KvRowArray[]; // (L) of (KVH, stride, HD)
  values: KvRowArray[]; // (L) of (KVH, stride, HD)
  /** Positions per KV head row. */
  stride: number;
}

/** A KV cache whose rows can be read and written from outside its backend. */
export interface KvRowStore {
  /** Positions [0, cachedPositions) hold keys and values. */
  readonly cachedPositions: number;
  /** The cache's arrays with room for `positions` positions (grown if needed, keeping [0, cachedPositions)). */
  kvLayers(positions: number): KvLayers;
  /** The caller wrote rows up to n (at most what kvLayers made room for): the cache holds [0, n), later positions are dropped. */
  setCachedPositions(n: number): void;
}

/**
 * dst (KVH, n, HD) at dst's positions [dstAt, dstAt + n) = src's positions [srcAt, srcAt + n),
 * per head, f32 <-> f16 converted when the arrays differ. The one conversion routine of the split.
 */
export function copyRowBlock(dst: KvRowArray, dstStride: number, dstAt: number, src: KvRowArray, srcStride: number, srcAt: number, n: number, kvHeads: number, headDim: number): void {
  const len = n * headDim;
  for (let h = 0; h < kvHeads; h++) {
    const d = (h * dstStride + dstAt) * headDim;
    const s = (h * srcStride + srcAt) * headDim;
    if (dst instanceof Float32Array && src instanceof Float32Array) dst.set(src.subarray(s, s + len), d);
    else if (dst instanceof Uint16Array && src instanceof Uint16Array) dst.set(src.subarray(s, s + len), d);
    else if (dst instanceof Uint16Array) f32ToF16(dst.subarray(d, d + len), (src as Float32Array).subarray(s, s + len));
    else f16ToF32(dst.subarray(d, d + len), (src as Uint16Array).subarray(s, s + len));
  }
}

/**
 * Copies positions [from, to) of every layer's keys and values from src into dst; dst then
 * holds [0, to). dst must already hold [0, from) and src [0, to).
 */
export function copyKvRows(dst: KvRowStore, src: KvRowStore, from: number, to: number, kvHeads: number, headDim: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to)) throw new RangeError(`copyKvRows: [${from}, ${to}) is not a range of positions`);
  if (from > dst.cachedPositions) throw new Error(`copyKvRows: the destination holds ${dst.cachedPositions} positions, so rows cannot start at ${from}`);
  if (to > src.cachedPositions) throw new Error(`copyKvRows: the source holds ${src.cachedPositions} positions, not ${to}`);
  const s = src.kvLayers(src.cachedPositions);
  const d = dst.kvLayers(to);
  if (d.keys.length !== s.keys.length) throw new Error(`copyKvRows: ${s.keys.length} layers cannot go into ${d.keys.length}`);
  for (let l = 0; l < s.keys.length; l++) {
    copyRowBlock(d.keys[l]!, d.stride, from, s.keys[l]!, s.stride, from, to - from, kvHeads, headDim);
    copyRowBlock(d.values[l]!, d.stride, from, s.values[l]!, s.stride, from, to - from, kvHeads, headDim);
  }
  dst.setCachedPositions(to);
}
