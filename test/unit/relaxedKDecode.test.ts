// The relaxed-SIMD K-quant decode kernels (quantize_q8k_i8, matmul_q4k_i8, matmul_q5k_i8,
// matmul_q6k_i8) against the references (quantK.ts) and the portable kernels (quantize_q8k,
// matmul_q4k, matmul_q5k, matmul_q6k): the 8-bit input exactly, and the products bit for bit (the relaxed dot takes the
// input's 8-bit values and the weights' small unsigned codes, so its integer sums are the i16
// kernels' and the float32 steps the same), on the Qwen2.5-Coder widths that are whole
// super-blocks (1536, 4864, 8960; 896 is not, so those matrices are never K-quants), at 1 and
// 3 threads, in every store mode, with extreme inputs (all +-max, zeros, alternating) and
// weights whose codes and scales sit at the ends of their ranges.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, MatmulMode, relaxedSimdAvailable } from '../../engine/kernels/wasm/kernels';
import { ComputePool, inferenceKernels } from '../../engine/runtime/pool';
import {
  matmulQ4KForward, matmulQ5KForward, matmulQ6KForward, packQ4KForward, packQ5KForward, packQ6KForward, q8kInputLayout, quantizeQ8KForward,
  Q4K_META_BYTES, Q4K_QS_BYTES, Q4K_WINDOW, Q5K_META_BYTES, Q6K_META_BYTES, Q6K_QS_BYTES, Q6K_WINDOW, Q8K_SUMS, QK,
} from '../../engine/kernels/quantK';
import { mulberry32 } from '../../engine/model/init';
import { kernelMemory } from '../harness/kernelMemory';
import { kernelInputs } from '../harness/kernelCases';
import { randn } from './oracle';

const relaxed = relaxedSimdAvailable();
const skip = relaxed ? false : 'this engine has no relaxed SIMD';
const { memory, f32, put } = kernelMemory(32 << 20);
const pools: ComputePool[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
});

/** Each format's file block, packer, stream sizes, kernels, reference and input window. */
const KQ = {
  Q4_K: { block: 144, pack: packQ4KForward, qs: Q4K_QS_BYTES, meta: Q4K_META_BYTES, op: 'matmul_q4k', i8op: 'matmul_q4k_i8', ref: matmulQ4KForward, S: Q4K_WINDOW },
  Q5_K: { block: 176, pack: packQ5KForward, qs: Q4K_QS_BYTES, meta: Q5K_META_BYTES, op: 'matmul_q5k', i8op: 'matmul_q5k_i8', ref: matmulQ5KForward, S: Q4K_WINDOW },
  Q6_K: { block: 210, pack: packQ6KForward, qs: Q6K_QS_BYTES, meta: Q6K_META_BYTES, op: 'matmul_q6k', i8op: 'matmul_q6k_i8', ref: matmulQ6KForward, S: Q6K_WINDOW },
} as const;

/**
 * Rows (OC, C) of file blocks with random codes and scales over their whole ranges (row 0: every
 * code and scale at its largest; Q6_K row 1: codes at their largest, scales -128) and small f16
 * factors, so that every product stays finite.
 */
function kBlocks(type: keyof typeof KQ, OC: number, C: number, rand: () => number): Uint8Array {
  const { block } = KQ[type];
  const nb = C / QK;
  const bytes = Uint8Array.from({ length: OC * nb * block }, () => Math.floor(rand() * 256));
  for (let b = 0; b < OC * nb; b++) {
    const at = b * block;
    const row = Math.floor(b / nb);
    if (type !== 'Q6_K') {
      if (row === 0) bytes.fill(0xff, at + 4, at + block); // sc = m = 63, codes 15 (Q5_K: 31)
      bytes.set([0x00, 0x1c, 0x00, 0x18], at); // d = 2^-8, dmin = 2^-9
    } else {
      if (row === 0) bytes.fill(0xff, at, at + 192); // codes 63
      if (row === 0) bytes.fill(0x7f, at + 192, at + 208); // scales 127
      if (row === 1) bytes.fill(0xff, at, at + 192);
      if (row === 1) bytes.fill(0x80, at + 192, at + 208); // scales -128
      bytes.set([0x00, 0x1c], at + 208);
    }
  }
  return bytes;
}

test('the portable build has none of the int8 decode kernels', async () => {
  const pool = await ComputePool.create(memory, 1, inferenceKernels(false));
  pools.push(pool);
  for (const op of ['quantize_q8k_i8', 'matmul_q4k_i8', 'matmul_q5k_i8', 'matmul_q6k_i8'] as const) assert.equal(pool.has(op), false, op);
  assert.equal(pool.has('matmul_q4k'), true);
});

for (const threads of [1, 3]) {
  const poolReady = ComputePool.create(memory, threads).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}`;

  test(`quantize_q8k_i8 gives the reference's 8-bit values in order, and quantize_q8k's scales and sums (${label})`, { skip }, async () => {
    const pool = await poolReady;
    const rand = mulberry32(7 + threads);
    for (const [N, C] of [[1, 256], [5, 1536], [2, 8960]] as const) {
      const x = kernelInputs(N, C, rand);
      x.fill(0, 0, 256); // an all-zero block: scale 0, values 0
      const nb = C / QK;
      const q = new Int16Array(N * C);
      const d = new Float32Array(N * nb);
      quantizeQ8KForward(q, d, x, N, C);
      for (const S of [Q4K_WINDOW, Q6K_WINDOW]) {
        const arena = new Arena();
        const xq = arena.alloc(N * C);
        const xd = arena.alloc(N * nb * 4);
        const xb = arena.alloc(N * nb * Q8K_SUMS * 2);
        pool.run('quantize_q8k_i8', [xq, xd, xb, put(arena, x), N, C, S], N);
        const wantQ = new Int16Array(N * C);
        const wantB = new Int16Array(N * nb * Q8K_SUMS);
        q8kInputLayout(wantQ, wantB, q, N, C, S);
        assert.deepEqual(new Int8Array(memory.buffer, xq, N * C), Int8Array.from(q), `values N=${N} C=${C} S=${S}`);
        assert.deepEqual(new Int16Array(memory.buffer, xb, N * nb * Q8K_SUMS), wantB, `sums N=${N} C=${C} S=${S}`);
        assert.deepEqual(f32.slice(xd / 4, xd / 4 + N * nb), d, `scales N=${N} C=${C} S=${S}`);
      }
    }
  });

  for (const type of ['Q4_K', 'Q5_K', 'Q6_K'] as const) {
    test(`${type} int8 decode equals the portable kernel and the reference bit for bit (${label})`, { skip }, async () => {
      const pool = await poolReady;
      const rand = mulberry32(type.charCodeAt(1) * 13 + threads);
      const { pack, qs, meta, op, i8op, ref, S } = KQ[type];
      for (const [N, C, OC] of [[1, 256, 9], [5, 1536, 7], [1, 4864, 6], [2, 8960, 5], [3, 512, 37]] as const) {
        const nb = C / QK;
        const bytes = kBlocks(type, OC, C, rand);
        const wq = new Uint8Array(OC * nb * qs);
        const wm = new Uint8Array(OC * nb * meta);
        pack(wq, wm, bytes, OC, C);
        const x = kernelInputs(N, C, rand);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        const q = new Int16Array(N * C);
        const d = new Float32Array(N * nb);
        quantizeQ8KForward(q, d, x, N, C);
        const want = new Float32Array(N * OC);
        ref(want, q, d, bytes, bias, N, C, OC);
        const arena = new Arena();
        const w = put(arena, wq);
        const ws = put(arena, wm);
        const xo = put(arena, x);
        const bo = put(arena, bias);
        const xq16 = arena.alloc(N * C * 2);
        const xq8 = arena.alloc(N * C);
        const xd = arena.alloc(N * nb * 4);
        const xb = arena.alloc(N * nb * Q8K_SUMS * 2);
        const portable = arena.alloc(N * OC * 4);
        const got = arena.alloc(N * OC * 4);
        const shape = `N=${N} C=${C} OC=${OC}`;
        for (const mode of [MatmulMode.STORE, MatmulMode.ACCUMULATE, MatmulMode.GELU]) {
          new Float32Array(memory.buffer, portable, N * OC).set(base);
          new Float32Array(memory.buffer, got, N * OC).set(base);
          pool.run('quantize_q8k', [xq16, xd, xb, xo, N, C, S], N);
          pool.run(op, [portable, xq16, xd, xb, w, ws, bo, N, C, OC, mode], OC, 4);
          pool.run('quantize_q8k_i8', [xq8, xd, xb, xo, N, C, S], N);
          pool.run(i8op, [got, xq8, xd, xb, w, ws, bo, N, C, OC, mode], OC, 4);
          const g = f32.slice(got / 4, got / 4 + N * OC);
          assert.deepEqual(g, f32.slice(portable / 4, portable / 4 + N * OC), `${type} ${shape} mode ${mode}: as the portable kernel`);
          if (mode === MatmulMode.STORE) assert.deepEqual(g, want, `${type} ${shape}: as the reference`);
          assert.ok(g.every(Number.isFinite), `${type} ${shape} mode ${mode}: finite`);
        }
      }
    });
  }
}
