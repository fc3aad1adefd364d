// Inline completions in the extension: the completion session on the engine (the local model
// in the engine worker, or a remote server: one session, one pipeline, either engine), the
// provider for every language, the context ring fed by the editors the user visits, the log
// line per request, the status-bar activity and "Limelight: Explain Last Completion".
// extension.ts creates the engine host and the remote backend, calls registerCompletions once,
// engineChanged() when either changes and settingsChanged() after each settings read.
import * as vscode from 'vscode';
import { ContextRing } from '../../engine/complete/contextRing';
import { decodeRate, explainMarkdown, formatRecordLine } from '../../engine/complete/explain';
import { CompletionSession, type CompletionOptions, type CompletionRecord } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { WorkerEngine } from '../../engine/worker/workerEngine';
import { WorkerPrompter } from '../../engine/worker/workerPrompter';
import { estimatedTemplate, RemoteEngine, REMOTE_SESSION_OPTIONS } from '../../engine/remote/remoteEngine';
import type { Logger } from '../log';
import { completionsEnabledFor, type LimelightSettings } from '../settings';
import { needsModel, type CompletionActivity, type EngineStatus } from '../statusBar';
import type { EngineHost } from './engineHost';
import { completionOptions } from './options';
import { completionDocument, LimelightInlineProvider } from './provider';
import type { RemoteBackend } from './remoteBackend';

export interface CompletionsDeps {
  /** The engine worker host, shared with the other features. */
  host: EngineHost;
  remote: RemoteBackend;
  log: Logger;
  settings: () => LimelightSettings;
  /** The engine's state or the completion activity changed: redraw the status bar. */
  changed: () => void;
  /** A completion was asked for and there is no model at all: lead the user to one (firstRun.ts). */
  noModel: () => void;
}

/** The last suggestion shown, and the document it was shown in. */
export interface LastShown {
  record: CompletionRecord;
  uri: vscode.Uri;
}

export interface Completions {
  /** The engine the completions use: the local model's state, or the remote server's. */
  engineStatus(): EngineStatus;
  activity(): CompletionActivity;
  /** The last suggestion shown, for the attention inspector. */
  lastShown(): LastShown | null;
  /** Applies the current settings to the session (the host and the remote backend apply them first). */
  settingsChanged(): void;
  /** The local model or the remote client changed: a new session on it. */
  engineChanged(): void;
}

const EXPLAIN_SCHEME = 'limelight-explain';
const EXPLAIN_URI = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: '/Last Completion.md' });
/** Quiet time after a cursor jump before the cache is warmed at the new place. */
const WARM_AFTER_MS = 400;

export function registerCompletions(context: vscode.ExtensionContext, deps: CompletionsDeps): Completions {
  const { log, host, remote } = deps;
  const ring = new ContextRing();
  let session: CompletionSession | null = null;
  let sessionFor: unknown = null; // the LoadResult or RemoteClient the session was made for
  let inFlight = 0;
  let lastLatencyMs: number | null = null;
  let tokensPerS: number | null = null;
  let warnedEncoding = false;
  let lastShown: LastShown | null = null;

  function refreshSession(): void {
    if (remote.active) {
      const client = remote.current;
      if (client === sessionFor) return;
      session?.cancelPending();
      session = null;
      sessionFor = client;
      if (client === null) return;
      log.info(`Completions use ${client.description}: ${estimatedTemplate(client).name}.`);
      startSession(new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), remoteSessionOptions(deps.settings()), ring));
      return;
    }
    const info = host.loaded;
    const client = host.engineClient;
    if (info === sessionFor) return;
    session?.cancelPending();
    session = null;
    sessionFor = info;
    if (info === null || client === null) return;
    if (info.fim === null) {
      if (!warnedEncoding) log.warn(`Completions are off: ${info.modelDir} has no fill-in-the-middle tokens, so it cannot complete between the code before and after the cursor. Summarize Selection and Inspect Attention still work; for completions choose a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama).`);
      warnedEncoding = true;
      return;
    }
    log.info(`Completions use the model's FIM layout: ${info.fim}.`);
    // The prompts are built in the engine worker, where the model's tokenizer is.
    startSession(new CompletionSession(new WorkerPrompter(client, info.fimStopIds), new WorkerEngine(client, host.busy), completionOptions(deps.settings(), info.contextLength), ring));
  }

  function remoteSessionOptions(s: LimelightSettings): Partial<CompletionOptions> {
    return { ...completionOptions(s, s.maxContextTokens), ...REMOTE_SESSION_OPTIONS };
  }

  /** The session's options from the settings, for the engine in use (null while no model is loaded). */
  function sessionOptions(s: LimelightSettings): Partial<CompletionOptions> | null {
    if (remote.active) return remoteSessionOptions(s);
    const info = host.loaded;
    return info ? completionOptions(s, info.contextLength) : null;
  }

  function startSession(s: CompletionSession): void {
    session = s;
    const remoteSession = remote.active;
    s.onRecord((r) => {
      const line = formatRecordLine(r);
      // A failing server is told once per streak (RemoteBackend.failed); each line goes to debug.
      if (r.outcome === 'skipped' || r.outcome === 'debounced' || (remoteSession && (r.outcome === 'error' || r.outcome === 'timed-out'))) log.debug(line);
      else if (r.outcome === 'error') log.warn(line);
      else log.info(line);
      if (remoteSession) {
        // A server that sends nothing within the budget is as good as down for the user (behind
        // VS Code's proxy support, an unreachable host ends this way rather than in an error).
        if (r.outcome === 'error') remote.failed(r.reason);
        else if (r.outcome === 'timed-out' && r.timings?.new_tokens === 0) remote.failed(`no answer within the time budget (${r.reason}): the server is slow or unreachable; for a distant server raise limelight.completions.singleLineMaxMs and multiLineMaxMs`);
        else if ((r.timings?.new_tokens ?? 0) > 0) remote.succeeded();
      }
      if (r.outcome === 'shown' || r.outcome === 'typed-through') {
        const uri = vscode.window.activeTextEditor?.document.uri;
        if (r.outcome === 'shown' && uri) lastShown = { record: r, uri };
        lastLatencyMs = r.latencyMs;
        tokensPerS = decodeRate(r) ?? tokensPerS;
        deps.changed();
      }
    });
  }

  const provider = new LimelightInlineProvider({
    session: () => session,
    settings: deps.settings,
    busy: (delta) => {
      inFlight += delta;
      if (inFlight <= 1) deps.changed(); // 0 -> 1 and 1 -> 0 change the state
    },
    notReady: (invoked) => {
      if (!remote.active && needsModel(host.status)) deps.noModel();
      if (!invoked) return;
      const s = remote.active ? remote.status() : host.status;
      const why = s.kind === 'remote' ? 'the remote server is not ready' : remote.active && s.kind === 'failed' ? `the remote backend is off (${s.message})` : s.kind === 'loading' ? 'the model is still loading' : s.kind === 'failed' ? `the model failed to load (${s.message})` : session === null && host.loaded ? 'the model has no fill-in-the-middle tokens (choose a code model with FIM)' : 'no model is chosen yet (click Limelight in the status bar to pick one)';
      vscode.window.setStatusBarMessage(`Limelight: no completion, ${why}.`, 5000);
    },
  });

  // Context chunks: the place the user leaves in a file is noted when they switch editors;
  // the cache is warmed where they arrive and where they click (never over a pending request).
  let active = vscode.window.activeTextEditor;
  let warmTimer: NodeJS.Timeout | undefined;
  const noteEditor = (e: vscode.TextEditor | undefined): void => {
    if (!e || e.document.uri.scheme === EXPLAIN_SCHEME) return;
    const doc = completionDocument(e.document, e.selection.active);
    ring.note(doc.path || `untitled.${doc.languageId}`, doc.text, doc.offset);
  };
  const warmSoon = (e: vscode.TextEditor | undefined): void => {
    clearTimeout(warmTimer);
    if (!e || !session || e.document.uri.scheme === EXPLAIN_SCHEME || !completionsEnabledFor(deps.settings(), e.document.languageId)) return;
    warmTimer = setTimeout(() => {
      if (session && vscode.window.activeTextEditor === e) void session.warm(completionDocument(e.document, e.selection.active));
    }, WARM_AFTER_MS);
  };

  const explainChanged = new vscode.EventEmitter<vscode.Uri>();
  context.subscriptions.push(
    explainChanged,
    { dispose: () => clearTimeout(warmTimer) },
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }], provider),
    vscode.window.onDidChangeActiveTextEditor((e) => {
      noteEditor(active);
      active = e;
      warmSoon(e);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      // Typing moves the cursor with kind Keyboard too: only a click is surely a jump.
      if (e.kind === vscode.TextEditorSelectionChangeKind.Mouse) warmSoon(e.textEditor);
    }),
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, {
      onDidChange: explainChanged.event,
      provideTextDocumentContent: () => explainMarkdown(session?.last ?? null),
    }),
    vscode.commands.registerCommand('limelight.explainLastCompletion', async () => {
      explainChanged.fire(EXPLAIN_URI);
      const doc = await vscode.workspace.openTextDocument(EXPLAIN_URI);
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }),
  );
  for (const e of vscode.window.visibleTextEditors) if (e !== active) noteEditor(e);

  return {
    engineStatus: () => (remote.active ? remote.status() : host.status),
    lastShown: () => lastShown,
    activity: () => ({ thinking: inFlight > 0, lastLatencyMs, tokensPerS }),
    settingsChanged: () => {
      const s = deps.settings();
      refreshSession();
      const options = sessionOptions(s);
      if (session && options !== null) session.setOptions(options);
      if (!s.completions.enabled) session?.cancelPending();
    },
    engineChanged: refreshSession,
  };
}
