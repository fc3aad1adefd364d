// Workspace trust in a real VS Code (code-server with trust on, the packaged .vsix): the fixture
// workspace's own settings name another model folder (limelight.model.path, a restricted
// setting). Opened in Restricted Mode, Limelight loads the user's model and ignores the
// workspace's, and Fine-tune on Workspace and Export Training Data are refused with an
// explanation. Once the folder is trusted, the workspace's model is loaded: the setting was
// read all along and held back only by the missing trust.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagedVsix } from '../../tools/e2e/paths';
import { startCodeServer, type RunningCodeServer } from '../../tools/e2e/server';
import { notification, openWorkbench, requireChromium, runCommand, type Workbench } from '../../tools/e2e/workbench';
import { writeModelFolder } from '../../tools/bench/latency';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { ECHO_MODEL_CONFIG, echoModel } from '../harness/echoModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

let tmp: string | undefined;
let server: RunningCodeServer | undefined;
let wb: Workbench | undefined;

before(async () => {
  requireChromium();
  const vsix = packagedVsix();
  const workspace = fixtureWorkspace();
  tmp = join(workspace, '..');
  const model = echoModel(getTokenizer('p50k_edit').encode('foo')[0]);
  const userModel = join(tmp, 'user-model');
  const workspaceModel = join(tmp, 'workspace-model');
  writeModelFolder(userModel, ECHO_MODEL_CONFIG, model);
  writeModelFolder(workspaceModel, ECHO_MODEL_CONFIG, model);
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.exclude': { '**/tmp': true }, 'limelight.model.path': workspaceModel }, null, 2));
  server = await startCodeServer({
    profileDir: join(tmp, 'profile'),
    workspace,
    vsix,
    workspaceTrust: true,
    settings: { 'limelight.model.path': userModel, 'limelight.backend': 'js', 'limelight.threads': 1, 'limelight.logLevel': 'debug' },
  });
  wb = await openWorkbench(server.url, join(tmp, 'browser'));
});

after(async () => {
  await wb?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function page() {
  assert.ok(wb, 'the workbench did not open');
  return wb.page;
}

function limelightLog(): string {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('Limelight.log') ? [readFileSync(join(dir, n), 'utf8')] : []));
  const logs = join(server!.userDataDir, 'logs');
  return existsSync(logs) ? walk(logs).join('\n') : '';
}

test('in Restricted Mode the workspace cannot pick the model: the user\'s loads', async () => {
  const dialog = page().locator('.monaco-dialog-box');
  await dialog.locator('text=/Do you trust the authors/').waitFor({ timeout: 30_000 });
  await dialog.locator('a.monaco-button, button', { hasText: "No, I don't trust the authors" }).first().click();
  await page().locator('.statusbar-item[aria-label*="engine: user-model on js"]').waitFor({ timeout: 60_000 });
  assert.doesNotMatch(limelightLog(), /workspace-model/);
});

test('in Restricted Mode Fine-tune on Workspace and Export Training Data are refused, saying why', async () => {
  await runCommand(page(), 'Limelight: Fine-tune on Workspace');
  await notification(page(), /Fine-tune on Workspace is disabled in Restricted Mode.*trust the workspace first/).waitFor({ timeout: 15_000 });
  await page().keyboard.press('Escape');
  await runCommand(page(), 'Limelight: Export Training Data');
  await notification(page(), /disabled in Restricted Mode/).first().waitFor({ timeout: 15_000 });
  assert.equal(await page().locator('.monaco-dialog-box').count(), 0, 'no fine-tune confirmation was shown');
});

test('once the folder is trusted, the workspace\'s model setting applies', async () => {
  await runCommand(page(), 'Workspaces: Manage Workspace Trust');
  await page().locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first().click();
  await page().locator('.statusbar-item[aria-label*="engine: workspace-model on js"]').waitFor({ timeout: 60_000 });
});
