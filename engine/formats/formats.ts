// The weight formats the engine reads from model files, as ggml lays them out: one row of this
// table per format (its ggml type id, how many weights one block holds and in how many bytes),
// and, in the format's own module, its reference dequantizer. Everything that sizes, reads or
// dispatches on a tensor's format goes through this table: the GGUF reader, the loaders, the
// backends. A format not listed here is refused by name when a file is opened.
//
// A block is the format's unit: its weights run along a row (the innermost dimension), so a row
// of width C holds C / blockElems blocks and C must be a multiple of blockElems.

export type WeightType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_K' | 'Q5_K' | 'Q6_K';

export interface WeightFormatInfo {
  type: WeightType;
  /** ggml_type id in GGUF files. */
  ggmlType: number;
  /** Weights in one block. */
  blockElems: number;
  /** Bytes of one block. */
  blockBytes: number;
}

const TABLE: readonly WeightFormatInfo[] = [
  { type: 'F32', ggmlType: 0, blockElems: 1, blockBytes: 4 },
  { type: 'F16', ggmlType: 1, blockElems: 1, blockBytes: 2 },
  { type: 'Q4_0', ggmlType: 2, blockElems: 32, blockBytes: 18 },
  { type: 'Q8_0', ggmlType: 8, blockElems: 32, blockBytes: 34 },
  { type: 'Q4_K', ggmlType: 12, blockElems: 256, blockBytes: 144 },
  { type: 'Q5_K', ggmlType: 13, blockElems: 256, blockBytes: 176 },
  { type: 'Q6_K', ggmlType: 14, blockElems: 256, blockBytes: 210 },
  { type: 'BF16', ggmlType: 30, blockElems: 1, blockBytes: 2 },
];

export const WEIGHT_TYPES: readonly WeightType[] = TABLE.map((f) => f.type);

const BY_TYPE = new Map(TABLE.map((f) => [f.type, f]));
const BY_GGML = new Map(TABLE.map((f) => [f.ggmlType, f]));

/** ggml's names of the types it has and Limelight does not read, for messages. */
const OTHER_GGML_NAMES: Readonly<Record<number, string>> = {
  3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS',
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
