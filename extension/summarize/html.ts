// The Summary panel's page: the streamed summary, a notice when the code was cut to fit the
// context, and the actions. One inline script, allowed only by this load's nonce, and the
// stylesheet media/summary.css from the extension; nothing else may load (the policy is
// extension/webviewCsp.ts). Messages: host -> page `state`; page -> host `insert`, `copy`, `cancel`.
import { escapeAttr, webviewCsp } from '../webviewCsp';

export interface SummaryView {
  title: string;
  text: string;
  /** e.g. the truncation notice; '' for none. */
  notice: string;
  /** 'running' while the model writes; otherwise how it ended. */
  phase: 'running' | 'done' | 'cancelled' | 'failed';
  error: string;
}

export type SummaryPageMessage = { type: 'insert' } | { type: 'copy' } | { type: 'cancel' };

export function isSummaryPageMessage(m: unknown): m is SummaryPageMessage {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'insert' || t === 'copy' || t === 'cancel';
}

const SCRIPT = `
const vscode = acquireVsCodeApi();
const $ = (id) => document.getElementById(id);
for (const a of ['insert', 'copy', 'cancel']) $(a).addEventListener('click', () => vscode.postMessage({ type: a }));
window.addEventListener('message', (e) => {
  const s = e.data;
  $('title').textContent = s.title;
  $('text').textContent = s.text || (s.phase === 'running' ? '…' : '');
  $('notice').textContent = s.notice;
  $('notice').hidden = s.notice === '';
  $('status').textContent = s.phase === 'running' ? 'Writing…' : s.phase === 'cancelled' ? 'Cancelled.' : s.phase === 'failed' ? 'Failed: ' + s.error : 'Done.';
  $('status').dataset.phase = s.phase;
  $('insert').disabled = s.phase !== 'done' || s.text.trim() === '';
  $('copy').disabled = s.text.trim() === '';
  $('cancel').hidden = s.phase !== 'running';
});
vscode.postMessage({ type: 'ready' });
`;

export interface SummaryHtmlParts {
  /** URI of media/summary.css as the webview sees it. */
  styleUri: string;
  /** webview.cspSource: the origin the webview loads extension resources from. */
  cspSource: string;
  nonce: string;
}

export function summaryHtml(p: SummaryHtmlParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(webviewCsp(p.cspSource, p.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${escapeAttr(p.styleUri)}" rel="stylesheet">
<title>Limelight: Summary</title>
</head>
<body>
<h3 id="title"></h3>
<p id="notice" role="alert" hidden></p>
<div id="text" aria-live="polite"></div>
<p id="status" role="status"></p>
<button id="insert" disabled>Insert as comment</button><button id="copy" disabled>Copy</button><button id="cancel" hidden>Cancel</button>
<script nonce="${escapeAttr(p.nonce)}">${SCRIPT}</script>
</body>
</html>`;
}
