// Drives the VS Code workbench that code-server serves, in headless Debian Chromium.
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { chromiumPath } from './paths';

export interface Workbench {
  page: Page;
  close(): Promise<void>;
}

/** Fails early, before the slow code-server start, when there is no browser to drive it. */
export function requireChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}.\nHINT: apt-get install -y chromium (or set LIMELIGHT_CHROMIUM to a Chromium binary).`);
  }
}

/**
 * Opens the workbench. With `remoteRequests`, no host but this machine resolves in the browser,
 * and the URL of every request to another host (workbench, webviews, workers) is pushed there.
 */
export async function openWorkbench(url: string, browserProfileDir: string, remoteRequests?: string[]): Promise<Workbench> {
  requireChromium();
  // Playwright reserves --user-data-dir, hence the persistent context.
  const context: BrowserContext = await chromium.launchPersistentContext(browserProfileDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No host but this machine resolves: a remote request fails at once, without interception.
      ...(remoteRequests ? ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'] : []),
    ],
  });
  if (remoteRequests) {
    // Requests a webview's service worker answers (its resource domain) never reach the network.
    const remote = (u: string): boolean => /^(https?|wss?):\/\/(?!(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/])/.test(u);
    context.on('requestfailed', (r) => {
      if (remote(r.url())) remoteRequests.push(r.url());
    });
    context.on('response', (r) => {
      if (remote(r.url()) && !r.fromServiceWorker()) remoteRequests.push(r.url());
    });
  }
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url, { timeout: 90_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return { page, close: () => context.close() };
  } catch (e) {
    // A browser left open keeps the test process (and the e2e lock) alive after it failed.
    await context.close();
    throw e;
  }
}

/** Runs a command by its palette title, as a user would: F1, type, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 600, y: 300 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** The notification toast whose text contains `text`. */
export function notification(page: Page, text: string | RegExp): Locator {
  return page.locator('.notification-toast', { hasText: text });
}

/** The status bar entry whose label contains `text`. */
export function statusBarItem(page: Page, text: string): Locator {
  return page.locator('.statusbar-item', { hasText: text });
}

/** Opens a workspace file through Quick Open and waits for its editor tab. */
export async function openFile(page: Page, fileName: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 600, y: 300 } });
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab', { hasText: fileName }).waitFor();
}
