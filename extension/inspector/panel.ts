// The attention inspector panel (webview-sample style): one panel, revealed if already open;
// the engine worker computes the inspection (the extension host never runs a kernel) and the
// panel forwards it to the webview once, metadata first and then one message per layer.
// Tokens hovered or clicked in the panel are highlighted in the editor, and an editor
// selection highlights its tokens in the panel.
import * as vscode from 'vscode';
import { newNonce } from '../webviewCsp';
import type { InspectRequest, ResultOf } from '../../engine/worker/protocol';

type InspectQuery = Omit<InspectRequest, 'type'>;
type InspectionWire = ResultOf['inspect'];
import { docRangeTokens, tokenDocRange } from '../../engine/inspect/tokens';
import { isWebviewToHost, type HostToWebview, type InspectorPersistedState, type InspectorSource, type WebviewToHost } from '../../media/src/shared/inspectorProtocol';
import { inspectorHtml } from './html';

/** What the inspector needs from the engine: the worker's `inspect` request. */
export interface InspectorEngine {
  inspect(request: InspectQuery, signal: AbortSignal): Promise<InspectionWire>;
}

/** Tokens to inspect, as the command finds them (the last completion or a selection). */
export interface InspectTarget {
  label: string;
  documentUri: vscode.Uri | null;
  /** Prompt (and generated) ids; or text, which the worker tokenizes. */
  ids?: number[];
  text?: string;
  promptLength?: number;
  /** Where the decoded text sits in the document: exact segments, or text the engine finds. */
  segments?: InspectorSource['segments'];
  spans?: { text: string; docOffset: number }[];
}

export interface InspectorDeps {
  /** The engine client; else why there is none (no model loaded yet, or completions from a remote server). */
  engine?: () => InspectorEngine | { unavailable: string } | undefined;
  /** The last completion's real prompt and generated tokens, if there was one. */
  lastCompletion?: () => InspectTarget | undefined;
}

export const INSPECTOR_VIEW_TYPE = 'limelight.inspector';

export class InspectorPanel {
  static current: InspectorPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private wire: InspectionWire | null = null;
  private source: InspectorSource | null = null;
  private ranges: Int32Array = new Int32Array(0);
  private request = 0;
  /** Cancels the inspection in flight: a newer one replaces it, or the panel closes. */
  private pending: AbortController | null = null;
  /** The page has posted 'ready' since it was last (re)loaded; earlier messages would be lost. */
  private ready = false;
  private status: HostToWebview | null = null;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('focusBorder'),
  });

  static createOrShow(extensionUri: vscode.Uri, deps: InspectorDeps): InspectorPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : undefined;
    if (InspectorPanel.current) {
      InspectorPanel.current.panel.reveal(column, true);
      return InspectorPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'Limelight: Attention', { viewColumn: column ?? vscode.ViewColumn.One, preserveFocus: true }, webviewOptions(extensionUri));
    InspectorPanel.current = new InspectorPanel(panel, extensionUri, deps);
    return InspectorPanel.current;
  }

  /** A panel restored after a reload: asks the engine again for the tokens it showed. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, deps: InspectorDeps, state: unknown): void {
    panel.webview.options = webviewOptions(extensionUri);
    const p = new InspectorPanel(panel, extensionUri, deps);
    InspectorPanel.current?.dispose();
    InspectorPanel.current = p;
    const source = isPersistedState(state) ? state.source : null;
    if (source) {
      void p.inspect({ label: source.label, documentUri: source.documentUri ? vscode.Uri.parse(source.documentUri) : null, ids: source.ids, promptLength: source.promptLength, segments: source.segments });
    } else {
      void p.post({ type: 'status', message: 'Run “Limelight: Inspect Attention” with code selected, or after a completion.', busy: false });
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly deps: InspectorDeps,
  ) {
    panel.webview.html = this.html();
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
    this.disposables.push(
      this.decoration,
      panel.onDidDispose(() => this.dispose()),
      // A hidden webview is discarded and reloads when shown; it says 'ready' again then.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (isWebviewToHost(m)) void this.onMessage(m);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)),
    );
  }

  /** Runs the inspection in the engine worker and sends it to the webview. */
  async inspect(target: InspectTarget): Promise<void> {
    const engine = this.deps.engine?.();
    if (!engine || 'unavailable' in engine) {
      await this.post({ type: 'status', message: engine?.unavailable ?? 'The model is not loaded yet, so there is nothing to inspect. Try again once the status bar shows the model as ready.', busy: false });
      return;
    }
    const request = ++this.request;
    this.pending?.abort();
    const pending = new AbortController();
    this.pending = pending;
    await this.post({ type: 'status', message: `Running the model on ${target.label}…`, busy: true });
    try {
      const req: InspectQuery = { segments: target.segments ?? [], spans: target.spans ?? [] };
      if (target.ids) req.ids = target.ids;
      if (target.text !== undefined) req.text = target.text;
      if (target.promptLength !== undefined) req.promptLength = target.promptLength;
      const wire = await engine.inspect(req, pending.signal);
      if (request !== this.request) return; // a newer request took over
      const ids = Array.from(new Int32Array(bufferOf(wire.meta.ids.b64)));
      this.wire = wire;
      this.ranges = new Int32Array(bufferOf(wire.meta.ranges.b64));
      this.source = { label: target.label, documentUri: target.documentUri?.toString() ?? null, ids, promptLength: wire.meta.promptLength, segments: wire.meta.segments };
      await this.send();
    } catch (e) {
      if (request !== this.request) return;
      await this.post({ type: 'status', message: `Could not inspect: ${(e as Error).message}`, busy: false });
    }
  }

  private async send(): Promise<void> {
    if (!this.wire || !this.source) return;
    await this.post({ type: 'meta', meta: this.wire.meta, source: this.source });
    for (let l = 0; l < this.wire.layers.length; l++) await this.post({ type: 'layer', layer: l, data: this.wire.layers[l]! });
    await this.post({ type: 'status', message: `${this.source.label}: ready.`, busy: false });
  }

  /** Posts to a ready page; before that, keeps the latest status for when it is. */
  private async post(m: HostToWebview): Promise<void> {
    if (m.type === 'status') this.status = m;
    if (this.ready) await this.panel.webview.postMessage(m);
  }

  private async onMessage(m: WebviewToHost): Promise<void> {
    if (m.type === 'ready') {
      // A new page (first load, or shown again after being hidden) gets the data again.
      this.ready = true;
      if (this.status && !this.wire) await this.post(this.status);
      await this.send();
    } else if (m.type === 'hoverToken') {
      await this.decorate(m.token, false);
    } else {
      await this.decorate(m.token, true);
    }
  }

  private sourceDocument(): vscode.Uri | null {
    return this.source?.documentUri ? vscode.Uri.parse(this.source.documentUri) : null;
  }

  /** Highlights a token's range in the source document's editor; reveal opens and scrolls to it. */
  private async decorate(token: number | null, reveal: boolean): Promise<void> {
    const uri = this.sourceDocument();
    if (!uri || !this.source) return;
    let editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    if (!editor && reveal && token !== null) {
      try {
        editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, preserveFocus: true });
      } catch {
        return; // the document is gone (deleted or closed remote): nothing to highlight
      }
    }
    if (!editor) return;
    const span = token === null ? null : tokenDocRange(this.ranges, this.source.segments, token);
    if (!span) {
      editor.setDecorations(this.decoration, []);
      return;
    }
    const range = new vscode.Range(editor.document.positionAt(span[0]), editor.document.positionAt(span[1]));
    editor.setDecorations(this.decoration, [range]);
    if (reveal) editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    const uri = this.sourceDocument();
    if (!uri || !this.source || e.textEditor.document.uri.toString() !== uri.toString()) return;
    const doc = e.textEditor.document;
    const tokens = new Set<number>();
    for (const s of e.selections) {
      for (const t of docRangeTokens(this.ranges, this.source.segments, doc.offsetAt(s.start), doc.offsetAt(s.end))) tokens.add(t);
    }
    void this.post({ type: 'highlightTokens', tokens: [...tokens].sort((a, b) => a - b) });
  }

  private html(): string {
    const webview = this.panel.webview;
    return inspectorHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'media', 'inspector.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'inspector.css')).toString(),
      cspSource: webview.cspSource,
      nonce: newNonce(),
    });
  }

  dispose(): void {
    if (InspectorPanel.current === this) InspectorPanel.current = undefined;
    this.request++;
    this.pending?.abort();
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
  };
}

function bufferOf(b64: string): ArrayBuffer {
  const b = Buffer.from(b64, 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

function isPersistedState(s: unknown): s is InspectorPersistedState {
  if (typeof s !== 'object' || s === null) return false;
  const src = (s as InspectorPersistedState).source;
  return (
    src === null ||
    (typeof src === 'object' &&
      typeof src.label === 'string' &&
      Array.isArray(src.ids) &&
      src.ids.every((x) => Number.isInteger(x)) &&
      Number.isInteger(src.promptLength) &&
      Array.isArray(src.segments) &&
      (src.documentUri === null || typeof src.documentUri === 'string'))
  );
}
