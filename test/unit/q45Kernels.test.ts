// The Q4_0 and Q5_0 kernels (matmul_q45 and its relaxed twin matmul_q45_i8 for decode,
// matmul_q45_f32 and matmul_q45_i8tiles for prefill) against the references in
// engine/kernels/quant45.ts: the packed layout, the decode products bit for bit (portable and
// relaxed alike, and quantize_q8_i8's input exactly), the prefill products within float32
// rounding of dequantize-then-multiply, at 1 and 3 threads on odd shapes (rows not a multiple
// of 4 or 32, widths 32 k with k odd) in every store mode; and a GGUF file holding Q4_0 and
// Q5_0 matrices, whose logits under 'auto' (the new kernels) equal those of the q8_0 setting
// (the file's integers widened to Q8_0, as every Q4_0 / Q5_0 matrix ran before) bit for bit,
// with and without relaxed SIMD, in prefill and decode, and stay near the reference.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arena, blockScratchBytes, MatmulMode, relaxedSimdAvailable } from '../../engine/kernels/wasm/kernels';
import { kernelMemory } from '../harness/kernelMemory';
import { kernelInputs, storedProduct } from '../harness/kernelCases';
import { ComputePool, inferenceKernels } from '../../engine/runtime/pool';
import { matmulForward } from '../../engine/kernels/matmul';
import { quantizeQ8Forward, q8InputLayout, Q8_BLOCK } from '../../engine/kernels/quantize';
import { matmulQ45Forward, packQ45Forward, q45Bytes, Q45, type Q45Type } from '../../engine/kernels/quant45';
import { bytesFor, dequantize, quantize } from '../../engine/formats/formats';
import { mulberry32, randomModel } from '../../engine/model/init';
import { configFromHF } from '../../engine/model/families';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { loadModel } from '../../engine/model/load';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { oracleVocabMetadata } from '../../tools/oracle/oracleModels';
import { kl, maxAbsDiff, randn } from './oracle';

const relaxed = relaxedSimdAvailable();
const skip = relaxed ? false : 'this engine has no relaxed SIMD';
const { memory, put, read } = kernelMemory(32 << 20);
const pools: ComputePool[] = [];
const dirs: string[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TYPES: readonly Q45Type[] = ['Q4_0', 'Q5_0'];
/** (N, C, OC): widths 32 k with k odd and even, rows not a multiple of 4 or 32. */
const SHAPES = [[1, 32, 5], [2, 96, 37], [1, 224, 70], [3, 64, 3], [5, 160, 33], [1, 896, 130]] as const;
const TILE_SHAPES = [[4, 32, 5], [5, 96, 37], [9, 224, 70], [13, 64, 33], [8, 160, 3]] as const;

/** Random weights (OC, C) quantized to `type` (with row 0 at every code's extreme: a block of +max and -max), and their dequantized values. */
function weights(type: Q45Type, OC: number, C: number, rand: () => number): { bytes: Uint8Array; deq: Float32Array } {
  const w = randn(OC * C, rand, 0.1);
  for (let i = 0; i < w.length; i += 97) w[i] = w[i]! * 8;
  for (let i = 0; i < Math.min(C, 32); i++) w[i] = i % 2 ? 1 : -1;
  const bytes = new Uint8Array(bytesFor(type, OC * C));
  quantize(type, w, bytes);
  const deq = new Float32Array(OC * C);
  dequantize(type, bytes, deq);
  return { bytes, deq };
}

function relErr(got: Float32Array, want: Float32Array): number {
  return maxAbsDiff(got, want) / Math.max(1e-6, ...want.map(Math.abs));
}

test('packQ45Forward keeps the code bytes, widens the scales, re-places the fifth bits and zero-fills the last group (OC 6: rows 6 and 7 padding)', () => {
  for (const type of TYPES) {
    const { block, group } = Q45[type];
    const OC = 6;
    const C = 96;
    const nb = C / Q8_BLOCK;
    const { bytes, deq } = weights(type, OC, C, mulberry32(3));
    const { w, s } = q45Bytes(type, OC, C);
    assert.deepEqual([w, s], [2 * nb * group, 8 * nb * 4]);
    const wp = new Uint8Array(w);
    const sp = new Float32Array(s / 4).fill(7);
    packQ45Forward(wp, sp, bytes, type, OC, C);
    for (let o = 0; o < 8; o++) {
      for (let b = 0; b < nb; b++) {
        const at = (Math.floor(o / 4) * nb + b) * group;
        const r = o % 4;
        const codes = wp.subarray(at + 16 * r, at + 16 * r + 16);
        const fifth = type === 'Q5_0' ? wp.subarray(at + 64, at + 80) : new Uint8Array(16);
        const scale = sp[(Math.floor(o / 4) * nb + b) * 4 + r]!;
        for (let i = 0; i < 32; i++) {
          const k = i & 15;
          const bit = (fifth[k]! >> (r + 4 * (i >> 4))) & 1;
          const code = ((i < 16 ? codes[k]! & 15 : codes[k]! >> 4) | (bit << 4)) - Q45[type].offset;
          const want = o < OC ? deq[o * C + b * 32 + i]! : 0;
          assert.ok(code * scale === want, `${type} row ${o} weight ${b * 32 + i}: ${code * scale} against ${want}`); // padding: -8 x 0 is -0
        }
        if (o >= OC) assert.deepEqual([...codes, ...fifth.map((v) => (v >> r) & 17), scale], new Array(33).fill(0), `${type} row ${o}: padding`);
      }
    }
    assert.equal(block, type === 'Q4_0' ? 18 : 22);
  }
});

test('the portable build has none of the relaxed Q4_0 / Q5_0 kernels', async () => {
  const pool = await ComputePool.create(memory, 1, inferenceKernels(false));
  pools.push(pool);
  for (const op of ['quantize_q8_i8', 'matmul_q45_i8', 'matmul_q45_i8tiles'] as const) assert.equal(pool.has(op), false, op);
  assert.equal(pool.has('matmul_q45'), true);
  assert.equal(pool.has('matmul_q45_f32'), true);
});

for (const threads of [1, 3]) {
  const poolReady = ComputePool.create(memory, threads).then((p) => (pools.push(p), p));
  const portableReady = ComputePool.create(memory, threads, inferenceKernels(false)).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}`;

  test(`quantize_q8_i8 gives quantizeQ8Forward's values in order, scales and block sums (${label})`, { skip }, async () => {
    const pool = await poolReady;
    const rand = mulberry32(5 + threads);
    for (const [N, C] of [[1, 32], [5, 96], [3, 896]] as const) {
      const x = kernelInputs(N, C, rand);
      x.fill(0, 0, 32);
      const nb = C / Q8_BLOCK;
      const q = new Int8Array(N * C);
      const d = new Float32Array(N * nb);
      quantizeQ8Forward(q, d, x, N, C);
      const arena = new Arena();
      const xq = arena.alloc(N * C);
      const xs = arena.alloc(N * nb * 4);
      const xb = arena.alloc(N * nb * 4);
      pool.run('quantize_q8_i8', [xq, xs, xb, put(arena, x), N, C], N);
      assert.deepEqual(new Int8Array(memory.buffer, xq, N * C), q, `values N=${N} C=${C}`);
      assert.deepEqual(read(xs, N * nb), d, `scales N=${N} C=${C}`);
      const sums = Int32Array.from({ length: N * nb }, (_, b) => q.subarray(b * 32, (b + 1) * 32).reduce((u, v) => u + v, 0));
      assert.deepEqual(new Int32Array(memory.buffer, xb, N * nb), sums, `sums N=${N} C=${C}`);
    }
  });

  for (const type of TYPES) {
    const kind = Q45[type].kind;

    test(`${type} decode: matmul_q45 equals the reference, matmul_q45_i8 equals matmul_q45, bit for bit, every mode (${label})`, async () => {
      const portablePool = await portableReady;
      const pool = relaxed ? await poolReady : null;
      const rand = mulberry32(17 * threads + kind);
      for (const [N, C, OC] of SHAPES) {
        const nb = C / Q8_BLOCK;
        const { bytes } = weights(type, OC, C, rand);
        const { w: wBytes, s: sBytes } = q45Bytes(type, OC, C);
        const wp = new Uint8Array(wBytes);
        const sp = new Float32Array(sBytes / 4);
        packQ45Forward(wp, sp, bytes, type, OC, C);
        const x = kernelInputs(N, C, rand);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        const q = new Int8Array(N * C);
        const d = new Float32Array(N * nb);
        quantizeQ8Forward(q, d, x, N, C);
        const want = new Float32Array(N * OC);
        matmulQ45Forward(want, q, d, bytes, type, bias, N, C, OC);
        // quantize_q8's layout is the reference's values (q8InputLayout), so the kernel's input is q, d exactly.
        const xq16 = new Int16Array(N * C);
        const xs16 = new Float32Array(N * nb);
        q8InputLayout(xq16, xs16, q, d, N, C);
        const arena = new Arena();
        const w = put(arena, wp);
        const ws = put(arena, sp);
        const xo = put(arena, x);
        const bo = put(arena, bias);
        const xq = arena.alloc(N * C * 2);
        const xs = arena.alloc(N * nb * 4);
        const xb = arena.alloc(N * nb * 4);
        const portable = arena.alloc(N * OC * 4);
        const got = arena.alloc(N * OC * 4);
        const shape = `N=${N} C=${C} OC=${OC}`;
        for (const mode of [MatmulMode.STORE, MatmulMode.ACCUMULATE, MatmulMode.GELU]) {
          new Float32Array(memory.buffer, portable, N * OC).set(base);
          portablePool.run('quantize_q8', [xq, xs, xo, N, C], N);
          assert.deepEqual(new Int16Array(memory.buffer, xq, N * C), xq16, `${type} ${shape}: quantize_q8's input`);
          portablePool.run('matmul_q45', [portable, xq, xs, w, ws, bo, N, C, OC, mode, kind], OC, 4);
          const p = read(portable, N * OC);
          if (mode === MatmulMode.STORE) assert.deepEqual(p, want, `${type} ${shape}: as the reference`);
          else assert.ok(relErr(p, storedProduct(want.map((v, i) => v - bias[i % OC]!), bias, base, mode)) < 1e-5, `${type} ${shape} mode ${mode}`);
          if (pool === null) continue;
          new Float32Array(memory.buffer, got, N * OC).set(base);
          pool.run('quantize_q8_i8', [xq, xs, xb, xo, N, C], N);
          pool.run('matmul_q45_i8', [got, xq, xs, xb, w, ws, bo, N, C, OC, mode, kind], OC, 4);
          assert.deepEqual(read(got, N * OC), p, `${type} ${shape} mode ${mode}: relaxed as portable`);
        }
      }
    });

    test(`${type} prefill: matmul_q45_f32 and matmul_q45_i8tiles match the dequantized weights, every mode (${label})`, async () => {
      const portablePool = await portableReady;
      const pool = relaxed ? await poolReady : null;
      const rand = mulberry32(29 * threads + kind);
      for (const [N, C, OC] of TILE_SHAPES) {
        const nb = C / Q8_BLOCK;
        const { bytes, deq } = weights(type, OC, C, rand);
        const { w: wBytes, s: sBytes } = q45Bytes(type, OC, C);
        const wp = new Uint8Array(wBytes);
        const sp = new Float32Array(sBytes / 4);
        packQ45Forward(wp, sp, bytes, type, OC, C);
        const x = kernelInputs(N, C, rand);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        const exact = new Float32Array(N * OC);
        matmulForward(exact, x, deq, null, N, C, OC);
        // The int8 tiles' input: 7-bit values (quantize_q8_7), dequantized.
        const q7 = new Int16Array(N * C);
        const d7 = new Float32Array(N * nb);
        quantizeQ8Forward(q7, d7, x, N, C, 63);
        const x7 = Float32Array.from(q7, (v, i) => v * d7[Math.floor(i / Q8_BLOCK)]!);
        const tiled = new Float32Array(N * OC);
        matmulForward(tiled, x7, deq, null, N, C, OC);
        const arena = new Arena();
        const w = put(arena, wp);
        const ws = put(arena, sp);
        const xo = put(arena, x);
        const bo = put(arena, bias);
        const out = arena.alloc(N * OC * 4);
        const xq = arena.alloc(Math.ceil(N / 4) * 4 * C);
        const xs = arena.alloc(N * nb * 4);
        const scratch = arena.alloc(threads * blockScratchBytes(C));
        const shape = `N=${N} C=${C} OC=${OC}`;
        for (const mode of [MatmulMode.STORE, MatmulMode.ACCUMULATE, MatmulMode.GELU]) {
          new Float32Array(memory.buffer, out, N * OC).set(base);
          portablePool.run('matmul_q45_f32', [out, xo, w, ws, bo, scratch, N, C, OC, mode, kind], OC, 32);
          const e = relErr(read(out, N * OC), storedProduct(exact, bias, base, mode));
          assert.ok(e < 1e-5, `${type} ${shape} mode ${mode}: f32 tiles ${e}`);
          if (pool === null) continue;
          new Float32Array(memory.buffer, out, N * OC).set(base);
          pool.run('quantize_q8_7', [xq, xs, 0, xo, N, C], N);
          pool.run('matmul_q45_i8tiles', [out, xq, xs, w, ws, bo, scratch, N, C, OC, mode, kind], OC, 32);
          const t = relErr(read(out, N * OC), storedProduct(tiled, bias, base, mode));
          assert.ok(t < 1e-5, `${type} ${shape} mode ${mode}: int8 tiles ${t}`);
        }
      }
    });
  }
}

test('a GGUF of Q4_0 and Q5_0 matrices: the new kernels give the Q8_0 path\'s logits bit for bit, near the reference (1 and 2 threads)', async () => {
  // Width 96 = 32 x 3; q, k, v in three formats (one fused matrix, three segments), gate Q5_0, up Q4_0.
  const config = configFromHF({
    model_type: 'llama', hidden_size: 96, intermediate_size: 160, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 32,
    num_hidden_layers: 2, vocab_size: 512, max_position_embeddings: 64, rms_norm_eps: 1e-5, tie_word_embeddings: false,
  });
  const types: Record<string, Q45Type | 'Q8_0'> = { attn_q: 'Q4_0', attn_k: 'Q5_0', attn_v: 'Q8_0', attn_output: 'Q5_0', ffn_gate: 'Q5_0', ffn_up: 'Q4_0', ffn_down: 'Q4_0', 'output.weight': 'Q5_0' };
  const dir = mkdtempSync(join(tmpdir(), 'limelight-q45-'));
  dirs.push(dir);
  const path = join(dir, 'q45.gguf');
  writeGgufModel(path, randomModel(config, 9), { weightType: 'Q8_0', tokenizer: oracleVocabMetadata(), tensorType: (name) => types[name] ?? types[/^blk\.\d+\.(\w+)\.weight$/.exec(name)?.[1] ?? ''] });
  const model = loadModel(path);
  assert.deepEqual([...model.formats().keys()].filter((t) => t !== 'F32').sort(), ['Q4_0', 'Q5_0', 'Q8_0']);
  const V = config.vocabSize;
  const ids = Int32Array.from({ length: 30 }, (_, i) => (i * 61 + 7) % V);
  const ref = new ReferenceBackend(model.float32()).forwardSync(ids, 0, { allLogits: true }).logits;
  const run = async (weightFormat: 'auto' | 'q8_0', relaxedSimd: boolean, threads: number, chunk: number): Promise<{ logits: Float32Array; formats: string[]; bytes: number }> => {
    const be = await FastBackend.create(model, { threads, weightFormat, chunk, relaxedSimd });
    try {
      // A prefill of `chunk` tokens, then the rest one at a time (decode).
      const logits = new Float32Array(ids.length * V);
      logits.set(be.forwardSync(ids.subarray(0, chunk), 0, { allLogits: true }).logits);
      for (let t = chunk; t < ids.length; t++) logits.set(be.forwardSync(ids.subarray(t, t + 1), t).logits, t * V);
      return { logits, formats: [...be.weightFormats].sort(), bytes: be.weightBytes };
    } finally {
      be.dispose();
    }
  };
  for (const relaxedSimd of [true, false]) {
    for (const threads of [1, 2]) {
      // A prefill of 5 tokens: below the relaxed tile thresholds of Q8_0, Q4_0 and Q5_0 (8, 20, 7),
      // so the decode kernels, and above the portable one (4), so the f32 tiles; of 24 tokens: the
      // tiles in both builds, whose bands hold the same int8 weights and scales either way.
      for (const chunk of [5, 24]) {
        const what = `relaxed ${String(relaxedSimd && relaxed)}, ${threads} thread(s), prefill of ${chunk}`;
        const before = await run('q8_0', relaxedSimd, threads, chunk);
        const now = await run('auto', relaxedSimd, threads, chunk);
        assert.deepEqual(now.formats, ['q4_0', 'q5_0', 'q8_0'], what);
        assert.deepEqual(before.formats, ['q8_0'], what);
        assert.ok(now.bytes < 0.7 * before.bytes, `${what}: ${now.bytes} bytes of weights against ${before.bytes}`);
        assert.deepEqual(now.logits, before.logits, `${what}: logits as the Q8_0 kernels'`);
        for (let t = 0; t < ids.length; t++) {
          const k = kl(ref.subarray(t * V, (t + 1) * V), now.logits.subarray(t * V, (t + 1) * V));
          // Measured: KL at most 6.7e-6 (the 8-bit and 7-bit input rounding); the bound leaves 7x.
          assert.ok(k < 5e-5, `${what}, position ${t}: KL ${k}`);
        }
      }
    }
  }
});
