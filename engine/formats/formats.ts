// The weight formats the engine reads from model files, as ggml lays them out: one row of this
// table per format (its ggml type id, how many weights one block holds and in how many bytes,
// its reference dequantizer and quantizer). The block layouts themselves live in one module per
// family: float.ts (F32, F16, BF16), q8_0.ts, q4_0.ts, kquants.ts (Q4_K, Q5_K, Q6_K), each
// written from ggml's block structs and stating its layout at the top. Everything that sizes,
// reads or dispatches on a tensor's format goes through this table: the GGUF reader, the loaders,
// the backends. A format not listed here is refused by name when a file is opened.
//
// A block is the format's unit: its weights run along a row (the innermost dimension), so a row
// of width C holds C / blockElems blocks and C must be a multiple of blockElems.

import { dequantizeBF16, dequantizeF16, dequantizeF32, quantizeBF16, quantizeF16, quantizeF32 } from './float';
import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_ELEMS, dequantizeQ8_0, quantizeQ8_0 } from './q8_0';
import { Q4_0_BLOCK_BYTES, Q4_0_BLOCK_ELEMS, dequantizeQ4_0, quantizeQ4_0 } from './q4_0';
import {
  QK_K, Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES,
  dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K,
} from './kquants';

import {
  LEGACY_BLOCK_ELEMS, Q4_1_BLOCK_BYTES, Q5_0_BLOCK_BYTES, Q5_1_BLOCK_BYTES,
  dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1,
} from './q4_1_q5';
export type WeightType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q4_K' | 'Q5_K' | 'Q6_K';

export interface WeightFormatInfo {
  type: WeightType;
  /** ggml_type id in GGUF files. */
  ggmlType: number;
  /** Weights in one block. */
  blockElems: number;
  /** Bytes of one block. */
  blockBytes: number;
  /** dst = the weights of src, whole blocks. src: (blocks * blockBytes) bytes -> dst: (blocks * blockElems) */
  dequantize(src: Uint8Array, dst: Float32Array): void;
  /** dst = src in this format (reference quantizer, for writing model files). src: (blocks * blockElems) -> dst: (blocks * blockBytes) bytes */
  quantize(src: Float32Array, dst: Uint8Array): void;
}

const TABLE: readonly WeightFormatInfo[] = [
  { type: 'F32', ggmlType: 0, blockElems: 1, blockBytes: 4, dequantize: dequantizeF32, quantize: quantizeF32 },
  { type: 'F16', ggmlType: 1, blockElems: 1, blockBytes: 2, dequantize: dequantizeF16, quantize: quantizeF16 },
  { type: 'Q4_0', ggmlType: 2, blockElems: Q4_0_BLOCK_ELEMS, blockBytes: Q4_0_BLOCK_BYTES, dequantize: dequantizeQ4_0, quantize: quantizeQ4_0 },
  { type: 'Q4_1', ggmlType: 3, blockElems: LEGACY_BLOCK_ELEMS, blockBytes: Q4_1_BLOCK_BYTES, dequantize: dequantizeQ4_1, quantize: quantizeQ4_1 },
  { type: 'Q5_0', ggmlType: 6, blockElems: LEGACY_BLOCK_ELEMS, blockBytes: Q5_0_BLOCK_BYTES, dequantize: dequantizeQ5_0, quantize: quantizeQ5_0 },
  { type: 'Q5_1', ggmlType: 7, blockElems: LEGACY_BLOCK_ELEMS, blockBytes: Q5_1_BLOCK_BYTES, dequantize: dequantizeQ5_1, quantize: quantizeQ5_1 },
  { type: 'Q8_0', ggmlType: 8, blockElems: Q8_0_BLOCK_ELEMS, blockBytes: Q8_0_BLOCK_BYTES, dequantize: dequantizeQ8_0, quantize: quantizeQ8_0 },
  { type: 'Q4_K', ggmlType: 12, blockElems: QK_K, blockBytes: Q4_K_BLOCK_BYTES, dequantize: dequantizeQ4_K, quantize: quantizeQ4_K },
  { type: 'Q5_K', ggmlType: 13, blockElems: QK_K, blockBytes: Q5_K_BLOCK_BYTES, dequantize: dequantizeQ5_K, quantize: quantizeQ5_K },
  { type: 'Q6_K', ggmlType: 14, blockElems: QK_K, blockBytes: Q6_K_BLOCK_BYTES, dequantize: dequantizeQ6_K, quantize: quantizeQ6_K },
  { type: 'BF16', ggmlType: 30, blockElems: 1, blockBytes: 2, dequantize: dequantizeBF16, quantize: quantizeBF16 },
];

export const WEIGHT_TYPES: readonly WeightType[] = TABLE.map((f) => f.type);

const BY_TYPE = new Map(TABLE.map((f) => [f.type, f]));
const BY_GGML = new Map(TABLE.map((f) => [f.ggmlType, f]));

/** ggml's names of the types it has and Limelight does not read, for messages. */
const OTHER_GGML_NAMES: Readonly<Record<number, string>> = {
  9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS',
  19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M',
  34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

export function formatInfo(type: WeightType): WeightFormatInfo {
  const f = BY_TYPE.get(type);
  if (f === undefined) throw new RangeError(`unknown weight format ${JSON.stringify(type)}; known: ${WEIGHT_TYPES.join(', ')}`);
  return f;
}

/** The format of a ggml type id, or undefined when Limelight does not read it. */
export function formatOfGgmlType(id: number): WeightFormatInfo | undefined {
  return BY_GGML.get(id);
}

/** ggml's name of a type id, for messages ("type 10 (Q2_K)"). */
export function ggmlTypeName(id: number): string {
  return BY_GGML.get(id)?.type ?? OTHER_GGML_NAMES[id] ?? `unknown type ${id}`;
}

/** Bytes that n weights take in this format; n must fill whole blocks. */
export function bytesFor(type: WeightType, n: number): number {
  const f = formatInfo(type);
  if (n % f.blockElems !== 0) throw new RangeError(`${type} stores weights in blocks of ${f.blockElems}; ${n} weights do not fill whole blocks`);
  return (n / f.blockElems) * f.blockBytes;
}

/** dst = the weights of src, whole blocks of `type`. src: (blocks * blockBytes) bytes -> dst: (blocks * blockElems) */
export function dequantize(type: WeightType, src: Uint8Array, dst: Float32Array): void {
  formatInfo(type).dequantize(src, dst);
}

/** dst = src written as whole blocks of `type`. src: (blocks * blockElems) -> dst: bytesFor(type, src.length) bytes */
export function quantize(type: WeightType, src: Float32Array, dst: Uint8Array): void {
  formatInfo(type).quantize(src, dst);
}

/**
 * Rows rowStart .. rowStart + rowCount - 1 of a (rows, rowWidth) matrix stored in `type`, as
 * F32: the embedding lookup of a token reads its one row this way. src is the matrix's bytes from
 * its first row (it may hold more rows than are read). src: (rows * bytesFor(type, rowWidth))
 * bytes -> dst: (rowCount, rowWidth)
 */
export function dequantizeRows(type: WeightType, src: Uint8Array, rowStart: number, rowCount: number, rowWidth: number, dst: Float32Array): void {
  for (const [name, v] of [['rowStart', rowStart], ['rowCount', rowCount], ['rowWidth', rowWidth]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`dequantizeRows: ${name} must be a non-negative integer, got ${v}`);
  }
  const f = formatInfo(type);
  if (rowWidth % f.blockElems !== 0) {
    throw new RangeError(`${type} stores weights in blocks of ${f.blockElems}; rows of ${rowWidth} weights do not fill whole blocks`);
  }
  const rowBytes = (rowWidth / f.blockElems) * f.blockBytes;
  const end = (rowStart + rowCount) * rowBytes;
  if (end > src.length) {
    throw new RangeError(`dequantizeRows: rows ${rowStart}..${rowStart + rowCount - 1} of ${rowWidth}-wide ${type} rows end at byte ${end}, but the matrix has ${src.length} bytes (${Math.floor(src.length / Math.max(1, rowBytes))} rows)`);
  }
  if (dst.length !== rowCount * rowWidth) {
    throw new RangeError(`dequantizeRows: ${rowCount} rows of ${rowWidth} weights need a destination of ${rowCount * rowWidth}, got ${dst.length}`);
  }
  f.dequantize(src.subarray(rowStart * rowBytes, end), dst);
}
