// How the model knows word order, for the position view.
//   GPT-2 adds a learned vector per position: neighbouring positions end up with similar
//   vectors, which shows as a bright band along the diagonal of their cosine similarities.
//   Llama rotates queries and keys by an angle proportional to position (RoPE), pair i at
//   frequency theta^(-2i/HD): a query and key d apart score as if multiplied by cos(d f_i),
//   which on average decays with distance.
// The measured attention by distance (from the real forward pass) shows both at work.
import type { Model } from '../model/model';
import { triRow, type PositionInfo } from './format';

/** (P, P) cosine similarity of the first P rows of wpe (maxPositions, C). */
export function positionSimilarity(wpe: Float32Array, C: number, P: number): Float32Array {
  const norms = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += wpe[i * C + c]! * wpe[i * C + c]!;
    norms[i] = Math.sqrt(s) || 1;
  }
  const out = new Float32Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += wpe[i * C + c]! * wpe[j * C + c]!;
      const v = s / (norms[i]! * norms[j]!);
      out[i * P + j] = v;
      out[j * P + i] = v;
    }
  }
  return out;
}

/** RoPE frequencies (HD / 2) and the mean of cos(d f_i) over pairs for d in [0, D). */
export function ropeProfile(HD: number, theta: number, D: number): { frequencies: Float32Array; decay: Float32Array } {
  const half = HD / 2;
  const frequencies = new Float32Array(half);
  for (let i = 0; i < half; i++) frequencies[i] = 1 / Math.pow(theta, (2 * i) / HD);
  const decay = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let i = 0; i < half; i++) s += Math.cos(d * frequencies[i]!);
    decay[d] = s / half;
  }
  return { frequencies, decay };
}

/** (L, T) mean weight of the key d positions back, from head-averaged (L, triSize(T)) attention. */
export function attentionByDistance(meanHeads: Float32Array, L: number, T: number): Float32Array {
  const n = triRow(T);
  const out = new Float32Array(L * T);
  for (let l = 0; l < L; l++) {
    const a = meanHeads.subarray(l * n, (l + 1) * n);
    for (let q = 0; q < T; q++) {
      const r = triRow(q);
      for (let d = 0; d <= q; d++) out[l * T + d] += a[r + q - d]!;
    }
    for (let d = 0; d < T; d++) out[l * T + d] /= T - d;
  }
  return out;
}

const MAX_SIMILARITY_POSITIONS = 128;

export function positionInfo(model: Model, meanHeads: Float32Array, T: number): PositionInfo {
  const c = model.config;
  const byDistance = attentionByDistance(meanHeads, c.nLayer, T);
  const { wpe } = model.views;
  if (c.positions === 'learned' && wpe) {
    const P = Math.min(c.maxPositions, MAX_SIMILARITY_POSITIONS);
    return { kind: 'learned', similarity: positionSimilarity(wpe, c.hidden, P), P, frequencies: null, ropeDecay: null, byDistance, D: T };
  }
  const D = Math.max(T, Math.min(c.maxPositions, 1024));
  const rope = ropeProfile(c.headDim, c.ropeTheta, D);
  return { kind: 'rope', similarity: null, P: 0, frequencies: rope.frequencies, ropeDecay: rope.decay, byDistance, D: T };
}
