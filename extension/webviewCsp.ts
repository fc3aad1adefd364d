// The one Content-Security-Policy of every Limelight webview, and its nonce. Nothing may load
// unless the policy names it: no remote origin, no inline style or script, no eval. Scripts
// run only with the nonce of this render; stylesheets, images and fonts come only from the
// extension's own files (webview.cspSource, bounded by the panel's localResourceRoots).
// No vscode import: the page tests build the very same HTML.
import { randomBytes } from 'node:crypto';

/** A fresh nonce for one render: 128 random bits, base64. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function webviewCsp(cspSource: string, nonce: string): string {
  return [`default-src 'none'`, `img-src ${cspSource}`, `style-src ${cspSource}`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

/** A value for an HTML attribute in double quotes. */
export function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
