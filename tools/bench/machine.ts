// The machine's limits, measured with the same kernels' memory and threads the model uses:
// read bandwidth (a large f32 array streamed by every thread) and peak f32x4 arithmetic.
// They are measured in a child process: the 512 MiB array would otherwise stay in the peak RSS
// of the process that asks (the bench's RSS column is the model's).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Arena, createSharedMemory } from '../../engine/kernels/wasm/kernels';
import { ComputePool } from '../../engine/runtime/pool';

export interface MachineLimits {
  threads: number;
  /** Read bandwidth, bytes per second (best of several passes over 512 MiB). */
  readBytesPerS: number;
  /** Multiply-add throughput of WebAssembly SIMD, flops per second (best of several). */
  peakFlopsPerS: number;
}

const STREAM_BYTES = 512 << 20;

/** The limits with `threads` threads, measured in a child process. */
export async function measureMachine(threads: number): Promise<MachineLimits> {
  const { stdout } = await promisify(execFile)(process.execPath, [__filename, String(threads)], { encoding: 'utf8' });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MachineLimits;
}

async function measureHere(threads: number): Promise<MachineLimits> {
  const arena = new Arena();
  const out = arena.alloc(64 * 4);
  const x = arena.alloc(STREAM_BYTES);
  const memory = createSharedMemory(arena.size);
  new Float32Array(memory.buffer, x, STREAM_BYTES / 4).fill(1);
  const pool = await ComputePool.create(memory, threads);
  try {
    const floats = STREAM_BYTES / 4;
    let best = Infinity;
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      pool.run('stream_sum', [out, x], floats, 16);
      best = Math.min(best, performance.now() - t);
    }
    const readBytesPerS = STREAM_BYTES / (best / 1000);
    const iters = 20_000_000;
    best = Infinity;
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      pool.run('flops', [out], iters);
      best = Math.min(best, performance.now() - t);
    }
    return { threads, readBytesPerS, peakFlopsPerS: (iters * 64) / (best / 1000) };
  } finally {
    await pool.dispose();
  }
}

if (require.main === module) {
  measureHere(Number(process.argv[2])).then(
    (limits) => {
      console.log(JSON.stringify(limits));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(`measureMachine: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
