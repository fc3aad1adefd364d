// LoRA: an untrained adapter changes nothing, training it leaves the base untouched, merging
// and unmerging round-trip, its gradients match finite differences, and it saves in PEFT form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { readSafetensors } from '../../engine/io/safetensors';
import { createActivations, lossAndGrads } from '../../engine/train/gradients';
import { nextTokenBatch, TokenDataset } from '../../engine/train/data';
import { adapterB, createLora, defaultLoraOptions, loadAdapter, mergeLora, saveAdapter, unmergeLora, LoraError } from '../../engine/train/lora';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';

const ORACLE = join(process.cwd(), 'test', 'fixtures', 'oracle');

function oracle(name: string): { model: ReturnType<typeof loadModel>; batch: ReturnType<typeof nextTokenBatch> } {
  const dir = join(ORACLE, name);
  const ref = readSafetensors(join(dir, 'reference.safetensors'));
  const [B, T] = ref.info('train_batch').shape as [number, number];
  return { model: loadModel(dir), batch: nextTokenBatch(ref.tensorToInt32('train_batch'), B, T) };
}

for (const name of ['gpt2-tiny', 'llama-tiny']) {
  test(`${name}: an untrained adapter (B = 0) gives identical per-token losses, and merging it leaves the weights as they were`, () => {
    const { model, batch } = oracle(name);
    const acts = createActivations(model.config, batch.B, batch.T);
    lossAndGrads(model, batch, acts, null);
    const base = Float32Array.from(acts.losses);
    const lora = createLora(model.config, { ...defaultLoraOptions(model.config, 4), targetModules: model.config.family === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'v_proj', 'o_proj', 'down_proj'] });
    const loraActs = createActivations(model.config, batch.B, batch.T, { lora });
    lossAndGrads(model, batch, loraActs, null, { lora });
    assert.deepEqual(loraActs.losses, base);
    const before = Float32Array.from(model.params);
    mergeLora(model, lora);
    assert.deepEqual(model.params, before);
  });

  test(`${name}: LoRA steps change only the adapters; the merged adapter reproduces the unmerged losses; unmerge restores the weights`, () => {
    const { model, batch } = oracle(name);
    const base = Float32Array.from(model.params);
    const lora = createLora(model.config, { ...defaultLoraOptions(model.config, 4), targetModules: model.config.family === 'gpt2' ? ['c_attn', 'c_fc'] : ['q_proj', 'v_proj', 'gate_proj', 'up_proj'] });
    const A0 = Float32Array.from(lora.params);
    const data = new TokenDataset([Array.from(batch.tokens)], 0, batch.T - 1, 3);
    const trainer = new Trainer(model, data, { ...TRAINER_DEFAULTS, batchSize: 1, seqLen: batch.T - 1, lr: 1e-2, warmupSteps: 0, steps: 3 }, lora);
    for (let i = 0; i < 3; i++) trainer.trainStep();
    assert.deepEqual(model.params, base, 'base weights must stay frozen');
    assert.notDeepEqual(lora.params, A0);
    for (const a of lora.adapters) assert.ok(adapterB(lora, lora.params, a).some((x) => x !== 0), `${a.module}: B moved`);

    const acts = createActivations(model.config, batch.B, batch.T, { lora });
    lossAndGrads(model, batch, acts, null, { lora });
    const unmerged = Float32Array.from(acts.losses);
    mergeLora(model, lora);
    assert.throws(() => lossAndGrads(model, batch, acts, null, { lora }), /merged/);
    const plain = createActivations(model.config, batch.B, batch.T);
    lossAndGrads(model, batch, plain, null);
    for (let i = 0; i < unmerged.length; i++) assert.ok(Math.abs(plain.losses[i]! - unmerged[i]!) < 1e-5, `token ${i}: merged ${plain.losses[i]} vs unmerged ${unmerged[i]}`);
    assert.notDeepEqual(model.params, base);
    unmergeLora(model, lora);
    let worst = 0;
    for (let i = 0; i < base.length; i++) worst = Math.max(worst, Math.abs(model.params[i]! - base[i]!));
    assert.ok(worst < 1e-6, `unmerge left a difference of ${worst}`);
    assert.throws(() => unmergeLora(model, lora), LoraError);
  });
}

test('LoRA gradients (with dropout) match finite differences of the loss', () => {
  const config = configFromHF({ model_type: 'llama', vocab_size: 37, hidden_size: 12, intermediate_size: 20, num_hidden_layers: 2, num_attention_heads: 3, num_key_value_heads: 1, max_position_embeddings: 16 });
  const model = randomModel(config, 5);
  const lora = createLora(config, { rank: 3, alpha: 6, dropout: 0.25, targetModules: ['q_proj', 'o_proj', 'up_proj', 'down_proj'] }, 9);
  for (let i = 0; i < lora.params.length; i++) if (lora.params[i] === 0) lora.params[i] = 0.3 * Math.sin(i);
  const ids = Int32Array.from({ length: 2 * 7 }, (_, i) => (i * 11 + 3) % 37);
  const batch = nextTokenBatch(ids, 2, 7);
  const acts = createActivations(config, 2, 7, { lora, recompute: true });
  const grads = new Float32Array(lora.params.length);
  const loss = (): number => lossAndGrads(model, batch, acts, null, { lora, dropoutSeed: 42 });
  lossAndGrads(model, batch, acts, null, { lora, loraGrads: grads, dropoutSeed: 42 });
  const eps = 1e-2;
  let worst = 0;
  for (let i = 0; i < lora.params.length; i += 7) {
    const keep = lora.params[i]!;
    lora.params[i] = keep + eps;
    const up = loss();
    lora.params[i] = keep - eps;
    const down = loss();
    lora.params[i] = keep;
    worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - grads[i]!));
  }
  assert.ok(worst < 2e-3, `worst abs error ${worst}`);
});

test('adapters save in PEFT format (names, shapes, adapter_config.json) and load back', () => {
  const { model } = oracle('gpt2-tiny');
  const lora = createLora(model.config, { rank: 2, alpha: 4, dropout: 0.1, targetModules: ['c_attn', 'c_proj'] });
  for (let i = 0; i < lora.params.length; i++) lora.params[i] = Math.cos(i);
  const dir = mkdtempSync(join(tmpdir(), 'limelight-lora-'));
  try {
    saveAdapter(dir, model.config, lora, 'gpt2-tiny');
    const file = readSafetensors(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(file.info('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight').shape, [2, 64]);
    assert.deepEqual(file.info('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight').shape, [192, 2]);
    assert.deepEqual(file.info('base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight').shape, [2, 256]);
    assert.deepEqual(file.info('base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight').shape, [64, 2]);
    assert.equal(file.names().length, 2 * 3 * 2, "2 layers x (c_attn, attn.c_proj, mlp.c_proj) x (A, B)");
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg.peft_type, 'LORA');
    assert.equal(cfg.task_type, 'CAUSAL_LM');
    assert.equal(cfg.r, 2);
    assert.equal(cfg.lora_alpha, 4);
    assert.equal(cfg.lora_dropout, 0.1);
    assert.equal(cfg.fan_in_fan_out, true);
    assert.equal(cfg.bias, 'none');
    assert.deepEqual(cfg.target_modules, ['c_attn', 'c_proj']);
    assert.equal(cfg.base_model_name_or_path, 'gpt2-tiny');
    const back = loadAdapter(dir, model.config);
    assert.deepEqual(back.params, lora.params);
    assert.deepEqual(back.options, lora.options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => createLora(model.config, { ...defaultLoraOptions(model.config), targetModules: ['q_proj'] }), /not in this gpt2 model.*c_attn/);
});
