// The prompt cache across files: going back to a prompt computed earlier restores its keys and
// values instead of prefilling it again, with logits bit for bit those of a fresh prefill;
// snapshots stay within their byte budget, least recently used out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import type { Model } from '../../engine/model/model';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { Generator } from '../../engine/generate/generator';
import { MIN_PROMPT_REUSE, PromptCache } from '../../engine/generate/promptCache';
import { snapshotBytes } from '../../engine/runtime/kvSnapshot';
import { writeTinyModel } from '../harness/tinyModel';

function withModel(run: (model: Model) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-prompt-cache-'));
  const model = loadModel(writeTinyModel(dir, { nPositions: 512 }));
  return run(model).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A file's prompt: `n` ids from a seed, different from the other files' from the first id on. */
function prompt(seed: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 + ((seed * 7919 + i * 104729) % 5000));
}

const once = { maxNewTokens: 1, stopTokenIds: [] };

test('going back to a file restores its prompt instead of prefilling it, with the same logits', async () => {
  await withModel(async (model) => {
    const gen = new Generator(new ReferenceBackend(model, { contextLength: 512 }), { promptCacheBytes: 64 * 2 ** 20 });
    const a = prompt(1, 200);
    const b = prompt(2, 180);
    await gen.generate(a, once);
    const toB = await gen.generate(b, once);
    assert.equal(toB.timings.reused_tokens, 0);
    const back = [...a, 11, 12, 13];
    const toA = await gen.generate(back, once);
    assert.equal(toA.timings.reused_tokens, 200, 'the 200 ids of a came back from the cache');
    assert.equal(toA.timings.prefilled_tokens, 3);
    // a and b were prefills (misses); the way back to a a hit; b is kept.
    assert.deepEqual(gen.promptCacheStats, { hits: 1, misses: 2, entries: 1, bytes: gen.promptCacheStats!.bytes });

    const fresh = new Generator(new ReferenceBackend(model, { contextLength: 512 }));
    const want = await fresh.prefill(back);
    const got = await gen.prefill(back);
    assert.deepEqual(Array.from(got), Array.from(want), 'restored keys and values give the logits of a fresh prefill');

    // Without a prompt cache the way back is a whole prefill.
    const plain = new Generator(new ReferenceBackend(model, { contextLength: 512 }));
    await plain.generate(a, once);
    await plain.generate(b, once);
    assert.equal((await plain.generate(back, once)).timings.reused_tokens, 0);
    assert.equal(plain.promptCacheStats, null);
  });
});

test('snapshots stay within the budget, the least recently used going first', async () => {
  await withModel(async (model) => {
    const backend = new ReferenceBackend(model, { contextLength: 512 });
    // Room for one 100-position snapshot, not two.
    await new Generator(backend).prefill(prompt(9, 100));
    const one = snapshotBytes(backend.saveCache(100));
    const gen = new Generator(new ReferenceBackend(model, { contextLength: 512 }), { promptCacheBytes: Math.floor(1.5 * one) });
    const [a, b, c] = [prompt(1, 100), prompt(2, 100), prompt(3, 100)];
    await gen.generate(a, once); // live: a
    await gen.generate(b, once); // keeps a
    await gen.generate(c, once); // keeps b; a goes
    assert.equal((await gen.generate(a, once)).timings.reused_tokens, 0, 'a was evicted');
    assert.ok(gen.promptCacheStats!.bytes <= Math.floor(1.5 * one));
    // a's prefill kept c (b went); c comes back.
    assert.equal((await gen.generate(c, once)).timings.reused_tokens, 99);
  });
});

test('typing in one place uses the live cache and keeps no snapshot', async () => {
  await withModel(async (model) => {
    const gen = new Generator(new ReferenceBackend(model, { contextLength: 512 }), { promptCacheBytes: 64 * 2 ** 20 });
    const typed = prompt(4, 150);
    for (let k = 0; k < 5; k++) {
      typed.push(20 + k);
      await gen.generate(typed, once);
    }
    assert.deepEqual(gen.promptCacheStats, { hits: 0, misses: 1, entries: 0, bytes: 0 }, 'only the first prompt asked the cache');
  });
});

test('a prompt another entry extends adds nothing; a snapshot goes back only into its own layout', async () => {
  await withModel(async (model) => {
    const backend = new ReferenceBackend(model, { contextLength: 512 });
    const g = new Generator(backend);
    const long = prompt(5, MIN_PROMPT_REUSE + 40);
    await g.prefill(long);
    const cache = new PromptCache(2 ** 30);
    cache.put({ ids: long, snapshot: backend.saveCache(long.length) });
    cache.put({ ids: long.slice(0, MIN_PROMPT_REUSE + 10), snapshot: backend.saveCache(MIN_PROMPT_REUSE + 10) });
    assert.equal(cache.stats.entries, 1);
    assert.equal(cache.take(long.slice(0, MIN_PROMPT_REUSE + 20), 0)?.common, MIN_PROMPT_REUSE + 20);

    const other = new ReferenceBackend(model, { contextLength: 256 });
    assert.throws(() => other.restoreCache(backend.saveCache(10)), /cannot go into a cache of layout/);
  });
});

test('the fast backend (f32 and f16 caches) restores a prompt to the logits it had before it left', async () => {
  await withModel(async (model) => {
    for (const kvCache of ['f32', 'f16'] as const) {
      const backend = await FastBackend.create(model, { threads: 1, contextLength: 512, weightFormat: 'f32', kvCache });
      const fresh = await FastBackend.create(model, { threads: 1, contextLength: 512, weightFormat: 'f32', kvCache });
      try {
        const gen = new Generator(backend, { promptCacheBytes: 64 * 2 ** 20 });
        const a = prompt(1, 200);
        await gen.generate(a, once);
        await gen.generate(prompt(2, 150), once);
        const back = [...a, 5, 6];
        const r = await gen.generate(back, once);
        assert.equal(r.timings.reused_tokens, 200, kvCache);
        // As if the user had never left a: the same prefix, then the same two ids (the fast
        // kernels' sums depend on how many rows run together, so the chunks must match).
        const stayed = new Generator(fresh);
        await stayed.prefill(a);
        assert.deepEqual(Array.from(await gen.prefill(back)), Array.from(await stayed.prefill(back)), kvCache);
      } finally {
        backend.dispose();
        fresh.dispose();
      }
    }
  });
});
