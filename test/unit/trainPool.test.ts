// Training matmuls on the compute pool (engine/train/trainPool.ts) against the TypeScript
// reference kernels on random odd shapes, run by 1 thread and by 3, with plain (staged) and
// resident buffers; GELU, the global norm and AdamW on the threads against their references;
// then whole training passes on the pool against PyTorch's gradients (the oracle
// checkpoints), full and LoRA, and Trainer steps on the pool against the reference Trainer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { matmulBackward, matmulForward } from '../../engine/kernels/matmul';
import { geluBackward, geluForward } from '../../engine/kernels/activations';
import { loraUpBackward, loraUpForward } from '../../engine/kernels/lora';
import { layernormBackward, layernormForward } from '../../engine/kernels/norms';
import { AdamW, globalNorm } from '../../engine/train/adamw';
import { TokenDataset } from '../../engine/train/data';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';
import { attentionTrainBackward, attentionTrainForward } from '../../engine/kernels/attentionTrain';
import { mulberry32 } from '../../engine/model/init';
import { loadModel } from '../../engine/model/load';
import { createActivations, lossAndGrads } from '../../engine/train/gradients';
import { nextTokenBatch } from '../../engine/train/data';
import { hfTensors } from '../../engine/train/hfExport';
import { createLora, defaultLoraOptions } from '../../engine/train/lora';
import { TrainPool } from '../../engine/train/trainPool';
import { REFERENCE_KERNELS } from '../../engine/train/kernelTable';
import { POOL_LOGIT_ROWS, attentionCapacity, headCapacity, largest, productCapacity, trainPoolCapacity } from '../../engine/train/poolCapacity';
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

// (N, C, OC): odd widths on every side, one row, rows not a multiple of 4, wide products; a
// forward (C), an input gradient (OC) and a weight gradient (N) longer than one K slice.
const SHAPES = [[1, 3, 1], [5, 37, 33], [7, 96, 131], [4, 8, 2], [13, 768, 40], [33, 64, 257], [64, 130, 9], [3, 1, 5], [3, 1100, 9], [4, 5, 2053], [1030, 3, 6]] as const;
// (B, T, NH, KVH, HD, window): multi-head, grouped-query, odd lengths and widths, a sliding window;
// sequences long enough that the softmax rows are split between threads.
const HEADS = [[2, 5, 2, 2, 8, null], [1, 17, 4, 2, 6, null], [3, 9, 3, 1, 5, 4], [2, 33, 2, 1, 16, null], [1, 1, 1, 1, 3, null], [1, 300, 2, 1, 4, null], [1, 261, 1, 1, 3, 50]] as const;
// LM head chunks (rows, C, V): odd vocabularies, one row, a vocabulary under one SIMD panel.
const LM_HEADS = [[5, 7, 37], [1, 3, 9], [9, 16, 130], [6, 5, 3]] as const;
// LoRA up projections (N, r, rows, OC, col): a block of columns inside a wider output, odd sizes.
const LORA_UPS = [[5, 3, 7, 20, 4], [33, 8, 40, 130, 90], [1, 1, 1, 1, 0], [17, 4, 9, 9, 0]] as const;
const capacity = [
  ...SHAPES.map(([N, C, OC]) => productCapacity(N, C, OC)),
  ...LORA_UPS.map(([N, r, rows]) => productCapacity(N, r, rows)),
  ...HEADS.map(([, T, NH, KVH, HD]) => attentionCapacity(T, NH, KVH, HD)),
  ...LM_HEADS.map(([rows, C, V]) => headCapacity(rows, C, V)),
].reduce(largest);
// Room for every buffer the resident runs adopt, and for the global norm of ELEMENTS floats.
const ELEMENTS = [1, 3, 5, 4099, 70001];
const RESIDENT = { ...capacity, consts: 8, partials: 2 * Math.ceil(70001 / 4096), resident: 1 << 23 };

for (const [threads, resident] of [[1, false], [3, false], [1, true], [3, true]] as const) {
  const poolReady = TrainPool.create(resident ? RESIDENT : capacity, { threads }).then((p) => (pools.push(p), p));
  const label = `${threads} thread${threads > 1 ? 's' : ''}, ${resident ? 'resident' : 'staged'} buffers`;
  // The buffer a kernel is handed: a resident copy, or the array itself.
  const put = (pool: TrainPool, a: Float32Array): Float32Array => {
    const r = resident ? pool.adopt(a) : a;
    assert.equal(pool.isResident(r), resident);
    return r;
  };

  test(`forward and every backward product match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    assert.equal(pool.threads, threads);
    const rand = mulberry32(11 + threads);
    for (const [N, C, OC] of SHAPES) {
      const inp = put(pool, randn(N * C, rand));
      const w = put(pool, randn(OC * C, rand));
      for (const bias of [null, put(pool, randn(OC, rand))]) {
        const want = new Float32Array(N * OC);
        const got = put(pool, new Float32Array(N * OC).fill(7)); // the forward writes, it does not add
        matmulForward(want, inp, w, bias, N, C, OC);
        pool.matmulForward(got, inp, w, bias, N, C, OC);
        assert.ok(relErr(got, want) < 1e-5, `forward (${N}, ${C}, ${OC}) bias=${bias !== null}: ${relErr(got, want)}`);
      }
      const dout = put(pool, randn(N * OC, rand));
      // Gradients start non-zero: both sides must accumulate.
      const start = [randn(N * C, rand), randn(OC * C, rand), randn(OC, rand)];
      const want = start.map((s) => s.slice());
      const got = start.map((s) => put(pool, s.slice()));
      matmulBackward(want[0]!, want[1]!, want[2]!, dout, inp, w, N, C, OC);
      pool.matmulBackward(got[0]!, got[1]!, got[2]!, dout, inp, w, N, C, OC);
      ['dinp', 'dweight', 'dbias'].forEach((name, i) => assert.ok(relErr(got[i]!, want[i]!) < 1e-5, `${name} (${N}, ${C}, ${OC}): ${relErr(got[i]!, want[i]!)}`));
      // A null gradient is skipped and leaves the others as they would be alone.
      const onlyW = put(pool, start[1]!.slice());
      pool.matmulBackward(null, onlyW, null, dout, inp, w, N, C, OC);
      assert.ok(relErr(onlyW, want[1]!) < 1e-5);
    }
  });

  test(`attention forward and backward match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(21 + threads);
    for (const [B, T, NH, KVH, HD, window] of HEADS) {
      const QKV = (NH + 2 * KVH) * HD;
      const qkv = put(pool, randn(B * T * QKV, rand));
      const want = { out: new Float32Array(B * T * NH * HD), probs: new Float32Array(B * NH * T * T) };
      const got = { out: put(pool, new Float32Array(B * T * NH * HD).fill(3)), probs: put(pool, new Float32Array(B * NH * T * T)) };
      attentionTrainForward(want.out, want.probs, qkv, B, T, NH, KVH, HD, window);
      pool.attentionTrainForward(got.out, got.probs, qkv, B, T, NH, KVH, HD, window);
      const shape = `(B ${B}, T ${T}, NH ${NH}, KVH ${KVH}, HD ${HD}, window ${window})`;
      assert.ok(relErr(got.out, want.out) < 1e-5, `out ${shape}: ${relErr(got.out, want.out)}`);
      assert.ok(maxAbsDiff(got.probs, want.probs) < 1e-6, `probs ${shape}: ${maxAbsDiff(got.probs, want.probs)}`);
      const dout = put(pool, randn(B * T * NH * HD, rand));
      const start = randn(B * T * QKV, rand);
      const dWant = start.slice();
      const dGot = put(pool, start.slice());
      attentionTrainBackward(dWant, new Float32Array(T), dout, qkv, want.probs, B, T, NH, KVH, HD, window);
      pool.attentionTrainBackward(dGot, new Float32Array(T), dout, qkv, got.probs, B, T, NH, KVH, HD, window);
      assert.ok(relErr(dGot, dWant) < 1e-5, `dqkv ${shape}: ${relErr(dGot, dWant)}`);
    }
  });

  test(`LM head with cross-entropy matches the reference, chunk after chunk on one packed weight (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(31 + threads);
    for (const [rows, C, V] of LM_HEADS) {
      const W = put(pool, randn(V * C, rand).map((v) => 3 * v)); // large logits: the softmax must not overflow
      const wantW = randn(V * C, rand);
      const gotW = put(pool, wantW.slice());
      for (let chunk = 0; chunk < 3; chunk++) {
        const x = put(pool, randn(rows * C, rand));
        const targets = Int32Array.from({ length: rows }, (_, i) => (i === 1 ? IGNORE_INDEX : Math.floor(rand() * V)));
        const dloss = chunk === 2 ? null : 0.37;
        const start = randn(rows * C, rand);
        const [wantX, gotX] = [start.slice(), put(pool, start.slice())];
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

  test(`LoRA up projection forward and backward match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(61 + threads);
    for (const [N, r, rows, OC, col] of LORA_UPS) {
      const u = put(pool, randn(N * r, rand));
      const B = put(pool, randn(rows * r, rand));
      const start = randn(N * OC, rand);
      const [want, got] = [start.slice(), put(pool, start.slice())];
      loraUpForward(want, u, B, 0.75, N, r, rows, OC, col);
      pool.loraUpForward(got, u, B, 0.75, N, r, rows, OC, col);
      const shape = `(N ${N}, r ${r}, rows ${rows}, OC ${OC}, col ${col})`;
      assert.ok(relErr(got, want) < 1e-5, `out ${shape}: ${relErr(got, want)}`);
      const dout = put(pool, randn(N * OC, rand));
      const [du0, dB0] = [randn(N * r, rand), randn(rows * r, rand)];
      for (const frozen of [false, true]) {
        const [wantU, gotU, wantB, gotB] = [du0.slice(), put(pool, du0.slice()), dB0.slice(), put(pool, dB0.slice())];
        loraUpBackward(wantU, frozen ? null : wantB, dout, u, B, 0.75, N, r, rows, OC, col);
        pool.loraUpBackward(gotU, frozen ? null : gotB, dout, u, B, 0.75, N, r, rows, OC, col);
        assert.ok(relErr(gotU, wantU) < 1e-5, `du ${shape}: ${relErr(gotU, wantU)}`);
        assert.ok(relErr(gotB, wantB) < 1e-5, `dB ${shape} frozen=${frozen}: ${relErr(gotB, wantB)}`);
      }
    }
  });

  test(`LayerNorm forward and backward match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(71 + threads);
    // (N, C): odd widths, one row, enough rows and columns to split between threads.
    for (const [N, C] of [[1, 3], [5, 37], [7, 130], [33, 384], [130, 257]] as const) {
      const x = randn(N * C, rand).map((v, i) => v * 3 + (i % C) * 0.01 + 2); // an offset mean
      const [w, b] = [randn(C, rand), randn(C, rand)];
      for (const bias of [b, null]) {
        const want = { out: new Float32Array(N * C), mean: new Float32Array(N), rstd: new Float32Array(N) };
        const got = { out: put(pool, new Float32Array(N * C).fill(4)), mean: put(pool, new Float32Array(N)), rstd: put(pool, new Float32Array(N)) };
        const [inp, weight, bz] = [put(pool, x), put(pool, w), bias === null ? null : put(pool, bias)];
        layernormForward(want.out, want.mean, want.rstd, x, w, bias, N, C, 1e-5);
        pool.layernormForward(got.out, got.mean, got.rstd, inp, weight, bz, N, C, 1e-5);
        const shape = `(${N}, ${C}) bias=${bias !== null}`;
        for (const k of ['out', 'mean', 'rstd'] as const) assert.ok(relErr(got[k], want[k]) < 1e-5, `${k} ${shape}: ${relErr(got[k], want[k])}`);
        const dout = randn(N * C, rand);
        const start = [randn(N * C, rand), randn(C, rand), randn(C, rand)];
        for (const frozen of [false, true]) {
          const wantD = start.map((a) => a.slice());
          const gotD = start.map((a) => put(pool, a.slice()));
          layernormBackward(wantD[0]!, frozen ? null : wantD[1]!, frozen ? null : wantD[2]!, dout, x, w, want.mean, want.rstd, N, C);
          pool.layernormBackward(gotD[0]!, frozen ? null : gotD[1]!, frozen ? null : gotD[2]!, put(pool, dout), inp, weight, got.mean, got.rstd, N, C);
          ['dinp', 'dweight', 'dbias'].forEach((name, i) => assert.ok(relErr(gotD[i]!, wantD[i]!) < 1e-5, `${name} ${shape} frozen=${frozen}: ${relErr(gotD[i]!, wantD[i]!)}`));
        }
      }
    }
  });

  test(`GELU forward and backward match the reference kernels (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(41 + threads);
    for (const n of ELEMENTS) {
      // Mostly |x| < 6, with zero and values far out on both sides (tanh saturates).
      const x = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? [0, 20, -20, 9][(i / 97) % 4]! : (rand() * 2 - 1) * 6));
      const want = new Float32Array(n);
      const got = put(pool, new Float32Array(n).fill(5));
      const inp = put(pool, x);
      geluForward(want, x, n);
      pool.geluForward(got, inp, n);
      assert.ok(maxAbsDiff(got, want) <= 2e-6, `gelu (${n}): ${maxAbsDiff(got, want)}`);
      const dout = randn(n, rand);
      const start = randn(n, rand);
      const dWant = start.slice();
      const dGot = put(pool, start.slice());
      geluBackward(dWant, dout, x, n);
      pool.geluBackward(dGot, put(pool, dout), inp, n);
      assert.ok(maxAbsDiff(dGot, dWant) <= 2e-6, `gelu backward (${n}): ${maxAbsDiff(dGot, dWant)}`);
    }
  });

  test(`global gradient norm and AdamW updates match the references (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(51 + threads);
    for (const n of ELEMENTS) {
      const grads = put(pool, randn(n, rand).map((g) => g * 0.3));
      assert.ok(Math.abs(pool.gradNorm(grads) - globalNorm(grads)) <= 1e-12 * globalNorm(grads), `norm (${n})`);
      for (const m of n === 1 ? [n, 600_001] : [n]) {
        // Values in [1, 3); the floats either side of the zeroed range must stay.
        const full = put(pool, randn(m + 2, rand).map((g) => g + 2));
        pool.zero(full.subarray(1, m + 1));
        assert.ok(full.subarray(1, m + 1).every((v) => v === 0) && full[0] !== 0 && full[m + 1] !== 0, `zero (${m})`);
      }
      // Odd segment bounds, one exempt from weight decay; three steps with moments building up.
      const cut = Math.floor(n / 3);
      const segments = [{ start: 0, end: cut, decay: true }, { start: cut, end: n - 1, decay: false }, { start: n - 1, end: n, decay: true }];
      const options = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
      const want = new AdamW(n, options, segments);
      const got = new AdamW(n, options, segments, (k) => put(pool, new Float32Array(k)));
      const p0 = randn(n, rand);
      const [wantP, gotP] = [p0.slice(), put(pool, p0.slice())];
      for (let step = 0; step < 3; step++) {
        for (let i = 0; i < n; i++) grads[i] = (rand() * 2 - 1) * 0.3;
        const scale = step === 1 ? 0.37 : 1;
        want.update(wantP, grads, 3e-3 * (step + 1), scale);
        pool.adamwUpdate(got, gotP, grads, 3e-3 * (step + 1), scale);
        assert.equal(got.step, want.step);
        for (const [name, g, w] of [['params', gotP, wantP], ['m', got.m, want.m], ['v', got.v, want.v]] as const) {
          assert.ok(relErr(g, w) <= 1e-6, `${name} (${n}) step ${step + 1}: ${relErr(g, w)}`);
        }
      }
    }
  });

  test(`a product larger than the pool's room runs on the reference kernel (${label})`, async () => {
    const pool = await poolReady;
    const rand = mulberry32(3);
    const [N, C, OC] = [2, capacity.bp, 3];
    if (resident) return; // the staged runs cover it
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

for (const lora of [false, true]) {
  test(`Trainer steps on a 2-thread pool (resident buffers) follow the reference Trainer${lora ? ' (LoRA)' : ''}`, async () => {
    const name = ORACLE_MODELS[0];
    const [B, T] = [2, 16];
    const ids = Array.from({ length: 2000 }, (_, i) => (i * 7919 + (i >> 3)) % 97);
    const options = { ...TRAINER_DEFAULTS, batchSize: B, seqLen: T, steps: 4, warmupSteps: 1, lr: 1e-2, clipNorm: 0.5 };
    const run = async (pooled: boolean): Promise<{ losses: number[]; trained: Float32Array }> => {
      const model = loadModel(oracleDir(name));
      const adapters = lora ? createLora(model.config, { ...defaultLoraOptions(model.config, 4), dropout: 0.1 }, 3) : null;
      const pool = pooled ? await TrainPool.forTraining(model.config, B, T, adapters, { threads: 2 }) : null;
      if (pool) pools.push(pool);
      const trainer = new Trainer(model, new TokenDataset([ids], 0, T, 7), options, adapters, pool);
      if (pool) {
        assert.ok(pool.isResident(trainer.trainable()) && pool.isResident(trainer.grads) && pool.isResident(trainer.optimizer.m) && pool.isResident(trainer.acts.residuals[0]!));
        assert.equal(trainer.model.views.wte.buffer, trainer.model.params.buffer, 'the views follow the moved parameters');
      }
      for (let s = 0; s < options.steps; s++) trainer.trainStep();
      return { losses: trainer.losses, trained: trainer.trainable() };
    };
    const want = await run(false);
    const got = await run(true);
    got.losses.forEach((l, i) => assert.ok(Math.abs(l - want.losses[i]!) <= 1e-4 * want.losses[i]!, `loss ${i + 1}: ${l} vs ${want.losses[i]}`));
    // Adam moves each weight by about lr whatever the size of its gradient, so where a gradient
    // is near zero the products' other summation order can flip its direction (the oracle test
    // says the same of PyTorch): a few weights may differ by up to 2 lr a step, the rest agree.
    let far = 0;
    for (let i = 0; i < got.trained.length; i++) if (Math.abs(got.trained[i]! - want.trained[i]!) > 1e-5) far++;
    assert.ok(far <= 0.005 * got.trained.length, `${far} of ${got.trained.length} trained values differ by more than 1e-5`);
    assert.ok(maxAbsDiff(got.trained, want.trained) <= 2 * options.lr * options.steps);
    assert.ok(maxAbsDiff(got.trained, new Float32Array(got.trained.length)) > 0);
  });
}
