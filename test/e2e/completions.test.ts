// Inline completions in a real VS Code (code-server in headless Chromium), installed from the
// packaged .vsix, on a tiny model the test writes (it writes "foo" over and over): the model
// loads in the engine worker, typing cancels the pending request, ghost text appears, Tab
// inserts it, and Explain Last Completion shows the prompt. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagedVsix, repoRoot, resultsDir } from '../../tools/e2e/paths';
import { startCodeServer, type RunningCodeServer } from '../../tools/e2e/server';
import { openFile, openWorkbench, requireChromium, runCommand, statusBarItem, type Workbench } from '../../tools/e2e/workbench';
import { writeModelFolder } from '../../tools/bench/latency';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { ECHO_MODEL_CONFIG, echoModel } from '../harness/echoModel';

const results = resultsDir();
let tmp: string | undefined;
let server: RunningCodeServer | undefined;
let wb: Workbench | undefined;
let workspace = '';

before(async () => {
  requireChromium();
  const vsix = packagedVsix();
  tmp = mkdtempSync(join(tmpdir(), 'limelight-e2e-completions-'));
  workspace = join(tmp, 'sample-workspace');
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  const modelDir = join(tmp, 'echo-model');
  writeModelFolder(modelDir, ECHO_MODEL_CONFIG, echoModel(getTokenizer('p50k_edit').encode('foo')[0]));
  server = await startCodeServer({
    profileDir: join(tmp, 'profile'),
    workspace,
    vsix,
    settings: {
      'limelight.model.path': modelDir,
      'limelight.backend': 'js',
      'limelight.threads': 1,
      'limelight.logLevel': 'debug',
      // Longer than the 150 ms between keystrokes below (VS Code itself waits ~50 ms), so each keystroke preempts the pending request.
      'limelight.completions.debounceMs': 400,
    },
  });
  wb = await openWorkbench(server.url, join(tmp, 'browser'));
});

after(async () => {
  await wb?.close();
  await server?.stop();
  if (server) cpSync(server.logPath, join(results, 'code-server-completions.log'));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function page() {
  assert.ok(wb, 'the workbench did not open');
  return wb.page;
}

/** The Limelight output channel's log file under the profile's logs folder ('' while none). */
function limelightLog(): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('Limelight.log')) found.push(p);
    }
  };
  const logs = join(server!.userDataDir, 'logs');
  if (existsSync(logs)) walk(logs);
  return found.map((p) => readFileSync(p, 'utf8')).join('\n');
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the model loads in the engine worker and the status bar names it', async () => {
  const item = statusBarItem(page(), 'Limelight');
  await item.waitFor({ timeout: 30_000 });
  await page().locator('.statusbar-item[aria-label*="engine: echo-model on js"]').waitFor({ timeout: 60_000 });
});

test('typing cancels the pending request, the ghost text appears and Tab inserts it', async () => {
  await openFile(page(), 'stack.ts');
  const editor = page().locator('.monaco-editor .view-lines').first();
  await editor.click();
  await page().keyboard.press('Control+End');
  await page().keyboard.press('Enter');
  await page().keyboard.press('Enter');
  await page().keyboard.type('const answer = ', { delay: 150 });
  const ghost = page().locator('.ghost-text-decoration').first();
  await ghost.waitFor({ timeout: 30_000 }).catch((e: Error) => {
    throw new Error(`${e.message}\nThe Limelight log ends with:\n${limelightLog().split('\n').slice(-15).join('\n')}`);
  });
  assert.match((await ghost.textContent()) ?? '', /foo/);
  await page().screenshot({ path: join(results, 'e2e-ghost-text.png') });
  await waitFor('a debounced request in the Limelight log', () => /auto src\/stack\.ts: (debounced|cancelled)/.test(limelightLog()), 15_000);
  assert.match(limelightLog(), /auto src\/stack\.ts: shown, single-line/);

  // Ghost text renders inside the line, so the file on disk tells what Tab inserted.
  await page().keyboard.press('Tab');
  await page().keyboard.press('Control+S');
  const file = join(workspace, 'src', 'stack.ts');
  await waitFor('the accepted suggestion in the saved file', () => /\nconst answer = (foo)+\s*$/.test(readFileSync(file, 'utf8')), 15_000);
});

test('Explain Last Completion shows the prompt, the cache reuse and the outcome', async () => {
  await runCommand(page(), 'Limelight: Explain Last Completion');
  await page().locator('.tabs-container .tab', { hasText: 'Last Completion.md' }).waitFor({ timeout: 15_000 });
  await page().locator('.view-line', { hasText: '# Last completion' }).waitFor({ timeout: 10_000 });
  await page().screenshot({ path: join(results, 'e2e-explain-completion.png') });
});

test('Inspect Attention with nothing selected shows the last completion: its prompt and generated tokens', async () => {
  await openFile(page(), 'stack.ts');
  await page().locator('.monaco-editor .view-lines').first().click();
  await runCommand(page(), 'Limelight: Inspect Attention');
  await page().locator('.tabs-container .tab', { hasText: 'Limelight: Attention' }).waitFor({ timeout: 20_000 });
  const view = page().frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  // The host says ready only after it has sent the inspection's every layer.
  await view.locator('.status', { hasText: /the last completion in stack\.ts \(\d+ generated tokens\): ready\./ }).waitFor({ timeout: 60_000 });
  await view.locator('canvas').first().waitFor({ timeout: 20_000 });
  await page().screenshot({ path: join(results, 'e2e-inspector-completion.png') });
});
