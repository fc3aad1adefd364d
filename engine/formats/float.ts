// The unquantized formats, one weight per "block": F32 (4 bytes), F16 and BF16 (2 bytes), all
// little-endian as GGUF and safetensors store them. Conversions are exact bit operations (see
// half.ts): F16 and BF16 widen to F32 without rounding and keep NaN payloads; F32 narrows with
// round-to-nearest-even.
// Bytes are read through a Uint16Array / Float32Array view when the source's offset is aligned
// (the usual case: GGUF aligns tensor data to 32 bytes); an unaligned source is first copied once.

import { HOST_IS_LITTLE_ENDIAN, bf16ToF32, f16ToF32, f32BitsToBf16Bits, f32BitsToF16Bits, f32ToBf16, f32ToF16 } from './half';
import { checkDequantizeArgs, checkQuantizeArgs } from './blocks';

function requireLittleEndian(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('model files store little-endian numbers and this host is big-endian, which Limelight does not support.');
}

/** The same bytes at an offset that is a multiple of `align` (a copy only when they are not). */
function aligned(src: Uint8Array, align: number): Uint8Array {
  return src.byteOffset % align === 0 ? src : src.slice();
}

/** dst[i] = the F32 at bytes 4i..4i+3 of src. src: (4n) bytes -> dst: (n) */
export function dequantizeF32(src: Uint8Array, dst: Float32Array): void {
  const n = checkDequantizeArgs('F32', src, dst, 1, 4);
  requireLittleEndian();
  new Uint8Array(dst.buffer, dst.byteOffset, n * 4).set(src);
}

/** dst[i] = the F16 at bytes 2i..2i+1 of src, widened exactly. src: (2n) bytes -> dst: (n) */
export function dequantizeF16(src: Uint8Array, dst: Float32Array): void {
  const n = checkDequantizeArgs('F16', src, dst, 1, 2);
  requireLittleEndian();
  const s = aligned(src, 2);
  f16ToF32(dst, new Uint16Array(s.buffer, s.byteOffset, n));
}

/** dst[i] = the BF16 at bytes 2i..2i+1 of src (the top half of an F32). src: (2n) bytes -> dst: (n) */
export function dequantizeBF16(src: Uint8Array, dst: Float32Array): void {
  const n = checkDequantizeArgs('BF16', src, dst, 1, 2);
  requireLittleEndian();
  const s = aligned(src, 2);
  bf16ToF32(dst, new Uint16Array(s.buffer, s.byteOffset, n));
}

/** The bytes of src as F32. src: (n) -> dst: (4n) bytes */
export function quantizeF32(src: Float32Array, dst: Uint8Array): void {
  const n = checkQuantizeArgs('F32', src, dst, 1, 4);
  requireLittleEndian();
  dst.set(new Uint8Array(src.buffer, src.byteOffset, n * 4));
}

/** Each value of src as the nearest F16 (ties to even; beyond 65504 -> infinity). src: (n) -> dst: (2n) bytes */
export function quantizeF16(src: Float32Array, dst: Uint8Array): void {
  const n = checkQuantizeArgs('F16', src, dst, 1, 2);
  requireLittleEndian();
  if (dst.byteOffset % 2 === 0) {
    f32ToF16(new Uint16Array(dst.buffer, dst.byteOffset, n), src);
    return;
  }
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const h = f32BitsToF16Bits(bits[i]);
    dst[2 * i] = h & 0xff;
    dst[2 * i + 1] = h >>> 8;
  }
}

/** Each value of src as the nearest BF16 (ties to even). src: (n) -> dst: (2n) bytes */
export function quantizeBF16(src: Float32Array, dst: Uint8Array): void {
  const n = checkQuantizeArgs('BF16', src, dst, 1, 2);
  requireLittleEndian();
  if (dst.byteOffset % 2 === 0) {
    f32ToBf16(new Uint16Array(dst.buffer, dst.byteOffset, n), src);
    return;
  }
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const h = f32BitsToBf16Bits(bits[i]);
    dst[2 * i] = h & 0xff;
    dst[2 * i + 1] = h >>> 8;
  }
}
