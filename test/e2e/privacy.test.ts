// Privacy in a real VS Code (code-server in headless Chromium, the packaged .vsix), on the
// fine-tune fixture workspace with its planted secrets, with every outbound connection denied:
// tools/e2e/noNetwork.ts is preloaded into code-server and so into the extension host and the
// engine's worker threads, and the browser aborts any request that would leave the machine.
// The whole flow runs (secret-bearing files open, a completion, Explain Last Completion,
// Summarize Selection, Inspect Attention, Fine-tune on Workspace, Export Training Data, the log
// at level debug), then: no outbound attempt came from the extension, every Limelight webview
// carries the CSP, and no planted secret is in the Explain page, the inspector, the export or
// the log. What code-server itself attempted is written to test-results/e2e-network.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { repoRoot, resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, limelightLog, openE2eSession, readTree, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { notification, openFile, runCommand, statusBarItem } from '../../tools/e2e/workbench';
import type { NetRecord } from '../../tools/e2e/noNetwork';
import { writeEchoModel } from '../harness/echoModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';
import { plantedSecretIn } from '../harness/plantedSecrets';
import { cspProblems, documentFacts } from '../harness/webviewCsp';

const results = resultsDir();
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string };
const EXTENSION_DIR = `${manifest.publisher}.${manifest.name}-`;
let session: E2eSession | undefined;
let netLog = '';
let exportDir = '';
const browserRemote: string[] = [];
// webview.cspSource in this code-server (tools/e2e/paths.ts pins its version): the extension's
// files are served under VS Code's resource domain, through the webview's service worker.
const CSP_SOURCE = "'self' https://*.vscode-cdn.net";
/** Nonce of each Limelight webview checked, by title. */
const nonces = new Map<string, string>();

before(async () => {
  session = await openE2eSession({
    workspace: fixtureWorkspace,
    remoteRequests: browserRemote,
    prepare: (tmp) => {
      netLog = join(tmp, 'net.jsonl');
      exportDir = join(tmp, 'export');
      mkdirSync(exportDir);
      return {
        netLog,
        settings: {
          'limelight.model.path': writeEchoModel(join(tmp, 'echo-model')),
          'limelight.backend': 'js',
          'limelight.threads': 1,
          'limelight.logLevel': 'debug',
          'limelight.fineTune.maxMinutes': 1,
          // Whole lines in the DOM, so a secret cannot hide across a wrap in the Explain page.
          '[markdown]': { 'editor.wordWrap': 'off' },
        },
      };
    },
  });
});

after(() => closeE2eSession(session));

const page = (): Page => sessionPage(session);

/** Every line of the active editor, scrolled through a page at a time (the editor renders only what is visible). */
async function activeEditorText(): Promise<string> {
  const lines = new Set<string>();
  const editor = page().locator('.editor-group-container.active .monaco-editor').first();
  await editor.locator('.view-lines').click();
  await page().keyboard.press('Control+Home');
  let unchanged = 0;
  for (let i = 0; i < 100 && unchanged < 2; i++) {
    const before = lines.size;
    for (const t of await editor.locator('.view-line').allInnerTexts()) lines.add(t.replace(/\u00a0/g, ' '));
    unchanged = lines.size === before ? unchanged + 1 : 0;
    await page().keyboard.press('PageDown');
  }
  return [...lines].join('\n');
}

/** The frame of the Limelight webview titled `title`, once its page has loaded. */
async function webviewFrame(title: string): Promise<Frame> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const f of page().frames()) {
      const t = await f.evaluate(() => document.title).catch(() => '');
      if (t === title) return f;
    }
    if (Date.now() > deadline) throw new Error(`no webview titled "${title}" among ${page().frames().length} frames`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function checkCsp(title: string): Promise<void> {
  const facts = await documentFacts(await webviewFrame(title));
  const { problems, nonce } = cspProblems(facts, CSP_SOURCE);
  assert.deepEqual(problems, [], `${title}: ${facts.policies.join(' | ')}`);
  nonces.set(title, nonce!);
}

test('the model loads in the engine worker with the network denied', async () => {
  await page().locator('.statusbar-item[aria-label*="engine: echo-model on js"]').waitFor({ timeout: 120_000 });
});

test('with secret-bearing files open, a completion, its Explain page and the inspector hold no secret', async () => {
  // A clean file first: its excerpt must reach the prompt, proving the context ring is at work.
  for (const f of ['circle.ts', '.env', 'server.key', 'deploy.ts', 'token.ts', 'aws.py', 'shape.ts']) await openFile(page(), f);
  const editor = page().locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await editor.click();
  await page().keyboard.press('Control+End');
  await page().keyboard.press('Enter');
  await page().keyboard.type('const answer = ', { delay: 50 });
  await page().locator('.ghost-text-decoration').first().waitFor({ timeout: 30_000 });
  await page().keyboard.press('Escape');

  await runCommand(page(), 'Limelight: Explain Last Completion');
  await page().locator('.tabs-container .tab', { hasText: 'Last Completion.md' }).waitFor({ timeout: 15_000 });
  await page().locator('.view-line', { hasText: '# Last completion' }).waitFor({ timeout: 10_000 });
  const explain = await activeEditorText();
  writeFileSync(join(results, 'e2e-privacy-explain.md'), explain);
  assert.match(explain, /### Context: src\/circle\.ts/, 'the clean file lent its excerpt');
  assert.doesNotMatch(explain, /### Context: (\.env|config\/|src\/(deploy|token|aws))/);
  assert.equal(plantedSecretIn(explain), null);

  await openFile(page(), 'shape.ts');
  await page().locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await runCommand(page(), 'Limelight: Inspect Attention');
  await page().locator('.tabs-container .tab', { hasText: 'Limelight: Attention' }).waitFor({ timeout: 20_000 });
  const view = page().frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await view.locator('.status', { hasText: /: ready\./ }).waitFor({ timeout: 60_000 });
  await checkCsp('Limelight: Attention');
  const inspected = (await (await webviewFrame('Limelight: Attention')).evaluate(() => document.body.innerText)) ?? '';
  assert.equal(plantedSecretIn(inspected), null);
});

test('Summarize Selection: its panel carries the CSP, with a nonce of its own', async () => {
  await openFile(page(), 'circle.ts');
  await page().locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page().keyboard.press('Control+A');
  await page().keyboard.press('Control+Alt+Shift+S');
  await page().locator('.tabs-container .tab', { hasText: 'Limelight: Summary' }).waitFor({ timeout: 20_000 });
  const frame = await webviewFrame('Limelight: Summary');
  await frame.locator('#status[data-phase="done"]').waitFor({ timeout: 60_000 });
  await checkCsp('Limelight: Summary');
  assert.notEqual(nonces.get('Limelight: Summary'), nonces.get('Limelight: Attention'));
});

test('Fine-tune on Workspace runs to the end with the network denied', async () => {
  await runCommand(page(), 'Limelight: Fine-tune on Workspace');
  const dialog = page().locator('.monaco-dialog-box');
  await dialog.locator('text=/Fine-tune on \\d+ files/').waitFor({ timeout: 30_000 });
  await dialog.locator('a.monaco-button, button', { hasText: 'Start Fine-tuning' }).first().click();
  await notification(page(), 'Limelight: fine-tuned.').waitFor({ timeout: 240_000 });
  // The engine reloads with the result: a LoRA adapter, or a whole fine-tuned model.
  await page().locator('[aria-label*="workspace adapter"], [aria-label*="workspace fine-tune"]').first().waitFor({ timeout: 180_000 });
  await statusBarItem(page(), 'Limelight').waitFor();
});

test('Export Training Data writes JSONL without a planted secret', async () => {
  await runCommand(page(), 'Limelight: Export Training Data');
  // code-server's folder picker is a quick input that takes a path.
  const input = page().locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  // It opens on a folder and writes that folder's path into the box: type over it only then.
  for (const end = Date.now() + 15_000; !(await input.inputValue()).endsWith('/') && Date.now() < end; ) await new Promise((r) => setTimeout(r, 200));
  // It may still rewrite the box while listing that folder: type until the path holds.
  for (let i = 0; i < 5 && (await input.inputValue()) !== exportDir; i++) {
    await input.fill(exportDir);
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(await input.inputValue(), exportDir);
  await page().keyboard.press('Enter');
  const done = notification(page(), /training and \d+ held-out files exported/);
  await done.waitFor({ timeout: 60_000 }).catch(async (e: Error) => {
    await page().screenshot({ path: join(results, 'e2e-privacy-export-failed.png') });
    throw e;
  });
  const said = (await done.textContent()) ?? '';
  assert.ok(said.includes(`exported to ${exportDir}.`), `the export went elsewhere: ${said.slice(0, 300)}`);
  const exported = readTree(exportDir, '.jsonl');
  assert.match(exported, /Anything with an area/);
  assert.equal(plantedSecretIn(exported), null);
});

test('the Limelight log at level debug holds no planted secret', () => {
  const log = limelightLog(session);
  writeFileSync(join(results, 'e2e-privacy-limelight.log'), log);
  assert.match(log, /\[debug\]/);
  assert.match(log, /Fine-tune[^:\n]*: \d+ files/);
  assert.equal(plantedSecretIn(log), null);
});

test('no outbound connection was attempted by the extension (code-server\'s own attempts are reported)', () => {
  const records = readFileSync(netLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as NetRecord);
  const hostPid = records.find((r) => r.kind === 'loaded' && r.threadId === 0 && r.argv.includes('--type=extensionHost'))?.pid;
  assert.ok(hostPid !== undefined, 'the guard was loaded into the extension host');
  const hostThreads = new Set(records.filter((r) => r.kind === 'loaded' && r.pid === hostPid).map((r) => r.threadId));
  assert.ok([...hostThreads].some((t) => t !== 0), 'the guard was loaded into the engine worker threads');
  const denied = records.filter((r) => r.kind === 'denied');
  writeFileSync(join(results, 'e2e-network.json'), JSON.stringify({ loaded: records.length - denied.length, extensionHostThreads: hostThreads.size, denied, browser: browserRemote }, null, 2) + '\n');
  if (denied.length > 0 || browserRemote.length > 0) console.log(`code-server and the browser attempted (denied): ${[...new Set([...denied.map((r) => `${r.api} ${r.target}`), ...browserRemote])].join(', ')}`);
  const ours = denied.filter((r) => (r.stack ?? '').includes(EXTENSION_DIR) || (r.pid === hostPid && r.threadId !== 0));
  assert.deepEqual(ours, [], 'outbound attempts from Limelight');
  assert.ok(!browserRemote.some((u) => u.includes('vscode-resource') || u.includes('vscode-webview')), `a webview asked for ${browserRemote.join(', ')}`);
});
