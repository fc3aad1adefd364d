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

/**
 * Backward of matmulForward, accumulating (+=) into whichever gradients are given (null skips
 * one: a frozen weight needs no dweight, the first layer's input needs no dinp).
 *   dinp (N, C) += dout (N, OC) . weight (OC, C)
 *   dweight (OC, C) += dout^T . inp
 *   dbias (OC) += column sums of dout
 * Both products walk rows of four at a time so each pass over a destination row does four
 * rows' worth of work; rows [n0, n1) / [o0, o1) let a thread pool split the work.
 */
export function matmulBackward(
  dinp: Float32Array | null, // (N, C)
  dweight: Float32Array | null, // (OC, C)
  dbias: Float32Array | null, // (OC)
  dout: Float32Array, // (N, OC)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (OC, C)
  N: number,
  C: number,
  OC: number,
): void {
  if (dinp !== null) matmulBackwardInput(dinp, dout, weight, C, OC, 0, N);
  if (dweight !== null) matmulBackwardWeight(dweight, dout, inp, N, C, OC, 0, OC);
  if (dbias !== null) {
    for (let n = 0; n < N; n++) {
      const di = n * OC;
      for (let o = 0; o < OC; o++) dbias[o] += dout[di + o]!;
    }
  }
}

/** dinp rows [n0, n1) += dout . weight. */
export function matmulBackwardInput(
  dinp: Float32Array, // (N, C)
  dout: Float32Array, // (N, OC)
  weight: Float32Array, // (OC, C)
  C: number,
  OC: number,
  n0: number,
  n1: number,
): void {
  const OC4 = OC - (OC % 4);
  for (let n = n0; n < n1; n++) {
    const xi = n * C;
    const di = n * OC;
    let o = 0;
    for (; o < OC4; o += 4) {
      const d0 = dout[di + o]!;
      const d1 = dout[di + o + 1]!;
      const d2 = dout[di + o + 2]!;
      const d3 = dout[di + o + 3]!;
      const w0 = o * C;
      const w1 = w0 + C;
      const w2 = w1 + C;
      const w3 = w2 + C;
      for (let i = 0; i < C; i++) {
        dinp[xi + i] += d0 * weight[w0 + i]! + d1 * weight[w1 + i]! + d2 * weight[w2 + i]! + d3 * weight[w3 + i]!;
      }
    }
    for (; o < OC; o++) {
      const d = dout[di + o]!;
      const wi = o * C;
      for (let i = 0; i < C; i++) dinp[xi + i] += d * weight[wi + i]!;
    }
  }
}

/** dweight rows [o0, o1) += dout^T . inp. */
export function matmulBackwardWeight(
  dweight: Float32Array, // (OC, C)
  dout: Float32Array, // (N, OC)
  inp: Float32Array, // (N, C)
  N: number,
  C: number,
  OC: number,
  o0: number,
  o1: number,
): void {
  const N4 = N - (N % 4);
  for (let o = o0; o < o1; o++) {
    const wi = o * C;
    let n = 0;
    for (; n < N4; n += 4) {
      const d0 = dout[n * OC + o]!;
      const d1 = dout[(n + 1) * OC + o]!;
      const d2 = dout[(n + 2) * OC + o]!;
      const d3 = dout[(n + 3) * OC + o]!;
      const x0 = n * C;
      const x1 = x0 + C;
      const x2 = x1 + C;
      const x3 = x2 + C;
      for (let i = 0; i < C; i++) {
        dweight[wi + i] += d0 * inp[x0 + i]! + d1 * inp[x1 + i]! + d2 * inp[x2 + i]! + d3 * inp[x3 + i]!;
      }
    }
    for (; n < N; n++) {
      const d = dout[n * OC + o]!;
      const xi = n * C;
      for (let i = 0; i < C; i++) dweight[wi + i] += d * inp[xi + i]!;
    }
  }
}
