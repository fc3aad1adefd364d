// The nightly-style model-file fuzz: at least 10,000 seeded cases (FUZZ_CASES to change, FUZZ_SEED
// for another sequence, FUZZ_GROUPS to fuzz only some loading paths, e.g. "tokenizer") across
// every file kind (models, GGUF files, adapters, ONNX caches, checkpoints, tokenizer.json and
// tokenizer_config.json); prints cases per kind, outcomes per error class, the slowest case and
// peak memory. Every case must end in success or a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, runFuzz, type Group } from '../harness/fuzzModelFiles';

test('10,000 corrupted model files each end in success or a clear error, within time and memory limits', async () => {
  const groups = process.env.FUZZ_GROUPS?.split(',') as Group[] | undefined;
  const s = await runFuzz({ cases: Number(process.env.FUZZ_CASES ?? 10_000), seed: Number(process.env.FUZZ_SEED ?? 20261125), caseTimeoutMs: 15_000, groups });
  const summary = formatSummary(s);
  console.log(summary);
  assert.equal(s.failures.length, 0, summary);
});
