// Draws a causal attention matrix (lower triangle of bytes) into pixels. When the matrix is
// larger than the image, each pixel shows the strongest weight of the keys it covers, so a
// single sharp line of attention never disappears in the downsampling.
import { triRow } from '../../../../engine/inspect/format';

/** Fills img (S, S) from a (T, T) lower triangle; cells above the diagonal get `empty`. */
export function drawMatrix(img: ImageData, matrix: Uint8Array, T: number, lut: Uint32Array, empty: number): void {
  const S = img.width;
  const px = new Uint32Array(img.data.buffer, img.data.byteOffset, S * img.height);
  for (let y = 0; y < img.height; y++) {
    const q = Math.min(T - 1, Math.floor(((y + 0.5) * T) / img.height));
    const row = triRow(q);
    for (let x = 0; x < S; x++) {
      const k0 = Math.floor((x * T) / S);
      if (k0 > q) {
        px[y * S + x] = empty;
        continue;
      }
      const k1 = Math.min(q + 1, Math.max(k0 + 1, Math.floor(((x + 1) * T) / S)));
      let m = 0;
      for (let k = k0; k < k1; k++) if (matrix[row + k]! > m) m = matrix[row + k]!;
      px[y * S + x] = lut[m]!;
    }
  }
}
