// The built bundles (dist/*.js: extension, engine worker, pool worker, CLI; dist/media/*.js: the
// webview pages) cannot reach the network: they require none of Node's network modules, and
// hold no fetch, XMLHttpRequest, WebSocket, EventSource or beacon call and no remote URL in
// code. The one exception is named: protobufjs's .proto file loader (util/fetch.js, used by
// Root.load), which reads files with fs and falls back to XMLHttpRequest only in a browser;
// the engine builds ONNX messages from a JSON descriptor (engine/onnx/schema.ts) and never
// calls load(). Works on development bundles (module markers, comments) and production ones.
// The bundles that may reach the network are dist/download.js, the Hugging Face download
// client, loaded only when the user asks for a download (engine/download/load.ts): it may use
// http, https, net and tls, nothing else, and name no remote address but the default hub; and
// dist/remote.js, the remote backend's client, loaded only when the user chooses the remote
// backend (engine/remote/load.ts): http and https to the server the user configured, no
// address of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', '..', 'dist');

const NETWORK_MODULES = ['http', 'https', 'net', 'tls', 'dgram', 'dns', 'http2', 'child_process', 'cluster', 'inspector'];
const REQUIRE = new RegExp(`\\brequire\\(\\s*["'\`](?:node:)?(${NETWORK_MODULES.join('|')})(?:/[\\w/]+)?["'\`]\\s*\\)|\\bimport\\(\\s*["'\`](?:node:)?(${NETWORK_MODULES.join('|')})["'\`]`, 'g');
// A call of the global fetch (not a method or a local function's definition), and the browser's ways out.
const WEB_APIS = /(?<![\w$.])fetch\s*\(|\b(?:globalThis|window|self)\s*\.\s*fetch\b|\bXMLHttpRequest\b|\bWebSocket\b|\bEventSource\b|\bsendBeacon\b|\bimportScripts\b/g;
// An address in capitals (https://HOST/v1, http://HOST:PORT) is a placeholder in a message or a help text, not a host.
const REMOTE_URL = /\b(?:https?|wss?|ftp):\/\/(?!(?:127\.0\.0\.1|localhost)[:/]|[A-Z]+(?:[:/@\s"'`)]|$))[^\s"'`)]+/g;
// protobufjs's file loader, as esbuild marks its modules in a development bundle.
const ALLOWED_MODULES = /node_modules\/protobufjs\/src\/(util\/fetch|root)\.js$/;

function bundles(): string[] {
  const files = [DIST, join(DIST, 'media')].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('.js')).map((n) => join(d, n)) : []));
  return files;
}

/** The bundle's code split by esbuild's `// path` module markers (one part for a production bundle), comment lines dropped. */
function modules(text: string): { path: string; code: string }[] {
  const out: { path: string; code: string }[] = [];
  let path = '(bundle)';
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const marker = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(line);
    if (marker) {
      out.push({ path, code: lines.join('\n') });
      path = marker[1]!;
      lines = [];
    } else if (!/^\s*(\/\/|\/\*|\*)/.test(line)) lines.push(line);
  }
  out.push({ path, code: lines.join('\n') });
  return out;
}

/** protobufjs's XMLHttpRequest fallback in a production bundle, where no marker names the module: `<fetch>.xhr = function ... new XMLHttpRequest`. */
function isProtobufXhr(code: string, at: number): boolean {
  return /\.xhr\s*=/.test(code.slice(Math.max(0, at - 200), at)) || /typeof XMLHttpRequest\s*(?:[!=]==?\s*["']undefined["']|<\s*["']u["'])\s*\?\s*[\w$]+\.xhr\(/.test(code.slice(at - 7, at + 80));
}

function findings(file: string): string[] {
  const found: string[] = [];
  for (const m of modules(readFileSync(file, 'utf8'))) {
    const where = `${file.slice(DIST.length + 1)} (${m.path})`;
    for (const r of m.code.matchAll(REQUIRE)) found.push(`${where}: ${r[0]}`);
    if (ALLOWED_MODULES.test(m.path)) continue;
    for (const r of m.code.matchAll(WEB_APIS)) {
      if (r[0] === 'XMLHttpRequest' && isProtobufXhr(m.code, r.index ?? 0)) continue;
      found.push(`${where}: ${m.code.slice(Math.max(0, (r.index ?? 0) - 60), (r.index ?? 0) + 60).replace(/\s+/g, ' ')}`);
    }
    for (const r of m.code.matchAll(REMOTE_URL)) found.push(`${where}: ${r[0]}`);
  }
  return found;
}

const DOWNLOAD = 'download.js';
const REMOTE = 'remote.js';

test('the built bundles require no network module and call no network API', () => {
  const files = bundles();
  const names = files.map((f) => f.slice(DIST.length + 1));
  for (const want of ['extension.js', 'worker.js', 'poolWorker.js', 'cli.js', DOWNLOAD, REMOTE, join('media', 'inspector.js')]) assert.ok(names.includes(want), `dist/${want} is missing; run node tools/build.mjs first (found: ${names.join(', ')})`);
  assert.deepEqual(files.filter((f) => f !== join(DIST, DOWNLOAD) && f !== join(DIST, REMOTE)).flatMap(findings), []);
});

test('the remote backend\'s bundle reaches the network through http and https only, and names no host of its own', () => {
  // Addresses in messages are placeholders (https://HOST/v1) or this machine's.
  const allowed = /^dist\/remote\.js \(.*\): (?:require\(["'](?:node:)?(?:http|https)["']\)|https?:\/\/[A-Z]+[:/@].*)$/;
  const found = findings(join(DIST, REMOTE)).map((f) => `dist/${f}`);
  assert.ok(found.some((f) => /require\(["'](?:node:)?https["']\)/.test(f)), `the scan sees the remote client's https: ${found.join('\n')}`);
  assert.deepEqual(found.filter((f) => !allowed.test(f)), []);
});

test('the download bundle reaches the network through http, https, net and tls only, and names no host but the default hub', () => {
  // Addresses in messages are placeholders (http://HOST:PORT) or built from a value (http://${raw}).
  const allowed = new RegExp(`^dist/download\\.js \\(.*\\): (?:require\\(["'](?:node:)?(?:http|https|net|tls)["']\\)|https://huggingface\\.co\\b.*|https?://(?:\\$\\{|[A-Z]+[:@]).*)$`);
  const found = findings(join(DIST, DOWNLOAD)).map((f) => `dist/${f}`);
  assert.ok(found.some((f) => /require\(["'](?:node:)?https["']\)/.test(f)), `the scan sees the download client's https: ${found.join('\n')}`);
  assert.deepEqual(found.filter((f) => !allowed.test(f)), []);
});

test('the scanner finds what it looks for (so an empty result means something)', () => {
  const planted = [
    'const h = require("node:https");',
    'const n = require("net");',
    'import("dns")',
    'await fetch("https://example.com/x")',
    'globalThis.fetch(u)',
    'new XMLHttpRequest()',
    'new WebSocket(u)',
    'navigator.sendBeacon(u)',
    'const u = "https://huggingface.co/gpt2";',
  ];
  for (const code of planted) {
    const hits = [...code.matchAll(REQUIRE), ...code.matchAll(WEB_APIS), ...code.matchAll(REMOTE_URL)];
    assert.ok(hits.length > 0, code);
  }
  for (const code of ['const x = obj.fetch(a);', 'const u = "http://127.0.0.1:8080/healthz";', 'require("node:fs")', 'prefetch(x)', 'const hint = "e.g. https://HOST/v1";', 'x = "https://HOST"']) {
    assert.deepEqual([...code.matchAll(REQUIRE), ...code.matchAll(WEB_APIS), ...code.matchAll(REMOTE_URL)].map((m) => m[0]), [], code);
  }
  assert.deepEqual(
    modules('a();\n// node_modules/protobufjs/src/util/fetch.js\nfunction fetch(f) {}\n  // a comment https://x.org\n// engine/x.ts\nb();').map((m) => m.path),
    ['(bundle)', 'node_modules/protobufjs/src/util/fetch.js', 'engine/x.ts'],
  );
});
