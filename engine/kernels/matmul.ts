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

/**
 * dinp rows [n0, n1) += dout . weight. Blocks of 4 rows x 4 outputs: each pass over a weight
 * row segment updates four destination rows, so every load feeds four multiply-adds.
 */
export function matmulBackwardInput(
  dinp: Float32Array, // (N, C)
  dout: Float32Array, // (N, OC)
  weight: Float32Array, // (OC, C)
  C: number,
  OC: number,
  n0: number,
  n1: number,
): void {
  let n = n0;
  for (; n + 4 <= n1; n += 4) {
    const x0 = n * C;
    const x1 = x0 + C;
    const x2 = x1 + C;
    const x3 = x2 + C;
    const g0 = n * OC;
    const g1 = g0 + OC;
    const g2 = g1 + OC;
    const g3 = g2 + OC;
    let o = 0;
    for (; o + 4 <= OC; o += 4) {
      const a00 = dout[g0 + o]!, a01 = dout[g0 + o + 1]!, a02 = dout[g0 + o + 2]!, a03 = dout[g0 + o + 3]!;
      const a10 = dout[g1 + o]!, a11 = dout[g1 + o + 1]!, a12 = dout[g1 + o + 2]!, a13 = dout[g1 + o + 3]!;
      const a20 = dout[g2 + o]!, a21 = dout[g2 + o + 1]!, a22 = dout[g2 + o + 2]!, a23 = dout[g2 + o + 3]!;
      const a30 = dout[g3 + o]!, a31 = dout[g3 + o + 1]!, a32 = dout[g3 + o + 2]!, a33 = dout[g3 + o + 3]!;
      const w0 = o * C;
      const w1 = w0 + C;
      const w2 = w1 + C;
      const w3 = w2 + C;
      for (let i = 0; i < C; i++) {
        const b0 = weight[w0 + i]!;
        const b1 = weight[w1 + i]!;
        const b2 = weight[w2 + i]!;
        const b3 = weight[w3 + i]!;
        dinp[x0 + i] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3;
        dinp[x1 + i] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3;
        dinp[x2 + i] += a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3;
        dinp[x3 + i] += a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3;
      }
    }
    for (; o < OC; o++) {
      const a0 = dout[g0 + o]!, a1 = dout[g1 + o]!, a2 = dout[g2 + o]!, a3 = dout[g3 + o]!;
      const wi = o * C;
      for (let i = 0; i < C; i++) {
        const b = weight[wi + i]!;
        dinp[x0 + i] += a0 * b;
        dinp[x1 + i] += a1 * b;
        dinp[x2 + i] += a2 * b;
        dinp[x3 + i] += a3 * b;
      }
    }
  }
  for (; n < n1; n++) {
    const xi = n * C;
    const gi = n * OC;
    for (let o = 0; o < OC; o++) {
      const a = dout[gi + o]!;
      const wi = o * C;
      for (let i = 0; i < C; i++) dinp[xi + i] += a * weight[wi + i]!;
    }
  }
}

/**
 * dweight rows [o0, o1) += dout^T . inp. Blocks of 4 outputs x 4 rows, as matmulBackwardInput
 * with the roles of the operands exchanged.
 */
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
  let o = o0;
  for (; o + 4 <= o1; o += 4) {
    const w0 = o * C;
    const w1 = w0 + C;
    const w2 = w1 + C;
    const w3 = w2 + C;
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const g0 = n * OC + o;
      const g1 = g0 + OC;
      const g2 = g1 + OC;
      const g3 = g2 + OC;
      const a00 = dout[g0]!, a01 = dout[g1]!, a02 = dout[g2]!, a03 = dout[g3]!;
      const a10 = dout[g0 + 1]!, a11 = dout[g1 + 1]!, a12 = dout[g2 + 1]!, a13 = dout[g3 + 1]!;
      const a20 = dout[g0 + 2]!, a21 = dout[g1 + 2]!, a22 = dout[g2 + 2]!, a23 = dout[g3 + 2]!;
      const a30 = dout[g0 + 3]!, a31 = dout[g1 + 3]!, a32 = dout[g2 + 3]!, a33 = dout[g3 + 3]!;
      const x0 = n * C;
      const x1 = x0 + C;
      const x2 = x1 + C;
      const x3 = x2 + C;
      for (let i = 0; i < C; i++) {
        const b0 = inp[x0 + i]!;
        const b1 = inp[x1 + i]!;
        const b2 = inp[x2 + i]!;
        const b3 = inp[x3 + i]!;
        dweight[w0 + i] += a00 * b0 + a01 * b1 + a02 * b2 + a03 * b3;
        dweight[w1 + i] += a10 * b0 + a11 * b1 + a12 * b2 + a13 * b3;
        dweight[w2 + i] += a20 * b0 + a21 * b1 + a22 * b2 + a23 * b3;
        dweight[w3 + i] += a30 * b0 + a31 * b1 + a32 * b2 + a33 * b3;
      }
    }
    for (; n < N; n++) {
      const g = n * OC + o;
      const a0 = dout[g]!, a1 = dout[g + 1]!, a2 = dout[g + 2]!, a3 = dout[g + 3]!;
      const xi = n * C;
      for (let i = 0; i < C; i++) {
        const b = inp[xi + i]!;
        dweight[w0 + i] += a0 * b;
        dweight[w1 + i] += a1 * b;
        dweight[w2 + i] += a2 * b;
        dweight[w3 + i] += a3 * b;
      }
    }
  }
  for (; o < o1; o++) {
    const wi = o * C;
    for (let n = 0; n < N; n++) {
      const a = dout[n * OC + o]!;
      const xi = n * C;
      for (let i = 0; i < C; i++) dweight[wi + i] += a * inp[xi + i]!;
    }
  }
}

/** Rows in one group of the packed f32 layout (packF32Forward). */
export const F32_PACK_ROWS = 4;

/**
 * A weight (OC, C) to the layout the decode kernel streams (C % 4 == 0): groups of 4 rows, and
 * in each group 4 columns at a time the 4 rows' values side by side, wp (ceil(OC/4), C/4, 4, 4).
 * The rows that fill the last group are zero. One pass over a group reads its floats in order.
 */
export function packF32Forward(
  wp: Float32Array, // (ceil(OC / 4), C / 4, 4, 4)
  weight: Float32Array, // (OC, C)
  OC: number,
  C: number,
): void {
  if (C % 4 !== 0) throw new RangeError(`the packed f32 layout needs rows a multiple of 4 wide (got ${C})`);
  const groups = Math.ceil(OC / F32_PACK_ROWS);
  let d = 0;
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < C; k += 4) {
      for (let r = 0; r < F32_PACK_ROWS; r++) {
        const o = g * F32_PACK_ROWS + r;
        const s = o * C + k;
        const real = o < OC;
        wp[d] = real ? weight[s]! : 0;
        wp[d + 1] = real ? weight[s + 1]! : 0;
        wp[d + 2] = real ? weight[s + 2]! : 0;
        wp[d + 3] = real ? weight[s + 3]! : 0;
        d += 4;
      }
    }
  }
}
