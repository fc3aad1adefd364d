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

/** The model's norm by kind: LayerNorm (with its optional bias) or RMSNorm (bias ignored). */
export function normForward(
  kind: 'layernorm' | 'rmsnorm',
  out: Float32Array, // (N, C)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  bias: Float32Array | null, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  if (kind === 'layernorm') layernormForward(out, null, null, inp, weight, bias, N, C, eps);
  else rmsnormForward(out, null, inp, weight, N, C, eps);
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

/**
 * Backward of layernormForward from the kept mean / rstd, accumulating (+=) into dinp,
 * dweight and dbias (llm.c's form):
 *   dnorm = dout * weight;  dinp = rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat))
 */
export function layernormBackward(
  dinp: Float32Array, // (N, C)
  dweight: Float32Array | null, // (C)
  dbias: Float32Array | null, // (C)
  dout: Float32Array, // (N, C)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  mean: Float32Array, // (N)
  rstd: Float32Array, // (N)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const xi = n * C;
    const m = mean[n]!;
    const s = rstd[n]!;
    let dnormMean = 0;
    let dnormXhatMean = 0;
    for (let i = 0; i < C; i++) {
      const dnorm = dout[xi + i]! * weight[i]!;
      dnormMean += dnorm;
      dnormXhatMean += dnorm * (inp[xi + i]! - m) * s;
    }
    dnormMean /= C;
    dnormXhatMean /= C;
    for (let i = 0; i < C; i++) {
      const xhat = (inp[xi + i]! - m) * s;
      const d = dout[xi + i]!;
      if (dweight !== null) dweight[i] += d * xhat;
      if (dbias !== null) dbias[i] += d;
      dinp[xi + i] += s * (d * weight[i]! - dnormMean - xhat * dnormXhatMean);
    }
  }
}

/**
 * Backward of rmsnormForward, accumulating (+=):
 *   dinp = rstd * (dout * weight - x * rstd^2 * mean(dout * weight * x))
 */
export function rmsnormBackward(
  dinp: Float32Array, // (N, C)
  dweight: Float32Array | null, // (C)
  dout: Float32Array, // (N, C)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  rstd: Float32Array, // (N)
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const xi = n * C;
    const s = rstd[n]!;
    let dot = 0;
    for (let i = 0; i < C; i++) dot += dout[xi + i]! * weight[i]! * inp[xi + i]!;
    const k = (s * s * dot) / C;
    for (let i = 0; i < C; i++) {
      const x = inp[xi + i]!;
      const d = dout[xi + i]!;
      if (dweight !== null) dweight[i] += d * x * s;
      dinp[xi + i] += s * (d * weight[i]! - x * k);
    }
  }
}
