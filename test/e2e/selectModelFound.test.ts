// Select Model in real VS Code lists the models already on the machine: a fake Ollama store
// (manifest + blob, a tiny real Qwen2 GGUF) and a fake Hugging Face cache with a broken
// snapshot, found through OLLAMA_MODELS / HF_HUB_CACHE, which code-server inherits. Picking the
// Ollama model saves its blob as limelight.model.path. Screenshot kept in test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, openE2eSession, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { notification, openFile, runCommand } from '../../tools/e2e/workbench';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { loadModel } from '../../engine/model/load';
import { writeTinyQwenFolder } from '../harness/realModel';

const results = resultsDir();
let session: E2eSession | undefined;
const STORE_VARS = ['OLLAMA_MODELS', 'HF_HUB_CACHE', 'LLAMA_CACHE'] as const;
const saved = STORE_VARS.map((k) => process.env[k]);
let blob = '';

before(async () => {
  session = await openE2eSession({
    workspace: sampleWorkspace,
    logName: 'code-server-select-found.log',
    prepare: (tmp) => {
      const gguf = join(tmp, 'qwen.gguf');
      writeGgufModel(gguf, loadModel(writeTinyQwenFolder(join(tmp, 'qwen'))), { weightType: 'Q8_0' });
      const bytes = readFileSync(gguf);
      const hex = createHash('sha256').update(bytes).digest('hex');
      const ollama = join(tmp, 'ollama');
      mkdirSync(join(ollama, 'blobs'), { recursive: true });
      blob = join(ollama, 'blobs', `sha256-${hex}`);
      writeFileSync(blob, bytes);
      const manifests = join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'qwen2.5-coder');
      mkdirSync(manifests, { recursive: true });
      writeFileSync(join(manifests, '0.5b-base'), JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: bytes.length }] }));
      const hub = join(tmp, 'hub');
      mkdirSync(join(hub, 'models--someone--broken', 'snapshots', 'a'.repeat(40)), { recursive: true });
      writeFileSync(join(hub, 'models--someone--broken', 'snapshots', 'a'.repeat(40), 'config.json'), '{"model_type": "qwen2"');
      process.env.OLLAMA_MODELS = ollama;
      process.env.HF_HUB_CACHE = hub;
      process.env.LLAMA_CACHE = join(tmp, 'no-llama-cache');
      return {};
    },
  });
});

after(async () => {
  await closeE2eSession(session);
  STORE_VARS.forEach((k, i) => {
    if (saved[i] === undefined) delete process.env[k];
    else process.env[k] = saved[i];
  });
});

const page = (): Page => sessionPage(session);

test('Select Model lists the Ollama model with its facts, the broken snapshot with its reason, and uses the pick', async () => {
  await openFile(page(), 'stack.ts');
  await runCommand(page(), 'Limelight: Select Model');
  const row = page().locator('.quick-input-list .monaco-list-row', { hasText: 'qwen2.5-coder:0.5b-base' });
  await row.waitFor({ timeout: 20_000 });
  assert.match((await row.textContent()) ?? '', /ollama · qwen2 · .*completions/);
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'someone/broken' }).waitFor({ timeout: 10_000 });
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Choose a checkpoint folder…' }).waitFor({ timeout: 10_000 });
  await page().screenshot({ path: join(results, 'e2e-select-model-found.png') });
  await row.click();
  await notification(page(), 'Limelight: loading').waitFor({ timeout: 15_000 });
  const userSettings = JSON.parse(readFileSync(join(session!.server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(userSettings['limelight.model.path'], blob);
});
