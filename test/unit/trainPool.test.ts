// Training matmuls on the compute pool (engine/train/trainPool.ts) against the TypeScript
// reference kernels on random odd shapes, run by 1 thread and by 3; then whole training
// passes on the pool against PyTorch's gradients (the oracle checkpoints), full and LoRA.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { matmulBackward, matmulForward } from '../../engine/kernels/matmul';
import { attentionTrainBackward, attentionTrainForward } from '../../engine/kernels/attentionTrain';
import { mulberry32 } from '../../engine/model/init';
import { loadModel } from '../../engine/model/load';
import { createActivations, lossAndGrads } from '../../engine/train/gradients';
import { nextTokenBatch } from '../../engine/train/data';
import { hfTensors } from '../../engine/train/hfExport';
import { createLora, defaultLoraOptions } from '../../engine/train/lora';
import { POOL_LOGIT_ROWS, REFERENCE_KERNELS, TrainPool, attentionCapacity, headCapacity, largest, productCapacity, trainPoolCapacity } from '../../engine/train/trainPool';
import { IGNORE_INDEX } from '../../engine/kernels/crossEntropy';
import { ORACLE_MODELS, maxAbsDiff, oracleDir, oracleFile } from './oracle';

const pools: TrainPool[] = [];
after(async () => {
  for (const p of pools) await p.dispose();
});

function randn(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return maxAbsDiff(a, b) / scale;
}

// (N, C, OC): odd widths on every side, one row, rows not a multiple of 4, wide products.
const SHAPES = [[1, 3, 1], [5, 37, 33], [7, 96, 131], [4, 8, 2], [13, 768, 40], [33, 64, 257], [64, 130, 9], [3, 1, 5]] as const;
// (B, T, NH, KVH, HD, window): multi-head, grouped-query, odd lengths and widths, a sliding window.
const HEADS = [[2, 5, 2, 2, 8, null], [1, 17, 4, 2, 6, null], [3, 9, 3, 1, 5, 4], [2, 33, 2, 1, 16, null], [1, 1, 1, 1, 3, null]] as const;
// LM head chunks (rows, C, V): odd vocabularies, one row, a vocabulary under one SIMD panel.
const LM_HEADS = [[5, 7, 37], [1, 3, 9], [9, 16, 130], [6, 5, 3]] as const;
const capacity = [
  ...SHAPES.map(([N, C, OC]) => productCapacity(N, C, OC)),
  ...HEADS.map(([, T, NH, KVH, HD]) => attentionCapacity(T, NH, KVH, HD)),
  ...LM_HEADS.map(([rows, C, V]) => headCapacity(rows, C, V)),
].reduce(largest);

for (const threads of [1, 3]) {
  const poolReady = TrainPool.create(capacity, { threads }).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}`;

  test(`forward and every backward product match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    assert.equal(pool.threads, threads);
    const rand = mulberry32(11 + threads);
    for (const [N, C, OC] of SHAPES) {
      const inp = randn(N * C, rand);
      const w = randn(OC * C, rand);
      for (const bias of [null, randn(OC, rand)]) {
        const want = new Float32Array(N * OC);
        const got = new Float32Array(N * OC).fill(7); // the forward writes, it does not add
        matmulForward(want, inp, w, bias, N, C, OC);
        pool.matmulForward(got, inp, w, bias, N, C, OC);
        assert.ok(relErr(got, want) < 1e-5, `forward (${N}, ${C}, ${OC}) bias=${bias !== null}: ${relErr(got, want)}`);
      }
      const dout = randn(N * OC, rand);
      // Gradients start non-zero: both sides must accumulate.
      const start = [randn(N * C, rand), randn(OC * C, rand), randn(OC, rand)];
      const want = start.map((s) => s.slice());
      const got = start.map((s) => s.slice());
      matmulBackward(want[0]!, want[1]!, want[2]!, dout, inp, w, N, C, OC);
      pool.matmulBackward(got[0]!, got[1]!, got[2]!, dout, inp, w, N, C, OC);
      ['dinp', 'dweight', 'dbias'].forEach((name, i) => assert.ok(relErr(got[i]!, want[i]!) < 1e-5, `${name} (${N}, ${C}, ${OC}): ${relErr(got[i]!, want[i]!)}`));
      // A null gradient is skipped and leaves the others as they would be alone.
      const onlyW = start[1]!.slice();
      pool.matmulBackward(null, onlyW, null, dout, inp, w, N, C, OC);
      assert.ok(relErr(onlyW, want[1]!) < 1e-5);
    }
  });

  test(`attention forward and backward match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(21 + threads);
    for (const [B, T, NH, KVH, HD, window] of HEADS) {
      const QKV = (NH + 2 * KVH) * HD;
      const qkv = randn(B * T * QKV, rand);
      const want = { out: new Float32Array(B * T * NH * HD), probs: new Float32Array(B * NH * T * T) };
      const got = { out: new Float32Array(B * T * NH * HD).fill(3), probs: new Float32Array(B * NH * T * T) };
      attentionTrainForward(want.out, want.probs, qkv, B, T, NH, KVH, HD, window);
      pool.attentionTrainForward(got.out, got.probs, qkv, B, T, NH, KVH, HD, window);
      const shape = `(B ${B}, T ${T}, NH ${NH}, KVH ${KVH}, HD ${HD}, window ${window})`;
      assert.ok(relErr(got.out, want.out) < 1e-5, `out ${shape}: ${relErr(got.out, want.out)}`);
      assert.ok(maxAbsDiff(got.probs, want.probs) < 1e-6, `probs ${shape}: ${maxAbsDiff(got.probs, want.probs)}`);
      const dout = randn(B * T * NH * HD, rand);
      const start = randn(B * T * QKV, rand);
      const dWant = start.slice();
      const dGot = start.slice();
      attentionTrainBackward(dWant, new Float32Array(T), dout, qkv, want.probs, B, T, NH, KVH, HD, window);
      pool.attentionTrainBackward(dGot, new Float32Array(T), dout, qkv, want.probs, B, T, NH, KVH, HD, window);
      assert.ok(relErr(dGot, dWant) < 1e-5, `dqkv ${shape}: ${relErr(dGot, dWant)}`);
    }
  });

  test(`LM head with cross-entropy matches the reference, chunk after chunk on one packed weight (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(31 + threads);
    for (const [rows, C, V] of LM_HEADS) {
      const W = randn(V * C, rand).map((v) => 3 * v); // large logits: the softmax must not overflow
      const wantW = randn(V * C, rand);
      const gotW = wantW.slice();
      for (let chunk = 0; chunk < 3; chunk++) {
        const x = randn(rows * C, rand);
        const targets = Int32Array.from({ length: rows }, (_, i) => (i === 1 ? IGNORE_INDEX : Math.floor(rand() * V)));
        const dloss = chunk === 2 ? null : 0.37;
        const start = randn(rows * C, rand);
        const [wantX, gotX] = [start.slice(), start.slice()];
        const [wantL, gotL] = [new Float32Array(rows), new Float32Array(rows).fill(9)];
        const logits = new Float32Array(rows * V);
        const want = REFERENCE_KERNELS.lmHead(wantL, wantX, wantW, x, W, targets, dloss, logits, rows, C, V, chunk === 0);
        const got = pool.lmHead(gotL, gotX, gotW, x, W, targets, dloss, logits, rows, C, V, chunk === 0);
        const shape = `(${rows}, ${C}, ${V}) chunk ${chunk}`;
        assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want), `summed loss ${shape}: ${got} vs ${want}`);
        assert.ok(maxAbsDiff(gotL, wantL) <= 1e-5 * Math.max(...wantL), `losses ${shape}`);
        if (rows > 1) assert.equal(gotL[1], 0, 'an ignored target has no loss');
        assert.ok(relErr(gotX, wantX) < 1e-5, `dx ${shape}: ${relErr(gotX, wantX)}`);
        assert.ok(relErr(gotW, wantW) < 1e-5, `dW ${shape}: ${relErr(gotW, wantW)}`);
      }
    }
  });

  test(`a product larger than the pool's room runs on the reference kernel (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(3);
    const [N, C, OC] = [2, capacity.bp, 3];
    const inp = randn(N * C, rand);
    const w = randn(OC * C, rand);
    const want = new Float32Array(N * OC);
    const got = new Float32Array(N * OC);
    matmulForward(want, inp, w, null, N, C, OC);
    pool.matmulForward(got, inp, w, null, N, C, OC);
    assert.deepEqual(got, want);
  });
}

for (const name of ORACLE_MODELS) {
  for (const recompute of [false, true]) {
    test(`${name}${recompute ? ' (recomputing blocks)' : ''}: loss and gradients on a 2-thread pool match PyTorch`, async () => {
      const model = loadModel(oracleDir(name));
      const ref = oracleFile(name, 'reference');
      const [B, T] = ref.info('train_batch').shape as [number, number];
      const batch = nextTokenBatch(ref.tensorToInt32('train_batch'), B, T);
      // Head chunks smaller than the batch: the chunked LM head path runs more than once.
      const rows = Math.max(1, Math.floor((B * T) / 3));
      const pool = await TrainPool.create(trainPoolCapacity(model.config, B, T, rows), { threads: 2 });
      pools.push(pool);
      const acts = createActivations(model.config, B, T, { recompute, logitRows: rows });
      const grads = new Float32Array(model.layout.total);
      const loss = lossAndGrads(model, batch, acts, grads, { kernels: pool });
      const expected = ref.tensorToFloat32('train_loss')[0]!;
      assert.ok(Math.abs(loss - expected) / expected < 1e-5, `loss ${loss} vs PyTorch ${expected}`);
      const refGrads = oracleFile(name, 'grads');
      for (const t of hfTensors(model.config, model.layout, grads, 'grad.')) {
        const d = maxAbsDiff(t.data as Float32Array, refGrads.tensorToFloat32(t.name));
        assert.ok(d < 1e-4, `${t.name}: max abs diff ${d.toExponential(2)}`);
      }
    });
  }

  test(`${name}: LoRA gradients on the pool match the reference kernels`, async () => {
    const model = loadModel(oracleDir(name));
    const ref = oracleFile(name, 'reference');
    const [B, T] = ref.info('train_batch').shape as [number, number];
    const batch = nextTokenBatch(ref.tensorToInt32('train_batch'), B, T);
    const lora = createLora(model.config, { ...defaultLoraOptions(model.config, 4), dropout: 0.1 });
    // B starts at zero; a non-zero B makes every adapter gradient non-trivial.
    const rand = mulberry32(5);
    for (let i = 0; i < lora.params.length; i++) lora.params[i] = (rand() * 2 - 1) * 0.05;
    const pool = await TrainPool.forTraining(model.config, B, T, lora, { threads: 2 });
    pools.push(pool);
    const want = new Float32Array(lora.params.length);
    const got = new Float32Array(lora.params.length);
    const l1 = lossAndGrads(model, batch, createActivations(model.config, B, T, { lora }), null, { lora, loraGrads: want, dropoutSeed: 9 });
    const l2 = lossAndGrads(model, batch, createActivations(model.config, B, T, { lora, logitRows: POOL_LOGIT_ROWS }), null, { lora, loraGrads: got, dropoutSeed: 9, kernels: pool });
    assert.ok(Math.abs(l1 - l2) < 1e-5 * Math.abs(l1), `loss ${l2} vs ${l1}`);
    assert.ok(relErr(got, want) < 1e-4, `adapter gradients: ${relErr(got, want)}`);
  });
}
