// Logit lens (nostalgebraist, 2020): read the residual stream after every layer as if it
// were the last one, by applying the final norm and the LM head to it. Early layers give
// vague guesses; watching the top tokens sharpen shows where in the stack a prediction forms.
import type { Model } from '../model/model';
import { layernormForward, rmsnormForward } from '../kernels/norms';
import { matmulForward } from '../kernels/matmul';
import { topK } from './filter';

export interface LogitLens {
  positions: Int32Array; // (P)
  K: number;
  ids: Int32Array; // (P, L + 1, K)
  probs: Float32Array; // (P, L + 1, K)
  N: number;
  finalIds: Int32Array; // (P, N)
  finalLogits: Float32Array; // (P, N)
}

/**
 * hidden is (L + 1, T, C) as ReferenceBackend's captureHidden gives it: rows < L are the raw
 * residual stream (embedding, then after each block but the last), row L is already after
 * the final norm. Reads out `positions` (each in [0, T)).
 */
export function logitLens(model: Model, hidden: Float32Array, T: number, positions: Int32Array, K: number, N: number): LogitLens {
  const c = model.config;
  const { lnfw, lnfb, lmHead } = model.views;
  const L = c.nLayer;
  const C = c.hidden;
  const V = c.vocabSize;
  const P = positions.length;
  const x = new Float32Array(P * C); // (P, C)
  const xn = new Float32Array(P * C); // (P, C)
  const logits = new Float32Array(P * V); // (P, V)
  const ids = new Int32Array(P * (L + 1) * K);
  const probs = new Float32Array(P * (L + 1) * K);
  const finalIds = new Int32Array(P * N);
  const finalLogits = new Float32Array(P * N);
  const idx = new Int32Array(Math.max(K, N));
  const val = new Float32Array(Math.max(K, N));
  for (let r = 0; r <= L; r++) {
    for (let p = 0; p < P; p++) x.set(hidden.subarray((r * T + positions[p]!) * C, (r * T + positions[p]! + 1) * C), p * C);
    if (r === L) xn.set(x);
    else if (c.norm === 'layernorm') layernormForward(xn, null, null, x, lnfw, lnfb, P, C, c.normEps);
    else rmsnormForward(xn, null, x, lnfw, P, C, c.normEps);
    matmulForward(logits, xn, lmHead, null, P, C, V);
    for (let p = 0; p < P; p++) {
      const row = logits.subarray(p * V, (p + 1) * V);
      const lse = logSumExp(row);
      const n = topK(row, K, idx, val);
      const o = (p * (L + 1) + r) * K;
      for (let i = 0; i < n; i++) {
        ids[o + i] = idx[i]!;
        probs[o + i] = Math.exp(val[i]! - lse);
      }
      if (r === L) {
        const m = topK(row, N, idx, val);
        finalIds.set(idx.subarray(0, m), p * N);
        finalLogits.set(val.subarray(0, m), p * N);
      }
    }
  }
  return { positions, K, ids, probs, N, finalIds, finalLogits };
}

export function logSumExp(row: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > m) m = row[i]!;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}

/**
 * Which positions get a lens within a budget of multiply-adds (each costs (L + 1) V C):
 * every position when they fit, else the last ones (the generated tokens, then the end of
 * the prompt, where a completion is decided).
 */
export function chooseLensPositions(T: number, costPerPosition: number, budget: number): Int32Array {
  const fit = Math.min(T, Math.max(1, Math.floor(budget / Math.max(1, costPerPosition))));
  return Int32Array.from({ length: fit }, (_, i) => T - fit + i);
}
