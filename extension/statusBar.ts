// The "Limelight" status bar item: whether completions are on and what the engine is
// doing. Clicking it opens the limelight.showStatus menu.
import * as vscode from 'vscode';

/**
 * What the status bar says about the engine. The engine client (not in this build yet)
 * reports these; until it lands the engine is honestly "not loaded".
 */
export type EngineStatus =
  | { kind: 'not-loaded' }
  | { kind: 'loading'; model: string }
  | { kind: 'ready'; model: string; backend: string }
  | { kind: 'failed'; message: string };

export interface StatusState {
  completionsEnabled: boolean;
  engine: EngineStatus;
}

export function describeEngine(engine: EngineStatus): string {
  switch (engine.kind) {
    case 'not-loaded':
      return 'engine: not loaded';
    case 'loading':
      return `engine: loading ${engine.model}`;
    case 'ready':
      return `engine: ${engine.model} on ${engine.backend}`;
    case 'failed':
      return `engine: failed (${engine.message})`;
  }
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('limelight.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Limelight';
    this.item.command = 'limelight.showStatus';
  }

  update(state: StatusState): void {
    const icon = state.engine.kind === 'loading' ? '$(loading~spin)' : state.completionsEnabled ? '$(sparkle)' : '$(circle-slash)';
    this.item.text = `${icon} Limelight`;
    const completions = state.completionsEnabled ? 'completions on' : 'completions off';
    this.item.tooltip = `Limelight: ${completions}, ${describeEngine(state.engine)}. Click for options.`;
    this.item.accessibilityInformation = { label: `Limelight, ${completions}, ${describeEngine(state.engine)}` };
    this.item.backgroundColor = state.engine.kind === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
