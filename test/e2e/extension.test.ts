// Limelight in a real VS Code (code-server 4.100.3 in headless Chromium), installed from
// the packaged .vsix: it activates, shows its status bar item, and answers commands run
// from the command palette. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagedVsix, repoRoot, resultsDir } from '../../tools/e2e/paths';
import { startCodeServer, type RunningCodeServer } from '../../tools/e2e/server';
import { notification, openFile, openWorkbench, requireChromium, runCommand, statusBarItem, type Workbench } from '../../tools/e2e/workbench';

const results = resultsDir();
let tmp: string | undefined;
let server: RunningCodeServer | undefined;
let wb: Workbench | undefined;

before(async () => {
  requireChromium();
  const vsix = packagedVsix();
  tmp = mkdtempSync(join(tmpdir(), 'limelight-e2e-'));
  const workspace = join(tmp, 'sample-workspace');
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  server = await startCodeServer({ profileDir: join(tmp, 'profile'), workspace, vsix });
  wb = await openWorkbench(server.url, join(tmp, 'browser'));
});

after(async () => {
  await wb?.close();
  await server?.stop();
  if (server) cpSync(server.logPath, join(results, 'code-server.log'));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function page() {
  assert.ok(wb, 'the workbench did not open');
  return wb.page;
}

test('the extension activates and shows its status bar item', async () => {
  const item = statusBarItem(page(), 'Limelight');
  await item.waitFor({ timeout: 30_000 });
  assert.match((await item.getAttribute('aria-label')) ?? '', /engine: not loaded/);
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
  const userSettings = JSON.parse(readFileSync(join(server!.userDataDir, 'User', 'settings.json'), 'utf8'));
  assert.equal(userSettings['limelight.completions.enabled'], false);
});

test('clicking the status bar item opens the Limelight menu', async () => {
  await statusBarItem(page(), 'Limelight').click();
  await page().locator('.quick-input-title', { hasText: 'completions off, engine: not loaded' }).waitFor({ timeout: 10_000 });
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Turn completions on' }).waitFor({ timeout: 10_000 });
  await page().screenshot({ path: join(results, 'e2e-status-menu.png') });
  await page().keyboard.press('Escape');
});
