// Feed-forward activations: GELU in its tanh form (GPT-2's gelu_new) and SwiGLU (Llama).

const GELU_SCALE = Math.sqrt(2 / Math.PI);

export function geluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i]!;
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
  }
}

/** out (N, FF) = silu(gate) * up, with inp (N, 2 FF) holding gate then up in each row. */
export function swigluForward(
  out: Float32Array, // (N, FF)
  inp: Float32Array, // (N, 2 FF)
  N: number,
  FF: number,
): void {
  for (let n = 0; n < N; n++) {
    const gi = n * 2 * FF;
    const oi = n * FF;
    for (let i = 0; i < FF; i++) {
      const g = inp[gi + i]!;
      out[oi + i] = (g / (1 + Math.exp(-g))) * inp[gi + FF + i]!;
    }
  }
}

/** Backward of geluForward: dinp += dout * gelu'(inp). */
export function geluBackward(dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i]!;
    const u = GELU_SCALE * (x + 0.044715 * x * x * x);
    const th = Math.tanh(u);
    const sech2 = 1 - th * th;
    const grad = 0.5 * (1 + th) + 0.5 * x * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    dinp[i] += dout[i]! * grad;
  }
}

/** Backward of swigluForward: d gate += dout * up * silu'(gate), d up += dout * silu(gate). */
export function swigluBackward(
  dinp: Float32Array, // (N, 2 FF)
  dout: Float32Array, // (N, FF)
  inp: Float32Array, // (N, 2 FF)
  N: number,
  FF: number,
): void {
  for (let n = 0; n < N; n++) {
    const gi = n * 2 * FF;
    const oi = n * FF;
    for (let i = 0; i < FF; i++) {
      const g = inp[gi + i]!;
      const sig = 1 / (1 + Math.exp(-g));
      const d = dout[oi + i]!;
      dinp[gi + i] += d * inp[gi + FF + i]! * sig * (1 + g * (1 - sig));
      dinp[gi + FF + i] += d * g * sig;
    }
  }
}
