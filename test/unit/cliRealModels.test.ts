// `limelight info`, `tokenize` and `complete` on a model with a real vocabulary (Qwen2 family,
// the Qwen tokenizer.json): what a user with their own model runs from a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyQwenFolder } from '../harness/realModel';
import { offsetOf } from '../../engine/cli/commands/complete';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'limelight-cli-real-'));
const model = writeTinyQwenFolder(join(dir, 'qwen'));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('info names the family, the FIM layout, the chat template and the memory at a context', () => {
  const r = cli('info', '--model', model, '--context-length', '256', '--json');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(d.family, 'qwen2');
  assert.equal(d.vocabSize, 151936);
  assert.match(String(d.fim), /<\|fim_prefix\|> <\|fim_suffix\|> <\|fim_middle\|>/);
  assert.equal(d.chatTemplate, true);
  assert.equal(d.atContext, 256);
  assert.equal(d.memoryBytes, (d.weightBytes as number) + 256 * (d.kvBytesPerPosition as number));
  assert.deepEqual(d.formats, { F32: d.parameters });
});

test('tokenize parses special-token text as the special token and adds no BOS (Qwen adds none)', () => {
  const r = cli('tokenize', '--model', model, '--text', '<|fim_prefix|>def fib(n):', '--json');
  assert.equal(r.code, 0, r.stderr);
  // Qwen ids: <|fim_prefix|> 151659, then "def" " fib" "(n" "):" as the tokenizer.json gives them.
  assert.deepEqual(JSON.parse(r.stdout), { ids: [151659, 750, 15801, 1445, 1648] });
  const bad = cli('tokenize', '--model', model);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /exactly one of --text/);
});

test('complete builds the prefix-suffix-middle prompt with the file separator and stops on the model\'s end tokens', () => {
  const file = join(dir, 'add.py');
  writeFileSync(file, 'def add(a, b):\n    return \n\nprint(add(1, 2))\n');
  const r = cli('complete', '--model', model, '--file', file, '--line', '2', '--column', '12', '--json', '--threads', '1', '--backend', 'js');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { outcome: string; prompt_tokens: number; new_ids: number[]; timings: { backend: string } };
  assert.equal(out.timings.backend, 'js');
  assert.ok(out.prompt_tokens > 10, `prompt of ${out.prompt_tokens} tokens`);
  assert.ok(out.new_ids.length >= 1);
  const past = cli('complete', '--model', model, '--file', file, '--line', '9', '--column', '1');
  assert.notEqual(past.code, 0);
  assert.match(past.stderr, /--line 9 is past the end of the file/);
});

test('offsetOf counts lines and UTF-16 columns from 1', () => {
  assert.equal(offsetOf('ab\ncd\n', 2, 2), 4);
  assert.equal(offsetOf('ab\ncd\n', 1, 3), 2);
  assert.throws(() => offsetOf('ab\ncd', 2, 4), /--column 4 is past the end of line 2/);
});
