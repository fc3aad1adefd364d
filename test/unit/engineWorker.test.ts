// The engine worker through EngineClient: load, streamed generation equal to the in-process
// generator, cancellation by AbortSignal, errors as messages, restart after a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient, EngineError } from '../../engine/worker/client';
import { loadModel } from '../../engine/model/load';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { Generator } from '../../engine/generate/generator';
import { oracleDir, maxAbsDiff } from './oracle';
import { inspect } from '../../engine/inspect/inspect';
import { toWire } from '../../engine/inspect/wire';

const dir = oracleDir('gpt2-tiny');
const prompt = [10, 20, 30, 40, 50];

test('load, generate with streamed tokens, forward: the same ids and logits as in process', async () => {
  const client = new EngineClient();
  try {
    const info = await client.load({ modelDir: dir, backend: 'js', threads: 2, weightFormat: 'f32' });
    assert.equal(info.backend, 'js');
    assert.equal(info.threads, 2);
    const streamed: number[] = [];
    const r = await client.generate({ promptIds: prompt, maxNewTokens: 12, stopTokenIds: [] }, { onToken: (id) => streamed.push(id) });
    const model = loadModel(dir);
    const want = await new Generator(new ReferenceBackend(model)).generate(prompt, { maxNewTokens: 12, stopTokenIds: [] });
    assert.deepEqual(r.newIds, want.newIds);
    assert.deepEqual(streamed, want.newIds);
    const f = await client.forward({ ids: prompt, pos: 0, allLogits: true });
    const ref = new ReferenceBackend(model).forwardSync(Int32Array.from(prompt), 0, { allLogits: true });
    assert.ok(maxAbsDiff(f.logits, ref.logits) < 1e-5);
  } finally {
    await client.dispose();
  }
});

test('an AbortSignal cancels a generation; errors come back as EngineError', async () => {
  const client = new EngineClient();
  try {
    await assert.rejects(client.generate({ promptIds: prompt, maxNewTokens: 4 }), (e: Error) => e instanceof EngineError && /load request first/.test(e.message));
    await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'q8_0' });
    const ac = new AbortController();
    let n = 0;
    const r = await client.generate(
      { promptIds: prompt, maxNewTokens: 500, stopTokenIds: [] },
      { signal: ac.signal, onToken: () => ++n === 3 && ac.abort() },
    );
    assert.equal(r.stopReason, 'cancelled');
    assert.ok(r.newIds.length < 500);
    await assert.rejects(client.forward({ ids: [1_000_000], pos: 0 }), /outside the vocabulary/);
    await assert.rejects(client.load({ modelDir: '/nonexistent/model', backend: 'js', threads: 1, weightFormat: 'f32' }), EngineError);
  } finally {
    await client.dispose();
  }
});

test('a crashed worker is restarted with the model reloaded, and the user is told once', async () => {
  const notices: string[] = [];
  const client = new EngineClient({ onNotice: (m) => notices.push(m), restartDelayMs: 10 });
  try {
    await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32' });
    for (let crash = 0; crash < 2; crash++) {
      const pending = client.generate({ promptIds: prompt, maxNewTokens: 400, stopTokenIds: [] });
      await (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await assert.rejects(pending, (e: Error) => e instanceof EngineError && e.name === 'EngineCrashed');
      let r = null;
      for (let i = 0; i < 200 && r === null; i++) {
        await new Promise((res) => setTimeout(res, 25));
        r = await client.generate({ promptIds: prompt, maxNewTokens: 3, stopTokenIds: [] }).catch(() => null);
      }
      assert.ok(r !== null && r.newIds.length === 3, 'generates again after the restart');
    }
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /restarted/);
  } finally {
    await client.dispose();
  }
});

test('inspect runs in the worker on the loaded weights and leaves the generator cache intact', async () => {
  const client = new EngineClient();
  try {
    await assert.rejects(client.inspect({ ids: prompt }), /load request first/);
    await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32' });
    const before = await client.generate({ promptIds: prompt, maxNewTokens: 4, stopTokenIds: [] });
    const wire = await client.inspect({ ids: [...prompt, ...before.newIds], promptLength: prompt.length });
    const want = toWire(await inspect(loadModel(dir), { ids: [...prompt, ...before.newIds], promptLength: prompt.length }));
    assert.equal(wire.layers.length, loadModel(dir).config.nLayer);
    assert.deepEqual(wire, want);
    const again = await client.generate({ promptIds: prompt, maxNewTokens: 4, stopTokenIds: [] });
    assert.equal(again.timings.reused_tokens, prompt.length - 1, 'the prompt is still cached after an inspection');
    assert.deepEqual(again.newIds, before.newIds);
  } finally {
    await client.dispose();
  }
});
