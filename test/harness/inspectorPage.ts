// Loads the real inspector page (the HTML the panel serves, the built dist/media/inspector.js
// and media/inspector.css) in headless Chromium, behind a tiny local HTTP server, with a
// stand-in for VS Code's acquireVsCodeApi that records what the page posts and keeps its
// state. Messages are delivered with window.postMessage, as VS Code delivers them.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inspectorHtml } from '../../extension/inspector/html';
import type { InspectionWire } from '../../engine/inspect/wire';
import type { HostToWebview, InspectorPersistedState, InspectorSource, WebviewToHost } from '../../media/src/shared/inspectorProtocol';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..', '..');

// Enough of a dark theme's variables for the page to look as it does in VS Code.
const DARK_THEME: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-focusBorder': '#007fd4',
  '--vscode-button-background': '#0e639c',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-secondaryBackground': '#3a3d41',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-input-background': '#3c3c3c',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-font-family': 'sans-serif',
  '--vscode-editor-font-family': 'monospace',
  '--vscode-editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)',
};

export interface InspectorPage {
  page: Page;
  /** Messages the page posted to the host, in order. */
  posted(): Promise<WebviewToHost[]>;
  state(): Promise<InspectorPersistedState | undefined>;
  /** Delivers the inspection as the panel does: metadata, then one message per layer. */
  load(wire: InspectionWire, source: InspectorSource): Promise<void>;
  post(m: HostToWebview): Promise<void>;
  close(): Promise<void>;
}

/** Serves the page and the given wire; `state` seeds getState (a restored panel). */
export async function openInspectorPage(opts: { state?: InspectorPersistedState; width?: number; height?: number } = {}): Promise<InspectorPage> {
  const script = join(ROOT, 'dist', 'media', 'inspector.js');
  if (!existsSync(script)) throw new Error(`${script} is missing; run node tools/build.mjs first.`);
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/') {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'text/html');
      res.end(inspectorHtml({ scriptUri: `${origin}/dist/media/inspector.js`, styleUri: `${origin}/media/inspector.css`, cspSource: origin, nonce: 'bm9uY2U' + Date.now() }));
    } else if (url === '/dist/media/inspector.js' || url === '/media/inspector.css') {
      res.setHeader('content-type', url.endsWith('.js') ? 'text/javascript' : 'text/css');
      res.end(readFileSync(join(ROOT, url)));
    } else {
      res.statusCode = url === '/favicon.ico' ? 204 : 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript(
    ({ state, theme }) => {
      const w = window as unknown as { __posted: unknown[]; __state: unknown; acquireVsCodeApi: () => unknown };
      w.__posted = [];
      w.__state = state;
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => w.__posted.push(m),
        getState: () => w.__state,
        setState: (s: unknown) => {
          w.__state = JSON.parse(JSON.stringify(s));
        },
      });
      document.addEventListener('DOMContentLoaded', () => {
        document.body.classList.add('vscode-dark');
        for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v);
      });
    },
    { state: opts.state, theme: DARK_THEME },
  );
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  const post = async (m: HostToWebview): Promise<void> => {
    await page.evaluate((msg) => window.postMessage(msg, '*'), m);
  };
  return {
    page,
    posted: () => page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted),
    state: () => page.evaluate(() => (window as unknown as { __state: InspectorPersistedState | undefined }).__state),
    async load(wire, source) {
      // The page's CSP (rightly) forbids fetching, so the data goes through the DevTools
      // protocol: the metadata with the first layer, then a layer per call.
      const first: HostToWebview[] = [{ type: 'meta', meta: wire.meta, source }];
      if (wire.layers[0]) first.push({ type: 'layer', layer: 0, data: wire.layers[0] });
      await page.evaluate((ms) => ms.forEach((m) => window.postMessage(m, '*')), first);
      for (let l = 1; l < wire.layers.length; l++) await post({ type: 'layer', layer: l, data: wire.layers[l]! });
      await page.waitForFunction(() => document.body.dataset.firstPaintMs !== undefined);
    },
    post,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join('\n')}`);
    },
  };
}

export interface PageEvent {
  selector: string;
  kind: 'mouse' | 'key';
  type: string;
  /** Mouse: offset inside the element; key: the key. */
  x?: number;
  y?: number;
  key?: string;
}

/**
 * Milliseconds from dispatching an event in the page to the end of the animation frame it
 * triggers (the views draw in requestAnimationFrame), i.e. the time until the user sees it.
 */
export async function timeToNextFrame(page: Page, ev: PageEvent): Promise<number> {
  return page.evaluate(
    (e) =>
      new Promise<number>((resolve) => {
        const target = document.querySelector(e.selector)!;
        const r = target.getBoundingClientRect();
        const t = performance.now();
        if (e.kind === 'mouse') target.dispatchEvent(new MouseEvent(e.type, { bubbles: true, clientX: r.left + (e.x ?? 0), clientY: r.top + (e.y ?? 0) }));
        else target.dispatchEvent(new KeyboardEvent(e.type, { bubbles: true, key: e.key ?? '' }));
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t), 0));
      }),
    ev,
  );
}
