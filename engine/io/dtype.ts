// Element types of safetensors files and the conversions between them.
// Half-precision conversions work on raw bits (Uint16Array / Uint32Array views) so they are
// exact, keep NaN payloads and allocate nothing per element: F16 -> F32 is one lookup in a
// 65536-entry table, BF16 -> F32 is a 16-bit shift, F32 -> F16 rounds to nearest even.
// The engine assumes a little-endian host (every platform VS Code runs on), the byte order
// safetensors stores.

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

export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The float32 bit pattern of one float16 bit pattern (exact: every F16 value is an F32 value). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN, payload kept
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // 112 = 127 - 15
  if (mant === 0) return sign >>> 0;
  // Subnormal: normalise the mantissa so the implicit leading 1 moves into place.
  let e = 113; // exponent field of 2^-14, the scale of F16 subnormals' leading bit
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** The float16 bit pattern nearest to a float32 bit pattern, ties to even (IEEE 754 default). */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // quiet NaN stays NaN
  const e = exp - 112; // F16 exponent field
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: signed zero
    mant |= 0x800000;
    const shift = 14 - e; // F16 subnormal unit is 2^-24
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++; // may carry into the smallest normal: still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is the right rounding, up to infinity
  return sign | h;
}

let f16Table: Uint32Array | null = null;

/** F32 bit patterns of all 65536 F16 values, built on first use (256 KiB). */
function f16ToF32Table(): Uint32Array {
  if (f16Table === null) {
    const t = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Bits(h);
    f16Table = t;
  }
  return f16Table;
}

function bitsOf(out: Float32Array): Uint32Array {
  return new Uint32Array(out.buffer, out.byteOffset, out.length);
}

/** out[i] = float32(src[i]) for F16 bit patterns in src. (n) -> (n) */
export function f16ToF32(out: Float32Array, src: Uint16Array): void {
  const table = f16ToF32Table();
  const o = bitsOf(out);
  const n = src.length;
  for (let i = 0; i < n; i++) o[i] = table[src[i]];
}

/** out[i] = float32(src[i]) for BF16 bit patterns in src: BF16 is the top half of an F32. (n) -> (n) */
export function bf16ToF32(out: Float32Array, src: Uint16Array): void {
  const o = bitsOf(out);
  const n = src.length;
  for (let i = 0; i < n; i++) o[i] = src[i] << 16;
}

/** out[i] = F16 bit pattern nearest to src[i] (round to nearest even). (n) -> (n) */
export function f32ToF16(out: Uint16Array, src: Float32Array): void {
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = f32BitsToF16Bits(s[i]);
}
