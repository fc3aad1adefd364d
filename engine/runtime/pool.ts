// A pool of compute threads over one shared WebAssembly memory. The calling thread is one of
// the pool's threads: `threads` = 1 runs everything in the caller; N spawns N - 1 workers.
// A job is cut into chunks of work items (rows, heads, elements) that the threads claim
// (poolControl.ts); synchronised with Atomics only.
// The kernels are the inference module's (kernels.wat) unless a KernelSet names another
// (training's products, train.wat).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { instantiateKernels, kernelsModule, KERNEL_OPS, type KernelOp } from '../kernels/wasm/kernels';
import { CTL, SPIN, STOP, MAX_CHUNKS, claimWord, runChunks } from './poolControl';

/** Threads for a setting: 0 or absent = cores - 1 (at least 1), else the number asked for. */
export function poolThreads(setting?: number): number {
  if (setting !== undefined && Number.isInteger(setting) && setting > 0) return Math.min(setting, 256);
  return Math.max(1, availableParallelism() - 1);
}

/** Chunks a job is cut into per thread: enough to even out threads the OS runs late. */
const CHUNKS_PER_THREAD = 8;

/** A WebAssembly module over one imported shared memory ("env", "memory") and the exports a pool may run. */
export interface KernelSet<Op extends string> {
  module: () => WebAssembly.Module;
  ops: readonly Op[];
}

/** The inference kernels: the relaxed-SIMD build where the engine has it, unless `relaxed` is false. */
export function inferenceKernels(relaxed = true): KernelSet<KernelOp> {
  return { module: () => kernelsModule(relaxed), ops: KERNEL_OPS };
}

export const INFERENCE_KERNELS: KernelSet<KernelOp> = inferenceKernels();

export class ComputePool<Op extends string = KernelOp> {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
  private readonly fns: Array<(...args: number[]) => void>;
  private readonly workers: Worker[] = [];
  private lastError = '';
  private disposed = false;
  private gen = 0;
  private readonly fail = (e: unknown): void => {
    this.lastError = e instanceof Error ? e.message : String(e);
  };

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly threads: number,
    private readonly set: KernelSet<Op>,
  ) {
    const kernels = instantiateKernels(memory, set.module()) as unknown as Record<string, (...args: number[]) => void>;
    this.fns = set.ops.map((name) => kernels[name]!);
  }

  /** Whether the pool's module has kernel `op` (the relaxed-SIMD build has a few more). */
  has(op: Op): boolean {
    return this.fns[this.set.ops.indexOf(op)] !== undefined;
  }

  /** Starts `threads - 1` workers over `memory` and resolves once they all listen. */
  static async create<Op extends string = KernelOp>(memory: WebAssembly.Memory, threads: number, set?: KernelSet<Op>): Promise<ComputePool<Op>> {
    const pool = new ComputePool<Op>(memory, Math.max(1, Math.floor(threads)), set ?? (INFERENCE_KERNELS as unknown as KernelSet<Op>));
    const module = pool.set.module();
    const ops = pool.set.ops;
    const started: Array<Promise<void>> = [];
    for (let index = 1; index < pool.threads; index++) {
      const worker = new Worker(join(__dirname, 'poolWorker.js'), { workerData: { memory, module, ops, control: pool.ctl.buffer, index } });
      worker.unref();
      pool.workers.push(worker);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.on('message', (m: { ready?: boolean; error?: string }) => {
            if (m.ready) resolve();
            if (m.error) pool.lastError = m.error;
          });
        }),
      );
    }
    try {
      await Promise.all(started);
    } catch (e) {
      await pool.dispose();
      throw new Error(`Could not start the compute threads (${(e as Error).message}). Set limelight.threads to 1 to run without them.`);
    }
    return pool;
  }

  /**
   * Runs kernel `op` with `args` over `items` work items, cut into chunks that are multiples
   * of `align` and at least `minShare` items (about CHUNKS_PER_THREAD per thread, so a late
   * or busy thread's share is taken by the others); a job too small for two chunks runs in
   * the caller alone, without waking anyone.
   */
  run(op: Op, args: readonly number[], items: number, align = 1, minShare = 1): void {
    if (this.disposed) throw new Error('The compute pool was disposed; create a new backend.');
    const index = this.set.ops.indexOf(op);
    const fn = this.fns[index]!;
    const min = Math.max(align, Math.ceil(minShare / align) * align);
    if (this.threads === 1 || items < 2 * min) {
      fn(...args, 0, items, 0);
      return;
    }
    const ctl = this.ctl;
    const want = Math.ceil(items / (this.threads * CHUNKS_PER_THREAD) / align) * align;
    const per = Math.max(min, want, Math.ceil(items / MAX_CHUNKS / align) * align);
    const chunks = Math.ceil(items / per);
    ctl[CTL.OP] = index;
    ctl[CTL.NARGS] = args.length;
    for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + i] = args[i]!;
    ctl[CTL.ITEMS] = items;
    ctl[CTL.PER] = per;
    ctl[CTL.CHUNKS] = chunks;
    Atomics.store(ctl, CTL.DONE, 0);
    const gen = (this.gen = (this.gen + 1) | 0);
    Atomics.store(ctl, CTL.CLAIM, claimWord(gen, chunks));
    Atomics.store(ctl, CTL.GEN, gen);
    Atomics.notify(ctl, CTL.GEN);
    runChunks(ctl, gen, (a, b) => fn(...args, a, b, 0), this.fail);
    let done = Atomics.load(ctl, CTL.DONE);
    for (let s = 0; done !== chunks && s < SPIN; s++) done = Atomics.load(ctl, CTL.DONE);
    while (done !== chunks) {
      Atomics.wait(ctl, CTL.DONE, done);
      done = Atomics.load(ctl, CTL.DONE);
    }
    if (Atomics.load(ctl, CTL.FAILED) !== 0) {
      Atomics.store(ctl, CTL.FAILED, 0);
      const why = this.lastError;
      this.lastError = '';
      throw new Error(`A compute thread failed in ${op}${why ? `: ${why}` : ''}. This is a bug in Limelight; please report it.`);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ctl[CTL.OP] = STOP;
    Atomics.store(this.ctl, CTL.GEN, (this.gen = (this.gen + 1) | 0));
    Atomics.notify(this.ctl, CTL.GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
