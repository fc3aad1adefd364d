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
    { label: '$(server-process) Choose backend…', run: chooseBackend },
    { label: '$(beaker) Fine-tune on workspace…', run: () => vscode.commands.executeCommand('limelight.fineTuneWorkspace') },
    { label: '$(eye) Inspect attention', run: () => vscode.commands.executeCommand('limelight.inspectAttention') },
    { label: '$(gear) Open settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'limelight') },
    { label: '$(output) Show log', run: async () => showLog() },
  ];
  const title = `Limelight: completions ${state.completionsEnabled ? 'on' : 'off'}, ${describeEngine(state.engine)}`;
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose an action' });
  await picked?.run();
}

const BACKENDS: { label: string; value: string; detail: string }[] = [
  { label: 'auto', value: 'auto', detail: 'The fastest backend that works on this machine' },
  { label: 'js', value: 'js', detail: "Limelight's own kernels in worker threads" },
  { label: 'ort-cpu', value: 'ort-cpu', detail: 'ONNX Runtime on the CPU' },
  { label: 'ort-webgpu', value: 'ort-webgpu', detail: 'ONNX Runtime on the GPU through WebGPU, where available' },
  { label: 'remote', value: 'remote', detail: "A team's inference server (limelight.remote.endpoint, .api, .model in user settings)" },
];

/** Sets limelight.backend in the user settings; the engine reloads the model on it. */
async function chooseBackend(): Promise<void> {
  const config = vscode.workspace.getConfiguration('limelight');
  const current = config.get<string>('backend') ?? 'auto';
  const picked = await vscode.window.showQuickPick(
    BACKENDS.map((b) => ({ ...b, description: b.value === current ? 'current' : undefined })),
    { title: 'Limelight: backend', placeHolder: 'Which backend runs the model' },
  );
  if (picked && picked.value !== current) await config.update('backend', picked.value, vscode.ConfigurationTarget.Global);
}
