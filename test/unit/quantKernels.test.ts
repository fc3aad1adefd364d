// The K-quant kernels (Q4_K, Q5_K, Q6_K) against their TypeScript references (engine/kernels/quantK.ts):
// the input quantization and the decode products exactly, the prefill products (blocks expanded
// to f32) within float32 rounding of dequantize-then-multiply, at 1 and 3 threads on odd shapes;
// the packed layout; and a FastBackend forward of a small llama-shaped model whose matrices are
// Q4_K / Q5_K / Q6_K parts against the reference backend on the same weights dequantized.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, blockScratchBytes, MatmulMode } from '../../engine/kernels/wasm/kernels';
import { kernelMemory } from '../harness/kernelMemory';
import { ComputePool } from '../../engine/runtime/pool';
import { matmulForward } from '../../engine/kernels/matmul';
import {
  matmulQ4KForward, matmulQ5KForward, matmulQ6KForward, packQ4KForward, packQ5KForward, packQ6KForward, q8kInputLayout, quantizeQ8KForward,
  Q4K_META_BYTES, Q4K_QS_BYTES, Q4K_WINDOW, Q5K_META_BYTES, Q6K_META_BYTES, Q6K_QS_BYTES, Q6K_WINDOW, Q6K_SCALE_ORDER, Q8K_SUMS, QK,
} from '../../engine/kernels/quantK';
import { bytesFor, dequantize, quantize, type WeightType } from '../../engine/formats/formats';
import { kMin, kScale } from '../../engine/formats/kquants';
import { f16FloatTable } from '../../engine/formats/half';
import { mulberry32 } from '../../engine/model/init';
import { configFromHF } from '../../engine/model/families';
import { Model, type WeightPart } from '../../engine/model/model';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { maxAbsDiff, kl, randn } from './oracle';

const { memory, put, read } = kernelMemory(64 << 20);
const pools: ComputePool[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
});

function relErr(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return maxAbsDiff(a, b) / scale;
}

/** Random weights (OC, C) with a spread of row scales and a few outliers, quantized to `type`. */
function kWeights(type: WeightType, OC: number, C: number, rand: () => number): { bytes: Uint8Array; deq: Float32Array } {
  const w = randn(OC * C, rand, 0.1);
  for (let o = 0; o < OC; o++) {
    const s = 0.2 + 3 * rand();
    for (let i = 0; i < C; i++) w[o * C + i] = w[o * C + i]! * s;
  }
  for (let i = 0; i < w.length; i += 97) w[i] = w[i]! * 8;
  const bytes = new Uint8Array(bytesFor(type, OC * C));
  quantize(type, w, bytes);
  const deq = new Float32Array(OC * C);
  dequantize(type, bytes, deq);
  return { bytes, deq };
}

type KType = 'Q4_K' | 'Q5_K' | 'Q6_K';

/** Each K-quant's packer, stream sizes per 256 weights, decode kernel, reference, input window and prefill kind. */
const KQ = {
  Q4_K: { pack: packQ4KForward, qs: Q4K_QS_BYTES, meta: Q4K_META_BYTES, op: 'matmul_q4k', ref: matmulQ4KForward, S: Q4K_WINDOW, kind: 0 },
  Q5_K: { pack: packQ5KForward, qs: Q4K_QS_BYTES, meta: Q5K_META_BYTES, op: 'matmul_q5k', ref: matmulQ5KForward, S: Q4K_WINDOW, kind: 2 },
  Q6_K: { pack: packQ6KForward, qs: Q6K_QS_BYTES, meta: Q6K_META_BYTES, op: 'matmul_q6k', ref: matmulQ6KForward, S: Q6K_WINDOW, kind: 1 },
} as const;

/** A format's packed streams in the shared memory: [w, ws]. */
function putPacked(arena: Arena, type: KType, bytes: Uint8Array, OC: number, C: number): [number, number] {
  const nb = C / QK;
  const qs = new Uint8Array(OC * nb * KQ[type].qs);
  const meta = new Uint8Array(OC * nb * KQ[type].meta);
  KQ[type].pack(qs, meta, bytes, OC, C);
  return [put(arena, qs), put(arena, meta)];
}

test('packed layouts: Q4_K and Q5_K one sub-block per 16 bytes (Q5_K\'s fifth bits per lane), Q6_K\'s quant bytes unchanged, the factors unpacked', () => {
  const rand = mulberry32(3);
  const half = f16FloatTable();
  const OC = 5;
  const C = 512;
  const nb = C / QK;
  {
    const { bytes } = kWeights('Q4_K', OC, C, rand);
    const qs = new Uint8Array(OC * nb * Q4K_QS_BYTES);
    const meta = new Uint8Array(OC * nb * Q4K_META_BYTES);
    packQ4KForward(qs, meta, bytes, OC, C);
    const view = new DataView(meta.buffer);
    for (let b = 0; b < OC * nb; b++) {
      const at = b * 144;
      // Code i of the super-block (ggml's layout): chunk i >> 6, byte i & 31, high nibble when i & 32.
      const code = (i: number): number => (bytes[at + 16 + 32 * (i >> 6) + (i & 31)]! >> (i & 32 ? 4 : 0)) & 15;
      for (let i = 0; i < 128; i++) {
        const sub = i >> 4;
        assert.equal(qs[b * 128 + i], code(32 * sub + (i & 15)) | (code(32 * sub + 16 + (i & 15)) << 4), `Q4_K byte ${i}`);
      }
      const m = b * Q4K_META_BYTES;
      assert.equal(view.getFloat32(m, true), half[bytes[at]! | (bytes[at + 1]! << 8)]);
      assert.equal(view.getFloat32(m + 4, true), half[bytes[at + 2]! | (bytes[at + 3]! << 8)]);
      for (let s = 0; s < 8; s++) {
        assert.equal(meta[m + 8 + s], kScale(bytes, at + 4, s));
        assert.equal(meta[m + 16 + s], kMin(bytes, at + 4, s));
      }
    }
  }
  {
    const { bytes } = kWeights('Q5_K', OC, C, rand);
    const qs = new Uint8Array(OC * nb * Q4K_QS_BYTES);
    const meta = new Uint8Array(OC * nb * Q5K_META_BYTES);
    packQ5KForward(qs, meta, bytes, OC, C);
    const view = new DataView(meta.buffer);
    for (let b = 0; b < OC * nb; b++) {
      const at = b * 176;
      // Code i of the super-block (ggml's layout): low 4 bits as Q4_K's from byte 48, the fifth bit 2 (i >> 6) + ((i >> 5) & 1) of qh[i & 31].
      const code = (i: number): number => ((bytes[at + 48 + 32 * (i >> 6) + (i & 31)]! >> (i & 32 ? 4 : 0)) & 15) | (((bytes[at + 16 + (i & 31)]! >> (i >> 5)) & 1) << 4);
      const m = b * Q5K_META_BYTES;
      assert.equal(view.getFloat32(m, true), half[bytes[at]! | (bytes[at + 1]! << 8)]);
      for (let s = 0; s < 8; s++) {
        assert.equal(meta[m + 8 + s], kScale(bytes, at + 4, s));
        assert.equal(meta[m + 16 + s], kMin(bytes, at + 4, s));
        const word = view.getUint32(m + 24 + 4 * s, true);
        for (let k = 0; k < 8; k++) {
          // Lane k of the sub-block's 16 bytes holds codes 2k, 16 + 2k, 2k + 1, 17 + 2k.
          const byte0 = qs[b * 128 + 16 * s + 2 * k]!;
          const byte1 = qs[b * 128 + 16 * s + 2 * k + 1]!;
          const base = 16 * (k & 1) + (k >> 1);
          assert.equal((byte0 & 15) | (((word >>> base) & 1) << 4), code(32 * s + 2 * k), `Q5_K code ${2 * k}`);
          assert.equal((byte0 >> 4) | (((word >>> (base + 4)) & 1) << 4), code(32 * s + 16 + 2 * k), `Q5_K code ${16 + 2 * k}`);
          assert.equal((byte1 & 15) | (((word >>> (base + 8)) & 1) << 4), code(32 * s + 2 * k + 1), `Q5_K code ${2 * k + 1}`);
          assert.equal((byte1 >> 4) | (((word >>> (base + 12)) & 1) << 4), code(32 * s + 17 + 2 * k), `Q5_K code ${17 + 2 * k}`);
        }
      }
    }
  }
  {
    const { bytes } = kWeights('Q6_K', OC, C, rand);
    const qs = new Uint8Array(OC * nb * Q6K_QS_BYTES);
    const meta = new Uint8Array(OC * nb * Q6K_META_BYTES);
    packQ6KForward(qs, meta, bytes, OC, C);
    const view = new DataView(meta.buffer);
    for (let b = 0; b < OC * nb; b++) {
      const at = b * 210;
      assert.deepEqual(qs.subarray(b * 192, (b + 1) * 192), bytes.subarray(at, at + 192));
      const m = b * Q6K_META_BYTES;
      assert.equal(view.getFloat32(m, true), half[bytes[at + 208]! | (bytes[at + 209]! << 8)]);
      for (let p = 0; p < 16; p++) assert.equal(meta[m + 4 + p], bytes[at + 192 + Q6K_SCALE_ORDER[p]!]);
    }
  }
  assert.deepEqual([...Q6K_SCALE_ORDER], [0, 4, 2, 6, 1, 5, 3, 7, 8, 12, 10, 14, 9, 13, 11, 15]);
  assert.throws(() => packQ4KForward(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), 1, 200), /super-blocks/);
});

for (const threads of [1, 3]) {
  const poolReady = ComputePool.create(memory, threads).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}`;

  test(`Q8_K input quantization matches the reference in both layouts (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(5 + threads);
    for (const [N, C] of [[1, 256], [3, 768], [2, 1280]] as const) {
      const x = randn(N * C, rand, 2);
      x.fill(0, 0, 256); // an all-zero block: scale 0, values 0
      x[300 % (N * C)] = 9; // one outlier owns its block's scale
      const nb = C / QK;
      const q = new Int16Array(N * C);
      const d = new Float32Array(N * nb);
      quantizeQ8KForward(q, d, x, N, C);
      for (const S of [Q4K_WINDOW, Q6K_WINDOW]) {
        const arena = new Arena();
        const xq = arena.alloc(N * C * 2);
        const xd = arena.alloc(N * nb * 4);
        const xb = arena.alloc(N * nb * Q8K_SUMS * 2);
        pool.run('quantize_q8k', [xq, xd, xb, put(arena, x), N, C, S], N);
        const wantQ = new Int16Array(N * C);
        const wantB = new Int16Array(N * nb * Q8K_SUMS);
        q8kInputLayout(wantQ, wantB, q, N, C, S);
        assert.deepEqual(new Int16Array(memory.buffer, xq, N * C), wantQ, `values N=${N} C=${C} S=${S}`);
        assert.deepEqual(new Int16Array(memory.buffer, xb, N * nb * Q8K_SUMS), wantB, `sums N=${N} C=${C} S=${S}`);
        assert.deepEqual(read(xd, N * nb), d, `scales N=${N} C=${C} S=${S}`);
      }
    }
  });

  for (const type of ['Q4_K', 'Q5_K', 'Q6_K'] as const) {
    test(`${type} decode and prefill products match their references (${label})`, async () => {
      const pool = await poolReady;
      const rand = mulberry32(type.charCodeAt(1) * 7 + threads);
      const { S, op, ref, kind } = KQ[type];
      for (const [N, C, OC] of [[1, 256, 7], [2, 512, 13], [3, 768, 5], [1, 1024, 33], [3, 256, 1], [4, 256, 37], [7, 512, 70], [5, 768, 33], [9, 256, 3]] as const) {
        const arena = new Arena();
        const nb = C / QK;
        const x = randn(N * C, rand);
        const { bytes, deq } = kWeights(type, OC, C, rand);
        const bias = randn(OC, rand);
        const base = randn(N * OC, rand);
        const [w, ws] = putPacked(arena, type, bytes, OC, C);
        const xo = put(arena, x);
        const bo = put(arena, bias);
        const exact = new Float32Array(N * OC);
        matmulForward(exact, x, deq, bias, N, C, OC);

        // Decode: the input quantized by the kernel, the product against the reference exactly.
        const xq = arena.alloc(N * C * 2);
        const xd = arena.alloc(N * nb * 4);
        const xb = arena.alloc(N * nb * Q8K_SUMS * 2);
        pool.run('quantize_q8k', [xq, xd, xb, xo, N, C, S], N);
        const q = new Int16Array(N * C);
        const d = new Float32Array(N * nb);
        quantizeQ8KForward(q, d, x, N, C);
        const want = new Float32Array(N * OC);
        ref(want, q, d, bytes, bias, N, C, OC);
        const out = arena.alloc(N * OC * 4);
        pool.run(op, [out, xq, xd, xb, w, ws, bo, N, C, OC, MatmulMode.STORE], OC, 4);
        assert.deepEqual(read(out, N * OC), want, `${type} decode N=${N} C=${C} OC=${OC}`);
        const outAcc = put(arena, base);
        pool.run(op, [outAcc, xq, xd, xb, w, ws, bo, N, C, OC, MatmulMode.ACCUMULATE], OC, 4);
        assert.deepEqual(read(outAcc, N * OC), Float32Array.from(want, (v, i) => Math.fround(base[i]! + v)), `${type} decode accumulate N=${N} C=${C} OC=${OC}`);
        // 8-bit input: close to the float product of the same weights (measured <= 0.9% of the largest output).
        assert.ok(relErr(read(out, N * OC), exact) < 0.02, `${type} decode close to f32: ${relErr(read(out, N * OC), exact)}`);

        // Prefill: blocks of rows expanded to f32 (exactly the dequantizer's values), then f32 tiles.
        const outF = arena.alloc(N * OC * 4);
        const scratch = arena.alloc(threads * blockScratchBytes(C));
        pool.run('matmul_qk_f32', [outF, xo, w, ws, bo, scratch, N, C, OC, MatmulMode.STORE, kind], OC, 32);
        assert.ok(relErr(read(outF, N * OC), exact) < 1e-5, `${type} prefill N=${N} C=${C} OC=${OC}: ${relErr(read(outF, N * OC), exact)}`);
      }
    });
  }
}

/** A llama-shaped config whose matrix widths are whole super-blocks. */
function kConfig() {
  return configFromHF({
    model_type: 'llama', hidden_size: 256, intermediate_size: 512, num_attention_heads: 4, num_key_value_heads: 2,
    num_hidden_layers: 2, vocab_size: 300, max_position_embeddings: 64, rms_norm_eps: 1e-5, tie_word_embeddings: false,
  });
}

test('FastBackend on Q4_K / Q5_K / Q6_K parts stays close to the reference on the same weights dequantized', async () => {
  const config = kConfig();
  const rand = mulberry32(41);
  const parts = new Map<string, WeightPart[]>();
  const part = (type: WeightType, rows: number, cols: number, scale: number): WeightPart => {
    const w = randn(rows * cols, rand, scale);
    const data = new Uint8Array(bytesFor(type, rows * cols));
    quantize(type, w, data);
    return { type, rows, cols, data };
  };
  const model0 = new Model(config, undefined);
  for (const spec of model0.layout.specs) {
    const cols = spec.shape.length === 2 ? spec.shape[1]! : spec.size;
    const rows = spec.size / cols;
    const name = spec.name;
    if (spec.shape.length !== 2 || cols % QK !== 0) {
      // Norm weights near 1, other vectors small, in F32.
      const v = name.includes('ln') ? Float32Array.from(randn(spec.size, rand, 0.1), (x) => 1 + x) : randn(spec.size, rand, 0.02);
      parts.set(name, [{ type: 'F32', rows, cols, data: new Uint8Array(v.buffer) }]);
    } else if (name.endsWith('qkv.w')) {
      // A fused layer of mixed formats: q in Q4_K, k in Q6_K, v in Q4_K (segments of each).
      const hd = config.headDim;
      parts.set(name, [part('Q4_K', config.nHead * hd, cols, 0.08), part('Q6_K', config.nKvHead * hd, cols, 0.08), part('Q4_K', config.nKvHead * hd, cols, 0.08)]);
    } else if (name.endsWith('proj.w') || name === 'lm_head') {
      parts.set(name, [part('Q6_K', rows, cols, 0.06)]);
    } else if (name.endsWith('attn_out.w')) {
      parts.set(name, [part('Q5_K', rows, cols, 0.06)]);
    } else {
      parts.set(name, [part('Q4_K', rows, cols, 0.06)]);
    }
  }
  const model = new Model(config, parts);
  const ids = Int32Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % config.vocabSize);
  const ref = new ReferenceBackend(new Model(config, new Model(config, parts).params)).forwardSync(ids, 0, { allLogits: true }).logits;
  const V = config.vocabSize;
  for (const threads of [1, 2]) {
    // With relaxed SIMD, a chunk of 32 runs Q4_K and Q6_K in the int8 tiles on a 7-bit input
    // (Q5_K in the f32 tiles): measured KL per row at most 1.0e-4 (portable: exact prefill,
    // below); the bound leaves 5x.
    const relaxed = await FastBackend.create(model, { threads, weightFormat: 'auto', chunk: 32 });
    try {
      const pre = relaxed.forwardSync(ids, 0, { allLogits: true }).logits;
      for (let t = 0; t < ids.length; t++) {
        const k = kl(ref.subarray(t * V, (t + 1) * V), pre.subarray(t * V, (t + 1) * V));
        assert.ok(k < 5e-4, `relaxed prefill position ${t}, ${threads} thread(s): KL ${k}`);
      }
    } finally {
      relaxed.dispose();
    }
    // One token at a time, every product a decode product: the relaxed build's int8 kernels
    // (Q4_K, Q5_K, Q6_K) give the portable kernels' products bit for bit (relaxedKDecode.test.ts);
    // only attention's fused multiply-adds round differently (measured 4.8e-7 on logits of about 1; the bound leaves 200x).
    const stepwise = async (relaxedSimd: boolean): Promise<Float32Array> => {
      const b = await FastBackend.create(model, { threads, weightFormat: 'auto', chunk: 1, relaxedSimd });
      try {
        return b.forwardSync(ids, 0, { allLogits: true }).logits.slice();
      } finally {
        b.dispose();
      }
    };
    const drift = maxAbsDiff(await stepwise(true), await stepwise(false));
    assert.ok(drift < 1e-4, `decode with and without relaxed SIMD, ${threads} thread(s): ${drift}`);
    // Chunks of 16 on the portable kernels: prefill in the expanded blocks (f32 tiles), then the
    // other tokens decoded one at a time (Q8_K integer products).
    const be = await FastBackend.create(model, { threads, weightFormat: 'auto', chunk: 16, relaxedSimd: false });
    try {
      assert.deepEqual([...be.weightFormats].sort(), ['q4_k', 'q5_k', 'q6_k'], 'the matrices run in their own formats');
      const pre = be.forwardSync(ids.subarray(0, 16), 0, { allLogits: true }).logits;
      // Measured 8e-7 on logits of about 1: the expanded blocks equal the dequantized weights.
      const worst = maxAbsDiff(pre, ref.subarray(0, 16 * V));
      assert.ok(worst < 1e-5, `prefill logits within float32 rounding of the reference: ${worst}`);
      for (let t = 16; t < ids.length; t++) {
        const step = be.forwardSync(ids.subarray(t, t + 1), t).logits;
        const k = kl(ref.subarray(t * V, (t + 1) * V), step);
        // Measured: KL <= 5.6e-5 (Q8_K input rounding); the bound leaves 3.5x.
        assert.ok(k < 2e-4, `decode position ${t}, ${threads} thread(s): KL ${k}`);
      }
    } finally {
      be.dispose();
    }
    // Chunks of 5 and 2 tokens: the integer kernels for Q4_K and Q6_K below their tile thresholds.
    const small = await FastBackend.create(model, { threads, weightFormat: 'auto', chunk: 5, relaxedSimd: false });
    try {
      const got = small.forwardSync(ids, 0, { allLogits: true }).logits;
      for (let t = 0; t < ids.length; t++) {
        const k = kl(ref.subarray(t * V, (t + 1) * V), got.subarray(t * V, (t + 1) * V));
        assert.ok(k < 2e-4, `chunk of 5, position ${t}, ${threads} thread(s): KL ${k}`);
      }
    } finally {
      small.dispose();
    }
  }
});

