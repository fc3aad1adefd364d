// Half-precision floats (IEEE F16 and bfloat16) and their conversions to and from F32.
// Conversions work on raw bits (Uint16Array / Uint32Array views) so they are exact, keep NaN
// payloads and allocate nothing per element: F16 -> F32 is one lookup in a 65536-entry table,
// BF16 -> F32 is a 16-bit shift, F32 -> F16 and F32 -> BF16 round to nearest even.
// This is the bottom layer: the weight formats, the kernels and io/ all read halves through it,
// and it imports nothing.
// The engine assumes a little-endian host (every platform VS Code runs on), the byte order of
// safetensors and GGUF files; the byte-wise readers here (f16At) work on any host.

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

/** The bfloat16 bit pattern nearest to a float32 bit pattern, ties to even; NaN stays a (quiet) NaN. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff; // NaN: keep the top payload, force quiet
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff; // a carry into the exponent rounds up, to infinity at the top
}

let f16Bits: Uint32Array | null = null;
let f16Floats: Float32Array | null = null;

/** F32 bit patterns of all 65536 F16 values, built on first use (256 KiB). */
function f16ToF32Table(): Uint32Array {
  if (f16Bits === null) {
    const t = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Bits(h);
    f16Bits = t;
    f16Floats = new Float32Array(t.buffer);
  }
  return f16Bits;
}

/**
 * The same table as floats: f16Floats[h] is the value of F16 bit pattern h. For loops that read
 * one F16 scale per block: fetch it once, then each scale is a single load.
 */
export function f16FloatTable(): Float32Array {
  if (f16Floats === null) f16ToF32Table();
  return f16Floats as Float32Array;
}

/** The value of one F16 bit pattern (a table lookup; NaN payloads are not kept in a JS number). */
export function f16ToF32Scalar(h: number): number {
  return (f16Floats ?? f16FloatTable())[h & 0xffff];
}

/** The value of the little-endian F16 at byte offset o of bytes (any alignment, any host). */
export function f16At(bytes: Uint8Array, o: number): number {
  return (f16Floats ?? f16FloatTable())[bytes[o] | (bytes[o + 1] << 8)];
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The float32 bit pattern of x rounded to float32 (Math.fround), as an unsigned integer. */
export function f32BitsOf(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

/** The F16 bit pattern nearest to x (x first rounded to float32, then to F16, as C's (ggml_fp16_t)(float)x). */
export function f32ToF16Scalar(x: number): number {
  return f32BitsToF16Bits(f32BitsOf(x));
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

/** out[i] = BF16 bit pattern nearest to src[i] (round to nearest even). (n) -> (n) */
export function f32ToBf16(out: Uint16Array, src: Float32Array): void {
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = f32BitsToBf16Bits(s[i]);
}
