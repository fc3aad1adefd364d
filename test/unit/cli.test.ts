// The built CLI (dist/cli.js, made by `node tools/build.mjs`, which `npm run test:unit` runs
// first) on the oracle models: the exact commands outside checks rely on, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../engine/io/safetensors';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`node tools/build.mjs\` first`);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'limelight-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of ORACLE_MODELS) {
  const ref = oracleFile(name, 'reference');
  const dir = oracleDir(name);

  test(`${name}: forward writes logits and attention matching transformers`, () => {
    const ids = Array.from(ref.tensorToInt32('input_ids'));
    const out = join(tmp, `${name}-forward.safetensors`);
    const r = cli('forward', '--model', dir, '--ids', ids.join(','), '--out', out, '--backend', 'js');
    assert.equal(r.code, 0, r.stderr);
    const f = readSafetensors(out);
    const T = ids.length;
    assert.deepEqual(f.info('logits').shape, [T, ref.info('logits').shape[1]]);
    assert.equal(f.info('logits').dtype, 'F32');
    assert.ok(maxAbsDiff(f.tensorToFloat32('logits'), ref.tensorToFloat32('logits')) < 1e-4);
    const attn = f.names().filter((n) => n.startsWith('attn.'));
    assert.equal(attn.length, ref.names().filter((n) => n.startsWith('attn.')).length);
    for (const a of attn) {
      assert.deepEqual(f.info(a).shape, ref.info(a).shape);
      assert.ok(maxAbsDiff(f.tensorToFloat32(a), ref.tensorToFloat32(a)) < 1e-5, a);
    }
  });

  test(`${name}: generate --json prints the greedy ids and timings`, () => {
    const greedy = Array.from(ref.tensorToInt32('greedy_from_8'));
    const r = cli('generate', '--model', dir, '--ids', greedy.slice(0, 8).join(','), '--max-new-tokens', '16', '--temperature', '0', '--json');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one JSON object');
    const j = JSON.parse(lines[0]) as { ids: number[]; new_ids: number[]; stop_reason: string; timings: Record<string, unknown> };
    assert.deepEqual(j.ids, greedy);
    assert.deepEqual(j.new_ids, greedy.slice(8));
    assert.equal(j.stop_reason, 'max-tokens');
    assert.equal(j.timings.prompt_tokens, 8);
    assert.equal(j.timings.new_tokens, 16);
    assert.ok(['js', 'ort-cpu', 'ort-webgpu', 'ort-cpu+js'].includes(j.timings.backend as string), `backend ${String(j.timings.backend)}`);
    // auto's phase split says which engine read the prompt and which wrote.
    if (j.timings.backend === 'ort-cpu+js') assert.match(j.timings.decode_engine as string, /^(js|ort-cpu) \(15 tokens\)/);
    for (const k of ['prefill_ms', 'decode_ms']) assert.ok(typeof j.timings[k] === 'number' && (j.timings[k] as number) >= 0, k);
  });

  test(`${name}: generate on --backend js gives the same greedy ids`, () => {
    const greedy = Array.from(ref.tensorToInt32('greedy_from_8'));
    const r = cli('generate', '--model', dir, '--ids', greedy.slice(0, 8).join(','), '--max-new-tokens', '16', '--temperature', '0', '--json', '--backend', 'js');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { ids: number[]; timings: { backend: string } };
    assert.deepEqual(j.ids, greedy);
    assert.equal(j.timings.backend, 'js');
  });
}

test('generate --prompt streams the same text that --json reports', () => {
  const dir = oracleDir('gpt2-tiny');
  // Single characters are ids below 512, inside the tiny model's vocabulary.
  const base = ['generate', '--model', dir, '--prompt', 'A(', '--max-new-tokens', '12', '--temperature', '0.7', '--top-k', '40', '--top-p', '0.9', '--repetition-penalty', '1.3'];
  const common = [...base, '--seed', '5'];
  const j = cli(...common, '--json');
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { ids: number[]; new_ids: number[]; text: string };
  const tok = getTokenizer('r50k_base');
  assert.deepEqual(parsed.ids.slice(0, 2), tok.encode('A('));
  assert.equal(parsed.text, tok.decode(parsed.new_ids));
  const s = cli(...common);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout, parsed.text + '\n');
  const other = cli(...base, '--seed', '6', '--json');
  assert.notDeepEqual((JSON.parse(other.stdout) as { ids: number[] }).ids, parsed.ids, 'another seed, another sample');
});

test('generate --stop cuts the text before the stop string', () => {
  const dir = oracleDir('gpt2-tiny');
  const full = JSON.parse(cli('generate', '--model', dir, '--prompt', 'A', '--max-new-tokens', '12', '--json').stdout) as { text: string };
  const stop = full.text.slice(3, 5);
  const cut = full.text.indexOf(stop);
  const r = JSON.parse(cli('generate', '--model', dir, '--prompt', 'A', '--max-new-tokens', '12', '--stop', stop, '--json').stdout) as { text: string; stop_reason: string };
  assert.equal(r.stop_reason, 'stop-string');
  assert.equal(r.text, full.text.slice(0, cut));
});

test('help, and bad arguments give a message on stderr and a non-zero exit', () => {
  const help = cli('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /generate/);
  assert.match(help.stdout, /forward/);
  assert.equal(cli('generate', '--help').code, 0);
  assert.match(cli('forward', '--help').stdout, /--out FILE/);

  const dir = oracleDir('gpt2-tiny');
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage/],
    [['bogus'], /unknown command "bogus"/],
    [['generate', '--model', dir, '--ids', '1', '--tempreature', '1'], /unknown option --tempreature\. Did you mean --temperature\?/],
    [['generate', '--model', dir], /exactly one of --ids/],
    [['generate', '--model', dir, '--ids', '1,x'], /"x" is not a token id/],
    [['generate', '--model', dir, '--ids', '1', '--max-new-tokens'], /--max-new-tokens needs a value/],
    [['generate', '--model', dir, '--ids', '1', '--top-p', '3'], /top-p/],
    [['generate', '--model', dir, '--ids', '1', '--temperature', 'hot'], /--temperature takes a number/],
    [['generate', '--model', dir, '--ids', '100000'], /outside the model's vocabulary/],
    [['generate', '--model', join(tmp, 'nowhere'), '--ids', '1'], /nowhere does not exist. Choose a .gguf file or a Hugging Face checkpoint folder/],
    [['generate', '--model', oracleDir('llama-tiny'), '--prompt', 'hi'], /carries no tokenizer .*Pass --ids/],
    [['generate', '--model', dir, '--ids', '1', '--backend', 'cuda'], /unknown backend "cuda"/],
    [['forward', '--model', dir, '--ids', '1,2'], /--out is required/],
    [['forward', '--model', dir, '--ids', new Array(65).fill(1).join(','), '--out', join(tmp, 'long.safetensors')], /context holds 64/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.notEqual(r.code, 0, `limelight ${args.join(' ')} should fail`);
    assert.match(r.stderr + (args.length === 0 ? r.stdout : ''), message, `limelight ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /    at /, 'no stack trace');
  }
});

test('forward never overwrites a file that is not safetensors', () => {
  const precious = join(tmp, 'notes.txt');
  writeFileSync(precious, 'my notes');
  const r = cli('forward', '--model', oracleDir('gpt2-tiny'), '--ids', '1,2', '--out', precious);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to overwrite/);
  assert.equal(readFileSync(precious, 'utf8'), 'my notes');
});

test('without --model and without a bundled starter model, the error says to pass --model', () => {
  // The starter model is not bundled yet; once it is, this command runs it instead.
  const r = cli('generate', '--ids', '1', '--max-new-tokens', '1', '--json');
  if (r.code === 0) assert.ok(existsSync(join(__dirname, '..', '..', '..', 'media', 'models', 'starter', 'config.json')));
  else assert.match(r.stderr, /Pass --model PATH, a \.gguf file or a Hugging Face checkpoint folder/);
});
