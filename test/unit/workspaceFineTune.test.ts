// Fine-tune on Workspace, engine side, on the fixture workspace with a tiny p50k_edit GPT-2:
// LoRA training lowers the held-out loss and writes a PEFT adapter and a report; the data
// split and examples are deterministic and hold no planted secret; a cancelled run keeps its
// checkpoint and resumes to the same adapter as an uninterrupted run.
import { openSafetensors } from '../../engine/io/safetensors';
import { writeTinyQwenFolder } from '../harness/realModel';
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { editDistance, editSimilarity, heldOutDocuments, lineTasks, splitByFile, trainingDocuments } from '../../engine/finetune/workspaceDataset';
import { fineTuneWorkspace, type TrainProgress, type WorkspaceTrainOptions } from '../../engine/finetune/workspaceFineTune';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { exportTrainingData } from '../../engine/finetune/workspaceExport';
import { heldOutLoss } from '../../engine/finetune/workspaceEval';
import { loadModel } from '../../engine/model/load';
import { writeTinyModel } from '../harness/tinyModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: string[] }> } } };
const props = manifest.contributes.configuration.properties;
const tok = getTokenizer('p50k_edit');
const fim = requireFimTemplate(tok, 'p50k_edit');

async function fixtureFiles(): Promise<{ path: string; text: string }[]> {
  const ws = fixtureWorkspace();
  try {
    const sel = await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: props['limelight.fineTune.include']!.default, exclude: props['limelight.fineTune.exclude']!.default });
    return sel.files.map((f) => ({ path: f.path, text: f.text }));
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
}

test('edit similarity: Levenshtein distance over the longer length', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editSimilarity('abc', 'abc'), 1);
  assert.equal(editSimilarity('', ''), 1);
  assert.ok(Math.abs(editSimilarity('kitten', 'sitting') - (1 - 3 / 7)) < 1e-12);
});

test('the split is by file, deterministic, with both sides non-empty; data and tasks hold no planted secret', async () => {
  const files = await fixtureFiles();
  const a = splitByFile(files);
  const b = splitByFile([...files].reverse());
  assert.deepEqual(a.heldOut.map((f) => f.path), b.heldOut.map((f) => f.path));
  assert.ok(a.heldOut.length >= 1 && a.train.length >= 1);
  assert.equal(a.heldOut.length + a.train.length, files.length);
  const docs = trainingDocuments(fim, a.train, 1);
  assert.deepEqual(docs, trainingDocuments(fim, a.train, 1));
  const text = [...docs, ...heldOutDocuments(fim, a.heldOut)].map((d) => tok.decode(d)).join('\n');
  for (const marker of ['PLANTED', 'PRIVATE KEY', 'AKIA']) assert.ok(!text.includes(marker), marker);
  assert.ok(docs.some((d) => d.includes(tok.special.fimMiddle!)) && docs.some((d) => !d.includes(tok.special.fimMiddle!)), 'both LTR and FIM examples');
  const tasks = lineTasks(fim, a.heldOut, 10, 200);
  assert.ok(tasks.length > 0 && tasks.every((t) => t.promptIds.length <= 200 && t.expected.trim().length >= 6));
});

test('a full fine-tune of a tiny model lowers the held-out loss by over 10 % and writes a checkpoint and a report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ft-'));
  try {
    const files = await fixtureFiles();
    const modelDir = writeTinyModel(join(dir, 'model'));
    const progress: TrainProgress[] = [];
    const opts: WorkspaceTrainOptions = { modelDir, outDir: join(dir, 'run'), files, mode: 'full', loraRank: 8, maxMinutes: 5, resume: false, steps: 16, seqLen: 32, batchSize: 2, lr: 2e-2, evalLines: 2, evalWindows: 8 };
    const r = await fineTuneWorkspace(opts, (p) => progress.push(p));
    assert.equal(r.status, 'completed');
    assert.equal(r.step, 16);
    assert.ok(r.after !== null);
    assert.ok(r.after.loss < r.before.loss * 0.9, `held-out loss ${r.before.loss} -> ${r.after.loss}`);
    assert.ok(existsSync(join(dir, 'run', 'model.safetensors')) && existsSync(join(dir, 'run', 'config.json')));
    assert.match(readFileSync(join(dir, 'run', 'report.md'), 'utf8'), /\| loss \(nats\/token\) \| [\d.]+ \| [\d.]+ \| -[\d.]+ % \(better\) \|/);
    const phases = new Set(progress.map((p) => p.phase));
    for (const p of ['preparing', 'evaluating-before', 'training', 'saving', 'evaluating-after']) assert.ok(phases.has(p as TrainProgress['phase']), p);
    const last = progress.filter((p) => p.phase === 'training').at(-1)!;
    assert.equal(last.step, 16);
    assert.ok(last.tokensPerSecond! > 0 && Number.isFinite(last.loss!));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LoRA: lowers the held-out loss and writes a PEFT adapter; cancel keeps the latest checkpoint and resume ends with the adapter of an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ft-'));
  try {
    const files = await fixtureFiles();
    const modelDir = writeTinyModel(join(dir, 'model'));
    const base: WorkspaceTrainOptions = { modelDir, outDir: '', files, mode: 'lora', loraRank: 4, maxMinutes: 5, resume: false, steps: 6, seqLen: 32, batchSize: 2, lr: 5e-2, evalLines: 1, evalWindows: 4 };
    const whole = await fineTuneWorkspace({ ...base, outDir: join(dir, 'whole') });
    assert.ok(whole.after !== null && whole.after.loss < whole.before.loss, `held-out loss ${whole.before.loss} -> ${whole.after?.loss}`);
    assert.equal(JSON.parse(readFileSync(join(dir, 'whole', 'adapter_config.json'), 'utf8')).peft_type, 'LORA');
    const ac = new AbortController();
    // Every step reports, so the cancel lands at step 3 however fast the steps run.
    const cut = await fineTuneWorkspace({ ...base, outDir: join(dir, 'cut'), reportEverySeconds: 0 }, (p) => {
      if (p.phase === 'training' && p.step >= 3) ac.abort(new Error('cancelled'));
    }, ac.signal);
    assert.equal(cut.status, 'cancelled');
    assert.ok(cut.step === 3 && cut.after === null, `cancelled at step ${cut.step}`);
    await assert.rejects(fineTuneWorkspace({ ...base, outDir: join(dir, 'cut') }), /resume it/);
    const resumed = await fineTuneWorkspace({ ...base, outDir: join(dir, 'cut'), resume: true });
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.step, 6);
    assert.deepEqual(readFileSync(join(dir, 'cut', 'adapter_model.safetensors')), readFileSync(join(dir, 'whole', 'adapter_model.safetensors')));
    assert.equal(resumed.after?.loss, whole.after?.loss);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Export Training Data: HF datasets JSONL (train/test by the same split), a README, never overwriting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-export-'));
  try {
    const files = await fixtureFiles();
    const out = exportTrainingData(dir, files);
    const rows = (name: string): { path: string; text: string; language: string }[] => readFileSync(join(dir, 'data', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const split = splitByFile(files);
    assert.deepEqual(rows('train.jsonl').map((r) => r.path), split.train.map((f) => f.path));
    assert.deepEqual(rows('test.jsonl').map((r) => r.path), split.heldOut.map((f) => f.path));
    assert.equal(out.train + out.test, files.length);
    assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /path: data\/train\.jsonl[\s\S]*get_peft_model/);
    assert.ok(!readFileSync(join(dir, 'data', 'train.jsonl'), 'utf8').includes('PLANTED'));
    assert.throws(() => exportTrainingData(dir, files), /never overwrites/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('held-out text shorter than one training window is still measured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-short-'));
  try {
    const model = loadModel(writeTinyModel(join(dir, 'model')));
    const docs = heldOutDocuments(fim, [{ path: 'README.md', text: '# Shapes\n' }]);
    const r = heldOutLoss(model, null, docs, tok.special.eot, 256, 8);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0, `${r.loss}`);
    assert.equal(r.tokens, docs[0]!.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Qwen2 model with its own tokenizer fine-tunes in its FIM layout: full training lowers the held-out loss; LoRA adapters are named as PEFT names Qwen2 modules', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ft-qwen-'));
  try {
    const files = await fixtureFiles();
    const modelDir = writeTinyQwenFolder(join(dir, 'qwen'));
    const common = { modelDir, files, loraRank: 4, maxMinutes: 5, resume: false, steps: 12, seqLen: 32, batchSize: 2, evalLines: 1, evalWindows: 4, threads: 1 };
    const full = await fineTuneWorkspace({ ...common, outDir: join(dir, 'full'), mode: 'full', lr: 0.01 });
    assert.ok(full.after !== null && full.after.loss < full.before.loss - 0.1, `held-out loss ${full.before.loss} -> ${full.after?.loss}`);
    assert.ok(openSafetensors(join(dir, 'full', 'model.safetensors')).names().includes('model.layers.1.self_attn.k_proj.bias'));
    const lora = await fineTuneWorkspace({ ...common, outDir: join(dir, 'lora'), mode: 'lora', lr: 0.05 });
    assert.equal(lora.status, 'completed');
    const config = JSON.parse(readFileSync(join(dir, 'lora', 'adapter_config.json'), 'utf8')) as { target_modules: string[]; fan_in_fan_out: boolean };
    assert.deepEqual(config.target_modules, ['q_proj', 'v_proj']);
    assert.equal(config.fan_in_fan_out, false);
    const adapter = openSafetensors(join(dir, 'lora', 'adapter_model.safetensors'));
    const b = 'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight';
    assert.ok(adapter.names().includes(b), adapter.names().slice(0, 4).join(', '));
    assert.ok(adapter.tensorToFloat32(b).some((v) => v !== 0), 'the adapter was trained');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
