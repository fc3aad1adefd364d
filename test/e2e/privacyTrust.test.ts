// Workspace trust in a real VS Code (code-server with trust on, the packaged .vsix): the fixture
// workspace's own settings name another model folder (limelight.model.path, a restricted
// setting). Opened in Restricted Mode, Limelight loads the user's model and ignores the
// workspace's, and Fine-tune on Workspace and Export Training Data are refused with an
// explanation. Once the folder is trusted, the workspace's model is loaded: the setting was
// read all along and held back only by the missing trust.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { closeE2eSession, limelightLog, openE2eSession, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { notification, runCommand } from '../../tools/e2e/workbench';
import { writeEchoModel } from '../harness/echoModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

let session: E2eSession | undefined;

before(async () => {
  session = await openE2eSession({
    workspace: fixtureWorkspace,
    prepare: (tmp, workspace) => {
      const userModel = writeEchoModel(join(tmp, 'user-model'));
      const workspaceModel = writeEchoModel(join(tmp, 'workspace-model'));
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'files.exclude': { '**/tmp': true }, 'limelight.model.path': workspaceModel }, null, 2));
      return {
        workspaceTrust: true,
        settings: { 'limelight.model.path': userModel, 'limelight.backend': 'js', 'limelight.threads': 1, 'limelight.logLevel': 'debug' },
      };
    },
  });
});

after(() => closeE2eSession(session));

const page = (): Page => sessionPage(session);

test('in Restricted Mode the workspace cannot pick the model: the user\'s loads', async () => {
  const dialog = page().locator('.monaco-dialog-box');
  await dialog.locator('text=/Do you trust the authors/').waitFor({ timeout: 30_000 });
  await dialog.locator('a.monaco-button, button', { hasText: "No, I don't trust the authors" }).first().click();
  await page().locator('.statusbar-item[aria-label*="engine: user-model on js"]').waitFor({ timeout: 60_000 });
  assert.doesNotMatch(limelightLog(session), /workspace-model/);
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
