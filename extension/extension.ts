// Limelight's entry point: wires settings, the status bar, the log and the commands.
// Every registration goes into context.subscriptions so deactivation disposes it.
import * as vscode from 'vscode';
import { Logger } from './log';
import { isSettingsSchema, readSettings, type LimelightSettings } from './settings';
import { StatusBar, type StatusState } from './statusBar';
import { selectModel } from './commands/selectModel';
import { showStatusMenu } from './commands/showStatus';
import { toggleCompletions } from './commands/toggleCompletions';
import { registerInspector } from './inspector/register';
import { completionTarget } from './inspector/completionTarget';
import { registerCompletions } from './completions/register';
import type { EngineHost } from './completions/engineHost';
import { registerSummarize } from './summarize/register';
import { registerFineTune } from './fineTune/register';

/** The engine worker's owner, kept so that deactivate can await its shutdown. */
let engineHost: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = new Logger();
  const statusBar = new StatusBar();
  context.subscriptions.push(log, statusBar);

  const manifest = context.extension.packageJSON as { contributes?: { configuration?: { properties?: unknown } } };
  const schema = manifest.contributes?.configuration?.properties;
  if (!isSettingsSchema(schema)) throw new Error('Limelight: package.json contributes.configuration is malformed; reinstall the extension.');

  let settings: LimelightSettings;
  const completions = registerCompletions(context, { log, settings: () => settings, changed: () => statusBar.update(state()) });
  engineHost = completions.engine;
  const state = (): StatusState => ({ completionsEnabled: settings.completions.enabled, engine: completions.engineStatus(), activity: completions.activity() });

  const reload = (): void => {
    const config = vscode.workspace.getConfiguration();
    const result = readSettings(schema, (key) => config.get(key));
    settings = result.settings;
    log.setLevel(settings.logLevel);
    for (const p of result.problems) log.warn(p);
    for (const n of result.notes) log.info(n);
    if (result.problems.length > 0) {
      void vscode.window.showWarningMessage(`Limelight: ${result.problems[0]}${result.problems.length > 1 ? ` (and ${result.problems.length - 1} more in the Limelight log)` : ''}`);
    }
    completions.settingsChanged();
    statusBar.update(state());
  };
  reload();

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('limelight')) reload();
    }),
    vscode.commands.registerCommand('limelight.toggleCompletions', toggleCompletions),
    vscode.commands.registerCommand('limelight.showStatus', () => showStatusMenu(state(), () => log.show())),
    vscode.commands.registerCommand('limelight.selectModel', () => selectModel(context, completions.engine.starterDir())),
  );
  registerInspector(context, {
    engine: () => {
      const client = completions.engine.engineClient;
      return completions.engine.loaded && client ? { inspect: (request, signal) => client.inspect(request, signal) } : undefined;
    },
    lastCompletion: () => {
      const last = completions.lastShown();
      return last ? completionTarget(last.record, last.uri) : undefined;
    },
  });
  registerSummarize(context, completions.engine, log);
  registerFineTune(context, { host: completions.engine, log, settings: () => settings });
  log.info(`Limelight ${String((context.extension.packageJSON as { version?: unknown }).version)} activated.`);
}

export function deactivate(): Promise<void> {
  // Registrations are disposed through context.subscriptions, which VS Code does not await;
  // the engine worker is stopped here so that the host waits for it to free the model.
  const host = engineHost;
  engineHost = undefined;
  return host ? host.shutdown() : Promise.resolve();
}
