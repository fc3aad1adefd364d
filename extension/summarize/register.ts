// "Limelight: Summarize Selection": the selection (or, with none, the function around the
// cursor) summarized by the loaded model (or, with the remote backend, through the server's
// chat endpoint), streamed into the Summary panel, with "Insert as
// comment" above the code and "Copy". A new request cancels the one before; code longer than
// the context is cut with a notice in the panel.
import * as vscode from 'vscode';
import type { EngineHost } from '../completions/engineHost';
import type { RemoteBackend } from '../completions/remoteBackend';
import type { Logger } from '../log';
import type { LimelightSettings } from '../settings';
import { commentEdit } from './comment';
import { enclosingBlock, INDENT_LANGUAGES, type LineRange } from './enclosing';
import { SummaryPanel } from './panel';
import { remoteSummaryText } from './prompt';

/** New tokens a summary may take: one sentence. */
const MAX_SUMMARY_TOKENS = 80;
const FUNCTION_KINDS = new Set([vscode.SymbolKind.Function, vscode.SymbolKind.Method, vscode.SymbolKind.Constructor, vscode.SymbolKind.Class, vscode.SymbolKind.Interface, vscode.SymbolKind.Enum, vscode.SymbolKind.Struct]);

function innermostSymbol(symbols: readonly vscode.DocumentSymbol[], pos: vscode.Position): vscode.DocumentSymbol | null {
  for (const s of symbols) {
    if (!s.range.contains(pos)) continue;
    const inner = innermostSymbol(s.children, pos);
    if (inner) return inner;
    if (FUNCTION_KINDS.has(s.kind)) return s;
  }
  return null;
}

/** The selected lines, or the function around the cursor (symbols first, then the text heuristic). */
async function codeRange(editor: vscode.TextEditor): Promise<vscode.Range | null> {
  const doc = editor.document;
  if (!editor.selection.isEmpty) return editor.selection;
  const pos = editor.selection.active;
  const symbols = await Promise.resolve(vscode.commands.executeCommand<vscode.DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', doc.uri)).catch(() => undefined);
  const sym = Array.isArray(symbols) && symbols.length > 0 && 'children' in symbols[0]! ? innermostSymbol(symbols, pos) : null;
  if (sym) return new vscode.Range(sym.range.start.line, 0, sym.range.end.line, doc.lineAt(sym.range.end.line).text.length);
  const lines = doc.getText().split(/\r?\n/);
  const block: LineRange | null = enclosingBlock(lines, pos.line, INDENT_LANGUAGES.has(doc.languageId));
  return block ? new vscode.Range(block.start, 0, block.end, lines[block.end]!.length) : null;
}

function firstSentence(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  const m = /^(.+?[.!?])(\s|$)/.exec(t);
  return m ? m[1]! : t;
}

export interface SummarizeDeps {
  host: EngineHost;
  remote: RemoteBackend;
  log: Logger;
  settings: () => LimelightSettings;
}

/** How one summary is generated: streamed text, and the facts for the panel and the log. */
interface SummaryRun {
  /** A notice for the panel ('' when the whole code went in). */
  notice: string;
  /** How the prompt was made, for the log line. */
  describe: string;
  generate(signal: AbortSignal, onText: (delta: string) => void): Promise<{ text: string; stopReason: string; tokens: number }>;
}

export function registerSummarize(context: vscode.ExtensionContext, deps: SummarizeDeps): void {
  const { host, remote, log } = deps;
  let current: AbortController | null = null;

  /** The local model's run for `code` (its prompt built in the engine worker), or a warning saying why there is none. */
  const localRun = async (path: string, code: string): Promise<SummaryRun | string> => {
    const info = host.loaded;
    const client = host.engineClient;
    if (!info || !client) {
      const s = host.status;
      const why = s.kind === 'loading' ? 'the model is still loading; try again in a moment' : s.kind === 'failed' ? `the model failed to load (${s.message})` : 'no model is loaded; set limelight.model.path to a .gguf file or a checkpoint folder';
      return `Limelight cannot summarize: ${why}.`;
    }
    // A context cut short (limelight.kvCacheMemoryMB) still leaves the prompt three quarters of it.
    const maxNewTokens = Math.max(1, Math.min(MAX_SUMMARY_TOKENS, Math.floor(info.contextLength / 4)));
    let prompt;
    try {
      prompt = await client.summaryPrompt({ path, code, maxPromptTokens: Math.max(1, info.contextLength - maxNewTokens) });
    } catch (e) {
      return `Limelight cannot summarize: ${(e as Error).message}`;
    }
    if (prompt.note !== null) log.warn(prompt.note);
    const kept = prompt.keptLines < prompt.totalLines ? `its first ${prompt.keptLines} of ${prompt.totalLines} lines were` : 'its start was';
    const how = { starter: "the starter's template", chat: 'chat template', plain: 'plain-text prompt' }[prompt.kind];
    return {
      notice: prompt.cut ? `The code is longer than the model's context (${info.contextLength} tokens): only ${kept} summarized.` : '',
      describe: `${prompt.ids.length} prompt tokens, ${how}`,
      generate: async (signal, onText) => {
        const r = await client.generate(
          { promptIds: prompt.ids, maxNewTokens, sampling: { temperature: 0 }, stopTokenIds: prompt.stopTokenIds, stopStrings: prompt.stopStrings },
          { signal, onToken: (_id, delta) => onText(delta) },
        );
        return { text: r.text, stopReason: r.stopReason, tokens: r.newIds.length };
      },
    };
  };

  /** The remote server's run: a chat turn through its chat endpoint, streamed. */
  const remoteRun = (code: string): SummaryRun | string => {
    const client = remote.current;
    if (client === null) {
      const s = remote.status();
      return `Limelight cannot summarize: the remote backend is off (${s.kind === 'failed' ? s.message : 'not configured'}).`;
    }
    const settings = client.config;
    const context = Math.max(MAX_SUMMARY_TOKENS * 4, deps.settings().maxContextTokens);
    const prompt = remoteSummaryText(code, context - MAX_SUMMARY_TOKENS);
    const kept = prompt.keptLines < prompt.totalLines ? `its first ${prompt.keptLines} of ${prompt.totalLines} lines were` : 'its start was';
    return {
      notice: prompt.cut ? `The code is longer than limelight.maxContextTokens (${context} tokens, estimated): only ${kept} summarized.` : '',
      describe: `a chat turn to ${client.description}`,
      generate: async (signal, onText) => {
        const r = await client.chat([{ role: 'user', content: prompt.text }], { maxTokens: MAX_SUMMARY_TOKENS, stop: ['\n\n'], maxTimeMs: settings.timeoutMs, signal, onText });
        return { text: r.text, stopReason: r.stopReason, tokens: r.timings.new_tokens };
      },
    };
  };

  const summarize = async (): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Limelight: open a file and select some code, then run Summarize Selection.');
      return;
    }
    const doc = editor.document;
    const path = vscode.workspace.asRelativePath(doc.uri, false);
    const range = await codeRange(editor);
    if (!range || editor.document.getText(range).trim() === '') {
      void vscode.window.showInformationMessage('Limelight: select the code to summarize (the cursor is not inside a function).');
      return;
    }
    const code = doc.getText(range);
    const run = remote.active ? remoteRun(code) : await localRun(path, code);
    if (typeof run === 'string') {
      void vscode.window.showWarningMessage(run);
      return;
    }
    current?.abort();
    const ac = new AbortController();
    current = ac;
    const startLine = range.start.line;
    const name = path.split('/').pop() ?? path;
    const panel = SummaryPanel.createOrShow(context.extensionUri);
    panel.update({ title: `${name}, lines ${startLine + 1}–${range.end.line + 1}`, text: '', notice: run.notice, phase: 'running', error: '' });
    panel.onAction(async (m) => {
      if (m.type === 'cancel') ac.abort();
      else if (m.type === 'copy') {
        await vscode.env.clipboard.writeText(panel.state.text);
        void vscode.window.setStatusBarMessage('Limelight: summary copied.', 3000);
      } else if (m.type === 'insert') {
        const target = await vscode.workspace.openTextDocument(doc.uri);
        const lines = target.getText().split(/\r?\n/);
        const edit = commentEdit(target.languageId, panel.state.text, lines, Math.min(startLine, lines.length - 1));
        const eol = target.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
        const we = new vscode.WorkspaceEdit();
        we.insert(target.uri, new vscode.Position(edit.line, 0), edit.lines.join(eol) + eol);
        await vscode.workspace.applyEdit(we);
        await vscode.window.showTextDocument(target, { viewColumn: editor.viewColumn, preserveFocus: false });
      }
    });
    let text = '';
    try {
      const r = await run.generate(ac.signal, (delta) => {
        if (current !== ac) return;
        text += delta;
        panel.update({ text: text.trimStart() });
      });
      if (current !== ac) return;
      const done = firstSentence(r.text);
      panel.update({ text: done, phase: r.stopReason === 'cancelled' ? 'cancelled' : 'done' });
      log.info(`Summarized ${path} lines ${startLine + 1}-${range.end.line + 1} (${run.describe}): ${r.stopReason}, ${r.tokens} tokens.`);
    } catch (e) {
      if (current !== ac) return;
      const cancelled = ac.signal.aborted;
      panel.update({ phase: cancelled ? 'cancelled' : 'failed', error: (e as Error).message });
      if (!cancelled) log.warn(`Summarize failed: ${(e as Error).message}`);
    } finally {
      if (current === ac) current = null;
    }
  };

  context.subscriptions.push(vscode.commands.registerCommand('limelight.summarizeSelection', summarize), {
    dispose: () => {
      current?.abort();
      SummaryPanel.current?.dispose();
    },
  });
}
