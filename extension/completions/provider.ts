// The inline completion provider: turns VS Code's request into a CompletionSession request
// and the session's answer into ghost text. Every decision (ask or not, what to show) is the
// session's; this file only translates, honours the on/off settings and wires VS Code's
// cancellation token to the engine.
import * as vscode from 'vscode';
import type { CompletionDocument } from '../../engine/complete/prompt';
import type { CompletionSession } from '../../engine/complete/session';
import { completionsEnabledFor, type LimelightSettings } from '../settings';

/** The document as the pipeline sees it: workspace-relative path, text and cursor offset. */
export function completionDocument(document: vscode.TextDocument, position: vscode.Position): CompletionDocument {
  const path = document.uri.scheme === 'untitled' ? '' : vscode.workspace.asRelativePath(document.uri, false);
  return { path, languageId: document.languageId, text: document.getText(), offset: document.offsetAt(position) };
}

export interface ProviderDeps {
  session: () => CompletionSession | null;
  settings: () => LimelightSettings;
  /** Called with +1 when a request starts and -1 when it ends (the status bar's "thinking"). */
  busy: (delta: 1 | -1) => void;
  /** A request came while no model is ready (`invoked`: the user asked explicitly, so say why). */
  notReady: (invoked: boolean) => void;
}

export class LimelightInlineProvider implements vscode.InlineCompletionItemProvider {
  constructor(private readonly deps: ProviderDeps) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const invoked = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    if (!completionsEnabledFor(this.deps.settings(), document.languageId)) return undefined;
    if (!invoked && vscode.workspace.getConfiguration('editor', document).get<boolean>('inlineSuggest.enabled') === false) return undefined;
    // While the suggest widget is open its item wins; an automatic ghost text would fight it.
    if (!invoked && context.selectedCompletionInfo !== undefined) return undefined;
    const session = this.deps.session();
    if (session === null) {
      this.deps.notReady(invoked);
      return undefined;
    }
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    this.deps.busy(1);
    try {
      const r = await session.complete(completionDocument(document, position), invoked ? 'invoke' : 'auto', abort.signal);
      if ((r.outcome !== 'shown' && r.outcome !== 'typed-through') || token.isCancellationRequested) return undefined;
      return [new vscode.InlineCompletionItem(r.text, new vscode.Range(position, position))];
    } finally {
      sub.dispose();
      this.deps.busy(-1);
    }
  }
}
