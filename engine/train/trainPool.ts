// Training's matmuls and attention on the compute pool (runtime/pool.ts): the WebAssembly SIMD kernel
// matmul_f32 (kernels/wasm), split by output columns across threads. The three products of a
// linear layer all become that one kernel, out (R, J) += a (R, K) . b (J, K)^T:
//   forward          out  (N, OC) =  inp    (N, C)   . W     (OC, C)^T  + bias
//   input gradient   dinp (N, C)  += dout   (N, OC)  . W^T   (C, OC)^T
//   weight gradient  dW   (OC, C) += dout^T (OC, N)  . inp^T (C, N)^T
// The operands are staged (copied, or transposed) into the pool's shared memory per call:
// that costs O(operand size) against O(N OC C) multiply-adds (about 7% of a step's CPU time on
// the starter shape, profiled), and it leaves the training buffers plain Float32Arrays. Reduction widths
// are zero-padded to a multiple of 4, the width the kernel's SIMD tiles need.
// Causal attention runs on the same kernel, one (sequence, head) pair at a time: the scores
// S = Q K^T, out = P V and, backward, dP = dO V^T, dQ = dS K, dK = dS^T Q, dV = P^T dO, with
// the softmax and its backward (O(T^2), no head width) in TypeScript between the products.
// Plain TypeScript references (what the tests compare against): kernels/matmul.ts and
// kernels/attentionTrain.ts.
import { fcWidth, qkvWidth, type ModelConfig } from '../model/config';
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { attentionTrainBackward, attentionTrainForward } from '../kernels/attentionTrain';
import { Arena, createSharedMemory } from '../kernels/wasm/kernels';
import { ComputePool, poolThreads } from '../runtime/pool';
import type { Lora } from './lora';

/** The kernels a training pass runs: the references, or a TrainPool. */
export interface TrainKernels {
  matmulForward: typeof matmulForward;
  matmulBackward: typeof matmulBackward;
  attentionTrainForward: typeof attentionTrainForward;
  attentionTrainBackward: typeof attentionTrainBackward;
}

export const REFERENCE_KERNELS: TrainKernels = { matmulForward, matmulBackward, attentionTrainForward, attentionTrainBackward };

/** Floats of staging room: the largest weight, the largest activation, the widest bias. */
export interface TrainPoolCapacity {
  weight: number;
  act: number;
  bias: number;
}

/** LM head rows per chunk when training on a pool: the head's weight is staged once per 256 rows. */
export const POOL_LOGIT_ROWS = 256;

/** Below this many multiply-adds per thread a product runs in the calling thread alone. */
const MIN_MACS_PER_THREAD = 1 << 17;

const up4 = (n: number): number => (n + 3) & ~3;

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
  return products.map(([rows, IC, OC]) => productCapacity(rows, IC, OC)).reduce(largest, attentionCapacity(T, c.headDim));
}

/** Room the attention of one (T, HD) head needs: its backward's operands in each activation region. */
export function attentionCapacity(T: number, HD: number): TrainPoolCapacity {
  return { weight: 0, act: Math.max(2 * T * up4(HD) + 3 * HD * up4(T) + T * HD, 4 * T * up4(T)), bias: 0 };
}

/** The room that covers both. */
export function largest(a: TrainPoolCapacity, b: TrainPoolCapacity): TrainPoolCapacity {
  return { weight: Math.max(a.weight, b.weight), act: Math.max(a.act, b.act), bias: Math.max(a.bias, b.bias) };
}

/** Room one product (rows, IC) x (IC, OC) needs, padding included, in each of its three uses. */
export function productCapacity(rows: number, IC: number, OC: number): TrainPoolCapacity {
  return {
    weight: Math.max(OC * up4(IC), IC * up4(OC)),
    act: Math.max(rows * up4(IC), rows * up4(OC), IC * up4(rows), OC * up4(rows)),
    bias: OC,
  };
}

export interface TrainPoolOptions {
  /** Threads, the caller included (0 or absent: cores - 1, at least 1). */
  threads?: number;
}

export class TrainPool implements TrainKernels {
  private readonly f32: Float32Array;

  private constructor(
    private readonly pool: ComputePool,
    readonly capacity: TrainPoolCapacity,
    // Byte offsets of the staging regions: a weight-sized one, two activation-sized ones, the bias.
    private readonly w: number,
    private readonly x: number,
    private readonly y: number,
    private readonly b: number,
  ) {
    this.f32 = new Float32Array(pool.memory.buffer);
  }

  /** A pool with room for training `config` on (B, T) batches with the Trainer's head chunks. */
  static async forTraining(config: ModelConfig, B: number, T: number, lora: Lora | null, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const N = B * T;
    return TrainPool.create(trainPoolCapacity(config, B, T, Math.min(POOL_LOGIT_ROWS, N), lora), opts);
  }

  static async create(capacity: TrainPoolCapacity, opts: TrainPoolOptions = {}): Promise<TrainPool> {
    const arena = new Arena();
    const w = arena.alloc(4 * capacity.weight);
    const x = arena.alloc(4 * capacity.act);
    const y = arena.alloc(4 * capacity.act);
    const b = arena.alloc(4 * Math.max(1, capacity.bias));
    const pool = await ComputePool.create(createSharedMemory(arena.size), poolThreads(opts.threads));
    return new TrainPool(pool, capacity, w, x, y, b);
  }

  get threads(): number {
    return this.pool.threads;
  }

  private fits(rows: number, IC: number, OC: number): boolean {
    const n = productCapacity(rows, IC, OC);
    const c = this.capacity;
    return n.weight <= c.weight && n.act <= c.act && n.bias <= c.bias;
  }

  /** out (R, J) [+]= a (R, K4) . b (J, K4)^T + bias over the pool, every operand already staged. */
  private product(out: number, a: number, b: number, bias: number, R: number, K4: number, J: number, accum: boolean): void {
    const minShare = Math.ceil(MIN_MACS_PER_THREAD / (R * K4));
    this.pool.run('matmul_f32', [out, a, b, bias, R, K4, J, accum ? 1 : 0], J, 4, minShare);
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
    if (!this.fits(N, C, OC)) {
      matmulForward(out, inp, weight, bias, N, C, OC);
      return;
    }
    const f = this.f32;
    const C4 = up4(C);
    stageRows(f, this.x >> 2, inp, N, C, C4);
    stageRows(f, this.w >> 2, weight, OC, C, C4);
    if (bias !== null) f.set(bias.subarray(0, OC), this.b >> 2);
    this.product(this.y, this.x, this.w, bias !== null ? this.b : 0, N, C4, OC, false);
    out.set(f.subarray(this.y >> 2, (this.y >> 2) + N * OC));
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
    if (!this.fits(N, C, OC)) {
      matmulBackward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
      return;
    }
    const f = this.f32;
    if (dinp !== null) {
      const OC4 = up4(OC);
      stageRows(f, this.x >> 2, dout, N, OC, OC4);
      stageTransposed(f, this.w >> 2, weight, OC, C, OC4);
      f.set(dinp.subarray(0, N * C), this.y >> 2);
      this.product(this.y, this.x, this.w, 0, N, OC4, C, true);
      dinp.set(f.subarray(this.y >> 2, (this.y >> 2) + N * C));
    }
    if (dweight !== null) {
      const N4 = up4(N);
      stageTransposed(f, this.y >> 2, dout, N, OC, N4);
      stageTransposed(f, this.x >> 2, inp, N, C, N4);
      f.set(dweight.subarray(0, OC * C), this.w >> 2);
      this.product(this.w, this.y, this.x, 0, OC, N4, C, true);
      dweight.set(f.subarray(this.w >> 2, (this.w >> 2) + OC * C));
    }
    if (dbias !== null) {
      for (let n = 0; n < N; n++) {
        const di = n * OC;
        for (let o = 0; o < OC; o++) dbias[o] += dout[di + o]!;
      }
    }
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
    if (attentionCapacity(T, HD).act > this.capacity.act) {
      attentionTrainForward(out, probs, qkv, B, T, NH, KVH, HD, window);
      return;
    }
    const f = this.f32;
    const QKV = (NH + 2 * KVH) * HD;
    const group = NH / KVH;
    const scale = 1 / Math.sqrt(HD);
    const outStride = NH * HD;
    const [HD4, T4] = [up4(HD), up4(T)];
    // Byte offsets: Q (T, HD4), K (T, HD4), V^T (HD, T4), O (T, HD); S (T, T), P (T, T4).
    const q = this.x;
    const k = q + 4 * T * HD4;
    const vt = k + 4 * T * HD4;
    const o = vt + 4 * HD * T4;
    const sc = this.y;
    const pr = sc + 4 * T * T4;
    for (let b = 0; b < B; b++) {
      const rowBase = b * T * QKV;
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        stageStrided(f, q >> 2, qkv, rowBase + h * HD, QKV, T, HD, HD4);
        stageStrided(f, k >> 2, qkv, rowBase + kCol, QKV, T, HD, HD4);
        stageStridedTransposed(f, vt >> 2, qkv, rowBase + vCol, QKV, T, HD, T4);
        this.product(sc, q, k, 0, T, HD4, T, false);
        for (let t = 0; t < T; t++) {
          const first = window !== null ? Math.max(0, t - window + 1) : 0;
          const si = (sc >> 2) + t * T;
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
          const row = (pr >> 2) + t * T4;
          f.fill(0, row, row + T4);
          for (let j = first; j <= t; j++) {
            const w = probs[pi + j]! * inv;
            probs[pi + j] = w;
            f[row + j] = probs[pi + j]!;
          }
        }
        this.product(o, pr, vt, 0, T, T4, HD, false);
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
    if (attentionCapacity(T, HD).act > this.capacity.act) {
      attentionTrainBackward(dqkv, _dscores, dout, qkv, probs, B, T, NH, KVH, HD, window);
      return;
    }
    const f = this.f32;
    const QKV = (NH + 2 * KVH) * HD;
    const group = NH / KVH;
    const scale = 1 / Math.sqrt(HD);
    const outStride = NH * HD;
    const [HD4, T4] = [up4(HD), up4(T)];
    // Byte offsets: dO (T, HD4), V (T, HD4), K^T, Q^T, dO^T (HD, T4), G (T, HD) each result in turn;
    // dP (T, T), dS (T, T4), dS^T (T, T4), P^T (T, T4).
    const dO = this.x;
    const v = dO + 4 * T * HD4;
    const kt = v + 4 * T * HD4;
    const qt = kt + 4 * HD * T4;
    const dOt = qt + 4 * HD * T4;
    const g = dOt + 4 * HD * T4;
    const dP = this.y;
    const dS = dP + 4 * T * T4;
    const dSt = dS + 4 * T * T4;
    const pt = dSt + 4 * T * T4;
    for (let b = 0; b < B; b++) {
      const rowBase = b * T * QKV;
      for (let h = 0; h < NH; h++) {
        const kCol = (NH + Math.floor(h / group)) * HD;
        const vCol = kCol + KVH * HD;
        const oBase = b * T * outStride + h * HD;
        stageStrided(f, dO >> 2, dout, oBase, outStride, T, HD, HD4);
        stageStrided(f, v >> 2, qkv, rowBase + vCol, QKV, T, HD, HD4);
        stageStridedTransposed(f, kt >> 2, qkv, rowBase + kCol, QKV, T, HD, T4);
        stageStridedTransposed(f, qt >> 2, qkv, rowBase + h * HD, QKV, T, HD, T4);
        stageStridedTransposed(f, dOt >> 2, dout, oBase, outStride, T, HD, T4);
        this.product(dP, dO, v, 0, T, HD4, T, false);
        f.fill(0, dS >> 2, (pt >> 2) + T * T4);
        for (let t = 0; t < T; t++) {
          const first = window !== null ? Math.max(0, t - window + 1) : 0;
          const pi = ((b * NH + h) * T + t) * T;
          const di = (dP >> 2) + t * T;
          let weighted = 0;
          for (let j = first; j <= t; j++) weighted += probs[pi + j]! * f[di + j]!;
          for (let j = first; j <= t; j++) {
            const p = probs[pi + j]!;
            const ds = p * (f[di + j]! - weighted) * scale;
            f[(dS >> 2) + t * T4 + j] = ds;
            f[(dSt >> 2) + j * T4 + t] = ds;
            f[(pt >> 2) + j * T4 + t] = p;
          }
        }
        this.product(g, dS, kt, 0, T, T4, HD, false);
        addStrided(dqkv, rowBase + h * HD, QKV, f, g >> 2, T, HD);
        this.product(g, dSt, qt, 0, T, T4, HD, false);
        addStrided(dqkv, rowBase + kCol, QKV, f, g >> 2, T, HD);
        this.product(g, pt, dOt, 0, T, T4, HD, false);
        addStrided(dqkv, rowBase + vCol, QKV, f, g >> 2, T, HD);
      }
    }
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}

/** dst rows of K4 floats from src (R, K): the K values, then zeros. */
function stageRows(dst: Float32Array, at: number, src: Float32Array, R: number, K: number, K4: number): void {
  if (K4 === K) {
    dst.set(src.subarray(0, R * K), at);
    return;
  }
  for (let r = 0; r < R; r++) {
    dst.set(src.subarray(r * K, (r + 1) * K), at + r * K4);
    dst.fill(0, at + r * K4 + K, at + (r + 1) * K4);
  }
}

/** src (R, K) transposed into dst (K, R4): dst[k, r] = src[r, k], zeros for r >= R. Tiles of 32 x 32 keep both sides in cache. */
function stageTransposed(dst: Float32Array, at: number, src: Float32Array, R: number, K: number, R4: number): void {
  const TILE = 32;
  for (let r0 = 0; r0 < R; r0 += TILE) {
    const r1 = Math.min(R, r0 + TILE);
    for (let k0 = 0; k0 < K; k0 += TILE) {
      const k1 = Math.min(K, k0 + TILE);
      for (let r = r0; r < r1; r++) {
        const si = r * K;
        for (let k = k0; k < k1; k++) dst[at + k * R4 + r] = src[si + k]!;
      }
    }
  }
  if (R4 > R) for (let k = 0; k < K; k++) dst.fill(0, at + k * R4 + R, at + (k + 1) * R4);
}

/** dst (R, K4) from R rows of K floats at src[at + r * stride]: the K values, then zeros. */
function stageStrided(dst: Float32Array, to: number, src: Float32Array, at: number, stride: number, R: number, K: number, K4: number): void {
  for (let r = 0; r < R; r++) {
    dst.set(src.subarray(at + r * stride, at + r * stride + K), to + r * K4);
    if (K4 > K) dst.fill(0, to + r * K4 + K, to + (r + 1) * K4);
  }
}

/** dst (K, R4) = the transpose of R rows of K floats at src[at + r * stride], zeros for r >= R. */
function stageStridedTransposed(dst: Float32Array, to: number, src: Float32Array, at: number, stride: number, R: number, K: number, R4: number): void {
  for (let r = 0; r < R; r++) {
    const si = at + r * stride;
    for (let k = 0; k < K; k++) dst[to + k * R4 + r] = src[si + k]!;
  }
  if (R4 > R) for (let k = 0; k < K; k++) dst.fill(0, to + k * R4 + R, to + (k + 1) * R4);
}

/** R rows of K floats at dst[at + r * stride] += src (R, K) at `from`. */
function addStrided(dst: Float32Array, at: number, stride: number, src: Float32Array, from: number, R: number, K: number): void {
  for (let r = 0; r < R; r++) {
    const di = at + r * stride;
    const si = from + r * K;
    for (let k = 0; k < K; k++) dst[di + k] += src[si + k]!;
  }
}
