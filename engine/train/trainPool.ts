// Training's matmuls and attention on a compute pool (runtime/pool.ts) running train.wat's
// packed SIMD product, out (R, J) [+]= a (R, K) . b (J, K)^T, split by panels of 8 columns
// across threads. The three products of a linear layer are that one product read through
// different strides:
//   forward          out  (N, OC) =  inp    (N, C)   . W     (OC, C)^T  + bias
//   input gradient   dinp (N, C)  += dout   (N, OC)  . W^T   (C, OC)^T
//   weight gradient  dW   (OC, C) += dout^T (OC, N)  . inp^T (C, N)^T
// Each operand is copied into the pool's shared memory (staging: a memcpy, the training buffers
// stay plain Float32Arrays), then packed there by the threads, k-major, transposed or not as
// its strides say; both cost O(operand) against O(R K J) multiply-adds.
// The LM head and the cross-entropy are fused per chunk of rows: the logits stay in shared
// memory, where the threads turn them into their gradient in place (f32 SIMD exp, f64 sums)
// and the two backward products pack them from there; the head's weight is packed once per pass.
// Causal attention runs on the same product, one (sequence, head) pair at a time, packing Q, K
// and V straight out of the staged qkv rows: the scores S = Q K^T, out = P V and, backward,
// dP = dO V^T, dQ = dS K, dK = dS^T Q, dV = P^T dO, with the softmax and its backward (O(T^2),
// no head width) in TypeScript between the products.
// Plain TypeScript references (what the tests compare against): kernels/matmul.ts and
// kernels/attentionTrain.ts.
import { fcWidth, qkvWidth, type ModelConfig } from '../model/config';
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { attentionTrainBackward, attentionTrainForward } from '../kernels/attentionTrain';
import { IGNORE_INDEX, crossEntropyBackward, crossEntropyForward } from '../kernels/crossEntropy';
import { Arena, createSharedMemory } from '../kernels/wasm/kernels';
import { TRAIN_OPS, trainKernelsModule, type TrainOp } from '../kernels/wasm/trainKernels';
import { ComputePool, poolThreads, type KernelSet } from '../runtime/pool';
import type { Lora } from './lora';

/**
 * One chunk of rows of the LM head with the cross-entropy: logits (rows, V) = x . W^T and
 * losses (rows); with dloss (d objective / d each row's loss), dx (rows, C) += dlogits . W and
 * dW (V, C), when given, += dlogits^T . x. `logits` is scratch. A pass gives its chunks in
 * order, `first` on the first one: a TrainPool packs W then and reuses it for the others.
 * Returns the summed loss of the chunk.
 */
export type LmHeadChunk = (
  losses: Float32Array, // (rows)
  dx: Float32Array | null, // (rows, C)
  dW: Float32Array | null, // (V, C)
  x: Float32Array, // (rows, C)
  W: Float32Array, // (V, C)
  targets: Int32Array, // (rows)
  dloss: number | null,
  logits: Float32Array, // (rows, V)
  rows: number,
  C: number,
  V: number,
  first: boolean,
) => number;

/** The kernels a training pass runs: the references, or a TrainPool. */
export interface TrainKernels {
  matmulForward: typeof matmulForward;
  matmulBackward: typeof matmulBackward;
  attentionTrainForward: typeof attentionTrainForward;
  attentionTrainBackward: typeof attentionTrainBackward;
  lmHead: LmHeadChunk;
}

/** LmHeadChunk as its three steps: the products of `k`, then the cross-entropy kernels. */
function lmHeadWith(k: Pick<TrainKernels, 'matmulForward' | 'matmulBackward'>, ...[losses, dx, dW, x, W, targets, dloss, logits, rows, C, V]: Parameters<LmHeadChunk>): number {
  const l = logits.subarray(0, rows * V);
  k.matmulForward(l, x, W, null, rows, C, V);
  crossEntropyForward(losses, l, targets, rows, V);
  let total = 0;
  for (let i = 0; i < rows; i++) total += losses[i]!;
  if (dloss === null) return total;
  crossEntropyBackward(l, l, targets, dloss, rows, V);
  if (dx !== null || dW !== null) k.matmulBackward(dx, dW, null, l, x, W, rows, C, V);
  return total;
}

export const REFERENCE_KERNELS: TrainKernels = {
  matmulForward,
  matmulBackward,
  attentionTrainForward,
  attentionTrainBackward,
  lmHead: (...args) => lmHeadWith({ matmulForward, matmulBackward }, ...args),
};

const TRAIN_KERNELS: KernelSet<TrainOp> = { module: trainKernelsModule, ops: TRAIN_OPS };

/**
 * Floats of each shared-memory region: staged operands (src, and src2 for attention's output
 * gradient), packed operands (ap, bp), the product (out), attention's probabilities and score
 * gradients (scratch, scratch2), the bias; for the LM head its logits, their per-row
 * statistics (2 f64 a row) and its weight packed for the forward (headW) and for dx (headWt).
 */
export interface TrainPoolCapacity {
  src: number;
  src2: number;
  ap: number;
  bp: number;
  out: number;
  scratch: number;
  scratch2: number;
  bias: number;
  logits: number;
  stats: number;
  headW: number;
  headWt: number;
}

const REGIONS = ['src', 'src2', 'ap', 'bp', 'out', 'scratch', 'scratch2', 'bias', 'logits', 'stats', 'headW', 'headWt'] as const;
type Region = (typeof REGIONS)[number];

const NONE: TrainPoolCapacity = { src: 0, src2: 0, ap: 0, bp: 0, out: 0, scratch: 0, scratch2: 0, bias: 0, logits: 0, stats: 0, headW: 0, headWt: 0 };

/** LM head rows per chunk when training on a pool: the head's weight is staged once per 256 rows. */
export const POOL_LOGIT_ROWS = 256;

/** Below this many multiply-adds per thread a product runs in the calling thread alone. */
const MIN_MACS_PER_THREAD = 1 << 17;

/** Below this many floats per thread packing runs in the calling thread alone. */
const MIN_PACK_PER_THREAD = 1 << 14;

const up4 = (n: number): number => (n + 3) & ~3;
const up8 = (n: number): number => (n + 7) & ~7;

/** Staging room for every linear layer of `config` over (B, T) batches, the LM head over `headRows` rows, LoRA's A products and attention. */
export function trainPoolCapacity(config: ModelConfig, B: number, T: number, headRows: number, lora: Lora | null = null): TrainPoolCapacity {
  const c = config;
  const N = B * T;
  const C = c.hidden;
  const ATT = c.nHead * c.headDim;
  const products: Array<[rows: number, IC: number, OC: number]> = [
    [N, C, qkvWidth(c)],
    [N, ATT, C],
    [N, C, fcWidth(c)],
    [N, c.ffn, C],
    [headRows, C, c.vocabSize],
    ...(lora ? lora.adapters.map((a): [number, number, number] => [N, a.inDim, lora.options.rank]) : []),
  ];
  return products.map(([rows, IC, OC]) => productCapacity(rows, IC, OC)).reduce(largest, largest(attentionCapacity(T, c.nHead, c.nKvHead, c.headDim), headCapacity(headRows, C, c.vocabSize)));
}

/** Room the fused LM head and cross-entropy over chunks of `rows` rows need (its products included). */
export function headCapacity(rows: number, C: number, V: number): TrainPoolCapacity {
  return largest(productCapacity(rows, C, V), { ...NONE, logits: rows * V, stats: 4 * rows, headW: up8(V) * C, headWt: up8(C) * V });
}

/** Room the attention of (T)-token sequences with NH query and KVH key/value heads of width HD needs. */
export function attentionCapacity(T: number, NH: number, KVH: number, HD: number): TrainPoolCapacity {
  return {
    ...largest(gemmCapacity(T, HD, T), gemmCapacity(T, T, HD)),
    src: T * (NH + 2 * KVH) * HD,
    src2: T * NH * HD,
    scratch: T * T,
    scratch2: T * T,
  };
}

/** The room that covers both. */
export function largest(a: TrainPoolCapacity, b: TrainPoolCapacity): TrainPoolCapacity {
  const r = { ...a };
  for (const k of REGIONS) r[k] = Math.max(a[k], b[k]);
  return r;
}

/** Room of one packed product out (R, J) = a (R, K) . b (J, K)^T whose operands are staged one at a time. */
function gemmCapacity(R: number, K: number, J: number): TrainPoolCapacity {
  return { ...NONE, src: Math.max(R * K, J * K), ap: up4(R) * K, bp: up8(J) * K, out: R * J, bias: J };
}

/** Room one linear layer (rows, IC) -> (rows, OC) needs in each of its three products. */
export function productCapacity(rows: number, IC: number, OC: number): TrainPoolCapacity {
  return [gemmCapacity(rows, IC, OC), gemmCapacity(rows, OC, IC), gemmCapacity(OC, rows, IC)].reduce(largest);
}

export interface TrainPoolOptions {
  /** Threads, the caller included (0 or absent: cores - 1, at least 1). */
  threads?: number;
}

/** One operand of a product: element (i, k) at data[at + i * si + k * sk] (floats). */
interface Operand {
  data: Float32Array;
  at: number;
  si: number;
  sk: number;
}

export class TrainPool implements TrainKernels {
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;

  private constructor(
    private readonly pool: ComputePool<TrainOp>,
    readonly capacity: TrainPoolCapacity,
    // Byte offsets of the regions (TrainPoolCapacity).
    private readonly at: Record<Region, number>,
  ) {
    this.f32 = new Float32Array(pool.memory.buffer);
    this.f64 = new Float64Array(pool.memory.buffer);
  }

  /** A pool with room for training `config` on (B, T) batches with the Trainer's head chunks. */
  static async forTraining(config: ModelConfig, B: number, T: number, lora: Lora | null, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const N = B * T;
    return TrainPool.create(trainPoolCapacity(config, B, T, Math.min(POOL_LOGIT_ROWS, N), lora), opts);
  }

  static async create(capacity: TrainPoolCapacity, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const arena = new Arena();
    // 32 spare bytes per region: the kernels read whole vectors of the bias past its end.
    const at = Object.fromEntries(REGIONS.map((k) => [k, arena.alloc(4 * Math.max(1, capacity[k]) + 32)])) as Record<Region, number>;
    const pool = await ComputePool.create(createSharedMemory(arena.size), poolThreads(opts.threads), TRAIN_KERNELS);
    return new TrainPool(pool, capacity, at);
  }

  get threads(): number {
    return this.pool.threads;
  }

  private fits(need: TrainPoolCapacity): boolean {
    return REGIONS.every((k) => need[k] <= this.capacity[k]);
  }

  /** Packs a (R, K) from shared memory at byte offset `src` with strides (sr, sk) into `dst`. */
  private packA(dst: number, src: number, R: number, K: number, sr: number, sk: number): void {
    const tiles = (R + 3) >> 2;
    this.pool.run('pack_a', [dst, src, R, K, sr, sk], tiles, 1, Math.ceil(MIN_PACK_PER_THREAD / (4 * K)));
  }

  /** Packs b (J, K) from shared memory at byte offset `src` with strides (sj, sk) into `dst`. */
  private packB(dst: number, src: number, J: number, K: number, sj: number, sk: number): void {
    const panels = (J + 7) >> 3;
    this.pool.run('pack_b', [dst, src, J, K, sj, sk], panels, 1, Math.ceil(MIN_PACK_PER_THREAD / (8 * K)));
  }

  /** out (R, J) [+]= packed a . packed b^T + bias (byte offsets, bias 0: none). */
  private gemm(out: number, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean): void {
    const panels = (J + 7) >> 3;
    this.pool.run('gemm', [out, ap, bp, bias, R, K, J, J, accum ? 1 : 0], panels, 1, Math.ceil(MIN_MACS_PER_THREAD / (8 * R * K)));
  }

  /** Copies the floats of `op` that (R, K) reaches into the src region; returns its byte offset there (same strides). */
  private stage(op: Operand, R: number, K: number): number {
    const extent = (R - 1) * op.si + (K - 1) * op.sk + 1;
    this.f32.set(op.data.subarray(op.at, op.at + extent), this.at.src >> 2);
    return this.at.src;
  }

  /** out (R, J) [+]= a (R, K) . b (J, K)^T + bias, with `out` a plain (R, J) array. */
  private product(out: Float32Array, a: Operand, b: Operand, bias: Float32Array | null, R: number, K: number, J: number, accum: boolean): void {
    const f = this.f32;
    const at = this.at;
    this.packA(at.ap, this.stage(a, R, K), R, K, a.si, a.sk);
    this.packB(at.bp, this.stage(b, J, K), J, K, b.si, b.sk);
    if (bias !== null) f.set(bias.subarray(0, J), at.bias >> 2);
    this.gemmInto(out, at.ap, at.bp, bias !== null ? at.bias : 0, R, K, J, accum);
  }

  /** As gemm into the out region, then copied to `out` (R, J); accumulating starts from `out`. */
  private gemmInto(out: Float32Array, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean): void {
    const f = this.f32;
    const o = this.at.out >> 2;
    if (accum) f.set(out.subarray(0, R * J), o);
    this.gemm(this.at.out, ap, bp, bias, R, K, J, accum);
    out.set(f.subarray(o, o + R * J));
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
    this.packA(at.ap, this.stage({ data: x, at: 0, si: C, sk: 1 }, rows, C), rows, C, C, 1);
    this.gemm(at.logits, at.ap, at.headW, 0, rows, C, V, false);
    this.pool.run('ce_stats', [at.logits, at.stats, V], rows);
    // Per row: (max, sum) -> (lse, scale) for ce_grad; the loss as crossEntropyForward gives it.
    const lg = at.logits >> 2;
    const s0 = at.stats >> 3;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const t = targets[i]!;
      const lse = st[s0 + 2 * i]! + Math.log(st[s0 + 2 * i + 1]!);
      st[s0 + 2 * i] = lse;
      st[s0 + 2 * i + 1] = t === IGNORE_INDEX ? 0 : (dloss ?? 0);
      losses[i] = t === IGNORE_INDEX ? 0 : lse - f[lg + i * V + t]!;
      total += losses[i]!;
    }
    if (dloss === null) return total;
    this.pool.run('ce_grad', [at.logits, at.stats, V], rows);
    for (let i = 0; i < rows; i++) if (targets[i] !== IGNORE_INDEX) f[lg + i * V + targets[i]!] -= dloss;
    // dx (rows, C) += dlogits (rows, V) . W
    if (dx !== null) {
      this.packA(at.ap, at.logits, rows, V, V, 1);
      this.gemmInto(dx, at.ap, at.headWt, 0, rows, V, C, true);
    }
    // dW (V, C) += a . b^T, a (v, r) = dlogits[r, v], b (c, r) = x[r, c]
    if (dW !== null) {
      this.packA(at.ap, at.logits, V, rows, 1, V);
      this.packB(at.bp, this.stage({ data: x, at: 0, si: C, sk: 1 }, rows, C), C, rows, 1, C);
      this.gemmInto(dW, at.ap, at.bp, 0, V, rows, C, true);
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

  /** Room check for attention over (T, NH, KVH, HD). */
  private attentionFits(T: number, NH: number, KVH: number, HD: number): boolean {
    return this.fits(attentionCapacity(T, NH, KVH, HD));
  }

  /** The out region (T, J) = a . b^T with a and b packed from shared memory (byte offset, strides). */
  private headProduct(a: number, sar: number, sak: number, b: number, sbj: number, sbk: number, R: number, K: number, J: number): void {
    const at = this.at;
    this.packA(at.ap, a, R, K, sar, sak);
    this.packB(at.bp, b, J, K, sbj, sbk);
    this.gemm(at.out, at.ap, at.bp, 0, R, K, J, false);
  }

  /** As kernels/attentionTrain.ts attentionTrainForward (same arguments, same probs). */
  attentionTrainForward(
    out: Float32Array, // (B, T, NH HD)
    probs: Float32Array, // (B, NH, T, T) softmax probabilities; only j <= t is written
    qkv: Float32Array, // (B, T, QKV), q and k already rotated
    B: number,
    T: number,
    NH: number,
    KVH: number,
    HD: number,
    window: number | null,
  ): void {
    if (!this.attentionFits(T, NH, KVH, HD)) {
      attentionTrainForward(out, probs, qkv, B, T, NH, KVH, HD, window);
      return;
    }
    const f = this.f32;
    const QKV = (NH + 2 * KVH) * HD;
    const group = NH / KVH;
    const scale = 1 / Math.sqrt(HD);
    const outStride = NH * HD;
    const { src, out: o, scratch: pr } = this.at;
    for (let b = 0; b < B; b++) {
      f.set(qkv.subarray(b * T * QKV, (b + 1) * T * QKV), src >> 2);
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        // S (T, T) = Q K^T
        this.headProduct(src + 4 * h * HD, QKV, 1, src + 4 * kCol, QKV, 1, T, HD, T);
        const p0 = pr >> 2;
        f.fill(0, p0, p0 + T * T);
        for (let t = 0; t < T; t++) {
          const first = window !== null ? Math.max(0, t - window + 1) : 0;
          const si = (o >> 2) + t * T;
          const pi = ((b * NH + h) * T + t) * T;
          let max = -Infinity;
          for (let j = first; j <= t; j++) max = Math.max(max, f[si + j]! * scale);
          let sum = 0;
          for (let j = first; j <= t; j++) {
            const e = Math.exp(f[si + j]! * scale - max);
            probs[pi + j] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let j = first; j <= t; j++) {
            probs[pi + j] = probs[pi + j]! * inv;
            f[p0 + t * T + j] = probs[pi + j]!;
          }
        }
        // O (T, HD) = P V, b (d, t) = V[t, d]
        this.headProduct(pr, T, 1, src + 4 * vCol, 1, QKV, T, T, HD);
        for (let t = 0; t < T; t++) out.set(f.subarray((o >> 2) + t * HD, (o >> 2) + (t + 1) * HD), (b * T + t) * outStride + h * HD);
      }
    }
  }

  /** As kernels/attentionTrain.ts attentionTrainBackward: accumulates (+=) into dqkv; needs no dscores scratch. */
  attentionTrainBackward(
    dqkv: Float32Array, // (B, T, QKV)
    _dscores: Float32Array, // (T)
    dout: Float32Array, // (B, T, NH HD)
    qkv: Float32Array, // (B, T, QKV)
    probs: Float32Array, // (B, NH, T, T)
    B: number,
    T: number,
    NH: number,
    KVH: number,
    HD: number,
    window: number | null,
  ): void {
    if (!this.attentionFits(T, NH, KVH, HD)) {
      attentionTrainBackward(dqkv, _dscores, dout, qkv, probs, B, T, NH, KVH, HD, window);
      return;
    }
    const f = this.f32;
    const QKV = (NH + 2 * KVH) * HD;
    const group = NH / KVH;
    const scale = 1 / Math.sqrt(HD);
    const ATT = NH * HD;
    const { src, src2, out: o, scratch: ds, scratch2: pt } = this.at;
    const [o0, ds0, p0] = [o >> 2, ds >> 2, pt >> 2];
    for (let b = 0; b < B; b++) {
      const rowBase = b * T * QKV;
      f.set(qkv.subarray(rowBase, rowBase + T * QKV), src >> 2);
      f.set(dout.subarray(b * T * ATT, (b + 1) * T * ATT), src2 >> 2);
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        // dP (T, T) = dO V^T
        this.headProduct(src2 + 4 * h * HD, ATT, 1, src + 4 * vCol, QKV, 1, T, HD, T);
        f.fill(0, ds0, ds0 + T * T);
        f.fill(0, p0, p0 + T * T);
        for (let t = 0; t < T; t++) {
          const first = window !== null ? Math.max(0, t - window + 1) : 0;
          const pi = ((b * NH + h) * T + t) * T;
          const di = o0 + t * T;
          let weighted = 0;
          for (let j = first; j <= t; j++) weighted += probs[pi + j]! * f[di + j]!;
          for (let j = first; j <= t; j++) {
            const p = probs[pi + j]!;
            f[ds0 + t * T + j] = p * (f[di + j]! - weighted) * scale;
            f[p0 + t * T + j] = p;
          }
        }
        // dQ (T, HD) = dS K, b (d, t') = K[t', d]
        this.headProduct(ds, T, 1, src + 4 * kCol, 1, QKV, T, T, HD);
        addStrided(dqkv, rowBase + h * HD, QKV, f, o0, T, HD);
        // dK (T, HD) = dS^T Q, a (t', t) = dS[t, t']
        this.headProduct(ds, 1, T, src + 4 * h * HD, 1, QKV, T, T, HD);
        addStrided(dqkv, rowBase + kCol, QKV, f, o0, T, HD);
        // dV (T, HD) = P^T dO
        this.headProduct(pt, 1, T, src2 + 4 * h * HD, 1, ATT, T, T, HD);
        addStrided(dqkv, rowBase + vCol, QKV, f, o0, T, HD);
      }
    }
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}

/** R rows of K floats at dst[at + r * stride] += src (R, K) at `from`. */
function addStrided(dst: Float32Array, at: number, stride: number, src: Float32Array, from: number, R: number, K: number): void {
  for (let r = 0; r < R; r++) {
    const di = at + r * stride;
    const si = from + r * K;
    for (let k = 0; k < K; k++) dst[di + k] += src[si + k]!;
  }
}
