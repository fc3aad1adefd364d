// Full fine-tuning from the editor's side: the confirm step's choice between LoRA and full
// (limelight.fineTune.method first), and a full fine-tune of a tiny model run through the
// engine worker as the extension runs it, then kept in the per-workspace store: it lowers the
// held-out loss, the stored model is found again for its base model and loads in the worker,
// Export writes a Hugging Face checkpoint folder (never over existing files), and Revert
// removes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../engine/worker/client';
import { loadModel } from '../../engine/model/load';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { AdapterStore } from '../../extension/fineTune/adapterStore';
import { chosenRun, confirmActions, methodNote, RESUME, SHOW_SKIPPED } from '../../extension/fineTune/method';
import { writeTinyModel } from '../harness/tinyModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

test("the confirm step starts the setting's method and offers the other; each button starts its method", () => {
  assert.deepEqual(confirmActions('lora', false), ['Start Fine-tuning', 'Full Fine-tune Instead', SHOW_SKIPPED]);
  assert.deepEqual(confirmActions('full', false), ['Start Fine-tuning', 'LoRA Fine-tune Instead', SHOW_SKIPPED]);
  assert.deepEqual(confirmActions('full', true), [RESUME, 'Start Over', 'LoRA Fine-tune Instead', SHOW_SKIPPED]);
  // Dialogs order buttons by platform: only one label may begin with "Start".
  for (const setting of ['lora', 'full'] as const) {
    for (const canResume of [false, true]) {
      const actions = confirmActions(setting, canResume);
      const [start, other] = actions.filter((a) => a !== RESUME && a !== SHOW_SKIPPED);
      assert.equal(actions.filter((a) => a.startsWith('Start')).length, 1);
      assert.deepEqual(chosenRun(start, setting, canResume), { resume: false, mode: setting });
      assert.deepEqual(chosenRun(other, setting, canResume), { resume: false, mode: setting === 'lora' ? 'full' : 'lora' });
    }
  }
  assert.deepEqual(chosenRun(RESUME, 'lora', true), { resume: true });
  assert.equal(chosenRun(RESUME, 'lora', false), null);
  assert.equal(chosenRun(undefined, 'full', true), null);
  assert.equal(chosenRun(SHOW_SKIPPED, 'lora', false), null);
  assert.match(methodNote('lora'), /^Method: LoRA/);
  assert.match(methodNote('full'), /whole copy of the model/);
});

test('a full fine-tune through the worker lowers held-out loss; stored, it loads for its base model, exports as a checkpoint and reverts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ftfull-'));
  const trainer = new EngineClient();
  const engine = new EngineClient();
  try {
    const modelDir = writeTinyModel(join(dir, 'model'));
    // A tokenizer file as Hugging Face checkpoints carry: the stored model must take it along.
    writeFileSync(join(modelDir, 'tokenizer_config.json'), '{"model_max_length": 256}\n');
    const ws = fixtureWorkspace();
    const files = (await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: ['**/*.{ts,py,go,md}'], exclude: [] })).files.map(({ path, text }) => ({ path, text }));
    rmSync(join(ws, '..'), { recursive: true, force: true });

    const store = new AdapterStore(join(dir, 'storage'));
    const r = await trainer.train({ modelDir, outDir: store.runDir, files, mode: 'full', loraRank: 8, maxMinutes: 5, resume: false, steps: 12, seqLen: 32, batchSize: 2, lr: 2e-2, evalLines: 1, evalWindows: 4 });
    assert.equal(r.status, 'completed');
    assert.equal(r.mode, 'full');
    assert.ok(r.after !== null && r.after.loss < r.before.loss, `held-out loss ${r.before.loss} -> ${r.after?.loss}`);

    const stored = store.install(store.runDir, { baseModel: modelDir, created: new Date().toISOString(), source: 'fine-tune', kind: r.mode });
    assert.ok(!stored.startsWith(ws), 'the result is kept in the extension storage');
    assert.deepEqual(store.tunedFor(modelDir), { kind: 'full', dir: stored });
    assert.equal(store.tunedFor(join(dir, 'another-model')), null);
    assert.ok(existsSync(join(stored, 'tokenizer_config.json')));
    // Next time: the stored model is what the engine loads, and it is the trained one.
    const tuned = loadModel(stored);
    assert.deepEqual(tuned.params, loadModel(store.runDir).params);
    assert.notDeepEqual(tuned.params.subarray(0, 64), loadModel(modelDir).params.subarray(0, 64));
    await engine.load({ modelDir: stored, backend: 'js', threads: 1, weightFormat: 'f32' });
    const tunedLogits = (await engine.forward({ ids: [1, 2, 3], pos: 0 })).logits;
    await engine.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32' });
    assert.notDeepEqual(Array.from(tunedLogits.slice(0, 50)), Array.from((await engine.forward({ ids: [1, 2, 3], pos: 0 })).logits.slice(0, 50)));

    const out = join(dir, 'export');
    const exported = store.exportTo(out);
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.safetensors', 'report.md', 'tokenizer_config.json']);
    assert.equal(exported.length, 4);
    assert.deepEqual(loadModel(out).params, tuned.params);
    assert.throws(() => store.exportTo(out), /already exists; Limelight never overwrites files/);

    assert.equal(store.remove(), true);
    assert.equal(store.tunedFor(modelDir), null);
  } finally {
    await trainer.dispose();
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store written before full fine-tuning (no kind) reads as a LoRA adapter; a run without the files of its kind is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ftstore-'));
  try {
    const store = new AdapterStore(join(dir, 'storage'));
    const base = join(dir, 'base');
    const run = writeTinyModel(join(dir, 'run'));
    assert.throws(() => store.install(run, { baseModel: base, created: '', source: 'fine-tune', kind: 'lora' }), /has no adapter_config.json, adapter_model.safetensors: it holds no LoRA adapter/);
    assert.equal(existsSync(store.adapterDir), false);
    mkdirSync(store.adapterDir, { recursive: true });
    writeFileSync(join(store.adapterDir, 'adapter_config.json'), '{}');
    writeFileSync(join(store.adapterDir, 'adapter_model.safetensors'), '');
    writeFileSync(join(store.adapterDir, 'limelight-adapter.json'), JSON.stringify({ baseModel: base, created: '', source: 'fine-tune' }));
    assert.deepEqual(store.tunedFor(base), { kind: 'lora', dir: store.adapterDir });
    // A full model's meta without its weights is no result at all.
    writeFileSync(join(store.adapterDir, 'limelight-adapter.json'), JSON.stringify({ baseModel: base, created: '', source: 'fine-tune', kind: 'full' }));
    assert.equal(store.tunedFor(base), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
