// The attention inspector in a real VS Code (code-server, the packaged .vsix): with code
// selected, "Limelight: Inspect Attention" opens the inspector panel, whose page loads under
// its Content-Security-Policy and reports its state. A screenshot goes to test-results/.
// The engine worker computes the inspection on a tiny model the test writes, so the panel
// shows the selection's tokens and draws the head view.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, openE2eSession, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { openFile } from '../../tools/e2e/workbench';
import { writeEchoModel } from '../harness/echoModel';

const results = resultsDir();
let session: E2eSession | undefined;

before(async () => {
  session = await openE2eSession({
    workspace: sampleWorkspace,
    prepare: (tmp) => ({ settings: { 'limelight.model.path': writeEchoModel(join(tmp, 'echo-model')), 'limelight.backend': 'js', 'limelight.threads': 1 } }),
  });
});

after(() => closeE2eSession(session));

/** Runs a palette command without clicking first (runCommand's click would drop the selection). */
async function runCommandKeepingSelection(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

test('Inspect Attention on a selection opens the inspector panel', async () => {
  const page = sessionPage(session);
  await page.locator('.statusbar-item[aria-label*="engine: echo-model on js"]').waitFor({ timeout: 60_000 });
  await openFile(page, 'stack.ts');
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await runCommandKeepingSelection(page, 'Limelight: Inspect Attention');
  await page.locator('.tabs-container .tab', { hasText: 'Limelight: Attention' }).waitFor({ timeout: 20_000 });
  // VS Code hosts a webview in an iframe that holds the page's own iframe.
  const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await view.locator('[role=tablist] [role=tab]').first().waitFor({ timeout: 20_000 });
  // The host says ready only after it has sent the inspection's every layer.
  await view.locator('.status', { hasText: /: ready\./ }).waitFor({ timeout: 60_000 });
  await view.locator('canvas').first().waitFor({ timeout: 20_000 });
  await page.screenshot({ path: join(results, 'e2e-inspector.png') });
  // Running the command again reveals the same panel instead of opening a second one.
  await runCommandKeepingSelection(page, 'Limelight: Inspect Attention');
  assert.equal(await page.locator('.tabs-container .tab', { hasText: 'Limelight: Attention' }).count(), 1);
});
