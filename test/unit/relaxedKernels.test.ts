// The relaxed-SIMD build of the inference kernels (kernels.ts: relaxedSimdAvailable) against
// the references and against the portable build: quantize_q8_7 exactly as
// quantizeQ8Forward(.., 63) with its block sums; matmul_q8_i8tiles within float32 rounding of
// matmulQ8Forward on that input (its integer dots are exact), and the Q4_K and Q6_K tiles of the
// dequantized weights times the dequantized input, at 1 and 3 threads on odd shapes and in
// every store mode;
// the portable build lacks both, and FastBackend runs Q8_0 prefill with either build.
//
// Tolerances, measured (Node 20.20 with --experimental-wasm-relaxed-simd, x64, this file's shapes):
// - matmul_q8_i8tiles vs matmulQ8Forward on the same 7-bit input: relative max difference
//   2.3e-7 (float32 accumulation of the block sums against float64); the Q4_K and Q6_K tiles vs
//   float64 products of the dequantized operands: 3.0e-7; bound 1e-5.
// - A small Q8_0 model's logits vs the reference backend on the float32 weights, KL per row:
//   with the relaxed build's 7-bit prefill input at most 1.2e-5; with the portable build (f32
//   input to the prefill product) 2.1e-6: the 7-bit input costs about 6x the KL of the
//   weights' own rounding. Bounds 1e-4 and 2e-5, about 8x and 10x the measurements.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, blockScratchBytes, kernelsModule, instantiateKernels, relaxedSimdAvailable, MatmulMode } from '../../engine/kernels/wasm/kernels';
import { kernelMemory } from '../harness/kernelMemory';
import { storedProduct } from '../harness/kernelCases';
import { matmulQ8Forward, packQ8Forward, quantizeQ8Forward, q7TiledIndex, Q8_BLOCK, Q8_PACK_ROWS } from '../../engine/kernels/quantize';
import { packQ4KForward, packQ6KForward, Q4K_META_BYTES, Q4K_QS_BYTES, Q6K_META_BYTES, Q6K_QS_BYTES, QK } from '../../engine/kernels/quantK';
import { matmulForward } from '../../engine/kernels/matmul';
import { bytesFor, dequantize, quantize } from '../../engine/formats/formats';
import { ComputePool, inferenceKernels } from '../../engine/runtime/pool';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { randomModel, mulberry32 } from '../../engine/model/init';
import { configFromHF } from '../../engine/model/families';
import { kl, maxAbsDiff, randn } from './oracle';

const relaxed = relaxedSimdAvailable();
const skip = relaxed ? false : 'this engine has no relaxed SIMD';
const { memory, f32, put } = kernelMemory(16 << 20);
const pools: ComputePool[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
});

/** The K-quant int8 tile kernels and their weights' packed layouts. */
const K_TILES = {
  Q4_K: { op: 'matmul_q4k_i8tiles', qsBytes: Q4K_QS_BYTES, metaBytes: Q4K_META_BYTES, pack: packQ4KForward },
  Q6_K: { op: 'matmul_q6k_i8tiles', qsBytes: Q6K_QS_BYTES, metaBytes: Q6K_META_BYTES, pack: packQ6KForward },
} as const;

/** A product's output (got) against product + bias, stored by `mode` over base, within 1e-5 of its largest value. */
function assertStored(got: Float32Array, product: Float32Array, bias: Float32Array, base: Float32Array, mode: number, what: string): void {
  const want = storedProduct(product, bias, base, mode);
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  assert.ok(maxAbsDiff(got, want) / scale < 1e-5, `${what}: ${maxAbsDiff(got, want) / scale}`);
}

test('the portable build has no relaxed kernels; the relaxed build validates here', () => {
  const portable = instantiateKernels(memory, kernelsModule(false));
  assert.equal(portable.matmul_q8_i8tiles, undefined);
  assert.equal(portable.quantize_q8_7, undefined);
  // Node 20 runs it once the flag is set; an engine without relaxed SIMD must still load the portable build.
  assert.equal(relaxed, process.versions.node.split('.').map(Number)[0]! >= 20);
  if (relaxed) assert.equal(typeof instantiateKernels(memory, kernelsModule(true)).matmul_q8_i8tiles, 'function');
});

for (const threads of [1, 3]) {
  const poolReady = ComputePool.create(memory, threads).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}`;

  test(`quantize_q8_7 matches quantizeQ8Forward(.., 63) (${label})`, { skip }, async () => {
    const pool = await poolReady;
    const rand = mulberry32(11 + threads);
    for (const [N, C] of [[1, 32], [5, 96], [7, 224]] as const) {
      const x = randn(N * C, rand, 2);
      x.fill(0, 0, 32); // an all-zero block: scale 0, values 0
      x[40 % (N * C)] = -9; // one outlier owns its block's scale
      const q = new Int16Array(N * C);
      const d = new Float32Array((N * C) / Q8_BLOCK);
      quantizeQ8Forward(q, d, x, N, C, 63);
      const arena = new Arena();
      const xq = arena.alloc(Math.ceil(N / 4) * 4 * C);
      const xs = arena.alloc(d.byteLength);
      const xm = arena.alloc(d.byteLength);
      pool.run('quantize_q8_7', [xq, xs, xm, put(arena, x), N, C], N);
      const bytes = new Uint8Array(memory.buffer, xq, Math.ceil(N / 4) * 4 * C);
      assert.deepEqual(Array.from(q, (_, i) => bytes[q7TiledIndex(Math.floor(i / C), i % C, C)]), [...q].map((v) => v + 64), `values N=${N} C=${C}`);
      assert.deepEqual(f32.slice(xs / 4, xs / 4 + d.length), d, `scales N=${N} C=${C}`);
      const sums = d.map((s, b) => Math.fround(s * q.subarray(b * Q8_BLOCK, (b + 1) * Q8_BLOCK).reduce((u, v) => u + v, 0)));
      assert.deepEqual(f32.slice(xm / 4, xm / 4 + d.length), sums, `sums N=${N} C=${C}`);
    }
  });

  test(`matmul_q8_i8tiles matches matmulQ8Forward on odd shapes, every mode (${label})`, { skip }, async () => {
    const pool = await poolReady;
    const rand = mulberry32(23 + threads);
    for (const [N, C, OC] of [[1, 32, 5], [4, 64, 37], [5, 96, 70], [7, 32, 3], [9, 160, 33], [13, 64, 130]] as const) {
      const nb = C / Q8_BLOCK;
      const groups = Math.ceil(OC / Q8_PACK_ROWS);
      const wq = Int8Array.from({ length: OC * C }, () => Math.round((rand() * 2 - 1) * 127));
      wq.fill(-127, 0, Math.min(C, OC * C)); // a row at the end of the range
      const ws = Float32Array.from({ length: OC * nb }, () => 0.001 + 0.02 * rand());
      const wp = new Int8Array(groups * Q8_PACK_ROWS * C);
      const sp = new Float32Array(groups * Q8_PACK_ROWS * nb);
      packQ8Forward(wp, sp, wq, ws, OC, C);
      const x = randn(N * C, rand, 1.5);
      const q = new Int16Array(N * C);
      const xsRef = new Float32Array(N * nb);
      quantizeQ8Forward(q, xsRef, x, N, C, 63);
      const bias = randn(OC, rand);
      const base = randn(N * OC, rand);
      const product = new Float32Array(N * OC);
      matmulQ8Forward(product, q, xsRef, wq, ws, null, N, C, OC);
      for (const mode of [MatmulMode.STORE, MatmulMode.ACCUMULATE, MatmulMode.GELU]) {
        const arena = new Arena();
        const xq = arena.alloc(Math.ceil(N / 4) * 4 * C);
        const xs = arena.alloc(N * nb * 4);
        const w = put(arena, wp);
        const s = put(arena, sp);
        const b = put(arena, bias);
        const out = put(arena, base);
        const scratch = arena.alloc(threads * blockScratchBytes(C));
        pool.run('quantize_q8_7', [xq, xs, 0, put(arena, x), N, C], N);
        pool.run('matmul_q8_i8tiles', [out, xq, xs, w, s, b, scratch, N, C, OC, mode], OC, 32);
        const got = f32.slice(out / 4, out / 4 + N * OC);
        assertStored(got, product, bias, base, mode, `N=${N} C=${C} OC=${OC} mode ${mode}`);
      }
    }
  });

  for (const type of ['Q4_K', 'Q6_K'] as const) {
    test(`${type} int8 tiles match the dequantized weights times the 7-bit input (${label})`, { skip }, async () => {
      const pool = await poolReady;
      const rand = mulberry32(31 + threads + type.charCodeAt(1));
      const { op, qsBytes, metaBytes, pack } = K_TILES[type];
      for (const [N, C, OC] of [[1, 256, 5], [4, 512, 37], [7, 256, 70], [9, 768, 3], [13, 256, 33]] as const) {
        const nb = C / Q8_BLOCK;
        const w = randn(OC * C, rand, 0.1);
        for (let i = 0; i < w.length; i += 89) w[i] = w[i]! * 8;
        const bytes = new Uint8Array(bytesFor(type, OC * C));
        quantize(type, w, bytes);
        const deq = new Float32Array(OC * C);
        dequantize(type, bytes, deq);
        const qs = new Uint8Array((OC * C) / QK * qsBytes);
        const meta = new Uint8Array((OC * C) / QK * metaBytes);
        pack(qs, meta, bytes, OC, C);
        const x = randn(N * C, rand, 1.5);
        const q = new Int16Array(N * C);
        const d = new Float32Array(N * nb);
        quantizeQ8Forward(q, d, x, N, C, 63);
        const x7 = Float32Array.from(q, (v, i) => v * d[Math.floor(i / Q8_BLOCK)]!);
        const product = new Float32Array(N * OC);
        matmulForward(product, x7, deq, null, N, C, OC);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        for (const mode of [MatmulMode.STORE, MatmulMode.ACCUMULATE, MatmulMode.GELU]) {
          const arena = new Arena();
          const xq = arena.alloc(Math.ceil(N / 4) * 4 * C);
          const xs = arena.alloc(N * nb * 4);
          const xm = arena.alloc(N * nb * 4);
          const wq = put(arena, qs);
          const wm = put(arena, meta);
          const b = put(arena, bias);
          const out = put(arena, base);
          const scratch = arena.alloc(threads * blockScratchBytes(C));
          pool.run('quantize_q8_7', [xq, xs, xm, put(arena, x), N, C], N);
          const args = type === 'Q4_K' ? [out, xq, xs, xm, wq, wm, b, scratch, N, C, OC, mode] : [out, xq, xs, wq, wm, b, scratch, N, C, OC, mode];
          pool.run(op, args, OC, 32);
          assertStored(f32.slice(out / 4, out / 4 + N * OC), product, bias, base, mode, `N=${N} C=${C} OC=${OC} mode ${mode}`);
        }
      }
    });
  }
}

test('Q8_0 prefill with and without relaxed SIMD stays close to the reference (1 and 2 threads)', async () => {
  for (const [hidden, nHead, vocab] of [[64, 4, 101], [96, 2, 77]] as const) {
    const model = randomModel(configFromHF({ model_type: 'gpt2', n_embd: hidden, n_head: nHead, n_layer: 2, vocab_size: vocab, n_positions: 40 }), 5);
    const ids = Int32Array.from({ length: 23 }, (_, i) => (i * 37) % vocab);
    const ref = new ReferenceBackend(model).forwardSync(ids, 0, { allLogits: true }).logits;
    for (const relaxedSimd of [true, false]) {
      for (const threads of [1, 2]) {
        const be = await FastBackend.create(model, { threads, weightFormat: 'q8_0', chunk: 9, relaxedSimd });
        try {
          assert.equal(be.relaxedSimd, relaxedSimd && relaxed);
          const got = be.forwardSync(ids, 0, { allLogits: true }).logits;
          const bound = be.relaxedSimd ? 1e-4 : 2e-5;
          for (let t = 0; t < ids.length; t++) {
            const row = (v: Float32Array): Float32Array => v.subarray(t * vocab, (t + 1) * vocab);
            const d = kl(row(ref), row(got));
            assert.ok(d < bound, `width ${hidden}, relaxed ${String(be.relaxedSimd)}, ${threads} threads, row ${t}: KL ${d}`);
          }
        } finally {
          be.dispose();
        }
      }
    }
  }
});

test('inferenceKernels(false) gives a pool without the relaxed kernels', async () => {
  const pool = await ComputePool.create(memory, 2, inferenceKernels(false));
  pools.push(pool);
  assert.equal(pool.has('matmul_q8_i8tiles'), false);
  assert.equal(pool.has('matmul_q8_f32'), true);
});
