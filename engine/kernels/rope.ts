// Rotary position embedding in Hugging Face Llama's "rotate half" convention: dimension i
// pairs with i + HD/2, rotated by angle pos * theta^(-2i/HD).

/** (maxPos, HD/2) cos and sin tables, angles computed in float64. */
export function ropeTables(maxPos: number, HD: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = HD / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let i = 0; i < half; i++) {
    // Rounded to float32 first, as transformers computes inv_freq in float32.
    const invFreq = Math.fround(1 / Math.pow(theta, (2 * i) / HD));
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
