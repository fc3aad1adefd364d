// Attention rollout (Abnar & Zuidema, 2020): how much each output position draws on each
// input token once every layer is taken into account. The residual connection is modelled
// by adding the identity to each layer's head-averaged attention and renormalising rows,
// (A + I) / 2, and the layers are chained by matrix products: R_l = Â_l R_(l-1).
// All matrices are causal, stored as lower triangles (see format.ts), so a product costs
// T^3 / 6 multiply-adds instead of T^3.
import { triRow, triSize } from './format';

/** Writes (A + I) / 2 of a lower-triangle attention matrix into out. */
export function withResidual(out: Float32Array, att: Float32Array, T: number): void {
  for (let q = 0; q < T; q++) {
    const r = triRow(q);
    for (let k = 0; k <= q; k++) out[r + k] = 0.5 * att[r + k]!;
    out[r + q] += 0.5;
  }
}

/** out = a . b for lower-triangle (T, T) matrices; out must not alias a or b. */
export function triMatmul(out: Float32Array, a: Float32Array, b: Float32Array, T: number): void {
  out.fill(0, 0, triSize(T));
  for (let i = 0; i < T; i++) {
    const ri = triRow(i);
    for (let k = 0; k <= i; k++) {
      const w = a[ri + k]!;
      if (w === 0) continue;
      const rk = triRow(k);
      for (let j = 0; j <= k; j++) out[ri + j] += w * b[rk + j]!;
    }
  }
}

/**
 * Rollout after each layer: out[l] = Â_l ... Â_0 for the head-averaged attention
 * meanHeads (L, triSize(T)). Rows of every result sum to 1.
 */
export function attentionRollout(meanHeads: Float32Array, L: number, T: number): Float32Array {
  const n = triSize(T);
  const out = new Float32Array(L * n); // (L, triSize(T))
  const step = new Float32Array(n);
  for (let l = 0; l < L; l++) {
    const dst = out.subarray(l * n, (l + 1) * n);
    if (l === 0) {
      withResidual(dst, meanHeads.subarray(0, n), T);
    } else {
      withResidual(step, meanHeads.subarray(l * n, (l + 1) * n), T);
      triMatmul(dst, step, out.subarray((l - 1) * n, l * n), T);
    }
  }
  return out;
}
