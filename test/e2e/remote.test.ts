// The remote backend in a real VS Code (code-server in headless Chromium, the packaged .vsix),
// with every outbound connection denied and recorded (tools/e2e/noNetwork.ts) and a loopback
// llama.cpp-style server (test/harness/fakeInferenceServers.ts) as the team's server:
//   - Restricted Mode: the workspace's own settings name another server and another backend;
//     both are ignored, the user's remote server is used;
//   - ghost text comes from the server; typing aborts the request in flight (the server sees
//     the connection close) and the next keystroke's request brings the suggestion;
//   - the key set with "Limelight: Set Remote API Key" goes as a bearer token and appears
//     nowhere in the log or the Explain page;
//   - Summarize Selection streams its summary from the server's chat endpoint; Inspect Attention
//     says it needs the local engine and offers the local model;
//   - pointed (in a second session) at a server on another host, the only connection Limelight
//     attempts is to that host, and the failure is shown in the status bar, not in a pop-up.
// (With the remote backend off, test/e2e/privacy.test.ts shows that nothing connects at all.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot, resultsDir } from '../../tools/e2e/paths';
import { closeE2eSession, limelightLog, openE2eSession, sampleWorkspace, sessionPage, type E2eSession } from '../../tools/e2e/session';
import { openFile, runCommand } from '../../tools/e2e/workbench';
import type { NetRecord } from '../../tools/e2e/noNetwork';
import { startFakeInferenceServer, type FakeInferenceServer } from '../harness/fakeInferenceServers';

const results = resultsDir();
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string };
const EXTENSION_DIR = `${manifest.publisher}.${manifest.name}-`;
const KEY = 'sk-e2e-remote-9f8e7d6c5b4a';
const ELSEWHERE = 'llm.example.invalid';
let session: E2eSession | undefined;
let server: FakeInferenceServer | undefined;
let netLog = '';

before(async () => {
  server = await startFakeInferenceServer({ pieces: ['42', ';'] });
  const url = server.url;
  session = await openE2eSession({
    workspace: sampleWorkspace,
    logName: 'code-server-remote.log',
    prepare: (tmp, workspace) => {
      netLog = join(tmp, 'net.jsonl');
      mkdirSync(join(workspace, '.vscode'), { recursive: true });
      // The workspace tries to send the code elsewhere and to run it locally: both ignored.
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'limelight.backend': 'js', 'limelight.remote.endpoint': `https://${ELSEWHERE}/v1`, 'limelight.remote.api': 'openai-completions' }, null, 2));
      const settings = {
        'limelight.backend': 'remote',
        'limelight.remote.endpoint': url,
        'limelight.remote.api': 'llama-infill',
        'limelight.logLevel': 'debug',
        // Longer than the 150 ms between keystrokes below, so each keystroke preempts the pending request.
        'limelight.completions.debounceMs': 400,
        'limelight.completions.singleLineMaxMs': 5000,
      };
      return { netLog, workspaceTrust: true, settings };
    },
  });
});

after(async () => {
  await closeE2eSession(session);
  await server?.close();
});

const page = (): Page => sessionPage(session);
const fake = (): FakeInferenceServer => server!;

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nThe Limelight log ends with:\n${limelightLog(session).split('\n').slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function netRecords(): NetRecord[] {
  return readFileSync(netLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as NetRecord);
}

/** Outbound attempts (denied) that came from the extension host's Limelight code or its worker threads. */
function ourAttempts(): NetRecord[] {
  const records = netRecords();
  const hostPid = records.find((r) => r.kind === 'loaded' && r.threadId === 0 && r.argv.includes('--type=extensionHost'))?.pid;
  assert.ok(hostPid !== undefined, 'the guard was loaded into the extension host');
  return records.filter((r) => r.kind === 'denied' && ((r.stack ?? '').includes(EXTENSION_DIR) || (r.pid === hostPid && r.threadId !== 0)));
}

test('in Restricted Mode the workspace\'s backend and server are ignored: the user\'s remote server is used', async () => {
  const dialog = page().locator('.monaco-dialog-box');
  await dialog.locator('text=/Do you trust the authors/').waitFor({ timeout: 30_000 });
  await dialog.locator('a.monaco-button, button', { hasText: "No, I don't trust the authors" }).first().click();
  await page().locator(`.statusbar-item[aria-label*="engine: remote, llama-infill at ${fake().url}"]`).waitFor({ timeout: 60_000 });
  assert.doesNotMatch(limelightLog(session), new RegExp(ELSEWHERE.replace(/\./g, '\\.')));
});

test('ghost text comes from the server; typing aborts the request in flight', async () => {
  await openFile(page(), 'stack.ts');
  const editor = page().locator('.monaco-editor .view-lines').first();
  await editor.click();
  await page().keyboard.press('Control+End');
  await page().keyboard.press('Enter');
  await page().keyboard.press('Enter');
  // A server that streams without end: the first request stays in flight until the next keystroke aborts it.
  fake().options = { fault: { kind: 'endless' } };
  const before = fake().requests.length;
  await page().keyboard.type('const answer', { delay: 150 });
  await waitFor('the first request', () => fake().requests.length > before, 20_000);
  const first = fake().requests[before]!;
  fake().options = { pieces: ['42', ';'] };
  await page().keyboard.type(' = ', { delay: 150 });
  await waitFor('the server to see the first request\'s connection close', () => first.closedEarly, 15_000);
  const ghost = page().locator('.ghost-text-decoration').first();
  await ghost.waitFor({ timeout: 30_000 });
  assert.match((await ghost.textContent()) ?? '', /42/);
  const last = fake().requests.at(-1)!;
  assert.equal(last.path, '/infill');
  assert.match(String(last.body.input_prefix), /const answer = $/);
  assert.equal(last.body.cache_prompt, true);
  await page().screenshot({ path: join(results, 'e2e-remote-ghost-text.png') });
  await page().keyboard.press('Escape');
});

test('the key set with Set Remote API Key goes as a bearer token and never into the log or the Explain page', async () => {
  await runCommand(page(), 'Limelight: Set Remote API Key');
  const input = page().locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(KEY);
  await page().keyboard.press('Enter');
  await waitFor('the key to be taken up', () => /remote API key from SecretStorage is sent/.test(limelightLog(session)), 15_000);

  fake().options = { fault: { kind: 'status', status: 401 } };
  const before = fake().requests.length;
  await page().locator('.monaco-editor .view-lines').first().click();
  await page().keyboard.press('Control+End');
  // A keystroke's request can be cancelled by the editor before its answer: type until one fails.
  const failed = page().locator('.statusbar-item[aria-label*="last request failed"]');
  for (let i = 0; i < 4 && !(await failed.isVisible()); i++) {
    await page().keyboard.type('x', { delay: 150 });
    await failed.waitFor({ timeout: 5_000 }).catch(() => undefined);
  }
  await failed.waitFor({ timeout: 5_000 });
  assert.ok(fake().requests.length > before, 'a request after the key was set');
  assert.equal(fake().requests.at(-1)!.headers.authorization, `Bearer ${KEY}`);

  await runCommand(page(), 'Limelight: Explain Last Completion');
  await page().locator('.tabs-container .tab', { hasText: 'Last Completion.md' }).waitFor({ timeout: 15_000 });
  await page().locator('.view-line', { hasText: '# Last completion' }).waitFor({ timeout: 10_000 });
  const explain = (await page().locator('.editor-group-container.active .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  assert.match(explain, /# Last completion/);
  assert.ok(!explain.includes(KEY), 'the key is in the Explain page');
  // The failure is in the log once, with the server's answer quoted (which echoed the key).
  assert.match(limelightLog(session), /The remote server failed: .*API key is missing or wrong.*Bearer \[key\]/);
  assert.ok(!limelightLog(session).includes(KEY), 'the key is in the log');
  assert.equal(await page().locator('.notification-toast', { hasText: /remote server/ }).count(), 0, 'no pop-up for a failing server');
  fake().options = { pieces: ['42', ';'] };
});

test('Summarize Selection streams the summary from the server\'s chat endpoint', async () => {
  fake().options = { pieces: ['A stack of ', 'numbers. More text'] };
  const before = fake().requests.length;
  await openFile(page(), 'stack.ts');
  await page().locator('.monaco-editor .view-lines').first().click();
  await page().keyboard.press('Control+A');
  await page().keyboard.press('Control+Alt+Shift+S');
  await page().locator('.tabs-container .tab', { hasText: 'Limelight: Summary' }).waitFor({ timeout: 20_000 });
  const view = page().frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await view.locator('#status[data-phase="done"]').waitFor({ timeout: 30_000 });
  assert.equal(((await view.locator('#text').textContent()) ?? '').trim(), 'A stack of numbers.');
  const chat = fake().requests.slice(before).find((q) => q.path === '/v1/chat/completions');
  assert.ok(chat, `requests: ${fake().requests.slice(before).map((q) => q.path).join(', ')}`);
  const messages = chat.body.messages as { role: string; content: string }[];
  assert.equal(messages[0]!.role, 'user');
  assert.match(messages[0]!.content, /^Code:\n[\s\S]*A one-sentence summary of what the code above does:$/);
  assert.equal(chat.body.stream, true);
  assert.equal(chat.headers.authorization, `Bearer ${KEY}`);
});

test('Inspect Attention explains that it needs the local engine and offers the local model', async () => {
  await openFile(page(), 'stack.ts');
  await page().locator('.monaco-editor .view-lines').first().click();
  await page().keyboard.press('Control+A');
  // The palette without runCommand's click into the editor, which would drop the selection.
  await page().keyboard.press('F1');
  await page().locator('.quick-input-widget input').fill('>Limelight: Inspect Attention');
  await page().locator('.quick-input-list .monaco-list-row', { hasText: 'Limelight: Inspect Attention' }).first().waitFor();
  await page().keyboard.press('Enter');
  const offer = page().locator('.notification-toast', { hasText: /Inspect Attention needs the local engine/ });
  await offer.waitFor({ timeout: 20_000 });
  await offer.locator('a.monaco-button, .monaco-button', { hasText: 'Inspect with the Local Model' }).first().waitFor();
  await page().screenshot({ path: join(results, 'e2e-remote-inspect.png') });
  await page().keyboard.press('Escape');
});

test('with remote on, no outbound attempt while the server is on loopback', () => {
  assert.deepEqual(ourAttempts(), []);
});

test('pointed at a server on another host, the only host Limelight tries to reach is that one, and the failure shows in the status bar', async () => {
  await closeE2eSession(session);
  session = await openE2eSession({
    workspace: sampleWorkspace,
    logName: 'code-server-remote-elsewhere.log',
    prepare: (tmp) => {
      netLog = join(tmp, 'net.jsonl');
      return { netLog, settings: { 'limelight.backend': 'remote', 'limelight.remote.endpoint': `https://${ELSEWHERE}/v1`, 'limelight.remote.api': 'openai-completions', 'limelight.remote.model': 'qwen2.5-coder-7b', 'limelight.logLevel': 'debug' } };
    },
  });
  await page().locator(`.statusbar-item[aria-label*="engine: remote, openai-completions at https://${ELSEWHERE}/v1"]`).waitFor({ timeout: 60_000 });
  await openFile(page(), 'stack.ts');
  await page().locator('.monaco-editor .view-lines').first().click();
  await page().keyboard.press('Control+End');
  await page().keyboard.press('Enter');
  await page().keyboard.type('const y = ', { delay: 150 });
  await waitFor('an attempt to reach the configured host', () => ourAttempts().length > 0, 30_000);
  await page()
    .locator('.statusbar-item[aria-label*="last request failed"]')
    .waitFor({ timeout: 30_000 })
    .catch((e: Error) => {
      throw new Error(`${e.message}\nThe Limelight log ends with:\n${limelightLog(session).split('\n').slice(-12).join('\n')}`);
    });
  const targets = [...new Set(ourAttempts().map((r) => r.target ?? ''))];
  writeFileSync(join(results, 'e2e-remote-network.json'), JSON.stringify({ targets, attempts: ourAttempts().length }, null, 2) + '\n');
  assert.ok(targets.length > 0 && targets.every((t) => t.replace(/^https?:\/\//, '').startsWith(ELSEWHERE)), `attempted: ${targets.join(', ')}`);
  assert.equal(await page().locator('.notification-toast', { hasText: /remote server/ }).count(), 0, 'no pop-up for a failing server');
  await page().screenshot({ path: join(results, 'e2e-remote-failed.png') });
});
