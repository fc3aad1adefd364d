// Rotary position embedding in Hugging Face Llama's "rotate half" convention: dimension i
// pairs with i + HD/2, rotated by angle pos * inv_freq[i], inv_freq[i] = theta^(-2i/HD) unless
// a scaling stretches the long wavelengths for a longer context than the model was trained on.

/**
 * How a checkpoint rescales its rotary frequencies (transformers' rope_type):
 *   linear        every inv_freq divided by factor (DeepSeek-Coder base, CodeLlama variants)
 *   llama3        long wavelengths divided by factor, short ones kept, a smooth blend between
 *                 (Llama 3.1 / 3.2)
 *   freq_factors  inv_freq[i] divided by factors[i]: how llama.cpp stores llama3 scaling in a
 *                 GGUF file (its rope_freqs tensor)
 */
export type RopeScaling =
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  | { kind: 'freq_factors'; factors: number[] };

/** (HD/2) inverse frequencies, each rounded to float32 as transformers computes them. */
export function ropeInvFreq(HD: number, theta: number, scaling: RopeScaling | null = null): Float64Array {
  const half = HD / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    let f = Math.fround(1 / Math.pow(theta, (2 * i) / HD));
    if (scaling?.kind === 'linear') f = f / scaling.factor;
    else if (scaling?.kind === 'freq_factors') f = f / (scaling.factors[i] ?? 1);
    else if (scaling?.kind === 'llama3') {
      const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > originalMaxPositions / lowFreqFactor) f = f / factor;
      else if (wavelen >= originalMaxPositions / highFreqFactor) {
        const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        f = (1 - smooth) * (f / factor) + smooth * f;
      }
    }
    inv[i] = Math.fround(f);
  }
  return inv;
}

/**
 * The scaling as llama.cpp's per-dimension divisors (its rope_freqs tensor): unscaled
 * inv_freq / scaled inv_freq, (HD/2). All ones without scaling.
 */
export function ropeFreqFactors(HD: number, theta: number, scaling: RopeScaling | null): Float32Array {
  const plain = ropeInvFreq(HD, theta, null);
  const scaled = ropeInvFreq(HD, theta, scaling);
  return Float32Array.from(plain, (f, i) => f / scaled[i]!);
}

/** (maxPos, HD/2) cos and sin tables, angles computed in float64. */
export function ropeTables(maxPos: number, HD: number, theta: number, scaling: RopeScaling | null = null): { cos: Float32Array; sin: Float32Array } {
  const half = HD / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  const inv = ropeInvFreq(HD, theta, scaling);
  for (let i = 0; i < half; i++) {
    const invFreq = inv[i]!;
    for (let p = 0; p < maxPos; p++) {
      const a = Math.fround(p * invFreq);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/**
 * Rotates `nh` heads of each of T rows in place. Row t sits at position pos0 + t.
 * x is (T, stride) with the heads starting at column `col`, each HD wide.
 */
export function ropeForward(
  x: Float32Array, // (T, stride)
  cos: Float32Array, // (maxPos, HD/2)
  sin: Float32Array, // (maxPos, HD/2)
  pos0: number,
  T: number,
  stride: number,
  col: number,
  nh: number,
  HD: number,
): void {
  const half = HD / 2;
  for (let t = 0; t < T; t++) {
    const ti = (pos0 + t) * half;
    for (let h = 0; h < nh; h++) {
      const base = t * stride + col + h * HD;
      for (let i = 0; i < half; i++) {
        const c = cos[ti + i]!;
        const s = sin[ti + i]!;
        const a = x[base + i]!;
        const b = x[base + half + i]!;
        x[base + i] = a * c - b * s;
        x[base + half + i] = b * c + a * s;
      }
    }
  }
}

/**
 * Backward of ropeForward, in place on the gradient: a rotation's transpose is the rotation
 * by the opposite angle.
 */
export function ropeBackward(
  dx: Float32Array, // (T, stride)
  cos: Float32Array, // (maxPos, HD/2)
  sin: Float32Array, // (maxPos, HD/2)
  pos0: number,
  T: number,
  stride: number,
  col: number,
  nh: number,
  HD: number,
): void {
  const half = HD / 2;
  for (let t = 0; t < T; t++) {
    const ti = (pos0 + t) * half;
    for (let h = 0; h < nh; h++) {
      const base = t * stride + col + h * HD;
      for (let i = 0; i < half; i++) {
        const c = cos[ti + i]!;
        const s = sin[ti + i]!;
        const a = dx[base + i]!;
        const b = dx[base + half + i]!;
        dx[base + i] = a * c + b * s;
        dx[base + half + i] = b * c - a * s;
      }
    }
  }
}
