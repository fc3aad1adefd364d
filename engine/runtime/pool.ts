// A pool of compute threads over one shared WebAssembly memory. The calling thread is one of
// the pool's threads: `threads` = 1 runs everything in the caller; N spawns N - 1 workers.
// A job is split by work items (rows, heads, elements) and synchronised with Atomics only.
// The kernels are the inference module's (kernels.wat) unless a KernelSet names another
// (training's products, train.wat).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { instantiateKernels, kernelsModule, KERNEL_OPS, type KernelOp } from '../kernels/wasm/kernels';
import { CTL, SPIN, STOP, shareOf } from './poolControl';

/** Threads for a setting: 0 or absent = cores - 1 (at least 1), else the number asked for. */
export function poolThreads(setting?: number): number {
  if (setting !== undefined && Number.isInteger(setting) && setting > 0) return Math.min(setting, 256);
  return Math.max(1, availableParallelism() - 1);
}

/** A WebAssembly module over one imported shared memory ("env", "memory") and the exports a pool may run. */
export interface KernelSet<Op extends string> {
  module: () => WebAssembly.Module;
  ops: readonly Op[];
}

export const INFERENCE_KERNELS: KernelSet<KernelOp> = { module: kernelsModule, ops: KERNEL_OPS };

export class ComputePool<Op extends string = KernelOp> {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
  private readonly fns: Array<(...args: number[]) => void>;
  private readonly workers: Worker[] = [];
  private lastError = '';
  private disposed = false;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly threads: number,
    private readonly set: KernelSet<Op>,
  ) {
    const kernels = instantiateKernels(memory, set.module()) as unknown as Record<string, (...args: number[]) => void>;
    this.fns = set.ops.map((name) => kernels[name]!);
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
   * Runs kernel `op` with `args` over `items` work items, split in shares that are multiples of
   * `align`; a job smaller than `minShare` items per thread runs in the caller alone.
   */
  run(op: Op, args: readonly number[], items: number, align = 1, minShare = 1): void {
    if (this.disposed) throw new Error('The compute pool was disposed; create a new backend.');
    const index = this.set.ops.indexOf(op);
    const fn = this.fns[index]!;
    if (this.threads === 1 || items < minShare * this.threads) {
      fn(...args, 0, items, 0);
      return;
    }
    const ctl = this.ctl;
    const per = Math.ceil(items / this.threads / align) * align;
    ctl[CTL.OP] = index;
    ctl[CTL.NARGS] = args.length;
    for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + i] = args[i]!;
    ctl[CTL.ITEMS] = items;
    ctl[CTL.PER] = per;
    Atomics.store(ctl, CTL.PENDING, this.threads - 1);
    Atomics.add(ctl, CTL.GEN, 1);
    Atomics.notify(ctl, CTL.GEN);
    const [a, b] = shareOf(0, per, items);
    fn(...args, a, b, 0);
    let left = Atomics.load(ctl, CTL.PENDING);
    for (let s = 0; left !== 0 && s < SPIN; s++) left = Atomics.load(ctl, CTL.PENDING);
    while (left !== 0) {
      Atomics.wait(ctl, CTL.PENDING, left);
      left = Atomics.load(ctl, CTL.PENDING);
    }
    if (Atomics.load(ctl, CTL.FAILED) !== 0) {
      Atomics.store(ctl, CTL.FAILED, 0);
      throw new Error(`A compute thread failed in ${op}${this.lastError ? `: ${this.lastError}` : ''}. This is a bug in Limelight; please report it.`);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ctl[CTL.OP] = STOP;
    Atomics.add(this.ctl, CTL.GEN, 1);
    Atomics.notify(this.ctl, CTL.GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
