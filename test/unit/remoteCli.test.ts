// `limelight generate` and `limelight complete` with --backend remote against a loopback server,
// and generate --suffix on a local model (its FIM template): the same JSON as a local generate,
// the requests each API gets, the key from LIMELIGHT_REMOTE_API_KEY (never printed), and
// command lines that are refused with what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeInferenceServer } from '../harness/fakeInferenceServers';
import { writeTinyQwenFolder } from '../harness/realModel';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const KEY = 'sk-cli-0d9e8f7a6b5c4d3e';
const dir = mkdtempSync(join(tmpdir(), 'limelight-remote-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI in a child process (asynchronously: the fake server runs in this one). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The keys of `limelight generate --json` on a local model with a tokenizer. */
const GENERATE_KEYS = ['ids', 'new_ids', 'text', 'stop_reason', 'context_limited', 'seed', 'timings'];

test('generate --backend remote prints the JSON of a local generate; --suffix makes it a FIM request; the key goes as a bearer token', async () => {
  const s = await startFakeInferenceServer({ pieces: ['return ', 'a + b'] });
  try {
    const base = ['generate', '--backend', 'remote', '--endpoint', s.url, '--api', 'llama-infill', '--max-new-tokens', '12', '--json'];
    const fim = await cli([...base, '--prompt', 'def add(a, b):\n    ', '--suffix', '\n'], { LIMELIGHT_REMOTE_API_KEY: KEY });
    assert.equal(fim.code, 0, fim.stderr);
    const j = JSON.parse(fim.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), GENERATE_KEYS);
    assert.equal(j.text, 'return a + b');
    assert.equal(j.stop_reason, 'eos');
    assert.deepEqual(Object.keys(j.timings as object).sort(), ['backend', 'decode_ms', 'decode_tokens_per_s', 'new_tokens', 'prefill_ms', 'prefilled_tokens', 'prompt_tokens', 'reused_tokens']);
    assert.equal(s.requests[0]!.path, '/infill');
    assert.deepEqual([s.requests[0]!.body.input_prefix, s.requests[0]!.body.input_suffix, s.requests[0]!.body.n_predict], ['def add(a, b):\n    ', '\n', 12]);
    assert.equal(s.requests[0]!.headers.authorization, `Bearer ${KEY}`);

    const plain = await cli(['generate', '--backend', 'remote', '--endpoint', `${s.url}/v1`, '--api', 'openai-completions', '--remote-model', 'qwen2.5-coder-7b', '--prompt', 'def add(a, b):']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'return a + b\n');
    assert.equal(s.requests[1]!.path, '/v1/completions');
    assert.equal(s.requests[1]!.body.prompt, 'def add(a, b):');
    assert.equal(s.requests[1]!.headers.authorization, undefined, 'no key set, no header');

    const ollama = await cli(['generate', '--backend', 'remote', '--endpoint', s.url, '--api', 'ollama', '--remote-model', 'qwen2.5-coder:7b', '--prompt', 'x = ', '--suffix', '\nprint(x)\n', '--json']);
    assert.equal(ollama.code, 0, ollama.stderr);
    assert.deepEqual(s.requests[2]!.body, { model: 'qwen2.5-coder:7b', prompt: 'x = ', suffix: '\nprint(x)\n', stream: true, options: { num_predict: 64, temperature: 0 } });
  } finally {
    await s.close();
  }
});

test('complete --backend remote: the editor\'s suggestion at a file position from the server', async () => {
  const s = await startFakeInferenceServer({ pieces: ['a + b\n\nprint(1)'] });
  try {
    const file = join(dir, 'add.py');
    writeFileSync(file, 'def add(a, b):\n    return \n\nprint(add(1, 2))\n');
    const r = await cli(['complete', '--backend', 'remote', '--endpoint', `${s.url}/v1/`, '--api', 'openai-completions', '--remote-model', 'bigcode/starcoder2-3b', '--file', file, '--line', '2', '--column', '12', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { text: string; outcome: string; timings: { backend: string } };
    assert.equal(j.outcome, 'shown');
    assert.equal(j.text, 'a + b');
    assert.match(j.timings.backend, /openai-completions/);
    assert.match(String(s.requests[0]!.body.prompt), /<fim_prefix>def add\(a, b\):\n {4}return <fim_suffix>\n\nprint\(add\(1, 2\)\)\n<fim_middle>$/);
  } finally {
    await s.close();
  }
});

test('a server error exits 1 with a message that says what to do and holds no key', async () => {
  const s = await startFakeInferenceServer({ fault: { kind: 'status', status: 401 } });
  try {
    const r = await cli(['generate', '--backend', 'remote', '--endpoint', s.url, '--api', 'llama-infill', '--prompt', 'x'], { LIMELIGHT_REMOTE_API_KEY: KEY });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /API key is missing or wrong/);
    assert.ok(!r.stderr.includes(KEY) && !r.stdout.includes(KEY));
  } finally {
    await s.close();
  }
});

test('remote command lines that cannot work are refused with what to do', async () => {
  const cases: [string[], RegExp][] = [
    [['generate', '--backend', 'remote', '--api', 'ollama', '--prompt', 'x'], /needs --endpoint/],
    [['generate', '--backend', 'remote', '--endpoint', 'http://gpu.example.com', '--api', 'ollama', '--remote-model', 'm', '--prompt', 'x'], /unencrypted.*--allow-http/],
    [['generate', '--backend', 'remote', '--endpoint', 'http://127.0.0.1:9', '--api', 'tgi', '--prompt', 'x'], /--api, one of llama-infill, ollama, openai-completions/],
    [['generate', '--backend', 'remote', '--endpoint', 'http://127.0.0.1:9', '--api', 'ollama', '--prompt', 'x'], /needs --remote-model/],
    [['generate', '--backend', 'remote', '--endpoint', 'http://127.0.0.1:9', '--api', 'llama-infill', '--ids', '1,2'], /--ids applies to a local model/],
    [['generate', '--backend', 'remote', '--endpoint', 'http://127.0.0.1:9', '--api', 'openai-completions', '--remote-model', 'team-model', '--prompt', 'x', '--suffix', 'y'], /--fim-template/],
  ];
  for (const [args, says] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, says);
  }
});

test('generate --suffix on a local model builds the FIM prompt through the model\'s template', async () => {
  const model = writeTinyQwenFolder(join(dir, 'qwen'));
  const r = await cli(['generate', '--model', model, '--prompt', 'def f(', '--suffix', '):\n', '--max-new-tokens', '2', '--json', '--backend', 'js', '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { ids: number[]; new_ids: number[] };
  // Qwen: <|file_sep|> (path) <|fim_prefix|> 151659 ... <|fim_suffix|> 151661 ... <|fim_middle|> 151660, then the new ids.
  const prompt = j.ids.slice(0, j.ids.length - j.new_ids.length);
  assert.equal(prompt[0], 151664, 'the file separator first');
  assert.ok(prompt.includes(151659) && prompt.includes(151661));
  assert.equal(prompt.at(-1), 151660);
  const noFim = await cli(['generate', '--model', model, '--ids', '1', '--suffix', 'x']);
  assert.equal(noFim.code, 2);
  assert.match(noFim.stderr, /--suffix goes with --prompt/);
});
