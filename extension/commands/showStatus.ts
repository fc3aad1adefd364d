// limelight.showStatus: the quick menu behind the status bar item.
import * as vscode from 'vscode';
import { describeEngine, type StatusState } from '../statusBar';

interface MenuItem extends vscode.QuickPickItem {
  run: () => Thenable<unknown>;
}

export async function showStatusMenu(state: StatusState, showLog: () => void): Promise<void> {
  const items: MenuItem[] = [
    {
      label: state.completionsEnabled ? '$(circle-slash) Turn completions off' : '$(sparkle) Turn completions on',
      run: () => vscode.commands.executeCommand('limelight.toggleCompletions'),
    },
    { label: '$(file-binary) Select model…', run: () => vscode.commands.executeCommand('limelight.selectModel') },
    { label: '$(beaker) Fine-tune on workspace…', run: () => vscode.commands.executeCommand('limelight.fineTuneWorkspace') },
    { label: '$(eye) Inspect attention', run: () => vscode.commands.executeCommand('limelight.inspectAttention') },
    { label: '$(gear) Open settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'limelight') },
    { label: '$(output) Show log', run: async () => showLog() },
  ];
  const title = `Limelight: completions ${state.completionsEnabled ? 'on' : 'off'}, ${describeEngine(state.engine)}`;
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose an action' });
  await picked?.run();
}
