// Download Model in real VS Code (code-server, the packaged .vsix), against the fake hub on
// 127.0.0.1 (test/harness/fakeHub.ts) named by the user setting limelight.download.endpoint:
// the curated list, "Another Hugging Face repo…", the repo's files, the Hugging Face cache,
// a progress notification while the connection drops at 40 % and the transfer resumes, then
// "Use this model", which saves the downloaded (verified) tiny Qwen2 GGUF as
// limelight.model.path. Outbound connections are refused and recorded: the download reached
// only 127.0.0.1. Then a slow download cancelled from its notification keeps its partial file,
// and Resume finishes it from there. A gated repo asks for a token ("Set Hugging Face Token"
// on the error), which then goes to the hub only and never into settings or the log.
// Screenshots kept in test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, limelightLog, openE2eSession, readTree, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { notification, openFile, runCommand } from '../../tools/e2e/workbench';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { loadModel } from '../../engine/model/load';
import { writeTinyQwenFolder } from '../harness/realModel';
import { FAKE_COMMIT, FakeHub, fakeBytes, sha256 } from '../harness/fakeHub';
import { CURATED_MODELS } from '../../extension/downloadChoice';

const results = resultsDir();
let session: E2eSession | undefined;
let hub: FakeHub | undefined;
let gguf = Buffer.alloc(0);
let netLog = '';
const savedCache = process.env.HF_HUB_CACHE;
const SLOW = fakeBytes(3_000_000, 5);
const GATED = fakeBytes(50_000, 6);
const TOKEN = 'hf_e2eSECRETtoken42';

before(async () => {
  // The model the fake hub serves: a tiny real Qwen2 GGUF, made before code-server starts so its
  // address can go into the user settings.
  const made = mkdtempSync(join(tmpdir(), 'limelight-e2e-hub-'));
  try {
    const file = join(made, 'tiny.gguf');
    writeGgufModel(file, loadModel(writeTinyQwenFolder(join(made, 'qwen'))), { weightType: 'Q8_0' });
    gguf = readFileSync(file);
  } finally {
    rmSync(made, { recursive: true, force: true });
  }
  hub = await FakeHub.start([{ id: 'acme/tiny-coder-GGUF', commit: FAKE_COMMIT, files: [{ name: 'README.md', content: Buffer.from('# tiny\n') }, { name: 'tiny-q8_0.gguf', content: gguf, lfs: true }, { name: 'tiny-f16.gguf', content: Buffer.alloc(1000), lfs: true }, { name: 'slow.gguf', content: SLOW, lfs: true }] }, { id: 'acme/gated-coder', commit: FAKE_COMMIT, gated: true, files: [{ name: 'gated.gguf', content: GATED, lfs: true }] }]);
  hub.acceptedTokens.add(TOKEN);
  // Slow enough to see the notification, and dropped once at 40 % (resumed within the download).
  hub.faults.set('tiny-q8_0.gguf', { dropAt: 0.4, bytesPerSecond: Math.ceil(gguf.length / 3) });
  session = await openE2eSession({
    workspace: sampleWorkspace,
    logName: 'code-server-download-model.log',
    prepare: (tmp) => {
      process.env.HF_HUB_CACHE = join(tmp, 'hub');
      netLog = join(tmp, 'net.jsonl');
      return { netLog, settings: { 'limelight.download.endpoint': hub!.endpoint } };
    },
  });
});

after(async () => {
  await closeE2eSession(session);
  await hub?.close();
  if (savedCache === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = savedCache;
});

const page = (): Page => sessionPage(session);

async function pick(text: string): Promise<void> {
  const row = page().locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 20_000 });
  await row.click();
}

/** In Download Model's open list: "Another Hugging Face repo…", then the repo's name. */
async function enterRepo(repo: string): Promise<void> {
  await pick('Another Hugging Face repo…');
  const input = page().locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(repo);
  await page().keyboard.press('Enter');
}

async function anotherRepo(repo: string): Promise<void> {
  await runCommand(page(), 'Limelight: Download Model');
  await enterRepo(repo);
}

test('Download Model: another repo, its GGUF file, the HF cache, a resumed transfer with progress, then Use this model', async () => {
  const settingsPath = join(session!.server.userDataDir, 'User', 'settings.json');
  await openFile(page(), 'stack.ts');
  await runCommand(page(), 'Limelight: Download Model');
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Qwen2.5-Coder 0.5B base, Q8_0' }).waitFor({ timeout: 20_000 });
  assert.match((await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Qwen2.5-Coder 0.5B base, Q8_0' }).textContent()) ?? '', new RegExp(`531 MB · Apache-2\\.0 · about ${CURATED_MODELS[0]!.tokensPerSecond} tokens/s`));
  await page().screenshot({ path: join(results, 'e2e-download-model-list.png') });
  await enterRepo('acme/tiny-coder-GGUF');
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'tiny-f16.gguf' }).waitFor({ timeout: 20_000 });
  await pick('tiny-q8_0.gguf');
  await pick('The Hugging Face cache');
  // The toast with its progress line (bytes of total, speed, time left), once it has faded in.
  await notification(page(), /Limelight: downloading tiny-q8_0\.gguf.* of .*\/s · .* left/).waitFor({ timeout: 20_000 });
  await page().waitForTimeout(400);
  await page().screenshot({ path: join(results, 'e2e-download-model-progress.png') });
  const done = notification(page(), 'Limelight: downloaded tiny-q8_0.gguf');
  await done.waitFor({ timeout: 30_000 });
  await page().screenshot({ path: join(results, 'e2e-download-model-done.png') });
  await done.locator('.monaco-button', { hasText: 'Use this model' }).click();
  await notification(page(), 'Limelight: loading').waitFor({ timeout: 15_000 });

  const snapshot = join(process.env.HF_HUB_CACHE!, 'models--acme--tiny-coder-GGUF', 'snapshots', FAKE_COMMIT, 'tiny-q8_0.gguf');
  assert.deepEqual(readFileSync(snapshot), gguf);
  assert.equal(realpathSync(snapshot), join(process.env.HF_HUB_CACHE!, 'models--acme--tiny-coder-GGUF', 'blobs', sha256(gguf)));
  const user = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
  assert.equal(realpathSync(String(user['limelight.model.path'])), realpathSync(snapshot));
  // The transfer was cut at 40 % and resumed with a Range request; only loopback was reached.
  const cdn = hub!.requests.filter((q) => q.server === 'cdn');
  assert.ok(cdn.some((q) => q.range !== undefined), JSON.stringify(cdn));
  const denied = existsSync(netLog) ? readFileSync(netLog, 'utf8').trim().split('\n').filter((l) => l.includes('"denied"')) : [];
  assert.deepEqual(denied, []);
});

test('Download Model: Cancel in the notification stops the transfer and keeps it; Resume continues it to a verified file', async () => {
  hub!.faults.set('slow.gguf', { bytesPerSecond: 200_000 });
  await anotherRepo('acme/tiny-coder-GGUF');
  await pick('slow.gguf');
  await pick('The Hugging Face cache');
  const toast = notification(page(), /Limelight: downloading slow\.gguf.* of /);
  await toast.waitFor({ timeout: 20_000 });
  await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
  const cancelled = notification(page(), 'Limelight: The download was cancelled');
  await cancelled.waitFor({ timeout: 15_000 });
  await page().waitForTimeout(400);
  await page().screenshot({ path: join(results, 'e2e-download-model-cancelled.png') });
  const blob = join(process.env.HF_HUB_CACHE!, 'models--acme--tiny-coder-GGUF', 'blobs', sha256(SLOW));
  assert.ok(existsSync(`${blob}.incomplete`), 'the partial file is kept');
  assert.ok(!existsSync(blob), 'nothing at the destination');
  hub!.faults.delete('slow.gguf');
  hub!.requests.length = 0;
  await cancelled.locator('.monaco-button', { hasText: 'Resume' }).click();
  await notification(page(), 'Limelight: downloaded slow.gguf').waitFor({ timeout: 30_000 });
  assert.deepEqual(readFileSync(blob), SLOW);
  assert.ok(!existsSync(`${blob}.incomplete`));
  assert.match(hub!.requests.find((q) => q.server === 'cdn')?.range ?? '', /^bytes=[1-9]\d*-$/, 'resumed from the partial file');
});

test('Download Model: a gated repo asks for a token; Set Hugging Face Token keeps it in secret storage and the download then works', async () => {
  // The earlier tests' messages (a cancelled download's Resume, a model loading) would leave no
  // room among the visible notifications for the one this test waits for.
  await runCommand(page(), 'Notifications: Clear All Notifications');
  hub!.requests.length = 0;
  await anotherRepo('acme/gated-coder');
  const refused = notification(page(), /gated model: it needs a Hugging Face token \(401\)/);
  await refused.waitFor({ timeout: 20_000 });
  await page().waitForTimeout(400);
  await page().screenshot({ path: join(results, 'e2e-download-model-gated.png') });
  await refused.locator('.monaco-button', { hasText: 'Set Hugging Face Token' }).click();
  const input = page().locator('.quick-input-widget input');
  await input.waitFor();
  assert.equal(await input.getAttribute('type'), 'password');
  await input.fill(TOKEN);
  await page().keyboard.press('Enter');
  await notification(page(), 'the Hugging Face token is stored').waitFor({ timeout: 10_000 });
  await anotherRepo('acme/gated-coder');
  await pick('gated.gguf');
  await pick('The Hugging Face cache');
  await notification(page(), 'Limelight: downloaded gated.gguf').waitFor({ timeout: 30_000 });
  assert.deepEqual(readFileSync(join(process.env.HF_HUB_CACHE!, 'models--acme--gated-coder', 'snapshots', FAKE_COMMIT, 'gated.gguf')), GATED);
  const hubAuth = hub!.requests.filter((q) => q.server === 'hub').map((q) => q.authorization);
  assert.equal(hubAuth[0], undefined, 'no token before one was set');
  assert.ok(hubAuth.includes(`Bearer ${TOKEN}`));
  assert.ok(hub!.requests.filter((q) => q.server === 'cdn').every((q) => q.authorization === undefined), 'the CDN never gets the token');
  assert.ok(!readFileSync(join(session!.server.userDataDir, 'User', 'settings.json'), 'utf8').includes(TOKEN), 'not in settings');
  assert.ok(!limelightLog(session).includes(TOKEN), 'not in the log');
  assert.ok(!readTree(session!.server.userDataDir, '.json').includes(TOKEN), 'not in any JSON file of the profile');
});
