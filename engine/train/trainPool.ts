// The training kernel table (kernelTable.ts TrainKernels) on a compute pool's threads: the
// products of linear layers, LoRA and the LM head run on the arena's one packed product
// (poolArena.ts), the three products of a linear layer being that product read through
// different strides:
//   forward          out  (N, OC) =  inp    (N, C)   . W     (OC, C)^T  + bias
//   input gradient   dinp (N, C)  += dout   (N, OC)  . W^T   (C, OC)^T
//   weight gradient  dW   (OC, C) += dout^T (OC, N)  . inp^T (C, N)^T
// and so is LoRA's up projection (with a scale, into a block of columns) and its backward.
// The LM head and the cross-entropy are fused per chunk of rows: the logits stay in shared
// memory, where the threads turn them into their gradient in place (f32 SIMD exp once, f64 sums)
// and the two backward products pack them from there; the head's weight is packed once per pass.
// Attention is in poolAttention.ts, LayerNorm, GELU and zeroing in poolPointwise.ts, the
// gradient norm and AdamW in poolOptimizer.ts. The Trainer puts parameters, gradients, AdamW
// moments and activations in the resident room (alloc, adopt) so that they are used in place.
// Plain TypeScript references (what the tests compare against): kernels/matmul.ts, lora.ts,
// attentionTrain.ts, norms.ts, activations.ts and train/adamw.ts, gathered in kernelTable.ts;
// the pool's room is planned in poolCapacity.ts.
import type { ModelConfig } from '../model/config';
import { buildLayout } from '../model/layout';
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { IGNORE_INDEX } from '../kernels/crossEntropy';
import { loraUpBackward, loraUpForward } from '../kernels/lora';
import type { ComputePool } from '../runtime/pool';
import type { TrainOp } from '../kernels/wasm/trainKernels';
import type { Lora } from './lora';
import type { AdamW } from './adamw';
import { lmHeadWith, type LmHeadChunk, type TrainKernels } from './kernelTable';
import { arenaBytes, gemmCapacity, headCapacity, largest, MAX_SHARED_BYTES, POOL_LOGIT_ROWS, productCapacity, residentFloats, trainPoolCapacity, type Region, type TrainPoolCapacity } from './poolCapacity';
import { PoolArena } from './poolArena';
import { attentionTrainBackwardOn, attentionTrainForwardOn } from './poolAttention';
import { geluBackwardOn, geluForwardOn, layernormBackwardOn, layernormForwardOn, zeroOn } from './poolPointwise';
import { adamwUpdateOn, gradNormOn, NORM_BLOCK } from './poolOptimizer';

export interface TrainPoolOptions {
  /** Threads, the caller included (0 or absent: cores - 1, at least 1). */
  threads?: number;
  /** The Trainer will recompute blocks (Activations' recompute): less resident room for activations. */
  recompute?: boolean;
}

export class TrainPool extends PoolArena implements TrainKernels {
  private constructor(pool: ComputePool<TrainOp>, capacity: TrainPoolCapacity, at: Record<Region, number>) {
    super(pool, capacity, at);
  }

  /**
   * A pool with room for training `config` on (B, T) batches with the Trainer's head chunks,
   * and for the Trainer's resident buffers when they fit in a shared memory (else they stay
   * plain arrays and are staged).
   */
  static async forTraining(config: ModelConfig, B: number, T: number, lora: Lora | null, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const N = B * T;
    const rows = Math.min(POOL_LOGIT_ROWS, N);
    const staging = trainPoolCapacity(config, B, T, rows, lora);
    const trainable = lora !== null ? lora.params.length : buildLayout(config).total;
    const resident = residentFloats(config, B, T, lora, { recompute: opts.recompute === true, logitRows: rows });
    const capacity = { ...staging, consts: 8, partials: 2 * Math.ceil(trainable / NORM_BLOCK), resident };
    return TrainPool.create(arenaBytes(capacity) <= MAX_SHARED_BYTES ? capacity : { ...capacity, resident: 0 }, opts);
  }

  static async create(capacity: TrainPoolCapacity, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const { pool, at } = await PoolArena.open(capacity, opts.threads);
    return new TrainPool(pool, capacity, at);
  }

  /** LmHeadChunk with the logits in shared memory (see the file's comment). */
  lmHead(...args: Parameters<LmHeadChunk>): number {
    const [losses, dx, dW, x, W, targets, dloss, , rows, C, V, first] = args;
    if (!this.fits(headCapacity(rows, C, V))) return lmHeadWith(this, ...args);
    const { f32: f, f64: st, at } = this;
    if (first) {
      const w = this.stage({ data: W, at: 0, si: C, sk: 1 }, V, C);
      this.packB(at.headW, w, V, C, C, 1); // forward: b (v, c) = W[v, c]
      this.packB(at.headWt, w, C, V, 1, C); // input gradient: b (c, v) = W[v, c]
    }
    const xAt = this.stage({ data: x, at: 0, si: C, sk: 1 }, rows, C);
    this.packA(at.ap, xAt, rows, C, C, 1);
    this.gemm(at.logits, at.ap, at.headW, 0, rows, C, V, false);
    // ce_stats turns the logits into exponentials: keep each target's logit (in losses) first.
    const lg = at.logits >> 2;
    for (let i = 0; i < rows; i++) losses[i] = targets[i] === IGNORE_INDEX ? 0 : f[lg + i * V + targets[i]!]!;
    this.pool.run('ce_stats', [at.logits, at.stats, V], rows);
    // Per row: (max, sum) -> the loss as crossEntropyForward gives it, and ce_grad's scale.
    const s0 = at.stats >> 3;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const t = targets[i]!;
      const sum = st[s0 + 2 * i + 1]!;
      st[s0 + 2 * i + 1] = t === IGNORE_INDEX ? 0 : (dloss ?? 0) / sum;
      losses[i] = t === IGNORE_INDEX ? 0 : st[s0 + 2 * i]! + Math.log(sum) - losses[i]!;
      total += losses[i]!;
    }
    if (dloss === null) return total;
    this.pool.run('ce_grad', [at.logits, at.stats, V], rows);
    for (let i = 0; i < rows; i++) if (targets[i] !== IGNORE_INDEX) f[lg + i * V + targets[i]!] -= dloss;
    // dx (rows, C) += dlogits (rows, V) . W
    if (dx !== null) {
      this.packA(at.ap, at.logits, rows, V, V, 1);
      this.gemmInto(dx, 0, C, at.ap, at.headWt, 0, rows, V, C, true);
    }
    // dW (V, C) += a . b^T, a (v, r) = dlogits[r, v], b (c, r) = x[r, c]
    if (dW !== null) {
      this.packA(at.ap, at.logits, V, rows, 1, V);
      this.packB(at.bp, this.isResident(x) ? xAt : this.stage({ data: x, at: 0, si: C, sk: 1 }, rows, C), C, rows, 1, C);
      this.gemmInto(dW, 0, C, at.ap, at.bp, 0, V, rows, C, true);
    }
    return total;
  }

  matmulForward(
    out: Float32Array, // (N, OC)
    inp: Float32Array, // (N, C)
    weight: Float32Array, // (OC, C)
    bias: Float32Array | null, // (OC)
    N: number,
    C: number,
    OC: number,
  ): void {
    if (!this.fits(productCapacity(N, C, OC))) {
      matmulForward(out, inp, weight, bias, N, C, OC);
      return;
    }
    this.product(out, { data: inp, at: 0, si: C, sk: 1 }, { data: weight, at: 0, si: C, sk: 1 }, bias, N, C, OC, false);
  }

  /** As kernels/matmul.ts matmulBackward: accumulates (+=) into whichever gradients are given. */
  matmulBackward(
    dinp: Float32Array | null, // (N, C)
    dweight: Float32Array | null, // (OC, C)
    dbias: Float32Array | null, // (OC)
    dout: Float32Array, // (N, OC)
    inp: Float32Array, // (N, C)
    weight: Float32Array, // (OC, C)
    N: number,
    C: number,
    OC: number,
  ): void {
    if (!this.fits(productCapacity(N, C, OC))) {
      matmulBackward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
      return;
    }
    // dinp (N, C) += dout (N, OC) . b, b (c, o) = W[o, c]
    if (dinp !== null) this.product(dinp, { data: dout, at: 0, si: OC, sk: 1 }, { data: weight, at: 0, si: 1, sk: C }, null, N, OC, C, true);
    // dW (OC, C) += a . b^T, a (o, n) = dout[n, o], b (c, n) = inp[n, c]
    if (dweight !== null) this.product(dweight, { data: dout, at: 0, si: 1, sk: OC }, { data: inp, at: 0, si: 1, sk: C }, null, OC, N, C, true);
    if (dbias !== null) {
      for (let n = 0; n < N; n++) {
        const di = n * OC;
        for (let o = 0; o < OC; o++) dbias[o] += dout[di + o]!;
      }
    }
  }

  /** As kernels/lora.ts loraUpForward: out[:, col : col + rows] += scale u . B^T. */
  loraUpForward(
    out: Float32Array, // (N, OC)
    u: Float32Array, // (N, r)
    B: Float32Array, // (rows, r)
    scale: number,
    N: number,
    r: number,
    rows: number,
    OC: number,
    col: number,
  ): void {
    if (!this.fits(gemmCapacity(N, r, rows))) {
      loraUpForward(out, u, B, scale, N, r, rows, OC, col);
      return;
    }
    this.product(out, { data: u, at: 0, si: r, sk: 1 }, { data: B, at: 0, si: r, sk: 1 }, null, N, r, rows, true, col, OC, scale);
  }

  /** As kernels/lora.ts loraUpBackward (+=): du = scale dout . B, dB = scale dout^T . u (dB null when frozen). */
  loraUpBackward(
    du: Float32Array, // (N, r)
    dB: Float32Array | null, // (rows, r)
    dout: Float32Array, // (N, OC)
    u: Float32Array, // (N, r)
    B: Float32Array, // (rows, r)
    scale: number,
    N: number,
    r: number,
    rows: number,
    OC: number,
    col: number,
  ): void {
    if (!this.fits(largest(gemmCapacity(N, rows, r), gemmCapacity(rows, N, r)))) {
      loraUpBackward(du, dB, dout, u, B, scale, N, r, rows, OC, col);
      return;
    }
    // du (N, r) += scale dout[:, col : col + rows] . b^T, b (k, o) = B[o, k]
    this.product(du, { data: dout, at: col, si: OC, sk: 1 }, { data: B, at: 0, si: 1, sk: r }, null, N, rows, r, true, 0, r, scale);
    if (dB === null) return;
    // dB (rows, r) += scale a . b^T, a (o, n) = dout[n, col + o], b (k, n) = u[n, k]
    this.product(dB, { data: dout, at: col, si: 1, sk: OC }, { data: u, at: 0, si: 1, sk: r }, null, rows, N, r, true, 0, r, scale);
  }

  attentionTrainForward(...args: Parameters<TrainKernels['attentionTrainForward']>): void {
    attentionTrainForwardOn(this, ...args);
  }

  attentionTrainBackward(...args: Parameters<TrainKernels['attentionTrainBackward']>): void {
    attentionTrainBackwardOn(this, ...args);
  }

  layernormForward(...args: Parameters<TrainKernels['layernormForward']>): void {
    layernormForwardOn(this, ...args);
  }

  layernormBackward(...args: Parameters<TrainKernels['layernormBackward']>): void {
    layernormBackwardOn(this, ...args);
  }

  geluForward(out: Float32Array, inp: Float32Array, n: number): void {
    geluForwardOn(this, out, inp, n);
  }

  geluBackward(dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number): void {
    geluBackwardOn(this, dinp, dout, inp, n);
  }

  zero(a: Float32Array): void {
    zeroOn(this, a);
  }

  gradNorm(grads: Float32Array): number {
    return gradNormOn(this, grads);
  }

  adamwUpdate(opt: AdamW, params: Float32Array, grads: Float32Array, lr: number, gradScale: number): void {
    adamwUpdateOn(this, opt, params, grads, lr, gradScale);
  }
}
