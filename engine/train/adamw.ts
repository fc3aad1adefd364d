// AdamW with exactly torch.optim.AdamW's arithmetic (single-tensor path):
//   p *= 1 - lr * wd                       (decoupled weight decay, before the Adam update)
//   m = m + (g - m) (1 - beta1);  v = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// over one flat buffer (the parameter layout, or a LoRA adapter buffer), so the moments reuse
// the layout. Weight decay applies to every element by default, as torch does; segments can
// exempt ranges (norms and biases, see noDecaySegments).
import type { ParamLayout } from '../model/layout';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** A range [start, end) of the buffer and whether weight decay applies to it. */
export interface DecaySegment {
  start: number;
  end: number;
  decay: boolean;
}

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Updates done so far (torch's state "step"). */
  step = 0;
  private readonly segments: DecaySegment[];

  constructor(
    readonly size: number,
    readonly options: AdamWOptions,
    segments?: DecaySegment[],
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
    this.segments = segments ?? [{ start: 0, end: size, decay: true }];
  }

  /** One update of `params` from `grads`; lr overrides options.lr (for a schedule). */
  update(params: Float32Array, grads: Float32Array, lr = this.options.lr): void {
    if (params.length !== this.size || grads.length !== this.size) {
      throw new Error(`AdamW: expected ${this.size} parameters and gradients, got ${params.length} and ${grads.length}`);
    }
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.step++;
    const stepSize = lr / (1 - Math.pow(beta1, this.step));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, this.step));
    const { m, v } = this;
    for (const seg of this.segments) {
      const keep = seg.decay ? 1 - lr * weightDecay : 1;
      for (let i = seg.start; i < seg.end; i++) {
        const g = grads[i]!;
        const p = Math.fround(params[i]! * keep);
        const mi = m[i]! + (g - m[i]!) * (1 - beta1);
        const vi = beta2 * v[i]! + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
      }
    }
  }
}

/** Segments of a parameter layout with norm weights and biases exempt from weight decay. */
export function noDecaySegments(layout: ParamLayout): DecaySegment[] {
  return layout.specs.map((s) => ({ start: s.offset, end: s.offset + s.size, decay: !(s.shape.length === 1) }));
}

/**
 * Scales grads so their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_);
 * returns the norm before clipping.
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i]! * grads[i]!;
  const norm = Math.sqrt(ss);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! * coef;
  return norm;
}
