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
  | { kind: 'failed'; message: string }
  /** The remote backend: the server, and the error of the last request when it failed (null once one succeeds). */
  | { kind: 'remote'; server: string; error: string | null };

/** What the completion provider is doing (absent until completions are registered). */
export interface CompletionActivity {
  thinking: boolean;
  lastLatencyMs: number | null;
  tokensPerS: number | null;
}

export interface StatusState {
  completionsEnabled: boolean;
  engine: EngineStatus;
  activity?: CompletionActivity;
}

/** Whether the user should be led to a model: nothing loaded, nothing loading, nothing failed (a failure has its own message). */
export function needsModel(engine: EngineStatus): boolean {
  return engine.kind === 'not-loaded';
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
    case 'remote':
      return `engine: remote, ${engine.server}${engine.error !== null ? ` (last request failed: ${engine.error})` : ''}`;
  }
}

/** "idle, last 120 ms, 45.0 tok/s" (or "thinking", or "off"), '' without activity. */
export function describeActivity(state: StatusState): string {
  const a = state.activity;
  if (!a) return '';
  if (!state.completionsEnabled) return 'off';
  const parts = [a.thinking ? 'thinking' : 'idle'];
  if (a.lastLatencyMs !== null) parts.push(`last ${Math.round(a.lastLatencyMs)} ms`);
  if (a.tokensPerS !== null) parts.push(`${a.tokensPerS.toFixed(1)} tok/s`);
  return parts.join(', ');
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('limelight.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Limelight';
    this.item.command = 'limelight.showStatus';
  }

  update(state: StatusState): void {
    const busy = state.engine.kind === 'loading' || (state.completionsEnabled && state.activity?.thinking === true);
    const icon = busy ? '$(loading~spin)' : state.completionsEnabled ? '$(sparkle)' : '$(circle-slash)';
    const latency = state.completionsEnabled && state.activity?.lastLatencyMs != null ? ` ${Math.round(state.activity.lastLatencyMs)} ms` : '';
    const completions = state.completionsEnabled ? 'completions on' : 'completions off';
    const activity = describeActivity(state);
    const details = `${completions}, ${describeEngine(state.engine)}${activity ? `, ${activity}` : ''}`;
    if (needsModel(state.engine)) {
      // The first run: the item leads to a model until one loads.
      this.item.text = `${icon} Limelight: Select Model`;
      this.item.command = 'limelight.selectModel';
      this.item.tooltip = 'Limelight has no model yet. Click to pick one already on this machine or to download one.';
    } else {
      this.item.text = `${icon} Limelight${latency}`;
      this.item.command = 'limelight.showStatus';
      this.item.tooltip = `Limelight: ${details}. Click for options.`;
    }
    this.item.accessibilityInformation = { label: `Limelight, ${details}` };
    const failed = state.engine.kind === 'failed' || (state.engine.kind === 'remote' && state.engine.error !== null);
    this.item.backgroundColor = failed ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
