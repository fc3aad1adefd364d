// The README's example configuration for each supported server (llama.cpp server, Ollama,
// vLLM, SGLang, TGI, LM Studio), read from the README itself, goes through the settings reader
// (as user settings) and the remote client to a loopback server speaking that API, with the
// endpoint's host swapped for the loopback server's (its path kept): each example must make a
// FIM completion and a summary's chat turn on the routes that server serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSettingsSchema, readSettings } from '../../extension/settings';
import { RemoteClient } from '../../engine/remote/client';
import { startFakeInferenceServer } from '../harness/fakeInferenceServers';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const schema: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).contributes.configuration.properties;

/** Heading -> the settings of its json block, in the README's remote section. */
function examples(): Map<string, Record<string, unknown>> {
  const section = readme.slice(readme.indexOf('## Remote inference servers'), readme.indexOf('\n## ', readme.indexOf('## Remote inference servers') + 5));
  const out = new Map<string, Record<string, unknown>>();
  for (const part of section.split('\n### ').slice(1)) {
    const m = /```json\n([\s\S]*?)\n```/.exec(part);
    assert.ok(m, `no json block under ${part.split('\n')[0]}`);
    out.set(part.split('\n')[0]!, JSON.parse(m[1]!) as Record<string, unknown>);
  }
  return out;
}

test('the README has an example configuration for every supported server', () => {
  assert.deepEqual([...examples().keys()], ['llama.cpp server', 'Ollama', 'vLLM', 'SGLang', 'Text Generation Inference (TGI)', 'LM Studio']);
});

test('every README example completes and summarizes through the loopback server on its API\'s routes', async () => {
  assert.ok(isSettingsSchema(schema));
  const s = await startFakeInferenceServer({ pieces: ['return a + b'] });
  try {
    const expected: Record<string, { infill: string; chat: string; marker: string | null }> = {
      'llama.cpp server': { infill: '/infill', chat: '/v1/chat/completions', marker: null },
      Ollama: { infill: '/api/generate', chat: '/api/chat', marker: null },
      vLLM: { infill: '/v1/completions', chat: '/v1/chat/completions', marker: '<|fim_prefix|>' },
      SGLang: { infill: '/v1/completions', chat: '/v1/chat/completions', marker: '<｜fim▁begin｜>' },
      'Text Generation Inference (TGI)': { infill: '/v1/completions', chat: '/v1/chat/completions', marker: '<fim_prefix>' },
      'LM Studio': { infill: '/v1/completions', chat: '/v1/chat/completions', marker: '<|fim_prefix|>' },
    };
    for (const [name, example] of examples()) {
      const endpoint = new URL(String(example['limelight.remote.endpoint']));
      const user: Record<string, unknown> = { ...example, 'limelight.remote.endpoint': `${s.url}${endpoint.pathname.replace(/\/$/, '')}` };
      const { settings, problems } = readSettings(schema, (k) => user[k], (k) => user[k]);
      assert.deepEqual(problems, [], name);
      assert.equal(settings.backend, 'remote', name);
      const r = settings.remote;
      const client = new RemoteClient({ endpoint: new URL(r.endpoint), api: r.api, model: r.model, fimTemplate: r.fimTemplate, apiKey: '', timeoutMs: 5000 });
      const before = s.requests.length;
      const run = { maxTokens: 8, stop: [], maxTimeMs: 5000, signal: new AbortController().signal };
      assert.equal((await client.infill({ path: 'a.py', prefix: 'def add(a, b):\n    ', suffix: '\n' }, run)).text, 'return a + b', name);
      assert.equal((await client.chat([{ role: 'user', content: 'Summarize' }], run)).text, 'return a + b', name);
      const [infill, chat] = s.requests.slice(before);
      assert.equal(infill!.path, expected[name]!.infill, name);
      assert.equal(chat!.path, expected[name]!.chat, name);
      const marker = expected[name]!.marker;
      if (marker !== null) assert.ok(String(infill!.body.prompt).includes(marker), `${name}: ${String(infill!.body.prompt)}`);
    }
  } finally {
    await s.close();
  }
});
