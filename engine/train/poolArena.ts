// The shared memory of a training compute pool (runtime/pool.ts) and the one product every
// training matmul runs on: train.wat's packed SIMD product, out (R, J) [+]= a (R, K) . b (J, K)^T,
// split by panels of 8 columns across threads. Operands are packed by the threads, k-major,
// transposed or not as their strides say; a long K runs as slices that stay in cache,
// accumulating (gemm). A buffer resident in the pool's shared memory (alloc, adopt) is read and
// written in place; any other is copied in (staging) and results are copied out, a memcpy each
// way. The regions the products use are planned in poolCapacity.ts; what runs on the arena is
// in trainPool.ts (linear layers, LoRA, the LM head), poolAttention.ts, poolPointwise.ts and
// poolOptimizer.ts.
import { createSharedMemory } from '../kernels/wasm/kernels';
import { TRAIN_OPS, trainKernelsModule, type TrainOp } from '../kernels/wasm/trainKernels';
import { ComputePool, poolThreads, type KernelSet } from '../runtime/pool';
import { arenaLayout, REGIONS, RESIDENT_ALIGN, type Region, type TrainPoolCapacity } from './poolCapacity';

const TRAIN_KERNELS: KernelSet<TrainOp> = { module: trainKernelsModule, ops: TRAIN_OPS };

/** Below this many multiply-adds per thread a product runs in the calling thread alone. */
const MIN_MACS_PER_THREAD = 1 << 17;

/** Longest K one gemm call runs (see gemm). */
const K_BLOCK = 1024;

/** Below this many floats per thread packing runs in the calling thread alone. */
const MIN_PACK_PER_THREAD = 1 << 14;

/** Below this many elements per thread a pointwise kernel runs in the calling thread alone. */
export const MIN_ELEMENTS_PER_THREAD = 1 << 14;

/** One operand of a product: element (i, k) at data[at + i * si + k * sk] (floats). */
export interface Operand {
  data: Float32Array;
  at: number;
  si: number;
  sk: number;
}

export class PoolArena {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  private readonly buffer: ArrayBufferLike;
  /** Bytes of the resident room handed out so far. */
  private residentUsed = 0;

  protected constructor(
    readonly pool: ComputePool<TrainOp>,
    readonly capacity: TrainPoolCapacity,
    /** Byte offsets of the regions (TrainPoolCapacity). */
    readonly at: Record<Region, number>,
  ) {
    this.buffer = pool.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
  }

  /** The compute pool and region offsets of an arena with `capacity`. */
  protected static async open(capacity: TrainPoolCapacity, threads: number | undefined): Promise<{ pool: ComputePool<TrainOp>; at: Record<Region, number> }> {
    const { arena, at } = arenaLayout(capacity);
    return { pool: await ComputePool.create(createSharedMemory(arena.size), poolThreads(threads), TRAIN_KERNELS), at };
  }

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

  /** Whether the regions hold what `need` asks (else the caller runs the reference). */
  fits(need: TrainPoolCapacity): boolean {
    return REGIONS.every((k) => need[k] <= this.capacity[k]);
  }

  /** Packs a (R, K) from shared memory at byte offset `src` with strides (sr, sk) into `dst`. */
  packA(dst: number, src: number, R: number, K: number, sr: number, sk: number): void {
    const tiles = (R + 3) >> 2;
    this.pool.run('pack_a', [dst, src, R, K, sr, sk], tiles, 1, Math.ceil(MIN_PACK_PER_THREAD / (4 * K)));
  }

  /** Packs b (J, K) from shared memory at byte offset `src` with strides (sj, sk) into `dst`. */
  packB(dst: number, src: number, J: number, K: number, sj: number, sk: number): void {
    const panels = (J + 7) >> 3;
    this.pool.run('pack_b', [dst, src, J, K, sj, sk], panels, 1, Math.ceil(MIN_PACK_PER_THREAD / (8 * K)));
  }

  /**
   * out (R, J) rows ldo floats apart [+]= alpha packed a . packed b^T + bias (byte offsets,
   * bias 0: none). A K longer than K_BLOCK runs as equal slices, each accumulating onto the
   * last: a tile and a panel of one slice stay in cache (the LM head's dx, K = V, streamed
   * both from memory for every tile-panel pair).
   */
  gemm(out: number, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean, ldo = J, alpha = 1): void {
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
  stage(op: Operand, R: number, K: number, region: number = this.at.src): number {
    if (this.isResident(op.data)) return op.data.byteOffset + 4 * op.at;
    const extent = (R - 1) * op.si + (K - 1) * op.sk + 1;
    this.f32.set(op.data.subarray(op.at, op.at + extent), region >> 2);
    return region;
  }

  /** out[o + r ldo + j] (R, J) [+]= alpha a (R, K) . b (J, K)^T + bias (by default `out` is a whole (R, J) array). */
  product(out: Float32Array, a: Operand, b: Operand, bias: Float32Array | null, R: number, K: number, J: number, accum: boolean, o = 0, ldo = J, alpha = 1): void {
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
  gemmInto(out: Float32Array, o: number, ldo: number, ap: number, bp: number, bias: number, R: number, K: number, J: number, accum: boolean, alpha = 1): void {
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

  /** dst[o + r ldo + j] (R, J) [+]= a . b^T with a and b packed from shared memory (byte offset, strides); dst null: the out region (R, J). */
  headProduct(dst: Float32Array | null, o: number, ldo: number, accum: boolean, a: number, sar: number, sak: number, b: number, sbj: number, sbk: number, R: number, K: number, J: number): void {
    const at = this.at;
    this.packA(at.ap, a, R, K, sar, sak);
    this.packB(at.bp, b, J, K, sbj, sbk);
    if (dst === null) this.gemm(at.out, at.ap, at.bp, 0, R, K, J, false);
    else this.gemmInto(dst, o, ldo, at.ap, at.bp, 0, R, K, J, accum);
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}
