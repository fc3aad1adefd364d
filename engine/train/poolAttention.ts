// Causal attention of a training pass on a PoolArena's product, one (sequence, head) pair at a
// time, packing Q, K and V straight out of the qkv rows: the scores S = Q K^T, out = P V and,
// backward, dP = dO V^T, dQ = dS K, dK = dS^T Q, dV = P^T dO, with the softmax and its backward
// (O(T^2), no head width) between the products, split by rows on the threads (in TypeScript when
// the probabilities are not resident). The reference is kernels/attentionTrain.ts; shapes that
// do not fit the arena's regions run it instead.
import { attentionTrainBackward, attentionTrainForward } from '../kernels/attentionTrain';
import type { PoolArena } from './poolArena';
import { attentionCapacity } from './poolCapacity';

/** Below this many scores per thread the attention softmax runs in the calling thread alone. */
const MIN_SCORES_PER_THREAD = 1 << 14;

/** As kernels/attentionTrain.ts attentionTrainForward (same arguments, same probs). */
export function attentionTrainForwardOn(
  arena: PoolArena,
  out: Float32Array, // (B, T, NH HD)
  probs: Float32Array, // (B, NH, T, T) softmax probabilities; only j <= t is written
  qkv: Float32Array, // (B, T, QKV), q and k already rotated
  B: number,
  T: number,
  NH: number,
  KVH: number,
  HD: number,
  window: number | null,
): void {
  if (!arena.fits(attentionCapacity(T, NH, KVH, HD))) {
    attentionTrainForward(out, probs, qkv, B, T, NH, KVH, HD, window);
    return;
  }
  const f = arena.f32;
  const QKV = (NH + 2 * KVH) * HD;
  const group = NH / KVH;
  const scale = 1 / Math.sqrt(HD);
  const outStride = NH * HD;
  const { out: o, scratch: pr } = arena.at;
  const onThreads = arena.isResident(probs); // the softmax kernel writes probs in place
  for (let b = 0; b < B; b++) {
    const src = arena.stage({ data: qkv, at: b * T * QKV, si: QKV, sk: 1 }, T, QKV);
    for (let h = 0; h < NH; h++) {
      const kCol = (NH + Math.floor(h / group)) * HD;
      const vCol = kCol + KVH * HD;
      // S (T, T) = Q K^T
      arena.headProduct(null, 0, 0, false, src + 4 * h * HD, QKV, 1, src + 4 * kCol, QKV, 1, T, HD, T);
      const p0 = pr >> 2;
      if (onThreads) {
        f[arena.at.consts >> 2] = scale;
        const args = [o, probs.byteOffset + 4 * (b * NH + h) * T * T, pr, T, window ?? 0, arena.at.consts];
        arena.pool.run('softmax_fwd', args, T, 1, Math.ceil((2 * MIN_SCORES_PER_THREAD) / T));
      } else f.fill(0, p0, p0 + T * T);
      for (let t = 0; t < T && !onThreads; t++) {
        const first = window !== null ? Math.max(0, t - window + 1) : 0;
        const si = (o >> 2) + t * T;
        const pi = ((b * NH + h) * T + t) * T;
        let max = -Infinity;
        for (let j = first; j <= t; j++) max = Math.max(max, f[si + j]! * scale);
        let sum = 0;
        for (let j = first; j <= t; j++) {
          const e = Math.exp(f[si + j]! * scale - max);
          probs[pi + j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let j = first; j <= t; j++) {
          probs[pi + j] = probs[pi + j]! * inv;
          f[p0 + t * T + j] = probs[pi + j]!;
        }
      }
      // O (T, HD) = P V, b (d, t) = V[t, d]
      arena.headProduct(out, b * T * outStride + h * HD, outStride, false, pr, T, 1, src + 4 * vCol, 1, QKV, T, T, HD);
    }
  }
}

/** As kernels/attentionTrain.ts attentionTrainBackward: accumulates (+=) into dqkv; needs no dscores scratch. */
export function attentionTrainBackwardOn(
  arena: PoolArena,
  dqkv: Float32Array, // (B, T, QKV)
  _dscores: Float32Array, // (T)
  dout: Float32Array, // (B, T, NH HD)
  qkv: Float32Array, // (B, T, QKV)
  probs: Float32Array, // (B, NH, T, T)
  B: number,
  T: number,
  NH: number,
  KVH: number,
  HD: number,
  window: number | null,
): void {
  if (!arena.fits(attentionCapacity(T, NH, KVH, HD))) {
    attentionTrainBackward(dqkv, _dscores, dout, qkv, probs, B, T, NH, KVH, HD, window);
    return;
  }
  const f = arena.f32;
  const QKV = (NH + 2 * KVH) * HD;
  const group = NH / KVH;
  const scale = 1 / Math.sqrt(HD);
  const ATT = NH * HD;
  const { out: o, scratch: ds, scratch2: pt } = arena.at;
  const [o0, ds0, p0] = [o >> 2, ds >> 2, pt >> 2];
  const onThreads = arena.isResident(probs); // the softmax kernel reads probs in place
  for (let b = 0; b < B; b++) {
    const rowBase = b * T * QKV;
    const src = arena.stage({ data: qkv, at: rowBase, si: QKV, sk: 1 }, T, QKV);
    const src2 = arena.stage({ data: dout, at: b * T * ATT, si: ATT, sk: 1 }, T, ATT, arena.at.src2);
    for (let h = 0; h < NH; h++) {
      const kCol = (NH + Math.floor(h / group)) * HD;
      const vCol = kCol + KVH * HD;
      // dP (T, T) = dO V^T
      arena.headProduct(null, 0, 0, false, src2 + 4 * h * HD, ATT, 1, src + 4 * vCol, QKV, 1, T, HD, T);
      if (onThreads) {
        f[arena.at.consts >> 2] = scale;
        const args = [o, probs.byteOffset + 4 * (b * NH + h) * T * T, ds, pt, T, window ?? 0, arena.at.consts];
        arena.pool.run('softmax_bwd', args, T, 1, Math.ceil((2 * MIN_SCORES_PER_THREAD) / T));
      } else {
        f.fill(0, ds0, ds0 + T * T);
        f.fill(0, p0, p0 + T * T);
      }
      for (let t = 0; t < T && !onThreads; t++) {
        const first = window !== null ? Math.max(0, t - window + 1) : 0;
        const pi = ((b * NH + h) * T + t) * T;
        const di = o0 + t * T;
        let weighted = 0;
        for (let j = first; j <= t; j++) weighted += probs[pi + j]! * f[di + j]!;
        for (let j = first; j <= t; j++) {
          const p = probs[pi + j]!;
          f[ds0 + t * T + j] = p * (f[di + j]! - weighted) * scale;
          f[p0 + t * T + j] = p;
        }
      }
      // dQ (T, HD) += dS K, b (d, t') = K[t', d]
      arena.headProduct(dqkv, rowBase + h * HD, QKV, true, ds, T, 1, src + 4 * kCol, 1, QKV, T, T, HD);
      // dK (T, HD) += dS^T Q, a (t', t) = dS[t, t']
      arena.headProduct(dqkv, rowBase + kCol, QKV, true, ds, 1, T, src + 4 * h * HD, 1, QKV, T, T, HD);
      // dV (T, HD) += P^T dO
      arena.headProduct(dqkv, rowBase + vCol, QKV, true, pt, 1, T, src2 + 4 * h * HD, 1, ATT, T, T, HD);
    }
  }
}
