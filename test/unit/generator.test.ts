// The generator on the oracle models: greedy ids against transformers, KV-cache prefix
// reuse against a fresh prefill, cancellation, stop rules and context limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { ContextOverflowError } from '../../engine/runtime/backend';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { Generator } from '../../engine/generate/generator';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

for (const name of ORACLE_MODELS) {
  const model = loadModel(oracleDir(name));
  const greedyRef = Array.from(oracleFile(name, 'reference').tensorToInt32('greedy_from_8'));
  const prompt = greedyRef.slice(0, 8);
  const greedy = { maxNewTokens: greedyRef.length - 8, sampling: { temperature: 0 }, stopTokenIds: [] };

  test(`${name}: greedy ids equal transformers' greedy_from_8`, async () => {
    const g = new Generator(createReferenceBackend(model));
    const r = await g.generate(prompt, greedy);
    assert.deepEqual(r.ids, greedyRef);
    assert.deepEqual(r.newIds, greedyRef.slice(8));
    assert.equal(r.stopReason, 'max-tokens');
    assert.equal(r.timings.prompt_tokens, 8);
    assert.equal(r.timings.new_tokens, 16);
    assert.equal(r.timings.backend, 'reference');
    // Every id but the last new one went through the model and is cached.
    assert.deepEqual(g.cachedIds, greedyRef.slice(0, -1));
  });

  test(`${name}: prefix reuse gives the logits of a fresh prefill and the same greedy ids`, async () => {
    const long = greedyRef.slice(0, 20);
    const fresh = await new Generator(createReferenceBackend(model)).prefill(long);
    const g = new Generator(createReferenceBackend(model));
    await g.prefill(greedyRef.slice(0, 12));
    // A prompt that diverges after 10 ids, then the long one: only tails are run.
    await g.prefill([...greedyRef.slice(0, 10), 7, 9, 11]);
    assert.deepEqual(g.cachedIds, [...greedyRef.slice(0, 10), 7, 9, 11]);
    const reused = await g.prefill(long);
    assert.ok(maxAbsDiff(reused, fresh) < 1e-5, `max diff ${maxAbsDiff(reused, fresh)}`);
    // Whole prompt cached: the last token is run again for its logits.
    const again = await g.prefill(long);
    assert.ok(maxAbsDiff(again, fresh) < 1e-5);

    const r = await g.generate(prompt, greedy);
    assert.deepEqual(r.ids, greedyRef);
    assert.equal(r.timings.reused_tokens, 8 - 1, 'the cached prompt is reused but for its last token');
    assert.equal(r.timings.prefilled_tokens, 1);
    const r2 = await g.generate(greedyRef.slice(0, 12), { ...greedy, maxNewTokens: 4 });
    assert.deepEqual(r2.ids, greedyRef.slice(0, 16));
    assert.equal(r2.timings.reused_tokens, 11);
  });

  test(`${name}: cancelling mid-generation keeps the cache consistent and the next run correct`, async () => {
    const g = new Generator(createReferenceBackend(model));
    const ac = new AbortController();
    let seen = 0;
    const r = await g.generate(prompt, {
      ...greedy,
      signal: ac.signal,
      onToken: () => {
        if (++seen === 5) ac.abort();
      },
    });
    assert.equal(r.stopReason, 'cancelled');
    assert.deepEqual(r.ids, greedyRef.slice(0, 13), 'five tokens, then nothing more');
    assert.deepEqual(g.cachedIds, greedyRef.slice(0, 12));
    const next = await g.generate(prompt, greedy);
    assert.deepEqual(next.ids, greedyRef);

    // An abort from outside (a timer here; a worker message or Ctrl+C in use) is seen within a step or two.
    const timer = new AbortController();
    let count = 0;
    const onToken = (): void => {
      if (++count === 3) setTimeout(() => timer.abort(), 0);
    };
    const long = await g.generate(prompt, { maxNewTokens: 56, stopTokenIds: [], signal: timer.signal, onToken });
    assert.equal(long.stopReason, 'cancelled');
    assert.ok(long.newIds.length >= 3 && long.newIds.length < 10, `stopped after ${long.newIds.length} tokens`);
    assert.deepEqual(g.cachedIds, long.ids, 'every sampled token was run before the abort was seen');
    assert.deepEqual((await g.generate(prompt, greedy)).ids, greedyRef);

    const pre = new AbortController();
    pre.abort();
    const none = await g.generate(greedyRef.slice(0, 3), { ...greedy, signal: pre.signal });
    assert.equal(none.stopReason, 'cancelled');
    assert.deepEqual(none.newIds, []);
    assert.deepEqual(g.cachedIds, greedyRef.slice(0, -1), 'a cancel before prefill leaves the cache untouched');
  });

  test(`${name}: stop token ids end generation and stay in the ids`, async () => {
    const stopAt = greedyRef[8 + 3];
    const first = greedyRef.slice(8).indexOf(stopAt);
    const r = await new Generator(createReferenceBackend(model)).generate(prompt, { ...greedy, stopTokenIds: [stopAt] });
    assert.equal(r.stopReason, 'eos');
    assert.deepEqual(r.ids, greedyRef.slice(0, 8 + first + 1));
  });

  test(`${name}: sampling is reproducible with a seed`, async () => {
    const opts = { maxNewTokens: 12, stopTokenIds: [], sampling: { temperature: 1, topK: 50, topP: 0.95, seed: 123 } };
    const g = new Generator(createReferenceBackend(model));
    const a = await g.generate(prompt, opts);
    const b = await g.generate(prompt, opts);
    assert.deepEqual(a.ids, b.ids);
  });

  test(`${name}: context limits: prompt too long is an error, the new-token budget is clamped`, async () => {
    const be = createReferenceBackend(model, { contextLength: 16 });
    const g = new Generator(be);
    await assert.rejects(g.generate(new Array(17).fill(1), greedy), ContextOverflowError);
    assert.deepEqual(g.cachedIds, []);
    const r = await g.generate(prompt, { ...greedy, maxNewTokens: 100 });
    assert.ok(r.contextLimited);
    assert.equal(r.newIds.length, 16 - 8 + 1);
    assert.deepEqual(r.ids, greedyRef.slice(0, 17));
    await assert.rejects(g.generate([], greedy), /prompt is empty/);
    await assert.rejects(g.generate(prompt, { ...greedy, maxNewTokens: 0 }), /max new tokens/);
    await assert.rejects(g.generate(prompt, { ...greedy, sampling: { topP: 2 } }), /top-p/);
    const cached = [...g.cachedIds];
    await assert.rejects(g.generate([1, 99999], greedy), /outside the model's vocabulary/);
    assert.deepEqual(g.cachedIds, cached, 'bad ids are refused before the cache is touched');
    const after = await g.generate(prompt, greedy);
    assert.deepEqual(after.ids, greedyRef.slice(0, 17), 'the generator is usable after errors');
  });

  test(`${name}: reset forgets the cache and frees it`, async () => {
    const g = new Generator(createReferenceBackend(model));
    await g.generate(prompt, greedy);
    g.reset();
    assert.deepEqual(g.cachedIds, []);
    const r = await g.generate(prompt, greedy);
    assert.equal(r.timings.reused_tokens, 0);
    assert.deepEqual(r.ids, greedyRef);
  });
}

test('gpt2-tiny: text, streaming deltas and stop strings through the tokenizer', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const tok = getTokenizer(model.config.encoding!);
  const greedyRef = Array.from(oracleFile('gpt2-tiny', 'reference').tensorToInt32('greedy_from_8'));
  const prompt = greedyRef.slice(0, 8);
  const g = new Generator(createReferenceBackend(model));
  const deltas: string[] = [];
  const r = await g.generate(prompt, { maxNewTokens: 16, stopTokenIds: [], tokenizer: tok, onToken: (_id, d) => deltas.push(d) });
  const full = tok.decode(greedyRef.slice(8));
  assert.equal(r.text, full);
  assert.equal(deltas.join(''), full);
  assert.equal(deltas.length, 16);

  // Stop at a piece of text that starts inside the third new token's text.
  const before = tok.decode(greedyRef.slice(8, 10));
  const third = tok.decode(greedyRef.slice(10, 11));
  const stop = (third.slice(1) + tok.decode(greedyRef.slice(11, 13))).slice(0, 4);
  const cut = full.indexOf(stop);
  assert.ok(cut >= 0 && cut <= before.length + 1);
  const streamed: string[] = [];
  const s = await g.generate(prompt, { maxNewTokens: 16, stopTokenIds: [], tokenizer: tok, stopStrings: [stop], onToken: (_id, d) => streamed.push(d) });
  assert.equal(s.stopReason, 'stop-string');
  assert.equal(s.text, full.slice(0, cut));
  assert.equal(streamed.join(''), s.text, 'the stop string is never streamed');
  await assert.rejects(g.generate(prompt, { maxNewTokens: 4, stopStrings: ['x'] }), /need a tokenizer/);
});

test('max time ends generation with max-time', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const g = new Generator(createReferenceBackend(model));
  const r = await g.generate([1, 2, 3], { maxNewTokens: 50, stopTokenIds: [], maxTimeMs: 1e-3 });
  assert.equal(r.stopReason, 'max-time');
  assert.equal(r.newIds.length, 1);
});

test('long prompts are prefilled in chunks: same logits as one pass, and a cancel lands on a chunk boundary', async () => {
  const config = configFromHF({ model_type: 'gpt2', vocab_size: 97, n_positions: 640, n_embd: 32, n_layer: 2, n_head: 2 });
  const model = randomModel(config, 7);
  const prompt = Array.from({ length: 600 }, (_, i) => (i * 31 + 5) % 97);
  const whole = (await createReferenceBackend(model).forward(Int32Array.from(prompt), 0)).logits;
  const g = new Generator(createReferenceBackend(model));
  const chunked = await g.prefill(prompt);
  assert.ok(maxAbsDiff(chunked, whole) < 1e-5, `max diff ${maxAbsDiff(chunked, whole)}`);

  g.reset();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 0);
  const r = await g.generate(prompt, { maxNewTokens: 8, stopTokenIds: [], signal: ac.signal });
  assert.equal(r.stopReason, 'cancelled');
  const kept = g.cachedIds.length;
  assert.ok(kept % 256 === 0 && kept < 600, `cached ${kept} ids`);
  assert.deepEqual(g.cachedIds, prompt.slice(0, kept));
  const after = await g.generate(prompt, { maxNewTokens: 4, stopTokenIds: [] });
  assert.equal(after.timings.reused_tokens, kept, 'the chunks done before the cancel are reused');
  const fresh = await new Generator(createReferenceBackend(model)).generate(prompt, { maxNewTokens: 4, stopTokenIds: [] });
  assert.deepEqual(after.ids, fresh.ids);
});
