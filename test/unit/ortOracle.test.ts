// The ort-cpu backend against Hugging Face transformers (the oracle fixtures) and against the
// JS backend, for both KV-cache strategies (delta on CPU; chained is what WebGPU uses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { OrtBackend, type KvMode } from '../../engine/runtime/ortBackend';
import { ContextOverflowError, type InferenceBackend } from '../../engine/runtime/backend';
import { mulberry32 } from '../../engine/model/init';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

async function greedy(be: InferenceBackend, prompt: Int32Array, steps: number): Promise<number[]> {
  const out = [...prompt];
  let logits = (await be.forward(prompt, 0)).logits;
  for (let i = 0; i < steps; i++) {
    const next = argmax(logits);
    out.push(next);
    if (i + 1 < steps) logits = (await be.forward(Int32Array.of(next), out.length - 1)).logits;
  }
  return out;
}

const MODES: KvMode[] = ['delta', 'chained'];

for (const name of ORACLE_MODELS) {
  const model = loadModel(oracleDir(name));
  const ref = oracleFile(name, 'reference');
  const ids = ref.tensorToInt32('input_ids');
  const V = model.config.vocabSize;

  for (const kvMode of MODES) {
    test(`${name} ort-cpu (${kvMode} KV): logits, cached tail and greedy ids match transformers`, async () => {
      const be = await OrtBackend.create(model, { threads: 1, kvMode });
      try {
        const full = await be.forward(ids, 0, { allLogits: true });
        const d = maxAbsDiff(full.logits, ref.tensorToFloat32('logits'));
        assert.ok(d < 1e-3, `logits max diff ${d} < 1e-3`);
        const last = await be.forward(ids.subarray(0, 16), 0);
        assert.ok(maxAbsDiff(last.logits, full.logits.subarray(15 * V, 16 * V)) < 1e-4, 'last-position logits of a 16-token prefill');
        const tail = await be.forward(ids.subarray(16), 16, { allLogits: true });
        const dt = maxAbsDiff(tail.logits, ref.tensorToFloat32('logits_cached_tail'));
        assert.ok(dt < 1e-3, `cached-tail logits max diff ${dt} < 1e-3`);
        be.releaseCache();
        const want = [...ref.tensorToInt32('greedy_from_8')];
        assert.deepEqual(await greedy(be, Int32Array.from(want.slice(0, 8)), want.length - 8), want);
      } finally {
        be.dispose();
      }
    });

    test(`${name} ort-cpu (${kvMode} KV): prefix reuse at a shorter position equals a fresh run`, async () => {
      const be = await OrtBackend.create(model, { threads: 1, kvMode });
      try {
        await be.forward(ids.subarray(0, 20), 0);
        // Reuse the first 10 positions, continue with different tokens than were cached.
        const reused = await be.forward(ids.subarray(12, 18), 10, { allLogits: true });
        const fresh = new ReferenceBackend(model);
        fresh.forwardSync(ids.subarray(0, 10), 0);
        const want = fresh.forwardSync(ids.subarray(12, 18), 10, { allLogits: true });
        const d = maxAbsDiff(reused.logits, want.logits);
        assert.ok(d < 1e-3, `reused-prefix logits max diff ${d} < 1e-3`);
      } finally {
        be.dispose();
      }
    });
  }

  test(`${name}: ort-cpu and js give the same greedy ids on random prompts`, async () => {
    const ort = await OrtBackend.create(model, { threads: 1 });
    const js = new ReferenceBackend(model);
    const rand = mulberry32(7);
    try {
      for (let trial = 0; trial < 4; trial++) {
        const prompt = Int32Array.from({ length: 3 + trial * 5 }, () => Math.floor(rand() * V));
        ort.releaseCache();
        js.releaseCache();
        assert.deepEqual(await greedy(ort, prompt, 20), await greedy(js, prompt, 20), `prompt ${trial}`);
      }
    } finally {
      ort.dispose();
    }
  });
}

test('ort-cpu: the delta-mode KV cache grows in steps and keeps every position', async () => {
  const model = loadModel(oracleDir('llama-tiny'));
  const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 37) % model.config.vocabSize);
  const be = await OrtBackend.create(model, { threads: 1, kvGrowth: 8 });
  const js = new ReferenceBackend(model);
  try {
    // Prefill 11 (capacity 16), decode across two regrowths, then reuse a prefix and go on.
    const steps: Array<[number, number]> = [[0, 11], [11, 1], [12, 5], [17, 9], [10, 3], [13, 14]];
    for (const [pos, T] of steps) {
      const got = (await be.forward(ids.subarray(pos, pos + T), pos, { allLogits: true })).logits;
      const want = js.forwardSync(ids.subarray(pos, pos + T), pos, { allLogits: true }).logits;
      const d = maxAbsDiff(got, want);
      assert.ok(d < 1e-4, `tokens [${pos}, ${pos + T}): max diff ${d}`);
    }
  } finally {
    be.dispose();
  }
});

test('ort-cpu: context overflow, bad ids and bad positions are clear errors; no attention capture', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const be = await OrtBackend.create(model, { threads: 1, contextLength: 8 });
  try {
    assert.equal(be.name, 'ort-cpu');
    await be.forward(Int32Array.from([1, 2, 3, 4, 5, 6]), 0);
    await assert.rejects(be.forward(Int32Array.from([1, 2, 3]), 6), ContextOverflowError);
    assert.equal((await be.forward(Int32Array.from([7, 8]), 6)).logits.length, model.config.vocabSize);
    await assert.rejects(be.forward(Int32Array.from([512]), 0), /outside the vocabulary/);
    await assert.rejects(be.forward(Int32Array.from([1]), 9), /not in the cache/);
    // No attention capture here: the result says so by having none (the inspector runs on js).
    assert.equal((await be.forward(Int32Array.from([1]), 0, { captureAttention: true })).attention, undefined);
  } finally {
    be.dispose();
  }
});
