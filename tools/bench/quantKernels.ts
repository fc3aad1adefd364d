// Decode-product benchmark of the quantized kernels: one token (N = 1) through one layer set of
// the Qwen2.5-0.5B and Qwen2.5-1.5B shapes (q|k|v, o, gate|up, down, and the 151936-row head),
// with the weights held as the fast backend holds them in q8_0, q4_0, q5_0, q4_k, q5_k and q6_k, on
// 1 and 2 threads, with the portable kernels and the relaxed-SIMD build's (Q4_0, Q5_0 and the
// K-quants then run the int8 decode kernels; Q8_0 the same kernel, a control for the noise), passes of
// the two builds taking turns. Each product runs as FastBackend.segment runs it (the input
// quantized, then the product on the pool); the products run in sequence so the head (hundreds of MB) leaves the
// caches cold for the next pass, as a real decode step finds them. Prints medians of --runs
// passes: microseconds, GB/s of weight bytes, and the bandwidth bound (a plain read of as many
// bytes by the same threads, stream_sum over a separate buffer of ones), the relaxed build's
// speed-up over the portable one, with the load average.
// The weights are random bytes with sane scales (the kernels' speed does not depend on them).
//   node out/tools/bench/quantKernels.js [--runs 9] [--shapes 0.5b,1.5b] [--threads 1,2] [--formats q4_k,q6_k] [--kernels portable,relaxed]
import { loadavg } from 'node:os';
import { Arena, createSharedMemory, relaxedSimdAvailable } from '../../engine/kernels/wasm/kernels';
import { ComputePool, inferenceKernels } from '../../engine/runtime/pool';
import { Q8_BLOCK } from '../../engine/kernels/quantize';
import { q45Bytes } from '../../engine/kernels/quant45';
import { Q4K_META_BYTES, Q4K_QS_BYTES, Q4K_WINDOW, Q5K_META_BYTES, Q6K_META_BYTES, Q6K_QS_BYTES, Q6K_WINDOW, Q8K_SUMS, QK } from '../../engine/kernels/quantK';

/** Bytes per 256 weights of the K-quants' streams, their decode kernels (portable, relaxed build) and input windows. */
const K = {
  q4_k: { qs: Q4K_QS_BYTES, meta: Q4K_META_BYTES, op: 'matmul_q4k', i8op: 'matmul_q4k_i8', S: Q4K_WINDOW },
  q5_k: { qs: Q4K_QS_BYTES, meta: Q5K_META_BYTES, op: 'matmul_q5k', i8op: 'matmul_q5k_i8', S: Q4K_WINDOW },
  q6_k: { qs: Q6K_QS_BYTES, meta: Q6K_META_BYTES, op: 'matmul_q6k', i8op: 'matmul_q6k_i8', S: Q6K_WINDOW },
} as const;

type Format = 'q8_0' | 'q4_0' | 'q5_0' | 'q4_k' | 'q5_k' | 'q6_k';
const FORMATS: readonly Format[] = ['q8_0', 'q4_0', 'q5_0', 'q4_k', 'q5_k', 'q6_k'];

interface Matrix {
  name: string;
  C: number;
  OC: number;
}

const SHAPES: Record<string, Matrix[]> = {
  '0.5b': [
    { name: 'qkv', C: 896, OC: 1152 },
    { name: 'o', C: 896, OC: 896 },
    { name: 'gate|up', C: 896, OC: 9728 },
    { name: 'down', C: 4864, OC: 896 },
    { name: 'head', C: 896, OC: 151936 },
  ],
  '1.5b': [
    { name: 'qkv', C: 1536, OC: 2048 },
    { name: 'o', C: 1536, OC: 1536 },
    { name: 'gate|up', C: 1536, OC: 17920 },
    { name: 'down', C: 8960, OC: 1536 },
    { name: 'head', C: 1536, OC: 151936 },
  ],
};

/** Bytes of the two streams of a matrix in a format, or null when its width does not fit the format's blocks. */
function streams(format: Format, m: Matrix): { w: number; s: number } | null {
  const n = m.C * m.OC;
  if (format === 'q8_0') return m.C % Q8_BLOCK === 0 ? { w: Math.ceil(m.OC / 4) * 4 * m.C, s: (Math.ceil(m.OC / 4) * 4 * m.C * 4) / Q8_BLOCK } : null;
  if (format === 'q4_0' || format === 'q5_0') return m.C % Q8_BLOCK === 0 ? q45Bytes(format === 'q4_0' ? 'Q4_0' : 'Q5_0', m.OC, m.C) : null;
  if (m.C % QK !== 0) return null;
  return { w: (n * K[format].qs) / QK, s: (n * K[format].meta) / QK };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Random quant bytes; scales and factors set to small normal floats (no denormals, no NaN). */
function fill(mem: Uint8Array, format: Format, at: { w: number; s: number }, bytes: { w: number; s: number }, seed: number): void {
  let x = seed >>> 0;
  const w = mem.subarray(at.w, at.w + bytes.w);
  const w32 = new Uint32Array(mem.buffer, at.w, Math.floor(bytes.w / 4));
  for (let i = 0; i < w32.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    w32[i] = x;
  }
  w.fill(0x11, w32.length * 4);
  const s = new DataView(mem.buffer, at.s, bytes.s);
  if (format === 'q8_0' || format === 'q4_0' || format === 'q5_0') {
    for (let i = 0; i < bytes.s; i += 4) s.setFloat32(i, 0.001, true);
    return;
  }
  const per = K[format].meta;
  const q6 = format === 'q6_k';
  for (let b = 0; b < bytes.s; b += per) {
    s.setFloat32(b, 0.01, true);
    if (!q6) s.setFloat32(b + 4, 0.005, true);
    for (let i = q6 ? 4 : 8; i < per; i++) {
      x = (x * 1664525 + 1013904223) >>> 0;
      s.setUint8(b + i, q6 || i >= 24 ? x >>> 24 : (x >>> 24) & 63);
    }
  }
}

/** The input quantized and one product, as FastBackend.segment runs a decode product in `format` on the pool's build. */
function product(pool: ComputePool, relaxed: boolean, format: Format, p: Placed, act: { x: number; out: number; xq: number; xs: number; xb: number }): void {
  const { C, OC } = p.m;
  const { x, out, xq, xs, xb } = act;
  if (format === 'q8_0') {
    pool.run('quantize_q8', [xq, xs, x, 1, C], 1);
    pool.run('matmul_q8', [out, xq, xs, p.at.w, p.at.s, 0, 1, C, OC, 0], OC, 4);
    return;
  }
  if (format === 'q4_0' || format === 'q5_0') {
    const kind = format === 'q5_0' ? 1 : 0;
    if (relaxed) pool.run('quantize_q8_i8', [xq, xs, xb, x, 1, C], 1);
    else pool.run('quantize_q8', [xq, xs, x, 1, C], 1);
    if (relaxed) pool.run('matmul_q45_i8', [out, xq, xs, xb, p.at.w, p.at.s, 0, 1, C, OC, 0, kind], OC, 4);
    else pool.run('matmul_q45', [out, xq, xs, p.at.w, p.at.s, 0, 1, C, OC, 0, kind], OC, 4);
    return;
  }
  const { op, i8op, S } = K[format];
  pool.run(relaxed ? 'quantize_q8k_i8' : 'quantize_q8k', [xq, xs, xb, x, 1, C, S], 1);
  pool.run(relaxed ? i8op : op, [out, xq, xs, xb, p.at.w, p.at.s, 0, 1, C, OC, 0], OC, 4);
}

interface Placed {
  m: Matrix;
  bytes: { w: number; s: number };
  at: { w: number; s: number };
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '9'));
  const shapes = arg('shapes', '0.5b,1.5b').split(',');
  const threadCounts = arg('threads', '1,2').split(',').map(Number);
  const formats = arg('formats', FORMATS.join(',')).split(',') as Format[];
  for (const f of formats) if (!FORMATS.includes(f)) throw new Error(`unknown format ${f}; use ${FORMATS.join(', ')}`);
  const builds = arg('kernels', relaxedSimdAvailable() ? 'portable,relaxed' : 'portable').split(',');
  for (const b of builds) if (b !== 'portable' && b !== 'relaxed') throw new Error(`unknown kernels ${b}; use portable, relaxed`);
  if (builds.includes('relaxed') && !relaxedSimdAvailable()) throw new Error('this engine has no relaxed SIMD; use --kernels portable');
  const load0 = loadavg();
  console.log(`Decode products (N = 1), medians of ${runs} passes; load average at start ${load0.map((v) => v.toFixed(2)).join(' ')}`);
  for (const shape of shapes) {
    const mats = SHAPES[shape];
    if (mats === undefined) throw new Error(`unknown shape ${shape}; use ${Object.keys(SHAPES).join(', ')}`);
    const maxC = Math.max(...mats.map((m) => m.C));
    const maxOC = Math.max(...mats.map((m) => m.OC));
    for (const format of formats) {
      const arena = new Arena();
      const placed = mats.map((m): Placed | null => {
        const b = streams(format, m);
        return b === null ? null : { m, bytes: b, at: { w: arena.alloc(b.w), s: arena.alloc(b.s) } };
      });
      const total = placed.reduce((n, p) => n + (p ? p.bytes.w + p.bytes.s : 0), 0);
      const act = {
        x: arena.alloc(maxC * 4),
        out: arena.alloc(maxOC * 4),
        xq: arena.alloc(maxC * 2),
        xs: arena.alloc((maxC / 32) * 4),
        xb: arena.alloc((maxC / QK + 1) * Q8K_SUMS * 2),
      };
      const sums = arena.alloc(64 * 4);
      const ones = arena.alloc(total);
      const memory = createSharedMemory(arena.size);
      const mem = new Uint8Array(memory.buffer);
      placed.forEach((p, i) => p && fill(mem, format, p.at, p.bytes, 17 + i));
      const xf = new Float32Array(memory.buffer, act.x, maxC);
      for (let i = 0; i < maxC; i++) xf[i] = Math.sin(i * 0.37) * 2;
      new Float32Array(memory.buffer, ones, total / 4).fill(1);
      for (const threads of threadCounts) {
        const pools = await Promise.all(builds.map((b) => ComputePool.create(memory, threads, inferenceKernels(b === 'relaxed'))));
        try {
          // times[build][matrix]: the builds take turns, pass by pass.
          const times = builds.map(() => placed.map(() => [] as number[]));
          const reads: number[] = [];
          for (let r = 0; r < runs + 1; r++) {
            builds.forEach((b, k) => {
              placed.forEach((p, i) => {
                if (!p) return;
                const t = performance.now();
                product(pools[k]!, b === 'relaxed', format, p, act);
                if (r > 0) times[k]![i]!.push(performance.now() - t);
              });
            });
            const t = performance.now();
            pools[0]!.run('stream_sum', [sums, ones], total / 4, 16);
            if (r > 0) reads.push(performance.now() - t);
          }
          const read = median(reads);
          const sets = builds.map((b, k) => {
            const rows: string[] = [];
            const ms = placed.map((p, i) => (p ? median(times[k]![i]!) : 0));
            const sum = ms.reduce((u, v) => u + v, 0);
            placed.forEach((p, i) => {
              if (!p) rows.push(`${mats[i]!.name} n/a (${mats[i]!.C} % ${QK})`);
              else rows.push(`${p.m.name} ${(ms[i]! * 1000).toFixed(0)} us ${((p.bytes.w + p.bytes.s) / ms[i]! / 1e6).toFixed(1)} GB/s`);
            });
            console.log(
              `${shape} ${format.padEnd(4)} ${threads}t ${b.padEnd(8)}: set ${(sum * 1000).toFixed(0)} us, ${(total / 1e6).toFixed(1)} MB, ${(total / sum / 1e6).toFixed(1)} GB/s` +
                ` | plain read ${(read * 1000).toFixed(0)} us ${(total / read / 1e6).toFixed(1)} GB/s (${((100 * read) / sum).toFixed(0)}% of bound)` +
                ` | ${rows.join('; ')}`,
            );
            return { sum, ms };
          });
          if (sets.length === 2) {
            const [base, next] = sets as [{ sum: number; ms: number[] }, { sum: number; ms: number[] }];
            const each = placed.map((p, i) => (p ? `${p.m.name} ${(base.ms[i]! / next.ms[i]!).toFixed(2)}x` : null)).filter((v) => v !== null);
            console.log(`${shape} ${format.padEnd(4)} ${threads}t ${builds[1]} / ${builds[0]} speed: set ${(base.sum / next.sum).toFixed(2)}x | ${each.join('; ')}`);
          }
        } finally {
          for (const pool of pools) await pool.dispose();
        }
      }
    }
  }
  console.log(`load average at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

void main();
