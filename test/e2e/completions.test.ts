// Inline completions in a real VS Code (code-server in headless Chromium), installed from the
// packaged .vsix, on a tiny model the test writes (it writes "foo" over and over): the model
// loads in the engine worker, typing cancels the pending request, ghost text appears, Tab
// inserts it, and Explain Last Completion shows the prompt. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, limelightLog, openE2eSession, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { openFile, runCommand, statusBarItem } from '../../tools/e2e/workbench';
import { writeEchoModel } from '../harness/echoModel';

const results = resultsDir();
let session: E2eSession | undefined;

before(async () => {
  session = await openE2eSession({
    workspace: sampleWorkspace,
    logName: 'code-server-completions.log',
    prepare: (tmp) => ({
      settings: {
        'limelight.model.path': writeEchoModel(join(tmp, 'echo-model')),
        'limelight.backend': 'js',
        'limelight.threads': 1,
        'limelight.logLevel': 'debug',
        // Longer than the 150 ms between keystrokes below (VS Code itself waits ~50 ms), so each keystroke preempts the pending request.
        'limelight.completions.debounceMs': 400,
      },
    }),
  });
});

after(() => closeE2eSession(session));

const page = (): Page => sessionPage(session);

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
    throw new Error(`${e.message}\nThe Limelight log ends with:\n${limelightLog(session).split('\n').slice(-15).join('\n')}`);
  });
  assert.match((await ghost.textContent()) ?? '', /foo/);
  await page().screenshot({ path: join(results, 'e2e-ghost-text.png') });
  await waitFor('a debounced request in the Limelight log', () => /auto src\/stack\.ts: (debounced|cancelled)/.test(limelightLog(session)), 15_000);
  assert.match(limelightLog(session), /auto src\/stack\.ts: shown, single-line/);

  // Ghost text renders inside the line, so the file on disk tells what Tab inserted.
  await page().keyboard.press('Tab');
  await page().keyboard.press('Control+S');
  const file = join(session!.workspace, 'src', 'stack.ts');
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
