// Normalisations over the last axis: LayerNorm (GPT-2) and RMSNorm (Llama).
// Statistics are accumulated in float64 (JS numbers) and the mean is removed before the
// variance, so large activations do not lose precision. Forward optionally keeps
// mean / rstd (N) for the backward pass.

export function layernormForward(
  out: Float32Array, // (N, C)
  mean: Float32Array | null, // (N)
  rstd: Float32Array | null, // (N)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  bias: Float32Array | null, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const xi = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[xi + i]!;
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) {
      const d = inp[xi + i]! - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) out[xi + i] = (inp[xi + i]! - m) * s * weight[i]! + (bias !== null ? bias[i]! : 0);
    if (mean !== null) mean[n] = m;
    if (rstd !== null) rstd[n] = s;
  }
}

export function rmsnormForward(
  out: Float32Array, // (N, C)
  rstd: Float32Array | null, // (N)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const xi = n * C;
    let ss = 0;
    for (let i = 0; i < C; i++) ss += inp[xi + i]! * inp[xi + i]!;
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let i = 0; i < C; i++) out[xi + i] = inp[xi + i]! * s * weight[i]!;
    if (rstd !== null) rstd[n] = s;
  }
}
