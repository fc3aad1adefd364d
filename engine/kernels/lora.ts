// The low-rank half of a LoRA linear layer: out[:, col : col + rows] += scale * u . B^T, where
// u = x . A^T (N, r) is the down projection (an ordinary matmulForward) and B (rows, r) the
// up projection. `col` and OC let one adapter cover a block of columns of a fused output
// (q or v inside q|k|v, gate or up inside gate|up).

export function loraUpForward(
  out: Float32Array, // (N, OC)
  u: Float32Array, // (N, r)
  B: Float32Array, // (rows, r)
  scale: number,
  N: number,
  r: number,
  rows: number,
  OC: number,
  col: number,
): void {
  for (let n = 0; n < N; n++) {
    const ui = n * r;
    const oi = n * OC + col;
    for (let o = 0; o < rows; o++) {
      const bi = o * r;
      let s = 0;
      for (let k = 0; k < r; k++) s += u[ui + k]! * B[bi + k]!;
      out[oi + o] += scale * s;
    }
  }
}

/** Backward of loraUpForward, accumulating (+=): du = scale dout . B, dB = scale dout^T . u (dB null when frozen). */
export function loraUpBackward(
  du: Float32Array, // (N, r)
  dB: Float32Array | null, // (rows, r)
  dout: Float32Array, // (N, OC)
  u: Float32Array, // (N, r)
  B: Float32Array, // (rows, r)
  scale: number,
  N: number,
  r: number,
  rows: number,
  OC: number,
  col: number,
): void {
  for (let n = 0; n < N; n++) {
    const ui = n * r;
    const di = n * OC + col;
    for (let o = 0; o < rows; o++) {
      const d = scale * dout[di + o]!;
      const bi = o * r;
      for (let k = 0; k < r; k++) {
        du[ui + k] += d * B[bi + k]!;
        if (dB !== null) dB[bi + k] += d * u[ui + k]!;
      }
    }
  }
}
