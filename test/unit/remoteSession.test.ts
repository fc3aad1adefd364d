// The remote backend under the one completion pipeline: CompletionSession with a RemoteEngine
// against a loopback server. The session's cache, policy and post-processing apply as they do
// to the local model; the server gets the prompt's text parts with the windows measured by the
// documented estimate; a newer keystroke aborts the request in flight; errors become records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionSession } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { ContextRing } from '../../engine/complete/contextRing';
import { RemoteClient } from '../../engine/remote/client';
import { ESTIMATED_CHARS_PER_TOKEN, estimatedTemplate, estimateTokens, RemoteEngine, REMOTE_SESSION_OPTIONS } from '../../engine/remote/remoteEngine';
import { remoteSummaryText } from '../../extension/summarize/prompt';
import { plainSummaryText } from '../../engine/summarize/summaryText';
import type { RemoteApi } from '../../engine/remote/endpoint';
import { startFakeInferenceServer, type FakeInferenceServer } from '../harness/fakeInferenceServers';

const FILE = 'export function area(r: number): number {\n  return Math.PI * r * r;\n}\n\nexport function perimeter(r: number): number {\n  \n}\n';
const AT = FILE.indexOf('  \n}') + 2;
const doc = (text = FILE, offset = AT) => ({ path: 'src/geometry.ts', languageId: 'typescript', text, offset });

function session(s: FakeInferenceServer, api: RemoteApi, options = {}, ring?: ContextRing) {
  const client = new RemoteClient({ endpoint: new URL(api === 'openai-completions' ? `${s.url}/v1` : s.url), api, model: 'qwen2.5-coder:7b', fimTemplate: '', apiKey: '', timeoutMs: 5000 });
  return new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), { debounceMs: 0, ...options }, ring);
}

test('a suggestion from each API through the same session: text parts sent, shown, then typed through from the cache', async () => {
  const s = await startFakeInferenceServer({ pieces: ['return 2 * Math.PI', ' * r;\n}\n\nmore'] });
  try {
    for (const api of ['llama-infill', 'ollama', 'openai-completions'] as const) {
      const before = s.requests.length;
      const ses = session(s, api);
      const r = await ses.complete(doc(), 'invoke');
      assert.equal(r.outcome, 'shown', `${api}: ${r.reason}`);
      assert.equal(r.text, 'return 2 * Math.PI * r;');
      assert.deepEqual(r.newIds, []);
      assert.match(r.timings!.backend, new RegExp(`^remote ${api}`));
      const typed = await ses.complete(doc(FILE.slice(0, AT) + 'ret' + FILE.slice(AT), AT + 3), 'auto');
      assert.equal(typed.outcome, 'typed-through');
      assert.equal(s.requests.length, before + 1, `${api}: one request; no prefill-only requests, no request for the typed-through keystroke`);
    }
    assert.equal(s.requests[0]!.body.input_prefix, FILE.slice(0, AT));
    assert.equal(s.requests[0]!.body.input_suffix, FILE.slice(AT));
    assert.equal(s.requests[1]!.body.prompt, FILE.slice(0, AT));
    assert.match(String(s.requests[2]!.body.prompt), /^<\|file_sep\|>src\/geometry\.ts\n<\|fim_prefix\|>export function area/);
  } finally {
    await s.close();
  }
});

test('the windows are measured at ESTIMATED_CHARS_PER_TOKEN characters a token, and other files ride along as input_extra', async () => {
  const s = await startFakeInferenceServer({ pieces: ['x'] });
  try {
    const ring = new ContextRing();
    ring.note('src/other.ts', 'export const unit = 1;\n'.repeat(3), 10);
    const long = 'let a = 1;\n'.repeat(2000);
    const ses = session(s, 'llama-infill', { prefixTokens: 300, suffixTokens: 60, contextTokens: 100 }, ring);
    const r = await ses.complete(doc(long + long, long.length), 'invoke');
    const sent = s.requests[0]!.body;
    const prefix = String(sent.input_prefix);
    const suffix = String(sent.input_suffix);
    assert.ok(prefix.length <= 300 * ESTIMATED_CHARS_PER_TOKEN && prefix.length > 150 * ESTIMATED_CHARS_PER_TOKEN, `prefix ${prefix.length} chars`);
    assert.ok(suffix.length <= 60 * ESTIMATED_CHARS_PER_TOKEN && suffix.length > 0, `suffix ${suffix.length} chars`);
    assert.ok(prefix.startsWith('let') && suffix.endsWith('\n'), 'cut at line boundaries');
    assert.deepEqual(sent.input_extra, r.prompt!.chunks.map((c) => ({ filename: c.path, text: c.text })));
    assert.equal((sent.input_extra as unknown[]).length, 1);
  } finally {
    await s.close();
  }
});

test('a newer keystroke aborts the request in flight (the server sees the connection close) and gets its own answer', async () => {
  const s = await startFakeInferenceServer({ fault: { kind: 'endless' } });
  try {
    const ses = session(s, 'llama-infill', { multiLineMaxMs: 60_000, singleLineMaxMs: 60_000, maxNewTokens: 1000 });
    const first = ses.complete(doc(), 'invoke');
    await s.waitForRequests(1);
    s.options = { pieces: ['return 2 * r;'] };
    const second = ses.complete(doc(FILE.slice(0, AT) + 'r' + FILE.slice(AT), AT + 1), 'invoke');
    assert.equal((await first).outcome, 'cancelled');
    const r2 = await second;
    assert.equal(r2.outcome, 'shown', r2.reason);
    assert.equal(s.requests[0]!.closedEarly, true);
    assert.equal(s.requests.length, 2);
  } finally {
    await s.close();
  }
});

test('a server error is the request\'s record (outcome error, the reason saying what to do), not an exception', async () => {
  const s = await startFakeInferenceServer({ fault: { kind: 'status', status: 401 } });
  try {
    const r = await session(s, 'ollama').complete(doc(), 'invoke');
    assert.equal(r.outcome, 'error');
    assert.match(r.reason, /Set Remote API Key/);
  } finally {
    await s.close();
  }
});

test('a summary request for a server: the plain request, cut at line ends to the estimated budget', () => {
  const short = remoteSummaryText('const a = 1;\nconst b = 2;', 200);
  assert.equal(short.text, plainSummaryText('const a = 1;\nconst b = 2;'));
  assert.equal(short.cut, false);
  const code = Array.from({ length: 400 }, (_, i) => `const v${i} = ${i};`).join('\n');
  const cut = remoteSummaryText(code, 300);
  assert.ok(cut.cut && cut.keptLines < cut.totalLines && cut.keptLines > 50, `${cut.keptLines} lines kept`);
  assert.ok(estimateTokens(cut.text) <= 300);
  assert.ok(cut.text.endsWith('A one-sentence summary of what the code above does:'));
  const oneLine = remoteSummaryText('x'.repeat(10_000), 100);
  assert.ok(oneLine.cut && estimateTokens(oneLine.text) <= 100);
});

test('on a server the debounce wait does not shrink below the setting when answers come fast (each aborted request costs the shared server)', async () => {
  const s = await startFakeInferenceServer({ pieces: ['x'] });
  try {
    const client = new RemoteClient({ endpoint: new URL(s.url), api: 'llama-infill', model: '', fimTemplate: '', apiKey: '', timeoutMs: 5000 });
    const ses = new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), { ...REMOTE_SESSION_OPTIONS, debounceMs: 150 });
    for (let i = 0; i < 3; i++) await ses.complete(doc(FILE.slice(0, AT) + 'x'.repeat(i) + FILE.slice(AT), AT + i), 'invoke');
    assert.ok(ses.debounce.averageLatencyMs !== null && ses.debounce.averageLatencyMs < 150);
    assert.equal(ses.debounce.delayMs(), 150);
  } finally {
    await s.close();
  }
});
