// Causal multi-head / grouped-query attention over whole training sequences (B, T), keeping
// the softmax probabilities for the backward pass. Same semantics as attentionForward (query
// head h reads key/value head floor(h / (NH / KVH)), scores scaled by 1/sqrt(HD), optional
// sliding window), but every row of the batch starts at position 0 and there is no cache:
// keys and values are read straight from the fused qkv activations.
//   qkv row layout: [NH query heads | KVH key heads | KVH value heads], each HD wide.

export function attentionTrainForward(
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
  const QKV = (NH + 2 * KVH) * HD;
  const group = NH / KVH;
  const scale = 1 / Math.sqrt(HD);
  const outStride = NH * HD;
  for (let b = 0; b < B; b++) {
    const rowBase = b * T * QKV;
    for (let h = 0; h < NH; h++) {
      const kCol = (NH + Math.floor(h / group)) * HD;
      const vCol = kCol + KVH * HD;
      for (let t = 0; t < T; t++) {
        const first = window !== null ? Math.max(0, t - window + 1) : 0;
        const qi = rowBase + t * QKV + h * HD;
        const pi = ((b * NH + h) * T + t) * T;
        let max = -Infinity;
        for (let j = first; j <= t; j++) {
          const ki = rowBase + j * QKV + kCol;
          let dot = 0;
          for (let d = 0; d < HD; d++) dot += qkv[qi + d]! * qkv[ki + d]!;
          const s = dot * scale;
          probs[pi + j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = first; j <= t; j++) {
          const e = Math.exp(probs[pi + j]! - max);
          probs[pi + j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        const oi = (b * T + t) * outStride + h * HD;
        for (let d = 0; d < HD; d++) out[oi + d] = 0;
        for (let j = first; j <= t; j++) {
          const w = probs[pi + j]! * inv;
          probs[pi + j] = w;
          const vi = rowBase + j * QKV + vCol;
          for (let d = 0; d < HD; d++) out[oi + d] += w * qkv[vi + d]!;
        }
      }
    }
  }
}

/**
 * Backward of attentionTrainForward, accumulating (+=) into dqkv (gradients with respect to
 * the rotated q and k, and v). dscores is (T) scratch.
 *   dp_j = dout . v_j;  ds_j = p_j (dp_j - sum_i p_i dp_i);  dq += scale sum_j ds_j k_j;
 *   dk_j += scale ds_j q;  dv_j += p_j dout
 */
export function attentionTrainBackward(
  dqkv: Float32Array, // (B, T, QKV)
  dscores: Float32Array, // (T)
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
  const QKV = (NH + 2 * KVH) * HD;
  const group = NH / KVH;
  const scale = 1 / Math.sqrt(HD);
  const outStride = NH * HD;
  for (let b = 0; b < B; b++) {
    const rowBase = b * T * QKV;
    for (let h = 0; h < NH; h++) {
      const kCol = (NH + Math.floor(h / group)) * HD;
      const vCol = kCol + KVH * HD;
      for (let t = 0; t < T; t++) {
        const first = window !== null ? Math.max(0, t - window + 1) : 0;
        const qi = rowBase + t * QKV + h * HD;
        const pi = ((b * NH + h) * T + t) * T;
        const oi = (b * T + t) * outStride + h * HD;
        let weighted = 0;
        for (let j = first; j <= t; j++) {
          const vi = rowBase + j * QKV + vCol;
          const p = probs[pi + j]!;
          let dp = 0;
          for (let d = 0; d < HD; d++) {
            const g = dout[oi + d]!;
            dp += g * qkv[vi + d]!;
            dqkv[vi + d] += p * g;
          }
          dscores[j] = dp;
          weighted += p * dp;
        }
        for (let j = first; j <= t; j++) {
          const ds = probs[pi + j]! * (dscores[j]! - weighted) * scale;
          const ki = rowBase + j * QKV + kCol;
          for (let d = 0; d < HD; d++) {
            dqkv[qi + d] += ds * qkv[ki + d]!;
            dqkv[ki + d] += ds * qkv[qi + d]!;
          }
        }
      }
    }
  }
}
