// Training's matmuls and attention on a compute pool (runtime/pool.ts) running train.wat's
// packed SIMD product, out (R, J) [+]= a (R, K) . b (J, K)^T, split by panels of 8 columns
// across threads. The three products of a linear layer are that one product read through
// different strides:
//   forward          out  (N, OC) =  inp    (N, C)   . W     (OC, C)^T  + bias
//   input gradient   dinp (N, C)  += dout   (N, OC)  . W^T   (C, OC)^T
//   weight gradient  dW   (OC, C) += dout^T (OC, N)  . inp^T (C, N)^T
// and so is LoRA's up projection (with a scale, into a block of columns) and its backward.
// Operands are packed by the threads, k-major, transposed or not as their strides say; a long
// K runs as slices that stay in cache, accumulating (gemm). A
// buffer resident in the pool's shared memory (alloc, adopt: the Trainer puts parameters,
// gradients, AdamW moments and activations there) is read and written in place; any other
// is copied in (staging) and results are copied out, a memcpy each way.
// AdamW, the global gradient norm, GELU and LayerNorm run on the threads too (train.wat), on
// resident buffers; their references are train/adamw.ts, kernels/activations.ts and norms.ts.
// The LM head and the cross-entropy are fused per chunk of rows: the logits stay in shared
// memory, where the threads turn them into their gradient in place (f32 SIMD exp once, f64 sums)
// and the two backward products pack them from there; the head's weight is packed once per pass.
// Causal attention runs on the same product, one (sequence, head) pair at a time, packing Q, K
// and V straight out of the qkv rows: the scores S = Q K^T, out = P V and, backward,
// dP = dO V^T, dQ = dS K, dK = dS^T Q, dV = P^T dO, with the softmax and its backward (O(T^2),
// no head width) between the products, split by rows on the threads (in TypeScript when the
// probabilities are not resident).
// Plain TypeScript references (what the tests compare against): kernels/matmul.ts, lora.ts
// and attentionTrain.ts, gathered in kernelTable.ts; the pool's room is planned in poolCapacity.ts.
import type { ModelConfig } from '../model/config';
import { buildLayout } from '../model/layout';
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { attentionTrainBackward, attentionTrainForward } from '../kernels/attentionTrain';
import { IGNORE_INDEX } from '../kernels/crossEntropy';
import { geluBackward, geluForward } from '../kernels/activations';
import { loraUpBackward, loraUpForward } from '../kernels/lora';
import { layernormBackward, layernormForward } from '../kernels/norms';
import { createSharedMemory } from '../kernels/wasm/kernels';
import { TRAIN_OPS, trainKernelsModule, type TrainOp } from '../kernels/wasm/trainKernels';
import { ComputePool, poolThreads, type KernelSet } from '../runtime/pool';
import type { Lora } from './lora';
import { globalNorm, type AdamW } from './adamw';
import { lmHeadWith, type LmHeadChunk, type TrainKernels } from './kernelTable';
import { arenaBytes, arenaLayout, attentionCapacity, gemmCapacity, headCapacity, largest, MAX_SHARED_BYTES, POOL_LOGIT_ROWS, productCapacity, REGIONS, RESIDENT_ALIGN, residentFloats, trainPoolCapacity, type Region, type TrainPoolCapacity } from './poolCapacity';

const TRAIN_KERNELS: KernelSet<TrainOp> = { module: trainKernelsModule, ops: TRAIN_OPS };

/** Below this many multiply-adds per thread a product runs in the calling thread alone. */
const MIN_MACS_PER_THREAD = 1 << 17;

/** Longest K one gemm call runs (see gemm). */
const K_BLOCK = 1024;

/** Below this many floats per thread packing runs in the calling thread alone. */
const MIN_PACK_PER_THREAD = 1 << 14;

/** Below this many scores per thread the attention softmax runs in the calling thread alone. */
const MIN_SCORES_PER_THREAD = 1 << 14;

/** Below this many elements per thread AdamW and GELU run in the calling thread alone. */
const MIN_ELEMENTS_PER_THREAD = 1 << 14;

/** Elements per partial sum of the global norm (sumsq in train.wat). */
const NORM_BLOCK = 4096;

export interface TrainPoolOptions {
  /** Threads, the caller included (0 or absent: cores - 1, at least 1). */
  threads?: number;
  /** The Trainer will recompute blocks (Activations' recompute): less resident room for activations. */
  recompute?: boolean;
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
  private readonly buffer: ArrayBufferLike;

  private constructor(
    private readonly pool: ComputePool<TrainOp>,
    readonly capacity: TrainPoolCapacity,
    // Byte offsets of the regions (TrainPoolCapacity).
    private readonly at: Record<Region, number>,
  ) {
    this.buffer = pool.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
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
    const { arena, at } = arenaLayout(capacity);
    const pool = await ComputePool.create(createSharedMemory(arena.size), poolThreads(opts.threads), TRAIN_KERNELS);
    return new TrainPool(pool, capacity, at);
  }

  /** Bytes of the resident room handed out so far. */
  private residentUsed = 0;

  /**
   * n zeroed floats in the pool's shared memory, which the kernels read and write in place;
   * a plain array when the resident room is used up. Never freed before the pool.
   */
  alloc(n: number): Float32Array {
    const start = Math.ceil(this.residentUsed / RESIDENT_ALIGN) * RESIDENT_ALIGN;
    if (start + 4 * n > 4 * this.capacity.resident) return new Float32Array(n);
    this.residentUsed = start + 4 * n;
    return new Float32Array(this.buffer, this.at.resident + start, n);
  }

  /** A resident copy of `a` (a itself when it is resident already or there is no room). */
  adopt(a: Float32Array): Float32Array {
    if (this.isResident(a)) return a;
    const r = this.alloc(a.length);
    if (!this.isResident(r)) return a;
    r.set(a);
    return r;
  }

  /** Whether `a` lies in the pool's shared memory. */
  isResident(a: Float32Array): boolean {
    return a.buffer === this.buffer;
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

  /**
   * out (R, J) rows ldo floats apart [+]= alpha packed a . packed b^T + bias (byte offsets,
   * bias 0: none). A K longer than K_BLOCK runs as equal slices, each accumulating onto the
   * last: a tile and a panel of one slice stay in cache (the LM head's dx, K = V, streamed
   * both from memory for every tile-panel pair).
   */
  private gemm(out: number, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean, ldo = J, alpha = 1): void {
    const panels = (J + 7) >> 3;
    if (alpha !== 1) this.f32[this.at.consts >> 2] = alpha;
    const slices = Math.ceil(K / K_BLOCK);
    const per = Math.ceil(K / slices);
    for (let k0 = 0; k0 < K; k0 += per) {
      const kb = Math.min(per, K - k0);
      const args = [out, ap + 16 * k0, bp + 32 * k0, k0 === 0 ? bias : 0, alpha !== 1 ? this.at.consts : 0, R, kb, J, ldo, accum || k0 > 0 ? 1 : 0, 16 * K, 32 * K];
      this.pool.run('gemm', args, panels, 1, Math.ceil(MIN_MACS_PER_THREAD / (8 * R * kb)));
    }
  }

  /**
   * Byte offset of `op`'s element (0, 0) in shared memory, strides unchanged: in place when
   * resident, else the floats (R, K) reaches copied into `region`.
   */
  private stage(op: Operand, R: number, K: number, region: number = this.at.src): number {
    if (this.isResident(op.data)) return op.data.byteOffset + 4 * op.at;
    const extent = (R - 1) * op.si + (K - 1) * op.sk + 1;
    this.f32.set(op.data.subarray(op.at, op.at + extent), region >> 2);
    return region;
  }

  /** out[o + r ldo + j] (R, J) [+]= alpha a (R, K) . b (J, K)^T + bias (by default `out` is a whole (R, J) array). */
  private product(out: Float32Array, a: Operand, b: Operand, bias: Float32Array | null, R: number, K: number, J: number, accum: boolean, o = 0, ldo = J, alpha = 1): void {
    const at = this.at;
    this.packA(at.ap, this.stage(a, R, K), R, K, a.si, a.sk);
    this.packB(at.bp, this.stage(b, J, K), J, K, b.si, b.sk);
    const biasAt = bias === null ? 0 : this.stage({ data: bias, at: 0, si: 1, sk: 1 }, J, 1, at.bias);
    this.gemmInto(out, o, ldo, at.ap, at.bp, biasAt, R, K, J, accum, alpha);
  }

  /**
   * out[o + r ldo + j] (R, J) [+]= packed a . packed b^T + bias: in place when `out` is
   * resident, else through the out region (accumulating starts from `out`).
   */
  private gemmInto(out: Float32Array, o: number, ldo: number, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean, alpha = 1): void {
    if (this.isResident(out)) {
      this.gemm(out.byteOffset + 4 * o, ap, bp, bias, R, K, J, accum, ldo, alpha);
      return;
    }
    const f = this.f32;
    const w = this.at.out >> 2;
    for (let r = 0; r < R && accum; r++) f.set(out.subarray(o + r * ldo, o + r * ldo + J), w + r * J);
    this.gemm(this.at.out, ap, bp, bias, R, K, J, accum, J, alpha);
    for (let r = 0; r < R; r++) out.set(f.subarray(w + r * J, w + (r + 1) * J), o + r * ldo);
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

  /** Room check for attention over (T, NH, KVH, HD). */
  private attentionFits(T: number, NH: number, KVH: number, HD: number): boolean {
    return this.fits(attentionCapacity(T, NH, KVH, HD));
  }

  /** dst[o + r ldo + j] (R, J) [+]= a . b^T with a and b packed from shared memory (byte offset, strides); dst null: the out region (R, J). */
  private headProduct(dst: Float32Array | null, o: number, ldo: number, accum: boolean, a: number, sar: number, sak: number, b: number, sbj: number, sbk: number, R: number, K: number, J: number): void {
    const at = this.at;
    this.packA(at.ap, a, R, K, sar, sak);
    this.packB(at.bp, b, J, K, sbj, sbk);
    if (dst === null) this.gemm(at.out, at.ap, at.bp, 0, R, K, J, false);
    else this.gemmInto(dst, o, ldo, at.ap, at.bp, 0, R, K, J, accum);
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
    const { out: o, scratch: pr } = this.at;
    const onThreads = this.isResident(probs); // the softmax kernel writes probs in place
    for (let b = 0; b < B; b++) {
      const src = this.stage({ data: qkv, at: b * T * QKV, si: QKV, sk: 1 }, T, QKV);
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        // S (T, T) = Q K^T
        this.headProduct(null, 0, 0, false, src + 4 * h * HD, QKV, 1, src + 4 * kCol, QKV, 1, T, HD, T);
        const p0 = pr >> 2;
        if (onThreads) {
          f[this.at.consts >> 2] = scale;
          const args = [o, probs.byteOffset + 4 * (b * NH + h) * T * T, pr, T, window ?? 0, this.at.consts];
          this.pool.run('softmax_fwd', args, T, 1, Math.ceil((2 * MIN_SCORES_PER_THREAD) / T));
        } else f.fill(0, p0, p0 + T * T);
        for (let t = 0; t < T && !onThreads; t++) {
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
        this.headProduct(out, b * T * outStride + h * HD, outStride, false, pr, T, 1, src + 4 * vCol, 1, QKV, T, T, HD);
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
    const { out: o, scratch: ds, scratch2: pt } = this.at;
    const [o0, ds0, p0] = [o >> 2, ds >> 2, pt >> 2];
    const onThreads = this.isResident(probs); // the softmax kernel reads probs in place
    for (let b = 0; b < B; b++) {
      const rowBase = b * T * QKV;
      const src = this.stage({ data: qkv, at: rowBase, si: QKV, sk: 1 }, T, QKV);
      const src2 = this.stage({ data: dout, at: b * T * ATT, si: ATT, sk: 1 }, T, ATT, this.at.src2);
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        // dP (T, T) = dO V^T
        this.headProduct(null, 0, 0, false, src2 + 4 * h * HD, ATT, 1, src + 4 * vCol, QKV, 1, T, HD, T);
        if (onThreads) {
          f[this.at.consts >> 2] = scale;
          const args = [o, probs.byteOffset + 4 * (b * NH + h) * T * T, ds, pt, T, window ?? 0, this.at.consts];
          this.pool.run('softmax_bwd', args, T, 1, Math.ceil((2 * MIN_SCORES_PER_THREAD) / T));
        } else {
          f.fill(0, ds0, ds0 + T * T);
          f.fill(0, p0, p0 + T * T);
        }
        for (let t = 0; t < T && !onThreads; t++) {
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
        // dQ (T, HD) += dS K, b (d, t') = K[t', d]
        this.headProduct(dqkv, rowBase + h * HD, QKV, true, ds, T, 1, src + 4 * kCol, 1, QKV, T, T, HD);
        // dK (T, HD) += dS^T Q, a (t', t) = dS[t, t']
        this.headProduct(dqkv, rowBase + kCol, QKV, true, ds, 1, T, src + 4 * h * HD, 1, QKV, T, T, HD);
        // dV (T, HD) += P^T dO
        this.headProduct(dqkv, rowBase + vCol, QKV, true, pt, 1, T, src2 + 4 * h * HD, 1, ATT, T, T, HD);
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

  /** As kernels/norms.ts layernormForward; on the threads, split by rows, when every buffer is resident. */
  layernormForward(
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
    if (mean === null || rstd === null || ![out, mean, rstd, inp, weight, bias ?? weight].every((a) => this.isResident(a))) {
      layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
      return;
    }
    this.f32[this.at.consts >> 2] = eps;
    const args = [out.byteOffset, mean.byteOffset, rstd.byteOffset, inp.byteOffset, weight.byteOffset, bias?.byteOffset ?? 0, C, this.at.consts];
    this.pool.run('layernorm_fwd', args, N, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / C));
  }

  /** As kernels/norms.ts layernormBackward (+=): the input gradient split by rows, the weight and bias gradients by columns. */
  layernormBackward(
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
    const all = [dinp, dout, inp, weight, mean, rstd, ...(dweight !== null ? [dweight] : []), ...(dbias !== null ? [dbias] : [])];
    if ((dweight === null && dbias !== null) || !all.every((a) => this.isResident(a))) {
      layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
      return;
    }
    const [o, x, m, s] = [dout.byteOffset, inp.byteOffset, mean.byteOffset, rstd.byteOffset];
    this.pool.run('layernorm_bwd_dx', [dinp.byteOffset, o, x, weight.byteOffset, m, s, C], N, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / C));
    if (dweight !== null) this.pool.run('layernorm_bwd_dw', [dweight.byteOffset, dbias?.byteOffset ?? 0, o, x, m, s, N, C], C, 4, Math.ceil(MIN_ELEMENTS_PER_THREAD / N));
  }

  /** As kernels/activations.ts geluForward; on the threads when both buffers are resident. */
  geluForward(out: Float32Array, inp: Float32Array, n: number): void {
    if (!this.isResident(out) || !this.isResident(inp)) {
      geluForward(out, inp, n);
      return;
    }
    this.pool.run('gelu_fwd', [out.byteOffset, inp.byteOffset], n, 4, MIN_ELEMENTS_PER_THREAD);
  }

  /** As kernels/activations.ts geluBackward (dinp +=); on the threads when every buffer is resident. */
  geluBackward(dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number): void {
    if (!this.isResident(dinp) || !this.isResident(dout) || !this.isResident(inp)) {
      geluBackward(dinp, dout, inp, n);
      return;
    }
    this.pool.run('gelu_bwd', [dinp.byteOffset, dout.byteOffset, inp.byteOffset], n, 4, MIN_ELEMENTS_PER_THREAD);
  }

  /** a.fill(0), split between the threads when `a` is resident (the gradients of a whole model are a memory-bound pass). */
  zero(a: Float32Array): void {
    if (!this.isResident(a)) {
      a.fill(0);
      return;
    }
    this.pool.run('zero', [a.byteOffset], a.length, 16, MIN_ELEMENTS_PER_THREAD * 16);
  }

  /**
   * The global L2 norm of grads (adamw.ts globalNorm): on the threads when resident, as
   * per-block f64 sums added in block order, so the result does not depend on the threads.
   */
  gradNorm(grads: Float32Array): number {
    const blocks = Math.ceil(grads.length / NORM_BLOCK);
    if (!this.isResident(grads) || 2 * blocks > this.capacity.partials) return globalNorm(grads);
    this.pool.run('sumsq', [grads.byteOffset, this.at.partials, grads.length], blocks, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / NORM_BLOCK));
    const st = this.f64;
    const p0 = this.at.partials >> 3;
    let ss = 0;
    for (let i = 0; i < blocks; i++) ss += st[p0 + i]!;
    return Math.sqrt(ss);
  }

  /**
   * opt.update(params, grads, lr, gradScale) on the threads in f32 (torch's arithmetic, where
   * the reference keeps f64 between its f32 roundings) when params, grads and the moments are
   * resident; else the reference.
   */
  adamwUpdate(opt: AdamW, params: Float32Array, grads: Float32Array, lr: number, gradScale: number): void {
    if (![params, grads, opt.m, opt.v].every((a) => this.isResident(a))) {
      opt.update(params, grads, lr, gradScale);
      return;
    }
    const { beta1, beta2, eps, weightDecay } = opt.options;
    const { stepSize, bc2Sqrt } = opt.begin(params, grads, lr);
    const c = this.at.consts;
    for (const seg of opt.decaySegments) {
      const n = seg.end - seg.start;
      if (n <= 0) continue;
      this.f32.set([seg.decay ? 1 - lr * weightDecay : 1, 1 - beta1, beta2, 1 - beta2, stepSize, bc2Sqrt, eps, gradScale], c >> 2);
      const o = 4 * seg.start;
      this.pool.run('adamw', [params.byteOffset + o, grads.byteOffset + o, opt.m.byteOffset + o, opt.v.byteOffset + o, c], n, 4, MIN_ELEMENTS_PER_THREAD);
    }
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}
