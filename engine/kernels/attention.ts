// Causal multi-head / grouped-query attention of T new queries over a KV cache.
// Query head h reads key/value head floor(h / (NH / KVH)). Softmax is max-subtracted and
// accumulated in float64, so long contexts and large scores stay exact enough to match
// Hugging Face within 1e-5 on probabilities.

export function attentionForward(
  out: Float32Array, // (T, NH * HD)
  probs: Float32Array | null, // (NH, T, pos + T) captured probabilities, or null
  qkv: Float32Array, // (T, qkvStride) with the NH query heads in columns [0, NH * HD)
  kCache: Float32Array, // (KVH, ctx, HD) this layer's keys, positions [0, pos + T) filled
  vCache: Float32Array, // (KVH, ctx, HD) this layer's values
  scores: Float32Array, // (ctx) scratch
  pos: number,
  T: number,
  NH: number,
  KVH: number,
  HD: number,
  ctx: number,
  qkvStride: number,
  window: number | null,
): void {
  const group = NH / KVH;
  const scale = 1 / Math.sqrt(HD);
  const keys = pos + T;
  const outStride = NH * HD;
  for (let t = 0; t < T; t++) {
    const p = pos + t;
    const first = window !== null ? Math.max(0, p - window + 1) : 0;
    for (let h = 0; h < NH; h++) {
      const qi = t * qkvStride + h * HD;
      const kvBase = Math.floor(h / group) * ctx * HD;
      let max = -Infinity;
      for (let j = first; j <= p; j++) {
        const ki = kvBase + j * HD;
        let dot = 0;
        for (let d = 0; d < HD; d++) dot += qkv[qi + d]! * kCache[ki + d]!;
        const s = dot * scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = first; j <= p; j++) {
        const e = Math.exp(scores[j]! - max);
        scores[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      const oi = t * outStride + h * HD;
      for (let d = 0; d < HD; d++) out[oi + d] = 0;
      for (let j = first; j <= p; j++) {
        const w = scores[j]! * inv;
        const vi = kvBase + j * HD;
        for (let d = 0; d < HD; d++) out[oi + d] += w * vCache[vi + d]!;
      }
      if (probs !== null) {
        const pi = (h * T + t) * keys;
        probs.fill(0, pi, pi + keys);
        for (let j = first; j <= p; j++) probs[pi + j] = scores[j]! * inv;
      }
    }
  }
}
