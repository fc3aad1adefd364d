// The inspector page's HTML (no vscode import, so the browser tests load the very same page).
// Nothing remote: the one script and the one stylesheet come from the extension, the script
// only with this load's nonce.

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
  const csp = [`default-src 'none'`, `img-src ${p.cspSource} data:`, `style-src ${p.cspSource}`, `font-src ${p.cspSource}`, `script-src 'nonce-${p.nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${escapeAttr(p.styleUri)}" rel="stylesheet">
<title>Limelight: Attention</title>
</head>
<body>
<div id="app"></div>
<script nonce="${p.nonce}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
