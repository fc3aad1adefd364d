// The inspector page's HTML (no vscode import, so the browser tests load the very same page).
// Nothing remote: the one script and the one stylesheet come from the extension, the script
// only with this load's nonce (the policy is extension/webviewCsp.ts).
import { escapeAttr, webviewCsp } from '../webviewCsp';

export interface InspectorHtmlParts {
  /** URI of dist/media/inspector.js as the webview sees it. */
  scriptUri: string;
  /** URI of media/inspector.css as the webview sees it. */
  styleUri: string;
  /** webview.cspSource: the origin the webview loads extension resources from. */
  cspSource: string;
  nonce: string;
}

export function inspectorHtml(p: InspectorHtmlParts): string {
  const csp = webviewCsp(p.cspSource, p.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${escapeAttr(p.styleUri)}" rel="stylesheet">
<title>Limelight: Attention</title>
</head>
<body>
<div id="app"></div>
<script nonce="${escapeAttr(p.nonce)}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}
