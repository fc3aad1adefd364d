// The Summary side panel (webview-sample style): one panel, revealed when it exists, showing
// the summary as it streams in with "Insert as comment", "Copy" and "Cancel". The panel keeps
// the latest state and re-sends it whenever the page asks (after it loads or is shown again).
import * as vscode from 'vscode';
import { newNonce } from '../webviewCsp';
import { isSummaryPageMessage, summaryHtml, type SummaryPageMessage, type SummaryView } from './html';

export const SUMMARY_VIEW_TYPE = 'limelight.summary';

export class SummaryPanel {
  static current: SummaryPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private view: SummaryView = { title: '', text: '', notice: '', phase: 'done', error: '' };
  private handler: (m: SummaryPageMessage) => void = () => {};

  static createOrShow(extensionUri: vscode.Uri): SummaryPanel {
    if (SummaryPanel.current) {
      SummaryPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
      return SummaryPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(SUMMARY_VIEW_TYPE, 'Limelight: Summary', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] });
    SummaryPanel.current = new SummaryPanel(panel, extensionUri);
    return SummaryPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
  ) {
    const webview = panel.webview;
    webview.html = summaryHtml({ styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'summary.css')).toString(), cspSource: webview.cspSource, nonce: newNonce() });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if ((m as { type?: unknown } | null)?.type === 'ready') void this.post();
        else if (isSummaryPageMessage(m)) this.handler(m);
      }),
    );
  }

  /** Where the page's buttons go (the latest request's handler). */
  onAction(handler: (m: SummaryPageMessage) => void): void {
    this.handler = handler;
  }

  get state(): SummaryView {
    return this.view;
  }

  update(change: Partial<SummaryView>): void {
    this.view = { ...this.view, ...change };
    void this.post();
  }

  private post(): Thenable<boolean> {
    return this.panel.webview.postMessage(this.view);
  }

  dispose(): void {
    SummaryPanel.current = undefined;
    this.handler({ type: 'cancel' });
    this.panel.dispose();
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
  }
}
