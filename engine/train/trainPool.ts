// The training matmuls on the compute pool (runtime/pool.ts): the WebAssembly SIMD kernel
// matmul_f32 (kernels/wasm), split by output columns across threads. The three products of a
// linear layer all become that one kernel, out (R, J) += a (R, K) . b (J, K)^T:
//   forward          out  (N, OC) =  inp    (N, C)   . W     (OC, C)^T  + bias
//   input gradient   dinp (N, C)  += dout   (N, OC)  . W^T   (C, OC)^T
//   weight gradient  dW   (OC, C) += dout^T (OC, N)  . inp^T (C, N)^T
// The operands are staged (copied, or transposed) into the pool's shared memory per call:
// that costs O(operand size) against O(N OC C) multiply-adds, so under 1% of a step at the
// benchmark shapes, and it leaves the training buffers plain Float32Arrays. Reduction widths
// are zero-padded to a multiple of 4, the width the kernel's SIMD tiles need.
// Plain TypeScript references (what the tests compare against): kernels/matmul.ts.
import { fcWidth, qkvWidth, type ModelConfig } from '../model/config';
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { Arena, createSharedMemory } from '../kernels/wasm/kernels';
import { ComputePool, poolThreads } from '../runtime/pool';
import type { Lora } from './lora';

/** The matmul kernels a training pass runs: the references, or a TrainPool. */
export interface TrainMatmul {
  matmulForward: typeof matmulForward;
  matmulBackward: typeof matmulBackward;
}

export const REFERENCE_MATMUL: TrainMatmul = { matmulForward, matmulBackward };

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

/** Staging room for every linear layer of `config` over N rows, the LM head over `headRows` rows, and LoRA's A products. */
export function trainPoolCapacity(config: ModelConfig, N: number, headRows: number, lora: Lora | null = null): TrainPoolCapacity {
  const c = config;
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
  return products.map(([rows, IC, OC]) => productCapacity(rows, IC, OC)).reduce(largest);
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

export class TrainPool implements TrainMatmul {
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
    return TrainPool.create(trainPoolCapacity(config, N, Math.min(POOL_LOGIT_ROWS, N), lora), opts);
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
