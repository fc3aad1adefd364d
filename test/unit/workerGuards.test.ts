// The engine worker against bad requests and its resource guard-rails: malformed messages get
// an error reply naming the problem and never end the worker; token limits of 0, negative,
// NaN or 1e9, prompts past the context and ids outside the vocabulary get clear errors;
// threads are capped to the cores, the context to the model and to limelight.kvCacheMemoryMB;
// an idle engine frees its KV cache and then generates the same text from a full prefill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EngineClient, EngineError } from '../../engine/worker/client';
import { WorkerState, contextPlan, cappedThreads } from '../../engine/worker/workerState';
import { kvBytesPerPosition } from '../../engine/model/memory';
import { MAX_REQUEST_IDS, type FromWorker, type GenerateRequest, type GenerateResultMessage, type LoadResult } from '../../engine/worker/protocol';
import { configFromHF } from '../../engine/model/families';
import { oracleDir } from './oracle';
import { writeTinyModel } from '../harness/tinyModel';

const dir = oracleDir('gpt2-tiny'); // 2 layers, 64 wide, 64 positions, 512 ids
const prompt = [10, 20, 30, 40, 50];
const load = { type: 'load', modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32' } as const;

/** A raw worker: posts anything and collects the replies by id. */
class RawWorker {
  private readonly w = new Worker(join(__dirname, '..', '..', 'engine', 'worker', 'main.js'));
  private readonly waiting = new Map<number, (m: FromWorker) => void>();
  readonly stray: FromWorker[] = [];
  exited: number | null = null;

  constructor() {
    this.w.on('message', (m: FromWorker) => {
      if (m.kind === 'token' || m.kind === 'progress') return;
      const done = this.waiting.get(m.id);
      if (done) {
        this.waiting.delete(m.id);
        done(m);
      } else this.stray.push(m);
    });
    this.w.on('exit', (code) => (this.exited = code));
  }

  post(msg: unknown): void {
    this.w.postMessage(msg);
  }

  /** Posts request `id` and waits (at most 10 s) for its one reply. */
  ask(id: number, request: unknown): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to request ${id} within 10 s`)), 10_000);
      this.waiting.set(id, (m) => (clearTimeout(timer), resolve(m)));
      this.post({ kind: 'request', id, request });
    });
  }

  /** Waits until `n` replies to unusable ids arrived. */
  async strays(n: number): Promise<FromWorker[]> {
    for (let i = 0; i < 400 && this.stray.length < n; i++) await new Promise((r) => setTimeout(r, 25));
    return this.stray;
  }

  terminate(): Promise<number> {
    return this.w.terminate();
  }
}

function errorOf(m: FromWorker): string {
  assert.equal(m.kind, 'error', `expected an error reply, got ${JSON.stringify(m).slice(0, 200)}`);
  return (m as Extract<FromWorker, { kind: 'error' }>).error.message;
}

test('malformed messages get an error naming the problem; the worker keeps serving', async () => {
  const w = new RawWorker();
  try {
    w.post(null);
    w.post('load');
    w.post({ kind: 'request', id: 'seven', request: load });
    assert.match(errorOf((await w.strays(3))[0]!), /instead of a message object/);
    assert.match(errorOf(w.stray[1]!), /instead of a message object/);
    assert.match(errorOf(w.stray[2]!), /"id" is "seven"; expected a whole number/);
    assert.ok(w.stray.every((m) => m.id === -1));

    const cases: [unknown, RegExp][] = [
      [undefined, /"request" is undefined; expected a request object/],
      [{ type: 'explode' }, /Unknown request type "explode"/],
      [{ type: 7 }, /Unknown request type 7/],
      [{ ...load, modelDir: 42 }, /"modelDir" is 42; expected text/],
      [{ ...load, threads: -1 }, /"threads" is -1; expected a whole number >= 0/],
      [{ ...load, threads: 'many' }, /"threads" is "many"/],
      [{ ...load, backend: 'cuda' }, /"backend" is "cuda"; expected one of auto, js, ort-cpu, ort-webgpu/],
      [{ ...load, weightFormat: 'q4' }, /"weightFormat" is "q4"/],
      [{ ...load, contextLength: 0 }, /"contextLength" is 0/],
      [{ ...load, kvCacheMemoryMB: -5 }, /"kvCacheMemoryMB" is -5/],
      [{ ...load, idleReleaseSeconds: Number.NaN }, /"idleReleaseSeconds" is NaN/],
      [{ type: 'generate', maxNewTokens: 4 }, /give "promptIds" or "prompt"/],
      [{ type: 'generate', promptIds: 'abc', maxNewTokens: 4 }, /"promptIds" is "abc"; expected an array of token ids/],
      [{ type: 'generate', promptIds: [1, 2.5], maxNewTokens: 4 }, /"promptIds"\[1\] is 2.5/],
      [{ type: 'generate', promptIds: [1, -1], maxNewTokens: 4 }, /"promptIds"\[1\] is -1/],
      [{ type: 'generate', promptIds: [2 ** 32 + 5], maxNewTokens: 4 }, /"promptIds"\[0\] is 4294967301/],
      [{ type: 'generate', promptIds: [1, null], maxNewTokens: 4 }, /"promptIds"\[1\] is null/],
      [{ type: 'generate', promptIds: [1], maxNewTokens: 'ten' }, /"maxNewTokens" is "ten"; expected a number/],
      [{ type: 'generate', promptIds: [1], maxNewTokens: 4, stopStrings: [1] }, /"stopStrings" is an array of 1; expected an array of text/],
      [{ type: 'generate', promptIds: [1], maxNewTokens: 4, sampling: 'hot' }, /"sampling" is "hot"/],
      [{ type: 'forward', ids: new Array(MAX_REQUEST_IDS + 1).fill(0), pos: 0 }, /at most 1048576 token ids/],
      [{ type: 'forward', ids: [1], pos: -1 }, /"pos" is -1/],
      [{ type: 'forward', ids: [1], pos: 0, allLogits: 'yes' }, /"allLogits" is "yes"/],
      [{ type: 'inspect', text: 5 }, /"text" is 5/],
      [{ type: 'train', modelDir: dir, outDir: '/tmp/x', files: 'all', mode: 'lora' }, /"files" is "all"/],
    ];
    let id = 100;
    for (const [request, want] of cases) assert.match(errorOf(await w.ask(++id, request)), want, JSON.stringify(request)?.slice(0, 80));
    w.post({ kind: 'cancel', id: 99999 }); // nothing to cancel: no reply, no harm

    assert.equal((await w.ask(1, load)).kind, 'result');
    const r = await w.ask(2, { type: 'generate', promptIds: prompt, maxNewTokens: 3, stopTokenIds: [] });
    assert.equal(r.kind, 'result');
    assert.equal(((r as Extract<FromWorker, { kind: 'result' }>).result as GenerateResultMessage).newIds.length, 3);
    assert.equal(w.exited, null, 'the worker is still running');
  } finally {
    await w.terminate();
  }
});

test('token limits, prompts past the context and ids outside the vocabulary: clear errors or a bounded answer', async () => {
  const client = new EngineClient();
  try {
    const info = await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32' });
    const ctx = info.contextLength;
    for (const maxNewTokens of [0, -3, Number.NaN, 2.5]) {
      await assert.rejects(client.generate({ promptIds: prompt, maxNewTokens }), (e: Error) => e instanceof EngineError && e.name === 'StopRulesError' && /at least 1/.test(e.message));
    }
    const t0 = performance.now();
    const huge = await client.generate({ promptIds: prompt, maxNewTokens: 1e9, stopTokenIds: [] });
    assert.equal(huge.contextLimited, true);
    assert.equal(huge.stopReason, 'max-tokens');
    assert.equal(huge.newIds.length, ctx - prompt.length + 1);
    assert.ok(performance.now() - t0 < 10_000);

    const long = Array.from({ length: ctx + 1 }, (_, i) => i % 500);
    await assert.rejects(client.generate({ promptIds: long, maxNewTokens: 4 }), (e: Error) => e.name === 'ContextOverflowError' && /needs 65 positions but the model's context holds 64/.test(e.message));
    await assert.rejects(client.forward({ ids: long, pos: 0 }), (e: Error) => e.name === 'ContextOverflowError');
    await assert.rejects(client.generate({ prompt: 'x y '.repeat(1000), maxNewTokens: 4 }), /carries no tokenizer|context/);
    await assert.rejects(client.inspect({ ids: long }), (e: Error) => e.name === 'InspectError' && /more than the model's context/.test(e.message));
    await assert.rejects(client.generate({ promptIds: [1, 512], maxNewTokens: 4 }), /outside the model's vocabulary \(0 to 511\)/);
    await assert.rejects(client.forward({ ids: [1, 100000], pos: 0 }), /outside the vocabulary/);
    await assert.rejects(client.forward({ ids: [1], pos: 3 }), /position 3 is not in the cache/);
    await assert.rejects(client.inspect({ ids: [600] }), /vocabulary|outside/);
    // Still serving after all of it.
    const ok = await client.generate({ promptIds: prompt, maxNewTokens: 2, stopTokenIds: [] });
    assert.equal(ok.newIds.length, 2);
  } finally {
    await client.dispose();
  }
});

test('the context is capped by the model and by limelight.kvCacheMemoryMB, and the load says why', async () => {
  const c = configFromHF({ model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 });
  assert.equal(kvBytesPerPosition(c), 2 * 12 * 768 * 4);
  assert.deepEqual(contextPlan(c, 1024, 256).positions, 1024);
  assert.match(contextPlan(c, 1024, 256).reason, /limelight.maxContextTokens; the KV cache takes 72.0 MB of the 256 MB allowed/);
  const small = contextPlan(c, 1024, 16);
  assert.equal(small.positions, Math.floor((16 * 2 ** 20) / (2 * 12 * 768 * 4)));
  assert.match(small.reason, /limelight.kvCacheMemoryMB \(16 MB at 72 KiB per position\) holds 227 of the 1024 positions asked/);
  assert.equal(contextPlan(c, 32768, undefined).positions, 1024);
  assert.match(contextPlan(c, 32768, undefined).reason, /the model's 1024 positions \(limelight.maxContextTokens asks 32768\)/);

  const client = new EngineClient();
  try {
    // gpt2-tiny: 2 x 2 layers x 64 wide x 4 bytes = 1 KiB per position; 32 KiB hold 32 of its 64.
    const info: LoadResult = await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32', kvCacheMemoryMB: 32 / 1024 });
    assert.equal(info.kvBytesPerPosition, 1024);
    assert.equal(info.contextLength, 32);
    assert.match(info.contextReason, /kvCacheMemoryMB .* holds 32 of the 64 positions asked/);
    const r = await client.generate({ promptIds: prompt, maxNewTokens: 100, stopTokenIds: [] });
    assert.equal(r.newIds.length, 32 - prompt.length + 1);
    assert.equal(r.contextLimited, true);
    await assert.rejects(client.generate({ promptIds: new Array(33).fill(7), maxNewTokens: 1 }), /holds 32/);
  } finally {
    await client.dispose();
  }
});

test('threads are capped to the machine\'s cores', async () => {
  const cores = availableParallelism();
  assert.deepEqual(cappedThreads(0, 8), { threads: 0, note: null });
  assert.deepEqual(cappedThreads(8, 8), { threads: 8, note: null });
  assert.equal(cappedThreads(256, 8).threads, 8);
  const client = new EngineClient();
  try {
    const info = await client.load({ modelDir: dir, backend: 'js', threads: 256, weightFormat: 'f32' });
    assert.equal(info.threads, cores);
    assert.match(info.reason, new RegExp(`limelight.threads 256 capped to the ${cores} cores`));
  } finally {
    await client.dispose();
  }
});

test('an idle engine frees its KV cache; the next request prefills in full and gives the same greedy text', async () => {
  const client = new EngineClient();
  try {
    await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32', idleReleaseSeconds: 0.3 });
    const first = await client.generate({ promptIds: prompt, maxNewTokens: 8, stopTokenIds: [] });
    const warm = await client.generate({ promptIds: prompt, maxNewTokens: 8, stopTokenIds: [] });
    assert.equal(warm.timings.reused_tokens, prompt.length - 1, 'back to back, the prompt is reused');
    await new Promise((r) => setTimeout(r, 800));
    const after = await client.generate({ promptIds: prompt, maxNewTokens: 8, stopTokenIds: [] });
    assert.equal(after.timings.reused_tokens, 0, 'after the idle release nothing is cached');
    assert.equal(after.timings.prefilled_tokens, prompt.length);
    assert.deepEqual(after.newIds, first.newIds);
  } finally {
    await client.dispose();
  }
});

test('the idle release gives the kernel memory back (resident memory drops by most of it)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const rssMB = (): number => {
    gc();
    return process.memoryUsage().rss / 2 ** 20;
  };
  const tmp = mkdtempSync(join(tmpdir(), 'limelight-idle-'));
  const engine = new WorkerState(() => {});
  try {
    // p50k vocabulary x 64 wide: the packed embedding head alone is 12.9 MB; 4096 positions of KV cache 4 MB.
    writeTinyModel(tmp, { nEmbd: 64, nLayer: 2, nHead: 2, nPositions: 4096 });
    const info = (await engine.handle(1, { type: 'load', modelDir: tmp, backend: 'js', threads: 1, weightFormat: 'f32', idleReleaseSeconds: 0.2 }, new AbortController().signal)) as LoadResult;
    const gen: GenerateRequest = { type: 'generate', promptIds: prompt, maxNewTokens: 4, stopTokenIds: [] };
    const first = (await engine.handle(2, gen, new AbortController().signal)) as GenerateResultMessage;
    const loaded = rssMB();
    for (let i = 0; i < 100 && !engine.released; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(engine.released, true);
    // The memory goes once the collector has finalised the backend: a cycle or two after the release.
    const kvMB = (info.contextLength * info.kvBytesPerPosition) / 2 ** 20;
    let released = rssMB();
    for (let i = 0; i < 20 && loaded - released <= kvMB; i++) {
      await new Promise((r) => setTimeout(r, 50));
      released = rssMB();
    }
    assert.ok(loaded - released > kvMB, `resident memory fell by ${(loaded - released).toFixed(1)} MB, less than the ${kvMB.toFixed(1)} MB KV cache`);
    const again = (await engine.handle(3, gen, new AbortController().signal)) as GenerateResultMessage;
    assert.deepEqual(again.newIds, first.newIds);
    assert.equal(again.timings.reused_tokens, 0);
    assert.equal(engine.idleReleases, 1);
  } finally {
    engine.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a generate or inspect request with 10 MB of text is refused as past the context, from a bound on its tokens', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'limelight-guard-'));
  const client = new EngineClient();
  try {
    const info = await client.load({ modelDir: writeTinyModel(join(tmp, 'model')), backend: 'js', threads: 1, weightFormat: 'f32' });
    const text = 'const value = compute(input);\n'.repeat(350_000); // 10.5 MB
    await assert.rejects(client.generate({ prompt: text, maxNewTokens: 4 }), (e: Error) => e.name === 'ContextOverflowError' && new RegExp(`model's context holds ${info.contextLength}`).test(e.message));
    await assert.rejects(client.inspect({ text }), (e: Error) => e.name === 'InspectError' && /the text is at least \d+ tokens, more than the model's context/.test(e.message));
    // Text that may fit is still tokenized and judged on its real length.
    const ok = await client.generate({ prompt: 'const value = ', maxNewTokens: 2, stopTokenIds: [] });
    assert.equal(ok.newIds.length, 2);
  } finally {
    await client.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});
