// The training loop's one step: micro-batches from the dataset, loss and gradients
// (accumulated over micro-batches as one mean over all their tokens), global-norm clipping,
// the scheduled learning rate and an AdamW update of whatever is trained (the whole model, or
// only the LoRA adapters with the base frozen). Everything a step depends on (data position,
// step number, seed) is state that a checkpoint saves, so a resumed run repeats an
// uninterrupted one exactly.
import type { Model } from '../model/model';
import { createActivations, countTargets, lossAndGrads, type Activations, type TrainBatch } from './gradients';
import { AdamW, clipScale, globalNorm, noDecaySegments } from './adamw';
import { paramViews } from '../model/layout';
import { lrAt } from './schedule';
import type { DataPosition, TokenDataset } from './data';
import type { Lora } from './lora';
import type { TrainPool } from './trainPool';
import { POOL_LOGIT_ROWS } from './poolCapacity';

export interface TrainerOptions {
  steps: number;
  batchSize: number; // B
  seqLen: number; // T
  /** Micro-batches per update. */
  gradAccum: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Largest global gradient norm, or null for no clipping. */
  clipNorm: number | null;
  /** Exempt norm weights and biases from weight decay (full fine-tuning only). */
  noDecayNormsAndBiases: boolean;
  /** Recompute each block in the backward pass instead of keeping its activations. */
  recompute: boolean;
  seed: number;
}

export const TRAINER_DEFAULTS: TrainerOptions = {
  steps: 200,
  batchSize: 4,
  seqLen: 128,
  gradAccum: 1,
  lr: 3e-4,
  minLr: 3e-5,
  warmupSteps: 10,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  clipNorm: 1,
  noDecayNormsAndBiases: true,
  recompute: false,
  seed: 1337,
};

export interface StepResult {
  /** Updates done, this one included. */
  step: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens that counted towards the loss. */
  tokens: number;
}

export class Trainer {
  readonly optimizer: AdamW;
  readonly grads: Float32Array;
  readonly acts: Activations;
  step = 0;
  position: DataPosition = { epoch: 0, index: 0 };
  /** Loss of every update so far. */
  readonly losses: number[] = [];
  private readonly batches: TrainBatch[];

  constructor(
    readonly model: Model,
    readonly dataset: TokenDataset,
    readonly options: TrainerOptions,
    readonly lora: Lora | null = null,
    /**
     * Runs the passes' kernels and AdamW on SIMD kernels and threads (trainPool.ts; null: the
     * reference kernels). The model's parameters (and the adapters'), gradients, moments and
     * activations then live in the pool's shared memory: model.params, model.views and
     * lora.params are replaced by views there holding the same values.
     */
    readonly pool: TrainPool | null = null,
  ) {
    const { batchSize: B, seqLen: T } = options;
    if (dataset.T !== T) throw new Error(`Trainer: the dataset cuts windows of ${dataset.T} tokens but seqLen is ${T}`);
    if (pool !== null) {
      if (lora !== null) lora.params = pool.adopt(lora.params);
      model.params = pool.adopt(model.params);
      model.views = paramViews(model.layout, model.params);
    }
    const alloc = pool !== null ? (n: number): Float32Array => pool.alloc(n) : undefined;
    const size = this.trainable().length;
    const segments = lora === null && options.noDecayNormsAndBiases ? noDecaySegments(model.layout) : undefined;
    this.optimizer = new AdamW(size, { lr: options.lr, beta1: options.beta1, beta2: options.beta2, eps: options.eps, weightDecay: options.weightDecay }, segments, alloc);
    this.grads = alloc?.(size) ?? new Float32Array(size);
    this.acts = createActivations(model.config, B, T, { recompute: options.recompute, lora, logitRows: pool !== null ? POOL_LOGIT_ROWS : undefined, alloc });
    this.batches = Array.from({ length: options.gradAccum }, () => ({ B, T, tokens: new Int32Array(B * T), targets: new Int32Array(B * T) }));
  }

  /** The buffer the optimizer updates: the adapters, or every model parameter. */
  trainable(): Float32Array {
    return this.lora !== null ? this.lora.params : this.model.params;
  }

  trainStep(): StepResult {
    const o = this.options;
    let pos = this.position;
    for (const batch of this.batches) pos = this.dataset.fill(batch, pos);
    const tokens = this.batches.reduce((n, b) => n + countTargets(b.targets), 0);
    if (this.pool !== null) this.pool.zero(this.grads);
    else this.grads.fill(0);
    let loss = 0;
    this.batches.forEach((batch, micro) => {
      const count = countTargets(batch.targets);
      const mean = lossAndGrads(this.model, batch, this.acts, this.lora ? null : this.grads, {
        lora: this.lora,
        loraGrads: this.lora ? this.grads : null,
        dloss: 1 / Math.max(1, tokens),
        dropoutSeed: (o.seed ^ Math.imul(this.step * o.gradAccum + micro + 1, 0x2545f491)) >>> 0,
        kernels: this.pool ?? undefined,
      });
      loss += (mean * count) / Math.max(1, tokens);
    });
    // Clipping scales the gradients inside the update (the same f32 values as scaling them in place).
    const gradNorm = this.pool !== null ? this.pool.gradNorm(this.grads) : globalNorm(this.grads);
    const scale = o.clipNorm !== null ? clipScale(gradNorm, o.clipNorm) : 1;
    const lr = lrAt({ lr: o.lr, minLr: o.minLr, warmupSteps: o.warmupSteps, totalSteps: o.steps }, this.step);
    if (this.pool !== null) this.pool.adamwUpdate(this.optimizer, this.trainable(), this.grads, lr, scale);
    else this.optimizer.update(this.trainable(), this.grads, lr, scale);
    this.position = pos;
    this.step++;
    this.losses.push(loss);
    return { step: this.step, loss, lr, gradNorm, tokens };
  }
}
