// limelight.toggleCompletions: flips limelight.completions.enabled where it is set
// (workspace folder, workspace or user settings), so the toggle always takes effect.
import * as vscode from 'vscode';

const KEY = 'completions.enabled';

export async function toggleCompletions(): Promise<void> {
  const config = vscode.workspace.getConfiguration('limelight');
  const inspected = config.inspect<boolean>(KEY);
  // Anything but an explicit false reads as on (the default), as in settings.ts.
  const next = config.get(KEY) === false;
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update(KEY, next, target);
  void vscode.window.showInformationMessage(`Limelight completions are now ${next ? 'on' : 'off'}.`);
}
