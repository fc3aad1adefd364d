// How a model's matrices are laid into the fast backend's shared memory. Each linear layer is
// one or more segments: consecutive output rows held in one of the kernels' formats (f32
// packed by 4 rows, f16, Q8_0 packed by 4 rows). A fused parameter (q|k|v, gate|up) whose
// parts came from the file in different formats (a Q4_K_M file mixes Q4_K and Q6_K) keeps a
// segment per part; parts in the same format share one.
// Packing converts the file's blocks chunk by chunk, never the whole matrix at once: Q8_0 goes
// to the Q8_0 kernels exactly (same scale, same integers: packQ8FromBlocks); under 'auto', Q4_0
// and Q5_0 run in kernels of their own (their codes kept, the scales widened:
// engine/kernels/quant45.ts), and so do Q4_K, Q5_K and Q6_K (their quant bits kept, the factors
// unpacked: engine/kernels/quantK.ts). Under an explicit q8_0 setting Q4_0 and Q5_0 go to the
// Q8_0 kernels exactly, and the K-quants through float32, quantized to Q8_0.
import { dequantizeRows, type WeightType } from '../formats/formats';
import { f16FloatTable, f32ToF16 } from '../formats/half';
import { packF32Forward, F32_PACK_ROWS } from '../kernels/matmul';
import { packQ8Forward, packQ8FromBlocks, quantizeQ8Forward, Q8_BLOCK, Q8_PACK_ROWS } from '../kernels/quantize';
import { packQ45Forward, q45Bytes, type Q45Type } from '../kernels/quant45';
import { packQ4KForward, packQ5KForward, packQ6KForward, QK, Q4K_META_BYTES, Q4K_QS_BYTES, Q5K_META_BYTES, Q6K_META_BYTES, Q6K_QS_BYTES } from '../kernels/quantK';
import type { Arena } from '../kernels/wasm/kernels';
import type { WeightPart } from '../model/model';

/** How the matrices are held for the kernels; 'auto' keeps each tensor as close to its file's format as the kernels allow. */
export type WeightFormat = 'f32' | 'f16' | 'q8_0';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8_0'];
/** The formats segments run in: the settings' formats, and the file's own Q4_0, Q5_0 and K-quant blocks (reached only through 'auto'). */
export type KernelFormat = WeightFormat | Q45Format | KQuantFormat;
export type KQuantFormat = 'q4_k' | 'q5_k' | 'q6_k';
export type Q45Format = 'q4_0' | 'q5_0';

/** A Q4_0 / Q5_0 kernel format's file format. */
export const Q45_TYPE: Record<Q45Format, Q45Type> = { q4_0: 'Q4_0', q5_0: 'Q5_0' };

/** A K-quant kernel format's file format and bytes per 256 weights of its two streams. */
const KQUANT: Record<KQuantFormat, { type: WeightType; qs: number; meta: number; pack: typeof packQ4KForward }> = {
  q4_k: { type: 'Q4_K', qs: Q4K_QS_BYTES, meta: Q4K_META_BYTES, pack: packQ4KForward },
  q5_k: { type: 'Q5_K', qs: Q4K_QS_BYTES, meta: Q5K_META_BYTES, pack: packQ5KForward },
  q6_k: { type: 'Q6_K', qs: Q6K_QS_BYTES, meta: Q6K_META_BYTES, pack: packQ6KForward },
};

export function isKQuant(format: KernelFormat): format is KQuantFormat {
  return format === 'q4_k' || format === 'q5_k' || format === 'q6_k';
}

export function isQ45(format: KernelFormat): format is Q45Format {
  return format === 'q4_0' || format === 'q5_0';
}

/** Consecutive output rows [o0, o0 + rows) of a linear layer in one kernel format. */
export interface Segment {
  format: KernelFormat;
  /** f32 in packF32Forward's layout (every f32 weight whose width is a multiple of 4). */
  packed: boolean;
  w: number; // (rows, C) f32 or f16 bits; packed f32 (ceil(rows/4), C/4, 4, 4); Q8_0 int8 (ceil(rows/4), C/32, 4, 32) as packQ8Forward; Q4_0 / Q5_0 codes (ceil(rows/4), C/32, 64 | 80) as packQ45Forward; Q4_K / Q5_K / Q6_K quant bits (rows, C/256, 128 | 128 | 192) as quantK.ts packs them
  s: number; // Q8_0, Q4_0, Q5_0 scales (ceil(rows/4), C/32, 4); Q4_K / Q5_K / Q6_K factors (rows, C/256, 24 | 56 | 20); else 0
  o0: number;
  rows: number;
  /** The file's parts this segment holds, in row order. */
  parts: readonly WeightPart[];
}

/** One linear layer in the shared memory: out (N, OC) = inp (N, C) . W^T + b. */
export interface Linear {
  segments: Segment[];
  bias: number; // (OC) f32, or 0
  C: number;
  OC: number;
}

/** The kernel format a stored tensor runs in, given the setting ('auto' = nearest to the file). */
function runFormat(stored: WeightType, asked: WeightFormat | 'auto', C: number): KernelFormat {
  if (asked === 'auto' && C % Q8_BLOCK === 0) {
    if (stored === 'Q4_0') return 'q4_0';
    if (stored === 'Q5_0') return 'q5_0';
  }
  if (asked === 'auto' && C % QK === 0) {
    if (stored === 'Q4_K') return 'q4_k';
    if (stored === 'Q5_K') return 'q5_k';
    if (stored === 'Q6_K') return 'q6_k';
  }
  const wanted: WeightFormat = asked !== 'auto' ? asked : stored === 'F32' ? 'f32' : stored === 'F16' || stored === 'BF16' ? 'f16' : 'q8_0';
  // Q8_0 blocks run along the input width; a width that is not a multiple of 32 stays f32.
  return wanted === 'q8_0' && C % Q8_BLOCK !== 0 ? 'f32' : wanted;
}

/** Bytes of the weight stream (w) and of the scale stream (s) of `rows` rows of width C, padded to the format's packed groups. */
function segmentBytes(format: KernelFormat, packed: boolean, rows: number, C: number): { w: number; s: number } {
  if (isKQuant(format)) return { w: (rows * C * KQUANT[format].qs) / QK, s: (rows * C * KQUANT[format].meta) / QK };
  if (isQ45(format)) return q45Bytes(Q45_TYPE[format], rows, C);
  // Packed layouts hold whole groups of 4 rows (the last one zero-filled).
  const group = format === 'q8_0' ? Q8_PACK_ROWS : packed ? F32_PACK_ROWS : 1;
  const padded = Math.ceil(rows / group) * group;
  const w = padded * C * (format === 'f32' ? 4 : format === 'f16' ? 2 : 1);
  return { w, s: format === 'q8_0' ? (padded * C * 4) / Q8_BLOCK : 0 };
}

/** Plans a linear layer's segments in the arena; returns it and the bytes its weights take. */
export function planLinear(arena: Arena, parts: readonly WeightPart[], asked: WeightFormat | 'auto', C: number, OC: number, hasBias: boolean): { linear: Linear; bytes: number } {
  const groups: Array<{ format: KernelFormat; o0: number; rows: number; parts: WeightPart[] }> = [];
  let o = 0;
  for (const p of parts) {
    const format = runFormat(p.type, asked, C);
    const last = groups[groups.length - 1];
    // Parts join a segment only at a row that starts a packed group of 4.
    if (last !== undefined && last.format === format && o % 4 === 0) {
      last.rows += p.rows;
      last.parts.push(p);
    } else groups.push({ format, o0: o, rows: p.rows, parts: [p] });
    o += p.rows;
  }
  if (o !== OC) throw new Error(`planLinear: the parts hold ${o} rows, the layer has ${OC}`);
  let bytes = 0;
  const segments = groups.map((g): Segment => {
    const packed = g.format === 'f32' && C % 4 === 0;
    const { w: wBytes, s: sBytes } = segmentBytes(g.format, packed, g.rows, C);
    bytes += wBytes + sBytes;
    return { format: g.format, packed, w: arena.alloc(wBytes), s: sBytes ? arena.alloc(sBytes) : 0, o0: g.o0, rows: g.rows, parts: g.parts };
  });
  return { linear: { segments, bias: hasBias ? arena.alloc(OC * 4) : 0, C, OC }, bytes };
}

/** Rows converted per step while packing: bounded scratch whatever the matrix. */
const CHUNK_ROWS = 256;

/**
 * A reader of a part's rows as stored: bytes of rows [r0, r0 + n). A part that stays in its file
 * reads just those rows, so packing holds one chunk of a matrix at a time instead of the whole
 * (a 136 MB embedding read whole stayed in memory as garbage until V8 collected it); another
 * part's bytes are read once.
 */
function rowReader(p: WeightPart): (r0: number, n: number) => Uint8Array {
  const readRows = p.readRows;
  if (readRows !== undefined) {
    // Every chunk into the buffer of the first (the largest: chunks go in order), overwritten by the next read.
    let buf: Uint8Array | undefined;
    return (r0, n) => (buf = readRows(r0, n, buf));
  }
  const data = p.data;
  const rowBytes = data.byteLength / p.rows;
  return (r0, n) => data.subarray(r0 * rowBytes, (r0 + n) * rowBytes);
}

/**
 * A staging area in the shared memory and the pool to run pack_q8_0 on: a GGUF Q8_0 matrix is read
 * chunk by chunk straight into the staging area and spread to the packed layout by the threads
 * (the bulk of loading a Q8_0 file), the scales widened here.
 */
export interface PackStage {
  /** Byte offset and size of the staging area. */
  at: number;
  bytes: number;
  /** pack_q8_0 over ceil(rows / 4) groups on the pool. */
  packQ8_0(dst: number, src: number, rows: number, nb: number): void;
}

/** Rows of a GGUF Q8_0 part through the staging area and the pool, into the packed segment at row `base`. */
function packQ8_0Staged(buf: ArrayBuffer, stage: PackStage, p: WeightPart, segW: number, sp: Float32Array, base: number, C: number): void {
  const nb = C / Q8_BLOCK;
  const rowBytes = nb * 34;
  const chunk = Math.max(Q8_PACK_ROWS, Math.floor(stage.bytes / rowBytes / Q8_PACK_ROWS) * Q8_PACK_ROWS);
  const half = f16FloatTable();
  const rows = rowReader(p);
  for (let r = 0; r < p.rows; r += chunk) {
    const n = Math.min(chunk, p.rows - r);
    const staged = new Uint8Array(buf, stage.at, n * rowBytes);
    if (p.readRows !== undefined) p.readRows(r, n, staged);
    else staged.set(rows(r, n));
    const at = base + r;
    stage.packQ8_0(segW + at * C, stage.at, n, nb);
    const scales = sp.subarray((at * C) / Q8_BLOCK, ((at + Math.ceil(n / Q8_PACK_ROWS) * Q8_PACK_ROWS) * C) / Q8_BLOCK);
    scales.fill(0);
    // Groups of 4 rows (Q8_PACK_ROWS), written out: an imported constant read in this loop costs a getter call per block.
    for (let o = 0; o < n; o++) {
      const tileRow = (o >> 2) * nb * 4 + (o & 3);
      for (let blk = 0, from = o * nb * 34; blk < nb; blk++, from += 34) scales[tileRow + blk * 4] = half[staged[from]! | (staged[from + 1]! << 8)]!;
    }
  }
}

/** Converts a segment's rows from its parts into its planned place in `buf`, CHUNK_ROWS rows at a time (Q8_0 parts through `stage` when given). */
export function packSegment(buf: ArrayBuffer, seg: Segment, C: number, stage?: PackStage): void {
  if (isKQuant(seg.format)) {
    packKQuant(buf, seg, seg.format, C);
    return;
  }
  if (isQ45(seg.format)) {
    packQ45(buf, seg, Q45_TYPE[seg.format], C);
    return;
  }
  const padded = Math.ceil(seg.rows / Q8_PACK_ROWS) * Q8_PACK_ROWS; // packed f32 groups are as tall (F32_PACK_ROWS)
  const wp = seg.format === 'q8_0' ? new Int8Array(buf, seg.w, padded * C) : null;
  const sp = seg.format === 'q8_0' ? new Float32Array(buf, seg.s, (padded * C) / Q8_BLOCK) : null;
  // Scratch made when a chunk first needs it: a Q8_0 file's matrices (staged) and its blocks copied as they are need none.
  // Made for every segment, a Q8_0 0.5B model's unused scratch came to 240 MB of garbage per load, of which malloc's heap held 34 MB resident at the peak.
  let f32: Float32Array | undefined; // (CHUNK_ROWS, C)
  let q: Int8Array | undefined; // (CHUNK_ROWS, C)
  let s: Float32Array | undefined; // (CHUNK_ROWS, C / 32)
  const dequantized = (type: WeightType, bytes: Uint8Array, n: number): Float32Array => {
    f32 ??= new Float32Array(CHUNK_ROWS * C);
    const out = f32.subarray(0, n * C);
    dequantizeRows(type, bytes, 0, n, C, out);
    return out;
  };
  const f32out = seg.format === 'f32' ? new Float32Array(buf, seg.w, (seg.packed ? padded : seg.rows) * C) : null;
  const f16out = seg.format === 'f16' ? new Uint16Array(buf, seg.w, seg.rows * C) : null;
  let base = 0;
  for (const p of seg.parts) {
    if (stage !== undefined && sp !== null && p.type === 'Q8_0') {
      packQ8_0Staged(buf, stage, p, seg.w, sp, base, C);
      base += p.rows;
      continue;
    }
    const rows = rowReader(p);
    // Parts start on a group of 4 rows (planLinear) and chunks are multiples of 4 rows, so packed groups never straddle a chunk.
    for (let r = 0; r < p.rows; r += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, p.rows - r);
      const at = base + r;
      const bytes = rows(r, n);
      const groupEnd = (at + Math.ceil(n / 4) * 4) * C;
      if (wp !== null && sp !== null) {
        const wChunk = wp.subarray(at * C, groupEnd);
        const sChunk = sp.subarray((at * C) / Q8_BLOCK, groupEnd / Q8_BLOCK);
        if (p.type === 'Q8_0' || p.type === 'Q4_0' || p.type === 'Q5_0') packQ8FromBlocks(wChunk, sChunk, bytes, p.type, n, C);
        else {
          q ??= new Int8Array(CHUNK_ROWS * C);
          s ??= new Float32Array((CHUNK_ROWS * C) / Q8_BLOCK);
          quantizeQ8Forward(q, s, dequantized(p.type, bytes, n), n, C);
          packQ8Forward(wChunk, sChunk, q, s, n, C);
        }
      } else if (f16out !== null) {
        if (p.type === 'F16') new Uint8Array(buf, seg.w + at * C * 2, n * C * 2).set(bytes);
        else f32ToF16(f16out.subarray(at * C, (at + n) * C), dequantized(p.type, bytes, n));
      } else if (f32out !== null) {
        const x = dequantized(p.type, bytes, n);
        if (seg.packed) packF32Forward(f32out.subarray(at * C, groupEnd), x, n, C);
        else f32out.set(x, at * C);
      }
    }
    base += p.rows;
  }
}

/**
 * Calls pack(bytes, at, n) for every CHUNK_ROWS rows of a segment's parts, in order: the file's
 * bytes of rows [at, at + n) of the segment (each part must be in the segment's file format).
 */
function forEachChunk(seg: Segment, type: WeightType, pack: (bytes: Uint8Array, at: number, n: number) => void): void {
  let base = 0;
  for (const p of seg.parts) {
    if (p.type !== type) throw new Error(`packSegment: a ${seg.format} segment holds a ${p.type} part`);
    const rows = rowReader(p);
    for (let r = 0; r < p.rows; r += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, p.rows - r);
      pack(rows(r, n), base + r, n);
    }
    base += p.rows;
  }
}

/** A K-quant segment's parts into its two streams (packQ4KForward, packQ5KForward, packQ6KForward): the quant bits kept, the factors unpacked. */
function packKQuant(buf: ArrayBuffer, seg: Segment, format: KQuantFormat, C: number): void {
  const k = KQUANT[format];
  const qsRow = (C * k.qs) / QK;
  const metaRow = (C * k.meta) / QK;
  forEachChunk(seg, k.type, (bytes, at, n) => k.pack(new Uint8Array(buf, seg.w + at * qsRow, n * qsRow), new Uint8Array(buf, seg.s + at * metaRow, n * metaRow), bytes, n, C));
}

/** A Q4_0 / Q5_0 segment's parts into its two streams (packQ45Forward; parts start on a group of 4 rows: planLinear). */
function packQ45(buf: ArrayBuffer, seg: Segment, type: Q45Type, C: number): void {
  const { w: wGroup, s: sGroup } = q45Bytes(type, Q8_PACK_ROWS, C);
  forEachChunk(seg, type, (bytes, at, n) => {
    const groups = at / Q8_PACK_ROWS;
    const { w, s } = q45Bytes(type, n, C);
    packQ45Forward(new Uint8Array(buf, seg.w + groups * wGroup, w), new Float32Array(buf, seg.s + groups * sGroup, s / 4), bytes, type, n, C);
  });
}

/** A 1-D parameter (norm weight, bias) as float32, whatever its parts' formats. */
export function vectorAsF32(parts: readonly WeightPart[], n: number): Float32Array {
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    const len = p.rows * p.cols;
    dequantizeRows(p.type, p.data, 0, p.rows, p.cols, out.subarray(at, at + len));
    at += len;
  }
  return out;
}
