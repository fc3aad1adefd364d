// Token embedding plus, for GPT-2, a learned position embedding. Every row of a (B, T) batch
// starts at position pos0 (0 in training; the cached prefix length when decoding).

export function embeddingForward(
  out: Float32Array, // (B, T, C)
  tokens: Int32Array, // (B, T)
  wte: Float32Array, // (V, C)
  wpe: Float32Array | null, // (maxPositions, C)
  B: number,
  T: number,
  C: number,
  pos0 = 0,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const oi = (b * T + t) * C;
      const ei = tokens[b * T + t]! * C;
      if (wpe !== null) {
        const pi = (pos0 + t) * C;
        for (let i = 0; i < C; i++) out[oi + i] = wte[ei + i]! + wpe[pi + i]!;
      } else {
        for (let i = 0; i < C; i++) out[oi + i] = wte[ei + i]!;
      }
    }
  }
}

/** Backward of embeddingForward: scatter-adds each row's gradient into its token's and position's rows. */
export function embeddingBackward(
  dwte: Float32Array | null, // (V, C)
  dwpe: Float32Array | null, // (maxPositions, C)
  dout: Float32Array, // (B, T, C)
  tokens: Int32Array, // (B, T)
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const di = (b * T + t) * C;
      if (dwte !== null) {
        const ei = tokens[b * T + t]! * C;
        for (let i = 0; i < C; i++) dwte[ei + i] += dout[di + i]!;
      }
      if (dwpe !== null) {
        const pi = t * C;
        for (let i = 0; i < C; i++) dwpe[pi + i] += dout[di + i]!;
      }
    }
  }
}
