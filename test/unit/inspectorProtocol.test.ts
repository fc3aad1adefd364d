// The inspector's channel and page shell: messages from the webview are checked before the
// host acts on them, and the page loads only this load's script and the extension's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebviewToHost } from '../../media/src/shared/inspectorProtocol';
import { inspectorHtml } from '../../extension/inspector/html';

test('only well-formed webview messages are accepted', () => {
  assert.ok(isWebviewToHost({ type: 'ready' }));
  assert.ok(isWebviewToHost({ type: 'hoverToken', token: null }));
  assert.ok(isWebviewToHost({ type: 'hoverToken', token: 3 }));
  assert.ok(isWebviewToHost({ type: 'revealToken', token: 0 }));
  for (const bad of [null, 'ready', {}, { type: 'hoverToken' }, { type: 'hoverToken', token: 1.5 }, { type: 'revealToken', token: null }, { type: 'run', cmd: 'x' }]) {
    assert.ok(!isWebviewToHost(bad), JSON.stringify(bad));
  }
});

test('the page has a nonce-locked script, no inline code and no remote resources', () => {
  const html = inspectorHtml({ scriptUri: 'https://file+.vscode-resource/x/dist/media/inspector.js', styleUri: 'https://file+.vscode-resource/x/media/inspector.css', cspSource: 'https://file+.vscode-resource', nonce: 'abc123' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc123'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(html, /<script nonce="abc123" src="https:\/\/file\+\.vscode-resource\/x\/dist\/media\/inspector\.js"><\/script>/);
  const urls = html.match(/https?:\/\/[^\s"';]+/g) ?? [];
  assert.equal(urls.length, 5, 'the script, the stylesheet and the CSP source for images, styles and fonts');
  for (const u of urls) assert.ok(u.startsWith('https://file+.vscode-resource'), `${u} is from the extension`);
});

test('a URI with quotes cannot break out of its attribute', () => {
  const html = inspectorHtml({ scriptUri: 'a"><script>alert(1)</script>', styleUri: 's', cspSource: 'c', nonce: 'n' });
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});
