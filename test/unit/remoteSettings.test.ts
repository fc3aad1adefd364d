// The remote backend's settings: read from the user's settings only (a workspace's values are
// ignored, and a workspace cannot turn the remote backend on), the endpoint checked (https
// unless loopback or the user's opt-in), and the FIM template names the one marker table
// knows. Also: the key never reaches a log line or the Explain view, even when the server
// echoes it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSettingsSchema, readSettings, type SettingsSchema } from '../../extension/settings';
import { FIM_TEMPLATE_NAMES } from '../../engine/tokenizer/fimMarkers';
import { CompletionSession } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { explainMarkdown, formatRecordLine } from '../../engine/complete/explain';
import { RemoteClient } from '../../engine/remote/client';
import { estimatedTemplate, RemoteEngine } from '../../engine/remote/remoteEngine';
import { startFakeInferenceServer } from '../harness/fakeInferenceServers';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const schema: unknown = manifest.contributes.configuration.properties;
function loadSchema(): SettingsSchema {
  assert.ok(isSettingsSchema(schema));
  return schema;
}

const USER = { 'limelight.backend': 'remote', 'limelight.remote.endpoint': 'https://llm.example.com/v1', 'limelight.remote.api': 'openai-completions', 'limelight.remote.model': 'qwen2.5-coder-7b' } as Record<string, unknown>;
const WORKSPACE = { 'limelight.backend': 'remote', 'limelight.remote.endpoint': 'https://attacker.example.net/v1', 'limelight.remote.api': 'ollama', 'limelight.remote.model': 'evil' } as Record<string, unknown>;

test('the remote settings come from user settings only: a workspace value never redirects the code', () => {
  // VS Code's effective value would be the workspace's; the user's own value decides.
  const both = readSettings(loadSchema(), (k) => WORKSPACE[k] ?? USER[k], (k) => USER[k]);
  assert.equal(both.settings.backend, 'remote');
  assert.deepEqual(both.settings.remote, { endpoint: 'https://llm.example.com/v1', api: 'openai-completions', model: 'qwen2.5-coder-7b', fimTemplate: '', allowHttp: false, timeoutMs: 30000 });
  assert.ok(both.notes.some((n) => /limelight\.remote\.endpoint is read from user settings only/.test(n)));
  assert.ok(!JSON.stringify(both).includes('attacker'));

  const workspaceOnly = readSettings(loadSchema(), (k) => WORKSPACE[k], () => undefined);
  assert.equal(workspaceOnly.settings.backend, 'auto', 'a workspace cannot turn the remote backend on');
  assert.equal(workspaceOnly.settings.remote.endpoint, '');
  assert.ok(workspaceOnly.problems.some((p) => /"remote" in this workspace's settings.*user settings/.test(p)));

  const callerWithoutUserValues = readSettings(loadSchema(), (k) => USER[k]);
  assert.equal(callerWithoutUserValues.settings.backend, 'auto', 'without the user values nothing is sent anywhere');
});

test('the endpoint is checked: plain http to another machine needs the user\'s opt-in; a refused endpoint turns the backend off with a problem', () => {
  const at = (endpoint: string, allowHttp = false) => {
    const user = { ...USER, 'limelight.remote.endpoint': endpoint, 'limelight.remote.allowHttp': allowHttp } as Record<string, unknown>;
    return readSettings(loadSchema(), (k) => user[k], (k) => user[k]);
  };
  assert.equal(at('http://127.0.0.1:8080').settings.remote.endpoint, 'http://127.0.0.1:8080/');
  const plain = at('http://gpu-box.lan:8000/v1');
  assert.equal(plain.settings.remote.endpoint, '');
  assert.match(plain.problems.join('\n'), /unencrypted.*allowHttp.*off until then/);
  assert.equal(at('http://gpu-box.lan:8000/v1', true).settings.remote.endpoint, 'http://gpu-box.lan:8000/v1');
  assert.match(at('https://u:p@llm.example.com').problems.join('\n'), /Set Remote API Key/);
});

test('the fimTemplate setting offers exactly the marker table\'s templates', () => {
  assert.deepEqual(loadSchema()['limelight.remote.fimTemplate']!.enum, ['', ...FIM_TEMPLATE_NAMES]);
  assert.ok(loadSchema()['limelight.backend']!.enum!.includes('remote'));
});

test('the key never reaches the log line or the Explain view of a failed request, though the server echoes it', async () => {
  const KEY = 'sk-explain-5e4d3c2b1a09';
  const s = await startFakeInferenceServer({ fault: { kind: 'status', status: 401 } });
  try {
    const client = new RemoteClient({ endpoint: new URL(s.url), api: 'llama-infill', model: '', fimTemplate: '', apiKey: KEY, timeoutMs: 5000 });
    const session = new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), { debounceMs: 0 });
    const r = await session.complete({ path: 'a.ts', languageId: 'typescript', text: 'const x = ', offset: 10 }, 'invoke');
    assert.equal(r.outcome, 'error');
    assert.equal(s.requests[0]!.headers.authorization, `Bearer ${KEY}`, 'the key was sent');
    for (const text of [formatRecordLine(r), explainMarkdown(r), JSON.stringify(r), client.description]) assert.ok(!text.includes(KEY), text);
    assert.match(explainMarkdown(session.last), /API key is missing or wrong/);
  } finally {
    await s.close();
  }
});
