// Entry of one compute thread of the pool (pool.ts): instantiates the kernels over the shared
// memory, then loops: wait for a job in the control block, claim and run its chunks.
// Bundled as dist/poolWorker.js; transpiled as out/engine/runtime/poolWorker.js for tests.
import { parentPort, workerData } from 'node:worker_threads';
import { instantiateKernels } from '../kernels/wasm/kernels';
import { CTL, SPIN, STOP, runChunks } from './poolControl';

interface PoolWorkerData {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** The exports jobs name by index (the pool's KernelSet). */
  ops: readonly string[];
  control: SharedArrayBuffer;
  index: number;
}

const data = workerData as PoolWorkerData;
const ctl = new Int32Array(data.control);
const kernels = instantiateKernels(data.memory, data.module) as unknown as Record<string, (...args: number[]) => void>;
const fns = data.ops.map((name) => kernels[name]!);
const args: number[] = [];
const fail = (e: unknown): void => parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });

// Read before saying ready: the pool may post its first job the moment it hears back.
let seen = Atomics.load(ctl, CTL.GEN);
parentPort!.postMessage({ ready: true });
for (;;) {
  let gen = Atomics.load(ctl, CTL.GEN);
  for (let s = 0; gen === seen && s < SPIN; s++) gen = Atomics.load(ctl, CTL.GEN);
  if (gen === seen) {
    Atomics.wait(ctl, CTL.GEN, seen);
    continue;
  }
  seen = gen;
  const op = ctl[CTL.OP]!;
  if (op === STOP) break;
  const fn = fns[op];
  if (fn === undefined) continue;
  const n = ctl[CTL.NARGS]!;
  args.length = 0;
  for (let i = 0; i < n; i++) args.push(ctl[CTL.ARGS + i]!);
  args.push(0, 0, data.index);
  runChunks(ctl, gen, (a, b) => {
    args[n] = a;
    args[n + 1] = b;
    fn(...args);
  }, fail);
}
