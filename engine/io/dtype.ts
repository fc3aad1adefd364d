// Element types of safetensors files: their names and sizes. The conversions between them
// (F16 / BF16 <-> F32) live in engine/formats/half.ts, the bottom layer that the weight formats
// and kernels share without importing io/.

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export const SUPPORTED_DTYPES = Object.keys(DTYPE_SIZE) as Dtype[];

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}
