// Faults against the real engine worker and the tiny model: the worker thread is killed for
// real (Worker.terminate) mid-generation and mid-training. It restarts with back-off and the
// model reloaded, the user is told once per crash streak, the next greedy generation gives the
// same text as before the crash, and a killed training run keeps its latest checkpoint and
// resumes from it. The EngineHost falls back to the starter model when the user's model is
// missing or corrupt, and says so with an "Open Settings" action; a broken workspace
// fine-tune falls back to its base model instead.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, EngineError } from '../../engine/worker/client';
import type { TrainProgress } from '../../engine/finetune/workspaceFineTune';
import { readTrainerState } from '../../engine/train/checkpoint';
import { readSafetensors } from '../../engine/io/safetensors';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { EngineHost, type HostNotices } from '../../extension/completions/engineHost';
import { isSettingsSchema, readSettings, type LimelightSettings } from '../../extension/settings';
import { writeTinyModel } from '../harness/tinyModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

let root = '';
let modelDir = '';
const prompt = [10, 20, 30, 40, 50];
const greedy = { promptIds: prompt, maxNewTokens: 16, stopTokenIds: [], sampling: { temperature: 0 } };

before(() => {
  root = mkdtempSync(join(tmpdir(), 'limelight-faults-'));
  modelDir = writeTinyModel(join(root, 'model'));
});

after(() => rmSync(root, { recursive: true, force: true }));

function killWorker(client: EngineClient): Promise<number> {
  return (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
}

/** The first generation that succeeds after a restart (requests fail while it restarts). */
async function generateAfterRestart(client: EngineClient): Promise<{ text: string; newIds: number[] }> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await client.generate(greedy);
    } catch (e) {
      assert.ok(e instanceof EngineError && /EngineRestarting|EngineCrashed/.test(e.name) || /load request first/.test((e as Error).message), `unexpected failure: ${(e as Error).message}`);
      assert.ok(Date.now() - t0 < 20_000, 'the engine did not come back within 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

test('killed mid-generation: restarts, tells the user once per crash streak, and the same greedy text comes back', async () => {
  const notices: string[] = [];
  // stableMs: long enough that a loaded machine's restart and reload stay inside the streak.
  const client = new EngineClient({ onNotice: (m) => notices.push(m), restartDelayMs: 20, stableMs: 5000 });
  try {
    await client.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32' });
    const want = await client.generate(greedy);
    assert.equal(want.newIds.length, 16);
    // Three kills in a row, each while tokens stream: one streak, one notice.
    for (let kill = 0; kill < 3; kill++) {
      let streamed = 0;
      let killed: Promise<number> | null = null;
      const pending = client.generate({ ...greedy, maxNewTokens: 400 }, { onToken: () => ++streamed === 3 && (killed = killWorker(client)) });
      await assert.rejects(pending, (e: Error) => e instanceof EngineError && e.name === 'EngineCrashed' && /restarted/.test(e.message));
      await killed;
      assert.ok(streamed >= 3 && streamed < 400, `killed after ${streamed} tokens`);
      const again = await generateAfterRestart(client);
      assert.deepEqual(again.newIds, want.newIds);
      assert.equal(again.text, want.text);
    }
    assert.equal(notices.length, 1, notices.join('\n'));
    assert.match(notices[0]!, /stopped .* being restarted/);
    // Up longer than stableMs: the streak is over, a new crash is told again.
    await new Promise((r) => setTimeout(r, 5100));
    await killWorker(client);
    assert.deepEqual((await generateAfterRestart(client)).newIds, want.newIds);
    assert.equal(notices.length, 2);
  } finally {
    await client.dispose();
  }
});

test('killed mid-training: the latest checkpoint stays intact and the run resumes from it', async () => {
  const ws = fixtureWorkspace();
  const files = (await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: ['**/*.{ts,py,go,md}'], exclude: [] })).files.map(({ path, text }) => ({ path, text }));
  rmSync(join(ws, '..'), { recursive: true, force: true });
  const outDir = join(root, 'run');
  const opts = { modelDir, outDir, files, mode: 'lora' as const, loraRank: 4, maxMinutes: 5, steps: 400, seqLen: 32, batchSize: 2, lr: 5e-2, evalLines: 1, evalWindows: 2 };
  const trainer = new EngineClient({ restartDelayMs: 20 });
  try {
    // A cancelled run leaves a checkpoint at step `first`.
    const ac = new AbortController();
    const cut = await trainer.train({ ...opts, resume: false }, { signal: ac.signal, onProgress: (p) => p.phase === 'training' && p.step >= 2 && ac.abort() });
    assert.equal(cut.status, 'cancelled');
    const first = cut.step;
    const saved = readTrainerState(outDir)!;
    assert.equal(saved.step, first);

    // Resumed, then the worker is killed while it trains past `first`.
    const seen: TrainProgress[] = [];
    let killed: Promise<number> | null = null;
    const resumed = trainer.train({ ...opts, resume: true }, {
      onProgress: (p) => {
        seen.push(p);
        if (p.phase === 'training' && p.step > first && killed === null) killed = killWorker(trainer);
      },
    });
    await assert.rejects(resumed, (e: Error) => e instanceof EngineError && e.name === 'EngineCrashed');
    await killed;
    assert.ok(seen.some((p) => p.phase === 'training' && p.step > first), 'the resumed run trained before the kill');
    const intact = readTrainerState(outDir)!;
    assert.ok(intact.step >= first, 'the checkpoint went backwards');
    const state = readSafetensors(join(outDir, 'checkpoints', `step-${String(intact.step).padStart(6, '0')}`, 'state.safetensors'));
    assert.deepEqual(state.names().sort(), ['adamw.m', 'adamw.v', 'trainable']);

    // The restarted worker resumes the same run from that checkpoint.
    let again: Awaited<ReturnType<EngineClient['train']>> | null = null;
    for (let i = 0; i < 200 && again === null; i++) {
      const ac2 = new AbortController();
      again = await trainer
        .train({ ...opts, resume: true }, { signal: ac2.signal, onProgress: (p) => p.phase === 'training' && p.step >= intact.step + 2 && ac2.abort() })
        .catch((e: Error) => {
          assert.ok(e instanceof EngineError && e.name === 'EngineRestarting', e.message);
          return new Promise<null>((r) => setTimeout(() => r(null), 20));
        });
    }
    assert.ok(again !== null);
    assert.equal(again.status, 'cancelled');
    assert.ok(again.step >= intact.step + 2);
    const after = readTrainerState(outDir)!;
    assert.deepEqual(after.losses.slice(0, intact.losses.length), intact.losses, 'the resumed run continues the saved loss history');
  } finally {
    await trainer.dispose();
  }
});

interface Shown {
  message: string;
  actions: string[];
}

/** The host as the extension builds it, with notifications recorded and answered with `answer`. */
function makeHost(extensionPath: string, answer?: string): { host: EngineHost; shown: Shown[]; opened: string[]; noticed: () => Promise<void> } {
  const shown: Shown[] = [];
  const opened: string[] = [];
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  const notices: HostNotices = {
    warn: (message, ...actions) => {
      shown.push({ message, actions });
      return Promise.resolve(answer);
    },
    openSettings: (id) => opened.push(id),
  };
  const host = new EngineHost(extensionPath, log, () => {}, notices);
  const noticed = async (): Promise<void> => {
    for (let i = 0; i < 2000 && shown.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setImmediate(r)); // the chosen action runs
  };
  return { host, shown, opened, noticed };
}

function settingsWith(modelPath: string): LimelightSettings {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const schema: unknown = manifest.contributes.configuration.properties;
  assert.ok(isSettingsSchema(schema));
  const { settings } = readSettings(schema, (key) => (key === 'limelight.backend' ? 'js' : key === 'limelight.threads' ? 1 : undefined));
  // Set after reading: readSettings turns a path that is not a folder into the starter model
  // (with its own notice); the host still meets folders that vanish or hold broken files.
  return { ...settings, modelPath };
}

test('a missing or corrupt user model falls back to the starter model, with a notice that opens the setting', async () => {
  const ext = join(root, 'extension');
  writeTinyModel(join(ext, 'media', 'models', 'starter'));
  const corrupt = join(root, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'config.json'), '{"model_type": "gpt2", "n_embd": ');
  writeFileSync(join(corrupt, 'model.safetensors'), Buffer.from('not a safetensors file'));
  for (const [path, reason] of [
    [join(root, 'no-such-model'), /no-such-model/],
    [corrupt, /config\.json|JSON/i],
  ] as const) {
    const { host, shown, opened, noticed } = makeHost(ext, 'Open Settings');
    try {
      host.apply(settingsWith(path));
      await noticed();
      assert.equal(host.status.kind, 'ready', JSON.stringify(host.status));
      assert.equal(host.loaded?.modelDir, join(ext, 'media', 'models', 'starter'));
      assert.equal(shown.length, 1, JSON.stringify(shown));
      assert.ok(shown[0]!.message.includes(path), shown[0]!.message);
      assert.match(shown[0]!.message, reason);
      assert.match(shown[0]!.message, /starter model instead/);
      assert.deepEqual(shown[0]!.actions, ['Open Settings']);
      assert.deepEqual(opened, ['limelight.model.path']);
      // The starter answers.
      const r = await host.engineClient!.generate(greedy);
      assert.equal(r.newIds.length, 16);
    } finally {
      host.dispose();
    }
  }
});

test('without a starter model the notice says there is nothing to fall back to', async () => {
  const ext = join(root, 'bare-extension');
  mkdirSync(ext, { recursive: true });
  const { host, shown, opened, noticed } = makeHost(ext);
  try {
    host.apply(settingsWith(join(root, 'missing-model')));
    await noticed();
    assert.equal(host.status.kind, 'failed');
    assert.equal(shown.length, 1);
    assert.match(shown[0]!.message, /missing-model/);
    assert.match(shown[0]!.message, /no bundled starter model/);
    assert.deepEqual(shown[0]!.actions, ['Open Settings']);
    assert.deepEqual(opened, []);
  } finally {
    host.dispose();
  }
});

test('a broken workspace fine-tune falls back to the base model, not the starter, and the notice names the fine-tune', async () => {
  const ext = join(root, 'extension-ft');
  writeTinyModel(join(ext, 'media', 'models', 'starter'));
  const base = writeTinyModel(join(root, 'base-model'));
  const brokenModel = join(root, 'broken-full');
  mkdirSync(brokenModel);
  writeFileSync(join(brokenModel, 'config.json'), '{"model_type": "gpt2", "n_embd": ');
  const brokenAdapter = join(root, 'broken-adapter');
  mkdirSync(brokenAdapter);
  writeFileSync(join(brokenAdapter, 'adapter_config.json'), '{"peft_type": "LORA"');
  for (const [tuned, kind] of [
    [{ kind: 'full', dir: brokenModel }, /fine-tuned model at .*broken-full/],
    [{ kind: 'lora', dir: brokenAdapter }, /fine-tuned adapter at .*broken-adapter/],
  ] as const) {
    const { host, shown, noticed } = makeHost(ext);
    try {
      host.setFineTuned(tuned);
      host.apply(settingsWith(base));
      await noticed();
      assert.equal(host.status.kind, 'ready', JSON.stringify(host.status));
      assert.equal(host.loaded?.modelDir, base);
      assert.equal(shown.length, 1, JSON.stringify(shown));
      assert.match(shown[0]!.message, kind);
      assert.match(shown[0]!.message, /Using the base model without it.*Revert to Base Model/);
      assert.deepEqual(shown[0]!.actions, [], 'the setting is not what is wrong');
      const r = await host.engineClient!.generate(greedy);
      assert.equal(r.newIds.length, 16);
    } finally {
      host.dispose();
    }
  }
});
