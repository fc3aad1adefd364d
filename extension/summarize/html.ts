// The Summary panel's page: the streamed summary, a notice when the code was cut to fit the
// context, and the actions. One inline script and one inline style, both allowed only by this
// load's nonce; nothing else may load. Messages: host -> page `state`; page -> host `insert`,
// `copy`, `cancel`.

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

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
#text { font-size: 1.1em; line-height: 1.5; white-space: pre-wrap; margin: 12px 0; }
#notice { color: var(--vscode-editorWarning-foreground); }
#status { color: var(--vscode-descriptionForeground); }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 12px; margin-right: 6px; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
`;

export function summaryHtml(cspSource: string, nonce: string): string {
  const csp = [`default-src 'none'`, `style-src 'nonce-${nonce}'`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${STYLE}</style>
<title>Limelight: Summary</title>
</head>
<body>
<h3 id="title"></h3>
<p id="notice" role="alert" hidden></p>
<div id="text" aria-live="polite"></div>
<p id="status" role="status"></p>
<button id="insert" disabled>Insert as comment</button><button id="copy" disabled>Copy</button><button id="cancel" hidden>Cancel</button>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
