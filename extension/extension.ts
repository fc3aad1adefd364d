// Limelight's entry point: wires settings, the status bar, the log and the commands, and
// creates the services the features share (the engine worker host, the remote backend) and
// hands them to each feature. Every registration goes into context.subscriptions so
// deactivation disposes it.
import * as vscode from 'vscode';
import { Logger } from './log';
import { isSettingsSchema, readSettings, type LimelightSettings } from './settings';
import { StatusBar, type StatusState } from './statusBar';
import { selectModel } from './commands/selectModel';
import { showStatusMenu } from './commands/showStatus';
import { toggleCompletions } from './commands/toggleCompletions';
import { registerInspector } from './inspector/register';
import { completionTarget } from './inspector/completionTarget';
import { registerCompletions, type Completions } from './completions/register';
import { EngineHost } from './completions/engineHost';
import { RemoteBackend } from './completions/remoteBackend';
import { registerSummarize } from './summarize/register';
import { registerFineTune } from './fineTune/register';
import { registerDownload } from './commands/downloadModel';
import { FirstRun } from './firstRun';

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
  const firstRun = new FirstRun(context.globalState);
  /** Inspect Attention asked for the local model while the backend is remote: run it once that model is loaded. */
  let inspectWhenLoaded = false;
  const engineChanged = (): void => {
    // Called from events only (a load finishing, a key stored), after activate() has run.
    completions.engineChanged();
    statusBar.update(state());
    if (inspectWhenLoaded && engineHost?.status.kind !== 'loading') {
      inspectWhenLoaded = false;
      if (engineHost?.loaded) void vscode.commands.executeCommand('limelight.inspectAttention');
    }
  };
  const host = new EngineHost(context.extensionPath, log, engineChanged, {
    warn: (message, ...actions) => vscode.window.showWarningMessage(message, ...actions),
    openSettings: (id) => void vscode.commands.executeCommand('workbench.action.openSettings', id),
  });
  engineHost = host;
  const remote = new RemoteBackend(context.secrets, log, engineChanged);
  context.subscriptions.push(host, remote);
  const completions: Completions = registerCompletions(context, { host, remote, log, settings: () => settings, changed: () => statusBar.update(state()), noModel: () => firstRun.check(host.status) });
  const state = (): StatusState => ({ completionsEnabled: settings.completions.enabled, engine: completions.engineStatus(), activity: completions.activity() });

  const reload = (): void => {
    const config = vscode.workspace.getConfiguration();
    // Where code is sent comes from the user's own settings only (settings.ts).
    const result = readSettings(schema, (key) => config.get(key), (key) => config.inspect(key)?.globalValue);
    settings = result.settings;
    log.setLevel(settings.logLevel);
    for (const p of result.problems) log.warn(p);
    for (const n of result.notes) log.info(n);
    if (result.problems.length > 0) {
      void vscode.window.showWarningMessage(`Limelight: ${result.problems[0]}${result.problems.length > 1 ? ` (and ${result.problems.length - 1} more in the Limelight log)` : ''}`);
    }
    host.apply(settings);
    remote.apply(settings);
    completions.settingsChanged();
    statusBar.update(state());
  };
  reload();
  void remote.loadKey();

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('limelight')) reload();
    }),
    vscode.commands.registerCommand('limelight.toggleCompletions', toggleCompletions),
    vscode.commands.registerCommand('limelight.showStatus', () => showStatusMenu(state(), () => log.show())),
    vscode.commands.registerCommand('limelight.selectModel', () => selectModel(context, host.starterDir())),
    vscode.commands.registerCommand('limelight.setRemoteApiKey', () => remote.promptForKey()),
  );
  registerInspector(context, {
    engine: () => {
      const client = host.engineClient;
      if (host.loaded && client) return { inspect: (request, signal) => client.inspect(request, signal) };
      if (host.remote && host.status.kind !== 'loading') {
        void offerLocalInspection().then((yes) => {
          if (!yes) return;
          inspectWhenLoaded = true;
          host.useLocalModel();
        });
        return { unavailable: 'Completions come from a remote server, whose attention Limelight cannot see. Inspect Attention runs on the local model: choose "Inspect with the Local Model" in the notification to load it and inspect.' };
      }
      return undefined;
    },
    lastCompletion: () => {
      const last = completions.lastShown();
      return last ? completionTarget(last.record, last.uri) : undefined;
    },
  });
  registerSummarize(context, { host, remote, log, settings: () => settings });
  registerFineTune(context, { host, log, settings: () => settings });
  registerDownload(context);
  log.info(`Limelight ${String((context.extension.packageJSON as { version?: unknown }).version)} activated.`);
}

const INSPECT_LOCALLY = 'Inspect with the Local Model';

/**
 * Inspect Attention reads the attention of the model that runs in the editor; a remote server
 * does not share its own. Resolves to whether the user chose to load the local model and inspect with it.
 */
async function offerLocalInspection(): Promise<boolean> {
  const choice = await vscode.window.showInformationMessage(
    'Limelight: Inspect Attention needs the local engine: completions come from a remote server, whose attention Limelight cannot see. Load the local model (limelight.model.path, or the starter model) and inspect with it?',
    INSPECT_LOCALLY,
  );
  return choice === INSPECT_LOCALLY;
}

export function deactivate(): Promise<void> {
  // Registrations are disposed through context.subscriptions, which VS Code does not await;
  // the engine worker is stopped here so that the host waits for it to free the model.
  const host = engineHost;
  engineHost = undefined;
  return host ? host.shutdown() : Promise.resolve();
}
