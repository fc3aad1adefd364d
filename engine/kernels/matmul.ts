// Linear layer: out (N, OC) = inp (N, C) . weight (OC, C)^T + bias (OC).
// The weight is (out, in) row-major so every dot product reads one weight row in order.

/** Plain reference: one dot product per output, four accumulators for instruction-level parallelism. */
export function matmulForward(
  out: Float32Array, // (N, OC)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (OC, C)
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  const C4 = C - (C % 4);
  for (let n = 0; n < N; n++) {
    const xi = n * C;
    const oi = n * OC;
    for (let o = 0; o < OC; o++) {
      const wi = o * C;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let i = 0;
      for (; i < C4; i += 4) {
        a0 += inp[xi + i]! * weight[wi + i]!;
        a1 += inp[xi + i + 1]! * weight[wi + i + 1]!;
        a2 += inp[xi + i + 2]! * weight[wi + i + 2]!;
        a3 += inp[xi + i + 3]! * weight[wi + i + 3]!;
      }
      for (; i < C; i++) a0 += inp[xi + i]! * weight[wi + i]!;
      out[oi + o] = a0 + a1 + a2 + a3 + (bias !== null ? bias[o]! : 0);
    }
  }
}
