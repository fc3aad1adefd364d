// The inspection as the webview holds it: packed arrays decoded once, attention read row by
// row out of the byte-quantised lower triangles (see engine/inspect/format.ts). A layer is
// decoded when first read (or by warm() in idle time), so receiving the data costs nothing
// and the first paint waits for one layer only.
import { DEQUANT, triRow, triSize, type Inspection, type PackedArray } from '../../../../engine/inspect/format';
import type { InspectionMeta } from '../inspectorProtocol';
import type { LayerWire } from '../../../../engine/inspect/wire';

export type Meta = Omit<Inspection, 'attention' | 'meanHeads' | 'rollout'>;

interface Layer {
  heads: Uint8Array; // (NH, n)
  mean: Uint8Array; // (n)
  rollout: Uint8Array; // (n)
}

function isPacked(v: unknown): v is PackedArray {
  return typeof v === 'object' && v !== null && typeof (v as PackedArray).b64 === 'string' && typeof (v as PackedArray).dtype === 'string';
}

export function unpackArray(p: PackedArray): Float32Array | Int32Array | Uint8Array {
  const bin = atob(p.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  if (p.dtype === 'f32') return new Float32Array(bytes.buffer, 0, p.length);
  if (p.dtype === 'i32') return new Int32Array(bytes.buffer, 0, p.length);
  return bytes.subarray(0, p.length);
}

function unpack(v: unknown): unknown {
  if (isPacked(v)) return unpackArray(v);
  if (Array.isArray(v)) return v.map(unpack);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unpack(x)]));
  return v;
}

export class InspectorData {
  readonly meta: Meta;
  readonly L: number;
  readonly NH: number;
  /** Key/value heads: NH / NKV query heads share each (grouped-query attention); NKV = NH is plain multi-head attention. */
  readonly NKV: number;
  readonly T: number;
  /** Floats in one head's lower triangle. */
  readonly n: number;
  private readonly layers: (Layer | null)[];
  private readonly packed: (LayerWire | null)[];

  constructor(meta: InspectionMeta) {
    this.meta = unpack(meta) as Meta;
    this.L = this.meta.model.nLayer;
    this.NH = this.meta.model.nHead;
    // A count that does not divide the heads evenly cannot come from a real model: show no groups.
    const kv = this.meta.model.nKvHead;
    this.NKV = Number.isInteger(kv) && kv > 0 && kv < this.NH && this.NH % kv === 0 ? kv : this.NH;
    this.T = this.meta.T;
    this.n = triSize(this.T);
    this.layers = new Array(this.L).fill(null);
    this.packed = new Array(this.L).fill(null);
  }

  /** True when query heads share key/value heads (grouped-query or multi-query attention). */
  get grouped(): boolean {
    return this.NKV < this.NH;
  }

  /** Query heads per key/value head. */
  get groupSize(): number {
    return this.NH / this.NKV;
  }

  /** The key/value head query head h reads. */
  kvHead(h: number): number {
    return Math.floor(h / this.groupSize);
  }

  /** The query heads [first, last] that share key/value head g. */
  groupHeads(g: number): [number, number] {
    return [g * this.groupSize, (g + 1) * this.groupSize - 1];
  }

  setLayer(layer: number, data: LayerWire): void {
    if (layer >= 0 && layer < this.L) {
      this.packed[layer] = data;
      this.layers[layer] = null;
    }
  }

  hasLayer(layer: number): boolean {
    return this.layers[layer] != null || this.packed[layer] != null;
  }

  private layer(l: number): Layer | null {
    let b = this.layers[l];
    if (b) return b;
    const p = this.packed[l];
    if (!p) return null;
    b = { heads: unpackArray(p.heads) as Uint8Array, mean: unpackArray(p.mean) as Uint8Array, rollout: unpackArray(p.rollout) as Uint8Array };
    this.layers[l] = b;
    this.packed[l] = null;
    return b;
  }

  /** Decodes one layer that has arrived but not been read; false when none is left. */
  warm(): boolean {
    const l = this.packed.findIndex((p) => p !== null);
    if (l < 0) return false;
    this.layer(l);
    return true;
  }

  /** Bytes of one query row (q + 1 keys) of a head, or null while its layer is missing. */
  headRow(layer: number, head: number, q: number): Uint8Array | null {
    const b = this.layer(layer);
    if (!b) return null;
    const o = head * this.n + triRow(q);
    return b.heads.subarray(o, o + q + 1);
  }

  /** One row of the mean over heads or of the rollout, or null while the layer is missing. */
  aggRow(kind: 'mean' | 'rollout', layer: number, q: number): Uint8Array | null {
    const b = this.layer(layer);
    if (!b) return null;
    const o = triRow(q);
    return b[kind].subarray(o, o + q + 1);
  }

  /** The (n) lower triangle of one head, or of an aggregate (head < 0: mean, head = -2: rollout). */
  matrix(layer: number, head: number): Uint8Array | null {
    const b = this.layer(layer);
    if (!b) return null;
    if (head === -1) return b.mean;
    if (head === -2) return b.rollout;
    return b.heads.subarray(head * this.n, (head + 1) * this.n);
  }

  prob(byte: number): number {
    return DEQUANT[byte]!;
  }

  piece(t: number): string {
    return this.meta.pieces[t] ?? '';
  }

  vocabPiece(id: number): string {
    return this.meta.vocabPieces[id] ?? `#${id}`;
  }

  isGenerated(t: number): boolean {
    return t >= this.meta.promptLength;
  }
}

/** A token as shown in a narrow cell: whitespace made visible. */
export function showPiece(s: string): string {
  return s
    .replace(/\n/g, '↵')
    .replace(/\t/g, '→')
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/^ /, '·')
    .replace(/ {2,}/g, (m) => '·'.repeat(m.length)) || '∅';
}
