// The remote backend's client against a loopback server speaking each API: the requests it
// sends (paths, bodies, the bearer key), streamed and whole answers, and every fault the
// server can throw at it: a slow stream, a connection dropped mid-stream, 401, 429 with
// Retry-After, 500, malformed JSON, a stream that never ends and a server that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteClient, fimTemplateFor } from '../../engine/remote/client';
import { checkEndpoint, endpointUrl, isLoopbackHost, type RemoteApi, type RemoteConfig } from '../../engine/remote/endpoint';
import { parseRetryAfter } from '../../engine/remote/http';
import { RemoteError } from '../../engine/remote/remoteError';
import { fimPromptText, fimRowByName, fimStopTexts } from '../../engine/tokenizer/fimMarkers';
import { FIM_PREFIX_TEXTS } from '../../engine/tokenizer/vocabTokenizer';
import { startFakeInferenceServer, type FakeInferenceServer, type Fault } from '../harness/fakeInferenceServers';

const KEY = 'sk-test-7f3a9c1e5b2d4f60';
const PARTS = { path: 'src/math.ts', prefix: 'function add(a: number, b: number) {\n  ', suffix: '\n}\n', context: [{ path: 'src/util.ts', text: 'export const one = 1;\n' }] };

function config(server: FakeInferenceServer, api: RemoteApi, extra: Partial<RemoteConfig> = {}): RemoteConfig {
  const base = api === 'openai-completions' ? `${server.url}/v1` : server.url;
  return { endpoint: new URL(base), api, model: api === 'llama-infill' ? '' : 'qwen2.5-coder:1.5b', fimTemplate: '', apiKey: KEY, timeoutMs: 5000, ...extra };
}

const run = (extra: Partial<Parameters<RemoteClient['infill']>[1]> = {}) => ({ maxTokens: 16, stop: [], maxTimeMs: 5000, signal: new AbortController().signal, ...extra });

async function withServer(fn: (s: FakeInferenceServer) => Promise<void>, pieces = ['return ', 'a + b;']): Promise<void> {
  const s = await startFakeInferenceServer({ pieces });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test('llama-infill: POST /infill with input_prefix, input_suffix, input_extra, n_predict, cache_prompt and the bearer key; SSE streamed', () =>
  withServer(async (s) => {
    const deltas: string[] = [];
    const r = await new RemoteClient(config(s, 'llama-infill')).infill(PARTS, run({ onText: (d) => deltas.push(d) }));
    assert.equal(r.text, 'return a + b;');
    assert.deepEqual(deltas, ['return ', 'a + b;']);
    assert.equal(r.stopReason, 'eos');
    assert.equal(r.timings.prompt_tokens, 40);
    assert.equal(r.timings.reused_tokens, 28);
    assert.equal(r.timings.prefilled_tokens, 12);
    assert.match(r.timings.backend, /^remote llama-infill at http:\/\/127\.0\.0\.1:\d+$/);
    const q = s.requests[0]!;
    assert.equal(q.path, '/infill');
    assert.equal(q.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(q.body, { input_prefix: PARTS.prefix, input_suffix: PARTS.suffix, input_extra: [{ filename: 'src/util.ts', text: 'export const one = 1;\n' }], n_predict: 16, stream: true, cache_prompt: true, temperature: 0 });
  }));

test('ollama: POST /api/generate with model, prompt = prefix, suffix, stream and options.num_predict; NDJSON streamed', () =>
  withServer(async (s) => {
    const r = await new RemoteClient(config(s, 'ollama')).infill(PARTS, run({ stop: ['\n'] }));
    assert.equal(r.text, 'return a + b;');
    assert.equal(r.timings.new_tokens, 3);
    assert.equal(r.timings.decode_ms, 9);
    const q = s.requests[0]!;
    assert.equal(q.path, '/api/generate');
    assert.deepEqual(q.body, { model: 'qwen2.5-coder:1.5b', prompt: PARTS.prefix, suffix: PARTS.suffix, stream: true, options: { num_predict: 16, temperature: 0, stop: ['\n'] } });
  }));

test('ollama with an empty suffix sends a line end (an empty suffix turns the request into a chat turn); with a template named, the FIM text goes raw', () =>
  withServer(async (s) => {
    await new RemoteClient(config(s, 'ollama')).infill({ ...PARTS, suffix: '' }, run());
    assert.equal(s.requests[0]!.body.suffix, '\n');
    await new RemoteClient(config(s, 'ollama', { fimTemplate: 'starcoder', model: 'my-tuned-model' })).infill(PARTS, run());
    const b = s.requests[1]!.body;
    assert.equal(b.raw, true);
    assert.equal(b.suffix, undefined);
    assert.equal(b.prompt, `<file_sep>src/util.ts\nexport const one = 1;\n<file_sep>src/math.ts\n<fim_prefix>${PARTS.prefix}<fim_suffix>${PARTS.suffix}<fim_middle>`);
  }));

test('openai-completions: the FIM prompt text from the model name, max_tokens, temperature, stop, at {endpoint}/completions', () =>
  withServer(async (s) => {
    const r = await new RemoteClient(config(s, 'openai-completions')).infill(PARTS, run({ stop: ['\n\n\n'] }));
    assert.equal(r.text, 'return a + b;');
    assert.equal(r.timings.prompt_tokens, 40);
    const q = s.requests[0]!;
    assert.equal(q.path, '/v1/completions');
    assert.equal(q.body.prompt, `<|file_sep|>src/util.ts\nexport const one = 1;\n<|file_sep|>src/math.ts\n<|fim_prefix|>${PARTS.prefix}<|fim_suffix|>${PARTS.suffix}<|fim_middle|>`);
    assert.deepEqual(q.body.stop, ['\n\n\n']);
    assert.equal(q.body.max_tokens, 16);
    assert.equal(q.body.model, 'qwen2.5-coder:1.5b');
  }));

test('the FIM template comes from the model name or the setting; an unknown model with openai-completions says what to set', () => {
  const pick = (model: string, fimTemplate = '') => fimTemplateFor({ api: 'openai-completions', model, fimTemplate })?.name;
  assert.equal(pick('Qwen/Qwen2.5-Coder-7B'), 'qwen');
  assert.equal(pick('bigcode/starcoder2-15b'), 'starcoder');
  assert.equal(pick('deepseek-ai/deepseek-coder-6.7b-base'), 'deepseek');
  assert.equal(pick('codellama/CodeLlama-13b-hf'), 'codellama');
  assert.equal(pick('codestral-latest'), 'codestral');
  assert.equal(pick('team-model', 'deepseek'), 'deepseek');
  assert.throws(() => pick('team-model'), /set limelight\.remote\.fimTemplate .*qwen/);
  assert.throws(() => pick('x', 'nope'), /"nope" is not a known template/);
  assert.equal(fimTemplateFor({ api: 'llama-infill', model: 'qwen2.5-coder', fimTemplate: '' }), null);
});

test('answers streamed and whole read the same; plain continuation and chat use each API\'s routes', () =>
  withServer(async (s) => {
    for (const api of ['llama-infill', 'ollama', 'openai-completions'] as const) {
      const c = new RemoteClient(config(s, api));
      assert.equal((await c.infill(PARTS, run({ stream: false }))).text, 'return a + b;', api);
      assert.equal((await c.continue('def f():', run())).text, 'return a + b;', api);
      assert.equal((await c.chat([{ role: 'user', content: 'Summarize' }], run())).text, 'return a + b;', api);
      assert.equal((await c.chat([{ role: 'user', content: 'Summarize' }], run({ stream: false }))).text, 'return a + b;', api);
    }
    assert.deepEqual(
      s.requests.map((q) => q.path),
      ['/infill', '/completion', '/v1/chat/completions', '/v1/chat/completions', '/api/generate', '/api/generate', '/api/chat', '/api/chat', '/v1/completions', '/v1/completions', '/v1/chat/completions', '/v1/chat/completions'],
    );
    assert.equal(s.requests[5]!.body.raw, true);
    assert.deepEqual(s.requests[6]!.body.messages, [{ role: 'user', content: 'Summarize' }]);
  }));

test('stop strings end the answer here too, whatever the server does with them', () =>
  withServer(
    async (s) => {
      const r = await new RemoteClient(config(s, 'llama-infill')).infill(PARTS, run({ stop: ['\n'] }));
      assert.equal(r.text, 'return a');
      assert.equal(r.stopReason, 'stop-string');
    },
    ['return a', '\n', 'more'],
  ));

test('a slow stream is read to its end; the time budget ends it with the text so far (max-time)', () =>
  withServer(async (s) => {
    s.options = { pieces: ['a', 'b', 'c'], fault: { kind: 'slow', ms: 120 } };
    const c = new RemoteClient(config(s, 'openai-completions'));
    assert.equal((await c.infill(PARTS, run())).text, 'abc');
    const r = await c.infill(PARTS, run({ maxTimeMs: 180 }));
    assert.equal(r.stopReason, 'max-time');
    assert.equal(r.text, 'ab');
  }));

test('a newer keystroke aborts the request in flight: the connection is closed and the answer is cancelled with the text so far', () =>
  withServer(async (s) => {
    s.options = { fault: { kind: 'endless' } };
    const ac = new AbortController();
    let got = '';
    const pending = new RemoteClient(config(s, 'llama-infill')).infill(PARTS, run({ signal: ac.signal, onText: (d) => (got += d) }));
    while (got.length < 2) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    const r = await pending;
    assert.equal(r.stopReason, 'cancelled');
    assert.ok(r.text.startsWith('xx'));
    for (let i = 0; i < 100 && !s.requests[0]!.closedEarly; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.requests[0]!.closedEarly, true, 'the server saw the client go away');
  }));

test('a never-ending stream or a silent server ends at the request timeout with an error naming the setting', () =>
  withServer(async (s) => {
    for (const fault of [{ kind: 'endless' as const }, { kind: 'silent' as const }]) {
      s.options = { fault };
      const c = new RemoteClient(config(s, 'ollama', { timeoutMs: 150 }));
      await assert.rejects(c.chat([{ role: 'user', content: 'x' }], run()), (e: RemoteError) => e.kind === 'timeout' && /limelight\.remote\.timeoutMs/.test(e.message));
    }
  }));

test('a connection dropped mid-stream is an error, not a short answer', () =>
  withServer(async (s) => {
    s.options = { pieces: ['a', 'b'], fault: { kind: 'drop' } };
    for (const api of ['llama-infill', 'ollama', 'openai-completions'] as const) {
      await assert.rejects(new RemoteClient(config(s, api)).infill(PARTS, run()), (e: RemoteError) => e.kind === 'network' && /dropped|closed early/.test(e.message), api);
    }
  }));

test('401, 500 and malformed JSON are errors that say what to do, and never carry the key (even when the server echoes it)', () =>
  withServer(async (s) => {
    const cases: [Fault, RegExp][] = [
      [{ kind: 'status', status: 401 }, /API key is missing or wrong.*Set Remote API Key/],
      [{ kind: 'status', status: 500 }, /failed \(HTTP 500\)/],
      [{ kind: 'malformed' }, /malformed JSON|unexpected shape/],
    ];
    for (const [fault, says] of cases) {
      s.options = { fault };
      for (const stream of [true, false]) {
        const e = await new RemoteClient(config(s, 'openai-completions')).infill(PARTS, run({ stream })).then(
          () => assert.fail('expected an error'),
          (x: unknown) => x as RemoteError,
        );
        assert.ok(e instanceof RemoteError);
        assert.match(e.message, says);
        assert.ok(!e.message.includes(KEY), `the key leaked: ${e.message}`);
        assert.ok(!(e.stack ?? '').includes(KEY));
      }
    }
    // The 401 body did echo the key: the message quotes the body with the key taken out.
    s.options = { fault: { kind: 'status', status: 401 } };
    const e = await new RemoteClient(config(s, 'llama-infill')).infill(PARTS, run()).catch((x: RemoteError) => x);
    assert.match((e as RemoteError).message, /Bearer \[key\]/);
  }));

test('429 with Retry-After: a completion is not retried and nothing is sent until the wait is over; a chat turn waits and retries', () =>
  withServer(async (s) => {
    s.options = { fault: { kind: 'status', status: 429, retryAfter: '1' } };
    const c = new RemoteClient(config(s, 'llama-infill'));
    await assert.rejects(c.infill(PARTS, run()), (e: RemoteError) => e.kind === 'rate-limited' && e.retryAfterMs === 1000);
    await assert.rejects(c.infill(PARTS, run()), /asked to wait \(HTTP 429\)/);
    assert.equal(s.requests.length, 1, 'the second completion did not connect');

    const chat = new RemoteClient(config(s, 'ollama'));
    s.options = { fault: { kind: 'status', status: 429, retryAfter: '0.2' } };
    const t0 = Date.now();
    const pending = chat.chat([{ role: 'user', content: 'x' }], run());
    await s.waitForRequests(2);
    s.options = { pieces: ['ok'] };
    const r = await pending;
    assert.equal(r.text, 'ok');
    assert.ok(Date.now() - t0 >= 190, 'waited as asked');
    assert.equal(s.requests.length, 3);

    s.options = { fault: { kind: 'status', status: 503, retryAfter: '0' } };
    await assert.rejects(new RemoteClient(config(s, 'ollama')).chat([{ role: 'user', content: 'x' }], run()), /HTTP 503/);
    assert.equal(s.requests.length, 6, 'three attempts in all');
  }));

test('endpoint checks: https, or http to loopback, or http with the opt-in; no credentials, query or fragment', () => {
  assert.ok(checkEndpoint('https://llm.example.com/v1', false).ok);
  assert.ok(checkEndpoint('http://127.0.0.1:8080', false).ok);
  assert.ok(checkEndpoint('http://localhost:11434', false).ok);
  assert.ok(checkEndpoint('http://[::1]:8080', false).ok);
  const plain = checkEndpoint('http://gpu-box.lan:8000/v1', false);
  assert.ok(!plain.ok && /unencrypted.*allowHttp/.test(plain.problem));
  assert.ok(checkEndpoint('http://gpu-box.lan:8000/v1', true).ok);
  const creds = checkEndpoint('https://user:secret@llm.example.com', false);
  assert.ok(!creds.ok && /Set Remote API Key/.test(creds.problem) && !creds.problem.includes('secret'));
  assert.ok(!checkEndpoint('https://llm.example.com/?k=1', false).ok);
  assert.ok(!checkEndpoint('ftp://llm.example.com', false).ok);
  assert.ok(!checkEndpoint('not a url', false).ok);
  assert.ok(!checkEndpoint('', false).ok);
  assert.ok(isLoopbackHost('127.1.2.3') && !isLoopbackHost('128.0.0.1') && !isLoopbackHost('localhost.example.com'));
  assert.equal(endpointUrl(new URL('http://h:8000/v1'), 'completions').pathname, '/v1/completions');
  assert.equal(endpointUrl(new URL('http://h:8000/v1/'), 'completions').pathname, '/v1/completions');
  assert.equal(endpointUrl(new URL('http://h:8080'), 'infill').pathname, '/infill');
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 3000).toUTCString()) !== null, true);
  assert.equal(parseRetryAfter('soon'), null);
});

test('the FIM text of each layout: prefix-first with the file separator, CodeLlama\'s spaced markers, Codestral suffix-first; the vocabulary lookup reads the same table', () => {
  const parts = { path: 'a.py', prefix: 'def f(', suffix: '):\n', context: [{ path: 'b.py', text: 'x = 1' }] };
  assert.equal(fimPromptText(fimRowByName('starcoder')!, parts), '<file_sep>b.py\nx = 1\n<file_sep>a.py\n<fim_prefix>def f(<fim_suffix>):\n<fim_middle>');
  assert.equal(fimPromptText(fimRowByName('deepseek')!, parts), '<｜fim▁begin｜>def f(<｜fim▁hole｜>):\n<｜fim▁end｜>');
  assert.equal(fimPromptText(fimRowByName('codellama')!, parts), '<PRE> def f( <SUF>):\n <MID>');
  assert.equal(fimPromptText(fimRowByName('codestral')!, parts), '[SUFFIX]):\n[PREFIX]def f(');
  assert.ok(fimStopTexts(fimRowByName('qwen')!).includes('<|file_sep|>'));
  assert.deepEqual(FIM_PREFIX_TEXTS, ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>']);
  assert.ok(!FIM_PREFIX_TEXTS.includes('[PREFIX]'), 'a suffix-first family is not looked up for the prefix-first token template');
});
