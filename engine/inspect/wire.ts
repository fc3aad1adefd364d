// Typed arrays cross into the webview as base64 (webview messages and saved state must be
// JSON): a third larger than the bytes, against ten times for JSON number arrays, and
// decoded with one pass. Each layer (its heads, their mean and the rollout) travels in its
// own message, so the panel draws the first layer while the rest arrive and the first
// message stays small.
import type { Inspection, Packed, PackedArray } from './format';

export function packArray(a: Float32Array | Int32Array | Uint8Array): PackedArray {
  const dtype = a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';
  return { dtype, length: a.length, b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
}

/** Replaces every typed array inside `value` by its PackedArray. */
export function pack<T>(value: T): Packed<T> {
  if (value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint8Array) return packArray(value) as Packed<T>;
  if (Array.isArray(value)) return value.map((v) => pack(v)) as Packed<T>;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = pack(v);
    return out as Packed<T>;
  }
  return value as Packed<T>;
}

export type InspectionMetaWire = Packed<Omit<Inspection, 'attention' | 'meanHeads' | 'rollout'>>;

export interface LayerWire {
  heads: PackedArray; // (NH, triSize(T))
  mean: PackedArray; // (triSize(T))
  rollout: PackedArray; // (triSize(T))
}

/** The inspection without its attention, then one message's worth per layer. */
export interface InspectionWire {
  meta: InspectionMetaWire;
  layers: LayerWire[];
}

export function toWire(insp: Inspection): InspectionWire {
  const { attention, meanHeads, rollout, ...meta } = insp;
  const n = attention.length > 0 ? meanHeads.length / attention.length : 0;
  return {
    meta: pack(meta),
    layers: attention.map((heads, l) => ({
      heads: packArray(heads),
      mean: packArray(meanHeads.subarray(l * n, (l + 1) * n)),
      rollout: packArray(rollout.subarray(l * n, (l + 1) * n)),
    })),
  };
}
