// The WebAssembly SIMD kernels against the plain TypeScript references, on random shapes
// (odd widths included), run by 1 thread and by a pool of 3.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, attentionParts, attentionScratchBytes, blockScratchBytes, f32Bits, MatmulMode } from '../../engine/kernels/wasm/kernels';
import { kernelMemory } from '../harness/kernelMemory';
import { normForward } from '../../engine/kernels/norms';
import { ComputePool, inferenceKernels } from '../../engine/runtime/pool';
import { matmulForward, packF32Forward, F32_PACK_ROWS } from '../../engine/kernels/matmul';
import { attentionForward } from '../../engine/kernels/attention';
import { geluForward, swigluForward } from '../../engine/kernels/activations';
import { quantizeQ8Forward, matmulQ8Forward, packQ8Forward, packQ8FromBlocks, q8InputLayout, dequantizeQ8, toF16, fromF16, Q8_PACK_ROWS } from '../../engine/kernels/quantize';
import { bytesFor, dequantize, quantize } from '../../engine/formats/formats';
import { mulberry32 } from '../../engine/model/init';
import { maxAbsDiff, randn } from './oracle';

const { memory, put, read } = kernelMemory(64 << 20);
const pools: ComputePool[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
});

/** Copies `data` into the shared memory, returning its byte offset. */

/** An f32 weight (OC, C) in the decode kernel's packed layout: its byte offset. */
function putF32Packed(arena: Arena, w: Float32Array, OC: number, C: number): number {
  const wp = new Float32Array(Math.ceil(OC / F32_PACK_ROWS) * F32_PACK_ROWS * C);
  packF32Forward(wp, w, OC, C);
  return put(arena, wp);
}

/** Q8_0 weights (OC, C) in the kernels' packed layout: byte offsets of the weights and the scales. */
function putQ8(arena: Arena, wq: Int8Array, ws: Float32Array, OC: number, C: number): [number, number] {
  const rows = Math.ceil(OC / Q8_PACK_ROWS) * Q8_PACK_ROWS;
  const wp = new Int8Array(rows * C);
  const sp = new Float32Array((rows * C) / 32);
  packQ8Forward(wp, sp, wq, ws, OC, C);
  return [put(arena, wp), put(arena, sp)];
}

function relErr(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return maxAbsDiff(a, b) / scale;
}

for (const threads of [1, 3]) {
  const poolReady = ComputePool.create(memory, threads).then((p) => (pools.push(p), p));

  test(`matmul f32 / f16 match the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(7 + threads);
    for (const [N, C, OC] of [[1, 64, 70], [5, 37, 33], [9, 128, 67], [4, 8, 2], [6, 100, 9], [7, 96, 131], [1, 3, 1], [13, 768, 40], [2, 36, 5], [3, 3072, 67]] as const) {
      for (const accum of [0, 1]) {
        const arena = new Arena();
        const x = randn(N * C, rand);
        const w = randn(OC * C, rand, 0.1);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        const xo = put(arena, x);
        const bo = put(arena, bias);
        const want = new Float32Array(N * OC);
        matmulForward(want, x, w, bias, N, C, OC);
        if (accum) for (let i = 0; i < want.length; i++) want[i] = want[i]! + base[i]!;

        const out = put(arena, base);
        pool.run('matmul_f32', [out, xo, put(arena, w), bo, N, C, OC, accum], OC, 4);
        assert.ok(relErr(read(out, N * OC), want) < 1e-5, `f32 N=${N} C=${C} OC=${OC} accum=${accum}`);

        if (C % 4 === 0) {
          // Packed weights: the decode kernel, then the prefill form (blocks copied back to rows for the tiles).
          const wp = putF32Packed(arena, w, OC, C);
          const outP = put(arena, base);
          pool.run('matmul_f32p', [outP, xo, wp, bo, N, C, OC, accum], OC, F32_PACK_ROWS);
          assert.ok(relErr(read(outP, N * OC), want) < 1e-5, `f32 packed N=${N} C=${C} OC=${OC} accum=${accum}`);
          const outB = put(arena, base);
          const scratch = arena.alloc(threads * blockScratchBytes(C));
          pool.run('matmul_f32p_blocks', [outB, xo, wp, bo, scratch, N, C, OC, accum], OC, 32);
          assert.ok(relErr(read(outB, N * OC), want) < 1e-5, `f32 packed blocks N=${N} C=${C} OC=${OC} accum=${accum}`);
        }

        const h = toF16(w);
        const wantH = new Float32Array(N * OC);
        matmulForward(wantH, x, fromF16(h), bias, N, C, OC);
        if (accum) for (let i = 0; i < wantH.length; i++) wantH[i] = wantH[i]! + base[i]!;
        const outH = put(arena, base);
        pool.run('matmul_f16', [outH, xo, put(arena, h), bo, N, C, OC, accum], OC, 2);
        assert.ok(relErr(read(outH, N * OC), wantH) < 1e-5, `f16 N=${N} C=${C} OC=${OC} accum=${accum}`);
      }
    }
  });

  test(`Q8_0 quantization and matmul match the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(11 + threads);
    for (const [N, C, OC] of [[1, 32, 3], [5, 64, 33], [8, 96, 70], [3, 768, 131], [13, 160, 45], [2, 224, 8], [1, 3072, 66]] as const) {
      const arena = new Arena();
      const x = randn(N * C, rand);
      x[0] = 0;
      if (C >= 64) x.fill(0, 32, 64); // an all-zero block has scale 0
      const w = randn(OC * C, rand, 0.1);
      const bias = randn(OC, rand);
      const nb = C / 32;
      const xq = new Int16Array(N * C);
      const xs = new Float32Array(N * nb);
      quantizeQ8Forward(xq, xs, x, N, C);
      const wq = new Int8Array(OC * C);
      const ws = new Float32Array(OC * nb);
      quantizeQ8Forward(wq, ws, w, OC, C);

      const xqo = arena.alloc(N * C * 2);
      const xso = arena.alloc(N * nb * 4);
      pool.run('quantize_q8', [xqo, xso, put(arena, x), N, C], N);
      const xqk = new Int16Array(N * C);
      const xsk = new Float32Array(N * nb);
      q8InputLayout(xqk, xsk, xq, xs, N, C);
      assert.deepEqual(new Int16Array(memory.buffer, xqo, N * C), xqk, 'quantized values');
      assert.deepEqual(read(xso, N * nb), xsk, 'scales');

      const want = new Float32Array(N * OC);
      matmulQ8Forward(want, xq, xs, wq, ws, bias, N, C, OC);
      const out = arena.alloc(N * OC * 4);
      const [wpo, spo] = putQ8(arena, wq, ws, OC, C);
      pool.run('matmul_q8', [out, xqo, xso, wpo, spo, put(arena, bias), N, C, OC, 0], OC, Q8_PACK_ROWS);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `q8 N=${N} C=${C} OC=${OC}`);

      const exact = new Float32Array(N * OC);
      matmulForward(exact, x, w, bias, N, C, OC);
      assert.ok(relErr(read(out, N * OC), exact) < 0.05, 'close to the f32 product');

      // Prefill's form: f32 rows times the weights expanded to f32.
      const wd = new Float32Array(OC * C);
      dequantizeQ8(wd, wq, ws, OC * C);
      const wantF = new Float32Array(N * OC);
      matmulForward(wantF, x, wd, bias, N, C, OC);
      const outF = arena.alloc(N * OC * 4);
      const scratch = arena.alloc(threads * blockScratchBytes(C));
      pool.run('matmul_q8_f32', [outF, put(arena, x), wpo, spo, put(arena, bias), scratch, N, C, OC, 0], OC, 32);
      assert.ok(relErr(read(outF, N * OC), wantF) < 1e-5, `q8 weights x f32 rows N=${N} C=${C} OC=${OC}`);
    }
  });

  test(`LayerNorm and RMSNorm match the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(19 + threads);
    for (const [N, C] of [[1, 768], [5, 37], [9, 64], [3, 3], [17, 130]] as const) {
      for (const kind of ['layernorm', 'rmsnorm'] as const) {
        for (const withBias of kind === 'layernorm' ? [true, false] : [false]) {
          const arena = new Arena();
          const x = randn(N * C, rand, 4);
          for (let i = 0; i < C; i++) x[i] = x[i]! + 10; // a row far from zero mean
          const w = randn(C, rand);
          const bias = withBias ? randn(C, rand) : null;
          const want = new Float32Array(N * C);
          normForward(kind, want, x, w, bias, N, C, 1e-5);
          const out = arena.alloc(N * C * 4);
          const args = [out, put(arena, x), put(arena, w), bias ? put(arena, bias) : 0, C, f32Bits(1e-5), kind === 'rmsnorm' ? 1 : 0];
          pool.run('norm', args, N);
          assert.ok(maxAbsDiff(read(out, N * C), want) < 1e-6, `${kind} N=${N} C=${C} bias=${withBias}`);
        }
      }
    }
  });

  test(`SwiGLU matches the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(19 + threads);
    for (const [N, FF] of [[1, 4864], [3, 7], [9, 37], [2, 1]] as const) {
      const arena = new Arena();
      const inp = randn(N * 2 * FF, rand, 4);
      inp[0] = -120; // e^-g past float32's range: silu = 0
      if (FF > 1) inp[1] = 95; // silu(g) = g
      const want = new Float32Array(N * FF);
      swigluForward(want, inp, N, FF);
      const out = arena.alloc(want.byteLength);
      pool.run('swiglu', [out, put(arena, inp), FF], N);
      assert.ok(relErr(read(out, want.length), want) < 1e-6, `swiglu N=${N} FF=${FF}`);
      // In place, as the fast backend runs it: the rows in order on the calling thread.
      const both = put(arena, inp);
      pool.run('swiglu', [both, both, FF], N, 1, N);
      assert.ok(relErr(read(both, want.length), want) < 1e-6, `swiglu in place N=${N} FF=${FF}`);
    }
  });

  test(`fused attention matches the reference, portable and relaxed (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const relaxed = await poolReady;
    const portable = await ComputePool.create(memory, threads, inferenceKernels(false));
    pools.push(portable);
    const rand = mulberry32(13 + threads);
    // [pos, T, NH, KVH, HD, window]: grouped heads (G = NH / KVH up to 7, as Qwen2.5-Coder-0.5B's 14 / 2), cut into every number of parts.
    const shapes = [[0, 1, 1, 1, 4, 0], [0, 7, 4, 2, 6, 0], [70, 3, 3, 3, 16, 0], [5, 130, 2, 1, 8, 0], [40, 9, 4, 4, 5, 17], [200, 1, 12, 12, 64, 0], [133, 1, 14, 2, 64, 0], [66, 2, 12, 2, 32, 50], [9, 3, 6, 1, 12, 0], [70, 1, 2, 1, 32, 50]] as const;
    for (const [pos, T, NH, KVH, HD, window] of shapes) {
      const G = NH / KVH;
      const ctx = pos + T + 3;
      const qkvStride = (NH + 2 * KVH) * HD;
      const qkv = randn(T * qkvStride, rand, 3);
      const k = randn(KVH * ctx * HD, rand, 2);
      const v = randn(KVH * ctx * HD, rand);
      // The f16 cache: the reference on the same keys and values rounded to f16 (the kernel widens them exactly).
      const kh = toF16(k);
      const vh = toF16(v);
      for (const half of [0, 1]) {
        const want = new Float32Array(T * NH * HD);
        const [kr, vr] = half ? [fromF16(kh), fromF16(vh)] : [k, v];
        attentionForward(want, null, qkv, kr, vr, new Float32Array(ctx), pos, T, NH, KVH, HD, ctx, qkvStride, window === 0 ? null : window);
        for (const parts of new Set([1, G, Math.min(G, 4), attentionParts(T * KVH, G, threads)])) {
          for (const [build, pool] of [['relaxed', relaxed], ['portable', portable]] as const) {
            const arena = new Arena();
            const out = arena.alloc(want.byteLength);
            const scratch = arena.alloc(attentionScratchBytes(HD, G) * threads);
            const [kc, vc] = half ? [put(arena, kh), put(arena, vh)] : [put(arena, k), put(arena, v)];
            pool.run('attention', [out, put(arena, qkv), kc, vc, scratch, pos, NH, KVH, HD, ctx, qkvStride, window, half, parts], T * KVH * parts);
            assert.ok(maxAbsDiff(read(out, want.length), want) < 1e-5, `attention ${build} f${half ? 16 : 32} pos=${pos} T=${T} NH=${NH} KVH=${KVH} HD=${HD} window=${window} parts=${parts}`);
          }
        }
      }
    }
  });

  test(`matmul through GELU (every weight format) matches the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(17 + threads);
    for (const [N, C, OC] of [[1, 64, 70], [7, 96, 131], [5, 32, 9]] as const) {
      const arena = new Arena();
      const x = randn(N * C, rand, 3);
      const w = randn(OC * C, rand, 0.5);
      const bias = randn(OC, rand);
      bias[0] = 30; // saturates: GELU(x) = x
      if (OC > 1) bias[1] = -30; // GELU(x) = 0
      const lin = new Float32Array(N * OC);
      const want = new Float32Array(N * OC);
      const xo = put(arena, x);
      const bo = put(arena, bias);
      matmulForward(lin, x, w, bias, N, C, OC);
      geluForward(want, lin, lin.length);
      const out = arena.alloc(N * OC * 4);
      pool.run('matmul_f32', [out, xo, put(arena, w), bo, N, C, OC, MatmulMode.GELU], OC, 4);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `f32 GELU N=${N} C=${C} OC=${OC}`);
      const wp = putF32Packed(arena, w, OC, C);
      pool.run('matmul_f32p', [out, xo, wp, bo, N, C, OC, MatmulMode.GELU], OC, F32_PACK_ROWS);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `f32 packed GELU N=${N} C=${C} OC=${OC}`);
      const blockScratch = arena.alloc(threads * blockScratchBytes(C));
      pool.run('matmul_f32p_blocks', [out, xo, wp, bo, blockScratch, N, C, OC, MatmulMode.GELU], OC, 32);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `f32 packed blocks GELU N=${N} C=${C} OC=${OC}`);

      const h = toF16(w);
      matmulForward(lin, x, fromF16(h), bias, N, C, OC);
      geluForward(want, lin, lin.length);
      pool.run('matmul_f16', [out, xo, put(arena, h), bo, N, C, OC, MatmulMode.GELU], OC, 2);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `f16 GELU N=${N} C=${C} OC=${OC}`);

      const nb = C / 32;
      const xq = new Int16Array(N * C);
      const xs = new Float32Array(N * nb);
      quantizeQ8Forward(xq, xs, x, N, C);
      const wq = new Int8Array(OC * C);
      const ws = new Float32Array(OC * nb);
      quantizeQ8Forward(wq, ws, w, OC, C);
      matmulQ8Forward(lin, xq, xs, wq, ws, bias, N, C, OC);
      geluForward(want, lin, lin.length);
      const [wpo, spo] = putQ8(arena, wq, ws, OC, C);
      const xqk = new Int16Array(N * C);
      const xsk = new Float32Array(N * nb);
      q8InputLayout(xqk, xsk, xq, xs, N, C);
      pool.run('matmul_q8', [out, put(arena, xqk), put(arena, xsk), wpo, spo, bo, N, C, OC, MatmulMode.GELU], OC, Q8_PACK_ROWS);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `q8 GELU N=${N} C=${C} OC=${OC}`);

      const wd = new Float32Array(OC * C);
      dequantizeQ8(wd, wq, ws, OC * C);
      matmulForward(lin, x, wd, bias, N, C, OC);
      geluForward(want, lin, lin.length);
      const scratch = arena.alloc(threads * blockScratchBytes(C));
      pool.run('matmul_q8_f32', [out, xo, wpo, spo, bo, scratch, N, C, OC, MatmulMode.GELU], OC, 32);
      assert.ok(relErr(read(out, N * OC), want) < 1e-5, `q8 weights x f32 rows GELU N=${N} C=${C} OC=${OC}`);
    }
  });
}

test('the pool runs every chunk of every job exactly once, back to back and after its threads fall asleep', async () => {
  const pool = await ComputePool.create(memory, 3);
  pools.push(pool);
  const arena = new Arena();
  const OC = 67; // 23 chunks of 3 columns on 3 threads
  const out = put(arena, new Float32Array(OC));
  const w = put(arena, new Float32Array(OC * 4));
  const bias = put(arena, new Float32Array(OC).fill(1));
  const x = put(arena, new Float32Array(4));
  const jobs = 3000;
  // out += 0 . x + 1 per job: a chunk run twice or skipped shows as a column off by one.
  for (let j = 0; j < jobs; j++) {
    pool.run('matmul_f32', [out, x, w, bias, 1, 4, OC, 1], OC);
    if (j === 100) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // let the workers fall asleep
  }
  assert.deepEqual(Array.from(read(out, OC)), new Array<number>(OC).fill(jobs));
});

test('touch_pages writes one zero per 4 KiB page of its 64 KiB units, split over the threads, and nothing outside them', async () => {
  const pool = await ComputePool.create(memory, 3);
  pools.push(pool);
  const base = 1 << 20;
  const bytes = new Uint8Array(memory.buffer, base - 65536, 8 * 65536);
  bytes.fill(7);
  pool.run('touch_pages', [base], 6, 1, 1); // units 0..5 from base
  for (let at = 0; at < bytes.length; at += 8) {
    const inside = at >= 65536 && at < 7 * 65536;
    const pageStart = (at - 65536) % 4096 === 0;
    const want = inside && pageStart ? 0 : 7;
    assert.equal(bytes[at], want, `byte ${at - 65536} from base`);
  }
});

test('packQ8Forward puts 4 rows side by side per block and zero-fills the last group', () => {
  const OC = 5;
  const C = 64;
  const q = Int8Array.from({ length: OC * C }, (_, i) => (i % 251) - 125);
  const s = Float32Array.from({ length: OC * 2 }, (_, i) => i + 1);
  const wp = new Int8Array(8 * C).fill(7);
  const sp = new Float32Array(8 * 2).fill(7);
  packQ8Forward(wp, sp, q, s, OC, C);
  for (let o = 0; o < 8; o++) {
    for (let b = 0; b < 2; b++) {
      const tile = ((o >> 2) * 2 + b) * 4 + (o & 3);
      const want = o < OC ? Array.from(q.subarray(o * C + b * 32, o * C + b * 32 + 32)) : new Array<number>(32).fill(0);
      assert.deepEqual(Array.from(wp.subarray(tile * 32, tile * 32 + 32)), want, `row ${o} block ${b}`);
      assert.equal(sp[tile], o < OC ? s[o * 2 + b] : 0, `scale of row ${o} block ${b}`);
    }
  }
});

test('packF32Forward puts 4 rows side by side per 4 columns and zero-fills the last group', () => {
  const OC = 6;
  const C = 8;
  const w = Float32Array.from({ length: OC * C }, (_, i) => i + 1);
  const wp = new Float32Array(8 * C).fill(-1);
  packF32Forward(wp, w, OC, C);
  for (let o = 0; o < 8; o++) {
    for (let k = 0; k < C; k += 4) {
      const at = (((o >> 2) * (C / 4) + k / 4) * 4 + (o & 3)) * 4;
      const want = o < OC ? Array.from(w.subarray(o * C + k, o * C + k + 4)) : [0, 0, 0, 0];
      assert.deepEqual(Array.from(wp.subarray(at, at + 4)), want, `row ${o} columns ${k}..${k + 3}`);
    }
  }
  assert.throws(() => packF32Forward(new Float32Array(12), new Float32Array(6), 2, 3), /multiple of 4/);
});

test('packQ8FromBlocks packs GGUF Q8_0, Q4_0 and Q5_0 rows exactly: packed weight x scale equals the file\'s dequantized weight, last group zero-filled', () => {
  const rand = mulberry32(11);
  for (const format of ['Q8_0', 'Q4_0', 'Q5_0'] as const) {
    const OC = 7;
    const C = 96;
    const x = Float32Array.from({ length: OC * C }, () => rand() * 2 - 1);
    const blocks = new Uint8Array(bytesFor(format, OC * C));
    quantize(format, x, blocks);
    const want = new Float32Array(OC * C);
    dequantize(format, blocks, want);
    const groups = Math.ceil(OC / Q8_PACK_ROWS);
    const wp = new Int8Array(groups * Q8_PACK_ROWS * C).fill(99);
    const sp = new Float32Array((groups * Q8_PACK_ROWS * C) / 32).fill(99);
    packQ8FromBlocks(wp, sp, blocks, format, OC, C);
    const nb = C / 32;
    for (let o = 0; o < groups * Q8_PACK_ROWS; o++) {
      for (let c = 0; c < C; c++) {
        const tile = (Math.floor(o / Q8_PACK_ROWS) * nb + Math.floor(c / 32)) * Q8_PACK_ROWS + (o % Q8_PACK_ROWS);
        const got = wp[tile * 32 + (c % 32)]! * sp[tile]!;
        assert.equal(got, o < OC ? want[o * C + c] : 0, `${format} row ${o} column ${c}`);
      }
    }
  }
});
