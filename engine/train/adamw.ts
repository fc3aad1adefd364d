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
    /** Where m and v live (each `size` floats, zeroed), e.g. a TrainPool's shared memory; default: new arrays. */
    alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
  ) {
    this.m = alloc(size);
    this.v = alloc(size);
    this.segments = segments ?? [{ start: 0, end: size, decay: true }];
  }

  /** The ranges of the buffer and whether weight decay applies to each. */
  get decaySegments(): readonly DecaySegment[] {
    return this.segments;
  }

  /**
   * Checks the buffers and counts the update about to be made; returns its constants: the
   * step size lr / (1 - beta1^t) and sqrt(1 - beta2^t). Every implementation of the update
   * (update below, TrainPool.adamwUpdate) starts here.
   */
  begin(params: Float32Array, grads: Float32Array, lr: number): { stepSize: number; bc2Sqrt: number } {
    if (params.length !== this.size || grads.length !== this.size) {
      throw new Error(`AdamW: expected ${this.size} parameters and gradients, got ${params.length} and ${grads.length}`);
    }
    this.step++;
    return { stepSize: lr / (1 - Math.pow(this.options.beta1, this.step)), bc2Sqrt: Math.sqrt(1 - Math.pow(this.options.beta2, this.step)) };
  }

  /**
   * One update of `params` from `grads` * gradScale (a clipping coefficient, see clipScale;
   * the scaled gradient is rounded to f32 as if grads had been scaled in place); lr overrides
   * options.lr (for a schedule).
   */
  update(params: Float32Array, grads: Float32Array, lr = this.options.lr, gradScale = 1): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    const { stepSize, bc2Sqrt } = this.begin(params, grads, lr);
    const { m, v } = this;
    for (const seg of this.segments) {
      const keep = seg.decay ? 1 - lr * weightDecay : 1;
      for (let i = seg.start; i < seg.end; i++) {
        const g = gradScale === 1 ? grads[i]! : Math.fround(grads[i]! * gradScale);
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
  const norm = globalNorm(grads);
  const coef = clipScale(norm, maxNorm);
  if (coef < 1) for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! * coef;
  return norm;
}

/** The L2 norm of grads, summed in f64. */
export function globalNorm(grads: Float32Array): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i]! * grads[i]!;
  return Math.sqrt(ss);
}

/** The factor clip_grad_norm_ scales gradients of global norm `norm` by (1: left alone). */
export function clipScale(norm: number, maxNorm: number): number {
  const coef = maxNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}
