// Every Limelight webview page (the attention inspector, the summary panel) as the builders
// render it, loaded in headless Chromium: the browser's own parse of the page must show one
// Content-Security-Policy with default-src 'none', scripts by this render's nonce only,
// styles/images/fonts from the extension's resource origin only, and a nonce on every script;
// a fresh nonce per render; and the browser must refuse what the policy forbids (an inline
// script without the nonce, a remote image, stylesheet or fetch, eval).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inspectorHtml } from '../../extension/inspector/html';
import { summaryHtml } from '../../extension/summarize/html';
import { newNonce, webviewCsp } from '../../extension/webviewCsp';
import { cspProblems, documentFacts, parseCsp } from '../harness/webviewCsp';
import { CHROMIUM } from '../harness/inspectorPage';

// The resource origin VS Code gives webviews (webview.cspSource).
const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';
const RES = `${CSP_SOURCE}/ext/limelight`;

const PAGES: Record<string, () => string> = {
  inspector: () => inspectorHtml({ scriptUri: `${RES}/dist/media/inspector.js`, styleUri: `${RES}/media/inspector.css`, cspSource: CSP_SOURCE, nonce: newNonce() }),
  summary: () => summaryHtml({ styleUri: `${RES}/media/summary.css`, cspSource: CSP_SOURCE, nonce: newNonce() }),
};

const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
let browser: Browser | undefined;

before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
});

/** A page with `html` loaded; requests that would leave it are answered locally and counted. */
async function load(html: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser!.newPage();
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.fulfill({ status: 200, body: '' });
  });
  await page.setContent(html);
  return { page, requests };
}

for (const [name, render] of Object.entries(PAGES)) {
  test(`${name} page: the policy as the browser parsed it, a nonce on every script, a new nonce each render`, { skip }, async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { page } = await load(render());
      const facts = await documentFacts(page);
      const { problems, nonce } = cspProblems(facts, CSP_SOURCE);
      assert.deepEqual(problems, [], facts.policies.join('\n'));
      nonces.push(nonce!);
      await page.close();
    }
    assert.notEqual(nonces[0], nonces[1], 'each render has its own nonce');
  });

  test(`${name} page: the browser refuses inline scripts without the nonce, eval and anything remote`, { skip }, async () => {
    const { page, requests } = await load(render());
    const ran = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
      const w = window as unknown as { injected?: boolean; evaluated?: boolean };
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.head.append(s);
      const img = document.createElement('img');
      img.src = 'https://example.invalid/track.png';
      document.body.append(img);
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = 'https://example.invalid/theme.css';
      document.head.append(link);
      let fetched = true;
      await fetch('https://example.invalid/data').catch(() => (fetched = false));
      const evaluated = await new Promise<boolean>((resolve) => {
        const e = document.createElement('script');
        e.setAttribute('nonce', 'not-the-nonce');
        e.textContent = 'window.evaluated = true';
        document.head.append(e);
        setTimeout(() => resolve(w.evaluated === true), 100);
      });
      let evalRan = true;
      try {
        (0, eval)('1');
      } catch {
        evalRan = false;
      }
      return { injected: w.injected === true, evaluated, fetched, evalRan, violations };
    });
    const { violations: v, ...outcome } = ran;
    assert.deepEqual(outcome, { injected: false, evaluated: false, fetched: false, evalRan: false });
    assert.ok(!requests.some((u) => u.includes('example.invalid')), `a remote request got out: ${requests.join(', ')}`);
    for (const d of ['script-src-elem', 'img-src', 'style-src-elem', 'connect-src']) assert.ok(v.some((x) => x.startsWith(d)), `no ${d} violation in ${v.join('; ')}`);
    await page.close();
  });
}

test('the policy text: default-src none, one nonce, the resource origin for the rest', () => {
  const nonce = newNonce();
  assert.equal(Buffer.from(nonce, 'base64').length, 16, '128 random bits');
  assert.notEqual(newNonce(), nonce);
  const csp = parseCsp(webviewCsp(CSP_SOURCE, nonce));
  assert.deepEqual([...csp.keys()].sort(), ['default-src', 'font-src', 'img-src', 'script-src', 'style-src']);
  assert.deepEqual(csp.get('script-src'), [`'nonce-${nonce}'`]);
  // code-server's cspSource is two sources; each directive takes it whole.
  const codeServer = "'self' https://*.vscode-cdn.net";
  assert.deepEqual(cspProblems({ policies: [webviewCsp(codeServer, nonce)], scriptNonces: [nonce], title: '' }, codeServer).problems, []);
  // The checker itself catches a page that falls short.
  const bad = cspProblems({ policies: [`default-src 'none'; script-src 'nonce-${nonce}' 'unsafe-inline' https://cdn.example.com; style-src 'unsafe-inline'`], scriptNonces: [nonce, ''], title: '' }, CSP_SOURCE).problems;
  assert.ok(bad.some((p) => p.includes("'unsafe-inline'")));
  assert.ok(bad.some((p) => p.includes('https://cdn.example.com')));
  assert.ok(bad.some((p) => p.includes('<script> 2')));
  assert.ok(bad.some((p) => p.includes('img-src is missing')));
});
