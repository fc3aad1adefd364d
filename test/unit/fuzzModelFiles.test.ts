// Corrupt model files never crash, hang or exhaust memory: a few hundred seeded cases across
// every file kind the engine reads (test/harness/fuzzModelFiles.ts: safetensors models and
// shards, config.json, GGUF files, LoRA adapters, ONNX caches, checkpoints, and a model
// folder's tokenizer.json and tokenizer_config.json), each ending in success or a clear error.
// test/long/fuzzModelFiles.test.ts runs the same fuzzer with 10,000 cases; FUZZ_CASES and
// FUZZ_SEED change the count and the sequence, FUZZ_GROUPS (e.g. "tokenizer") the loading paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, judgeError, runFuzz, type Group } from '../harness/fuzzModelFiles';
import { SafetensorsError } from '../../engine/io/safetensors';
import { TokenizerError } from '../../engine/tokenizer/tokenizer';

test('the clear-error rule refuses raw runtime errors, messages without the file or advice, and leaked values', () => {
  const dir = '/models/m';
  assert.equal(judgeError(new SafetensorsError(`${dir}/model.safetensors: the header is not valid JSON. Export or download it again.`), dir), null);
  assert.equal(judgeError(new TokenizerError(`${dir}/tokenizer.json: merge 3 is null, not two pieces separated by a space; download the model's tokenizer.json again.`), dir), null);
  assert.match(judgeError(new TokenizerError(`${dir}/tokenizer.json: the tokenizer cannot be built: Unknown PreTokenizer type: undefined. Download it again.`), dir)!, /leaks/);
  assert.match(judgeError(new TypeError(`Cannot read properties of undefined (reading 'shape')`), dir)!, /not an engine error/);
  assert.match(judgeError(new SafetensorsError('the header is not valid JSON. Export it again.'), dir)!, /does not name/);
  assert.match(judgeError(new SafetensorsError(`${dir}: shape is undefined. Export it again.`), dir)!, /leaks/);
  assert.match(judgeError(new SafetensorsError(`${dir}: rank must be a whole number (got NaN). Export it again.`), dir)!, /leaks/);
  assert.match(judgeError(new SafetensorsError(`${dir}: the header is wrong.`), dir)!, /nothing to do/);
  assert.match(judgeError('a string', dir)!, /non-Error/);
});

test('300 corrupted model, GGUF, adapter, ONNX cache, checkpoint, tokenizer.json and tokenizer_config.json files each end in success or a clear error', async () => {
  const groups = process.env.FUZZ_GROUPS?.split(',') as Group[] | undefined;
  const s = await runFuzz({ cases: Number(process.env.FUZZ_CASES ?? 300), seed: Number(process.env.FUZZ_SEED ?? 1), caseTimeoutMs: 10_000, groups });
  const summary = formatSummary(s);
  console.log(summary);
  assert.equal(s.failures.length, 0, summary);
  for (const kind of s.kinds) assert.ok(s.results.some((r) => r.kind === kind), `no case corrupted a ${kind}`);
  assert.ok(s.results.some((r) => r.outcome === 'ok') && s.results.some((r) => r.outcome !== 'ok'), 'both outcomes occur');
});
