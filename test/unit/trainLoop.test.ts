// The training loop: a tiny model really learns (overfits a small text), gradient
// accumulation equals one large batch, a run interrupted and resumed from its checkpoint
// repeats the uninterrupted run exactly, and the optimizer helpers behave like torch's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelConfig } from '../../engine/model/config';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { buildLayout } from '../../engine/model/layout';
import { TokenDataset, nextTokenBatch } from '../../engine/train/data';
import { createActivations, lossAndGrads } from '../../engine/train/gradients';
import { IGNORE_INDEX } from '../../engine/kernels/crossEntropy';
import { Trainer, TRAINER_DEFAULTS, type TrainerOptions } from '../../engine/train/trainer';
import { createLora } from '../../engine/train/lora';
import { clipGradNorm, noDecaySegments } from '../../engine/train/adamw';
import { lrAt } from '../../engine/train/schedule';
import { prepareOutDir, restoreCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';
import { loadModel } from '../../engine/model/load';

const TEXT = `The quick brown fox jumps over the lazy dog. A stitch in time saves nine.
function add(a, b) { return a + b; }
Pack my box with five dozen liquor jugs. Sphinx of black quartz, judge my vow.
`;

const GPT2_JSON = { model_type: 'gpt2', vocab_size: 128, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2 };
const LLAMA_JSON = { model_type: 'llama', vocab_size: 128, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 };

/** Character-level ids: enough to prove learning without a tokenizer. */
function charData(T: number, seed: number): TokenDataset {
  return new TokenDataset([Array.from(TEXT, (ch) => ch.charCodeAt(0) % 128)], 10, T, seed);
}

function options(over: Partial<TrainerOptions>): TrainerOptions {
  return { ...TRAINER_DEFAULTS, warmupSteps: 5, weightDecay: 0, clipNorm: 1, ...over };
}

for (const json of [GPT2_JSON, LLAMA_JSON]) {
  test(`a tiny ${json.model_type} model overfits a small text (loss below 0.1 nats)`, () => {
    const config = configFromHF(json);
    const model = randomModel(config, 1);
    const data = charData(32, 1);
    const steps = 200;
    const trainer = new Trainer(model, data, options({ steps, batchSize: 4, seqLen: 32, lr: 1e-2, minLr: 1e-3 }));
    let last = Infinity;
    for (let i = 0; i < steps && last >= 0.1; i++) last = trainer.trainStep().loss;
    assert.ok(trainer.losses[0]! > 4, `starts near ln(128): ${trainer.losses[0]}`);
    assert.ok(last < 0.1, `loss after ${trainer.step} steps: ${last}`);
  });
}

test('gradient accumulation over two micro-batches equals one batch of both', () => {
  const config = configFromHF(GPT2_JSON);
  const one = new Trainer(randomModel(config, 2), charData(16, 4), options({ batchSize: 4, seqLen: 16, gradAccum: 1 }));
  const two = new Trainer(randomModel(config, 2), charData(16, 4), options({ batchSize: 2, seqLen: 16, gradAccum: 2 }));
  const a = one.trainStep();
  const b = two.trainStep();
  assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `${a.loss} vs ${b.loss}`);
  assert.ok(Math.abs(a.gradNorm - b.gradNorm) < 1e-5 * a.gradNorm);
  assert.deepEqual(one.position, two.position);
  let worst = 0;
  for (let i = 0; i < one.model.params.length; i++) worst = Math.max(worst, Math.abs(one.model.params[i]! - two.model.params[i]!));
  assert.ok(worst < 1e-6, `parameters differ by ${worst}`);
});

function baseDir(json: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-base-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  return dir;
}

for (const mode of ['full', 'lora'] as const) {
  test(`resuming an interrupted ${mode} run gives the same loss curve as running through (same seed)`, () => {
    const config: ModelConfig = configFromHF(GPT2_JSON);
    const base = baseDir(GPT2_JSON);
    const outA = mkdtempSync(join(tmpdir(), 'limelight-run-'));
    const outB = mkdtempSync(join(tmpdir(), 'limelight-run-'));
    try {
      // Few examples per epoch, so the runs cross an epoch boundary and reshuffle.
      const opts = options({ steps: 8, batchSize: 3, seqLen: 24, lr: 5e-3, gradAccum: 2, seed: 11 });
      const make = (): Trainer => {
        const lora = mode === 'lora' ? createLora(config, { rank: 2, alpha: 4, dropout: 0.1, targetModules: ['c_attn', 'c_fc'] }, 3) : null;
        return new Trainer(randomModel(config, 7), charData(24, 11), opts, lora);
      };
      const straight = make();
      for (let i = 0; i < 8; i++) straight.trainStep();

      prepareOutDir(outA, base);
      const first = make();
      for (let i = 0; i < 3; i++) first.trainStep();
      saveCheckpoint(outA, first, base);
      const resumed = make();
      restoreCheckpoint(outA, resumed);
      assert.equal(resumed.step, 3);
      while (resumed.step < 8) resumed.trainStep();
      assert.deepEqual(resumed.losses, straight.losses);
      assert.deepEqual(resumed.trainable(), straight.trainable());
      saveCheckpoint(outA, resumed, base);
      if (mode === 'lora') {
        assert.ok(existsSync(join(outA, 'adapter_model.safetensors')) && existsSync(join(outA, 'adapter_config.json')));
      } else {
        assert.deepEqual(loadModel(outA).params, straight.model.params);
      }
      assert.throws(() => prepareOutDir(base, base), /never overwritten/);
      writeFileSync(join(outB, 'model.safetensors'), 'not ours');
      assert.throws(() => prepareOutDir(outB, base), /did not write/);
    } finally {
      for (const d of [base, outA, outB]) rmSync(d, { recursive: true, force: true });
    }
  });
}

test('learning-rate schedule: linear warm-up, cosine to minLr at the last step', () => {
  const s = { lr: 1, minLr: 0.1, warmupSteps: 4, totalSteps: 13 };
  assert.equal(lrAt(s, 0), 0.25);
  assert.equal(lrAt(s, 3), 1);
  assert.equal(lrAt(s, 4), 1);
  assert.ok(Math.abs(lrAt(s, 8) - 0.55) < 1e-12, `${lrAt(s, 8)}`);
  assert.ok(Math.abs(lrAt(s, 12) - 0.1) < 1e-12);
});

test('clipGradNorm scales to the given global norm like torch, and leaves small gradients alone', () => {
  const g = Float32Array.from([3, 4]);
  assert.equal(clipGradNorm(g, 10), 5);
  assert.deepEqual(g, Float32Array.from([3, 4]));
  assert.equal(clipGradNorm(g, 1), 5);
  assert.ok(Math.abs(Math.hypot(g[0]!, g[1]!) - 1) < 1e-6);
});

test('noDecaySegments exempts norm weights and biases only', () => {
  const layout = buildLayout(configFromHF(GPT2_JSON));
  const exempt = noDecaySegments(layout).filter((s) => !s.decay).map((s) => layout.specs.find((p) => p.offset === s.start)!.name);
  assert.ok(exempt.includes('h.0.ln1.w') && exempt.includes('h.1.qkv.b') && exempt.includes('lnf.b'));
  assert.ok(!exempt.includes('wte') && !exempt.includes('wpe') && !exempt.includes('h.0.qkv.w'));
});

test('block recomputation keeps a 30M-parameter model at T=512 (B=8) well within 2 GB', () => {
  const config = configFromHF({ model_type: 'gpt2', vocab_size: 50284, n_positions: 1024, n_embd: 384, n_layer: 6, n_head: 6 });
  const weightsAndState = 4 * 4 * buildLayout(config).total; // parameters, gradients, AdamW m and v
  const acts = createActivations(config, 8, 512, { recompute: true });
  assert.ok(weightsAndState + acts.bytes < 1.0 * 2 ** 30, `${((weightsAndState + acts.bytes) / 2 ** 20).toFixed(0)} MB`);
});

test('targets equal to the ignore index add no loss and no gradient (a fully ignored row changes nothing)', () => {
  const config = configFromHF(LLAMA_JSON);
  const model = randomModel(config, 4);
  const T = 9;
  const row = Int32Array.from({ length: T }, (_, i) => (i * 13 + 5) % 128);
  const one = nextTokenBatch(row, 1, T);
  const two = nextTokenBatch(Int32Array.from([...row, ...row.map((x) => (x + 1) % 128)]), 2, T);
  two.targets.fill(IGNORE_INDEX, T);
  const g1 = new Float32Array(model.layout.total);
  const g2 = new Float32Array(model.layout.total);
  const l1 = lossAndGrads(model, one, createActivations(config, 1, T), g1);
  const l2 = lossAndGrads(model, two, createActivations(config, 2, T), g2);
  assert.equal(l2, l1);
  let worst = 0;
  for (let i = 0; i < g1.length; i++) worst = Math.max(worst, Math.abs(g1[i]! - g2[i]!));
  assert.ok(worst < 1e-7, `gradients differ by ${worst}`);
});
