// Limelight in a real VS Code (code-server 4.100.3 in headless Chromium), installed from
// the packaged .vsix: it activates, shows its status bar item, and answers commands run
// from the command palette. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, openE2eSession, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { notification, openFile, runCommand, statusBarItem } from '../../tools/e2e/workbench';

const results = resultsDir();
let session: E2eSession | undefined;

before(async () => {
  session = await openE2eSession({ workspace: sampleWorkspace, logName: 'code-server.log' });
});

after(() => closeE2eSession(session));

const page = (): Page => sessionPage(session);

test('the extension activates; with no model, its status bar item and, once a completion is asked for, one notification lead to a model', async () => {
  const item = statusBarItem(page(), 'Limelight: Select Model');
  await item.waitFor({ timeout: 30_000 });
  assert.match((await item.getAttribute('aria-label')) ?? '', /engine: not loaded/);
  assert.equal(await notification(page(), 'Limelight needs a model to complete code').count(), 0, 'nothing pops up at start-up');
  // Asking for a completion, which no model can give, brings the notification that leads to one.
  await openFile(page(), 'stack.ts');
  await runCommand(page(), 'Trigger Inline Suggestion');
  const lead = notification(page(), 'Limelight needs a model to complete code');
  await lead.waitFor({ timeout: 15_000 });
  await page().screenshot({ path: join(results, 'e2e-first-run.png') });
  await lead.locator('.monaco-button', { hasText: "Don't Show Again" }).click();
  await lead.waitFor({ state: 'hidden', timeout: 10_000 });
});

test('Select Model offers the starter model and a folder picker, and explains a missing starter', async () => {
  await openFile(page(), 'stack.ts');
  await runCommand(page(), 'Limelight: Select Model');
  await page().locator('.quick-input-title', { hasText: 'Limelight: model' }).waitFor({ timeout: 10_000 });
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Choose a checkpoint folder…' }).waitFor({ timeout: 10_000 });
  await page().screenshot({ path: join(results, 'e2e-workbench.png') });
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Bundled starter model' }).click();
  await notification(page(), 'this build has no bundled starter model yet').waitFor({ timeout: 15_000 });
});

test('Toggle Completions turns completions off in the user settings and the status bar', async () => {
  await runCommand(page(), 'Limelight: Toggle Completions');
  await notification(page(), 'Limelight completions are now off').waitFor({ timeout: 15_000 });
  await statusBarItem(page(), 'Limelight').locator('.codicon-circle-slash').waitFor({ timeout: 10_000 });
  const userSettings = JSON.parse(readFileSync(join(session!.server.userDataDir, 'User', 'settings.json'), 'utf8'));
  assert.equal(userSettings['limelight.completions.enabled'], false);
});

test('with no model, clicking the status bar item opens Select Model', async () => {
  await statusBarItem(page(), 'Limelight: Select Model').click();
  await page().locator('.quick-input-title', { hasText: 'Limelight: model' }).waitFor({ timeout: 10_000 });
  await page().keyboard.press('Escape');
});

test('Show Status opens the Limelight menu', async () => {
  await runCommand(page(), 'Limelight: Show Status');
  await page().locator('.quick-input-title', { hasText: 'completions off, engine: not loaded' }).waitFor({ timeout: 10_000 });
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Turn completions on' }).waitFor({ timeout: 10_000 });
  await page().screenshot({ path: join(results, 'e2e-status-menu.png') });
  await page().keyboard.press('Escape');
});
