// GGUF metadata values with their types, shared by the reader (ggufRead.ts) and the writer
// (ggufWrite.ts). A value keeps the type it has in the file, so a file read and written again
// holds the same bytes: `{ type: 'u32', value: 3 }`, `{ type: 'string', value: 'gpt2' }`,
// `{ type: 'array', of: 'string', value: ['a', 'b'] }`. 64-bit integers are bigints (exact);
// the reader's getNumber() turns them into numbers when that is exact.
// The value type ids and their order are GGUF's (ggml docs/gguf.md, gguf_metadata_value_type).

/** Scalar types whose JavaScript value is a number. */
export type GgufNumberType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
export type GgufBigintType = 'u64' | 'i64';
export type GgufScalarType = GgufNumberType | GgufBigintType | 'bool' | 'string';
/** What an array may hold: any scalar, or arrays (each inner array has its own element type). */
export type GgufElementType = GgufScalarType | 'array';
export type GgufValueType = GgufElementType;

export type GgufArray =
  | { type: 'array'; of: GgufNumberType; value: number[] }
  | { type: 'array'; of: GgufBigintType; value: bigint[] }
  | { type: 'array'; of: 'bool'; value: boolean[] }
  | { type: 'array'; of: 'string'; value: string[] }
  | { type: 'array'; of: 'array'; value: GgufArray[] };

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigintType; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GgufArray;

/** gguf_metadata_value_type ids. */
export const GGUF_TYPE_ID: Readonly<Record<GgufValueType, number>> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** The value type of an id, or undefined for an id GGUF does not define. */
export const GGUF_TYPE_OF_ID: readonly GgufValueType[] = (() => {
  const out: GgufValueType[] = [];
  for (const [name, id] of Object.entries(GGUF_TYPE_ID)) out[id] = name as GgufValueType;
  return out;
})();

/** Bytes of one value of a fixed-size type (strings and arrays are variable). */
export const GGUF_FIXED_SIZE: Readonly<Partial<Record<GgufValueType, number>>> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
};

/** Range of each integer type that is held as a number. */
export const GGUF_INT_RANGE: Readonly<Partial<Record<GgufNumberType, readonly [number, number]>>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

/** The file magic, "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
/** The data section's alignment when general.alignment is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS: a tensor has 1 to 4 dimensions. */
export const GGUF_MAX_DIMS = 4;

/** The error of every GGUF read or write: `<path>: <what was wrong>. <what to do>.` */
export class GgufError extends Error {
  override name = 'GgufError';
}

/** A short description of a value's type for messages: "u32", "array of string". */
export function describeGgufType(v: GgufValue): string {
  return v.type === 'array' ? `array of ${v.of}` : v.type;
}
