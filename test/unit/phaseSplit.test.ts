// auto's phase split (runtime/phaseSplit.ts): onnxruntime prefills, the js backend decodes, the
// KV cache moves between them (kvRows.ts), and which engine takes which phase is measured once
// and cached (phasePlan.ts). The split must compute what the js backend computes alone.
//
// Tolerance, measured here (threads 1, prefill + 8 decode steps): with an f32 js cache the split's
// logits differ from the js backend's alone by at most 5.0e-6 (gpt2-tiny) and 1.0e-5 (llama-tiny)
// (MLAS rounds its products differently from the WASM kernels): bound 5e-5. With an f16 js cache
// the split reads the prompt in f32 (onnxruntime's attention within the prompt never sees f16
// keys) and decodes from f16-rounded keys, so it differs from the js backend alone by up to
// 1.4e-3 (gpt2-tiny) and 4.3e-3 (llama-tiny), while the js f16 cache itself is up to 1.4e-3 and
// 9.6e-3 from an f32 cache: bound 1e-2, and the split may be no further from the f32 cache than
// the js f16 cache is (plus 1e-3). Greedy ids are identical at every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { createModel } from '../../engine/model/model';
import { FastBackend, type KvCacheFormat } from '../../engine/runtime/fastBackend';
import { OrtBackend } from '../../engine/runtime/ortBackend';
import { PhaseSplitBackend } from '../../engine/runtime/phaseSplit';
import { describePlan, phasePlan, planFile, planFrom, planKey, planLengths, type PhasePlan } from '../../engine/runtime/phasePlan';
import { copyRowBlock } from '../../engine/runtime/kvRows';
import { selectBackend, splitMemoryRefusal } from '../../engine/runtime/select';
import { f16ToF32Scalar, f32ToF16Scalar } from '../../engine/formats/half';
import { Generator } from '../../engine/generate/generator';
import { mulberry32 } from '../../engine/model/init';
import { WorkerState } from '../../engine/worker/workerState';
import type { GenerateRequest, GenerateResultMessage, LoadRequest, LoadResult } from '../../engine/worker/protocol';
import { ORACLE_MODELS, oracleDir, maxAbsDiff } from './oracle';

const TOLERANCE: Record<KvCacheFormat, number> = { f32: 5e-5, f16: 1e-2 };

const MEASURED = { tokens: [2, 7, 30], jsMs: [2, 4, 8], ortMs: [3, 3, 4], jsDecodeMs: 1, ortDecodeMs: 2 };
/** onnxruntime prefills calls of 6 tokens or more; js decodes. */
const SPLIT: PhasePlan = { prefill: 'ort-cpu', prefillFrom: 6, decode: 'js', measured: MEASURED };

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

test('copyRowBlock copies rows between strides, rounding f32 to f16 to nearest even and widening f16 exactly', () => {
  const KVH = 2;
  const HD = 4;
  const rand = mulberry32(3);
  const src = Float32Array.from({ length: KVH * 10 * HD }, () => (rand() - 0.5) * 300); // (KVH, 10, HD)
  const f32 = new Float32Array(KVH * 7 * HD).fill(-1); // (KVH, 7, HD)
  copyRowBlock(f32, 7, 2, src, 10, 3, 4, KVH, HD);
  const f16 = new Uint16Array(KVH * 7 * HD); // (KVH, 7, HD)
  copyRowBlock(f16, 7, 2, src, 10, 3, 4, KVH, HD);
  const back = new Float32Array(KVH * 10 * HD); // (KVH, 10, HD)
  copyRowBlock(back, 10, 3, f16, 7, 2, 4, KVH, HD);
  const f16Copy = new Uint16Array(KVH * 7 * HD);
  copyRowBlock(f16Copy, 7, 2, f16, 7, 2, 4, KVH, HD);
  for (let h = 0; h < KVH; h++) {
    for (let p = 0; p < 7; p++) {
      for (let i = 0; i < HD; i++) {
        const d = (h * 7 + p) * HD + i;
        const inside = p >= 2 && p < 6;
        const s = (h * 10 + p + 1) * HD + i; // source position p - 2 + 3
        assert.equal(f32[d], inside ? src[s] : -1, `f32 copy at head ${h} position ${p}`);
        assert.equal(f16[d], inside ? f32ToF16Scalar(src[s]!) : 0, `f16 rounding at head ${h} position ${p}`);
        assert.equal(f16Copy[d], f16[d]);
        if (inside) assert.equal(back[s], f16ToF32Scalar(f16[d]!), 'f16 widens back exactly');
      }
    }
  }
});

test('the plan: the engine faster at the longest prompt prefills from where it last starts to win', () => {
  // ort - js: +5 ms at one token (a decode step), +10 at 8, -40 at 64, -250 at 256: zero at 8 + 56 x 10/50 = 19.2 tokens.
  const plan = planFrom({ tokens: [8, 64, 256], jsMs: [30, 200, 800], ortMs: [40, 160, 550], jsDecodeMs: 10, ortDecodeMs: 15 });
  assert.deepEqual([plan.prefill, plan.prefillFrom, plan.decode], ['ort-cpu', 20, 'js']);
  assert.equal(describePlan(plan), 'ort-cpu prefill from 20 tokens, js decode');
  // Already ahead at 8 tokens: between the decode step (+5) and 8 tokens (-10), at 1 + 7 x 5/15 = 3.3.
  assert.equal(planFrom({ tokens: [8, 64, 256], jsMs: [50, 200, 800], ortMs: [40, 100, 300], jsDecodeMs: 10, ortDecodeMs: 15 }).prefillFrom, 4);
  // A noisy middle length where js wins again: onnxruntime starts after it, at 64 + 192 x 10/500 = 67.8.
  assert.equal(planFrom({ tokens: [8, 64, 256], jsMs: [50, 200, 800], ortMs: [40, 210, 310], jsDecodeMs: 10, ortDecodeMs: 15 }).prefillFrom, 68);
  const jsOnly = planFrom({ tokens: [8, 64, 256], jsMs: [20, 50, 200], ortMs: [30, 60, 250], jsDecodeMs: 10, ortDecodeMs: 15 });
  assert.deepEqual([jsOnly.prefill, jsOnly.decode], ['js', 'js']);
  assert.equal(describePlan(jsOnly), 'js prefill and decode');
  // onnxruntime decodes only when clearly faster (under 0.9 of js's step): a js cache needs no copy for a snapshot.
  const faster = { tokens: [8, 64, 256], jsMs: [50, 200, 800], ortMs: [30, 100, 300] };
  assert.equal(planFrom({ ...faster, jsDecodeMs: 10, ortDecodeMs: 9.5 }).decode, 'js');
  const allOrt = planFrom({ ...faster, jsDecodeMs: 10, ortDecodeMs: 8 });
  assert.deepEqual([allOrt.prefill, allOrt.prefillFrom, allOrt.decode], ['ort-cpu', 1, 'ort-cpu']);
  assert.equal(describePlan(allOrt), 'ort-cpu prefill and decode');
  assert.deepEqual(planLengths(2048), [8, 64, 256]);
  assert.deepEqual(planLengths(61), [2, 7, 30]);
});

for (const name of ORACLE_MODELS) {
  const model = loadModel(oracleDir(name));
  const V = model.config.vocabSize;

  for (const kvCache of ['f32', 'f16'] as KvCacheFormat[]) {
    test(`${name} (${kvCache} js cache): the split's logits and greedy ids match the js backend alone, over chunks, decode, prefix reuse and snapshots`, async () => {
      const js = await FastBackend.create(model, { threads: 1, kvCache });
      const exact = await FastBackend.create(model, { threads: 1, kvCache: 'f32' });
      const split = new PhaseSplitBackend(await FastBackend.create(model, { threads: 1, kvCache }), await OrtBackend.create(model, { threads: 1 }), SPLIT);
      const rand = mulberry32(11);
      const prompt = Int32Array.from({ length: 30 }, () => Math.floor(rand() * V));
      let worst = 0;
      const same = async (tokens: Int32Array, pos: number, what: string, allLogits = false): Promise<Float32Array> => {
        const a = await js.forward(tokens, pos, { allLogits });
        const b = await split.forward(tokens, pos, { allLogits });
        const d = maxAbsDiff(a.logits, b.logits);
        worst = Math.max(worst, d);
        assert.ok(d < TOLERANCE[kvCache], `${what}: logits differ by ${d} (bound ${TOLERANCE[kvCache]})`);
        const f32 = (await exact.forward(tokens, pos, { allLogits })).logits;
        assert.ok(maxAbsDiff(b.logits, f32) <= maxAbsDiff(a.logits, f32) + 1e-3, `${what}: the split is as near the f32 cache as the js backend alone`);
        assert.equal(argmax(b.logits.subarray(b.logits.length - V)), argmax(a.logits.subarray(a.logits.length - V)), `${what}: greedy id`);
        return a.logits;
      };
      try {
        // The prompt in two chunks, both on onnxruntime (the generator prefills in chunks), then js decodes.
        assert.equal(split.engineFor(20), 'ort-cpu');
        await same(prompt.subarray(0, 20), 0, 'first chunk', true);
        let logits = await same(prompt.subarray(20), 20, 'second chunk');
        const ids = [...prompt];
        for (let s = 0; s < 8; s++) {
          ids.push(argmax(logits));
          logits = await same(Int32Array.of(ids.at(-1)!), ids.length - 1, `decode step ${s}`);
        }
        assert.equal(split.engineFor(1), 'js');
        // A second request reuses 25 positions: a short tail on js, then a long one on onnxruntime,
        // which must first take the positions js decoded.
        const tail = (n: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rand() * V));
        await same(Int32Array.from(ids.slice(25, 28)), 25, 'short tail at a reused prefix');
        logits = await same(tail(8), 28, 'long tail after js wrote positions');
        await same(Int32Array.of(argmax(logits)), 36, 'decode after the long tail');
        // Snapshots go through the js cache: a snapshot of the split restores into a fresh split.
        const snap = split.saveCache(37);
        const jsSnap = js.saveCache(37);
        assert.equal(snap.layout, jsSnap.layout);
        assert.equal(snap.keys.byteLength, jsSnap.keys.byteLength);
        split.releaseCache();
        split.restoreCache(snap);
        await same(tail(8), 37, 'long tail after a restore (onnxruntime takes the restored positions)');
        await same(Int32Array.of(3), 45, 'decode after the restore');
        assert.match(split.takeEngineUse(), /^ort-cpu \(\d+ tokens\); js \(\d+ tokens\); KV cache moved to ort-cpu: \d+ positions in \d+ ms; KV cache moved to js: \d+ positions in \d+ ms$/);
        assert.equal(split.takeEngineUse(), '', 'the count starts again');
        console.log(`${name} ${kvCache}: split vs js max logit diff ${worst.toExponential(2)}`);
      } finally {
        js.dispose();
        exact.dispose();
        split.dispose();
      }
    });
  }

  test(`${name}: the generator over the split gives the js backend's greedy ids and says which engine did what`, async () => {
    const js = new Generator(await FastBackend.create(model, { threads: 1, kvCache: 'f16' }));
    const split = new Generator(new PhaseSplitBackend(await FastBackend.create(model, { threads: 1, kvCache: 'f16' }), await OrtBackend.create(model, { threads: 1 }), SPLIT));
    try {
      const rand = mulberry32(5);
      for (const length of [3, 24, 40]) {
        const prompt = Array.from({ length }, () => Math.floor(rand() * V));
        const a = await js.generate(prompt, { maxNewTokens: 12, stopTokenIds: [] });
        const b = await split.generate(prompt, { maxNewTokens: 12, stopTokenIds: [] });
        assert.deepEqual(b.newIds, a.newIds, `greedy ids after a ${length}-token prompt`);
        assert.equal(b.timings.backend, 'ort-cpu+js');
        assert.equal(a.timings.prefill_engine, undefined, 'a backend that does not split says nothing more');
        assert.match(b.timings.decode_engine!, /^js \(11 tokens\)$/);
        if (b.timings.prefilled_tokens >= SPLIT.prefillFrom) assert.match(b.timings.prefill_engine!, /^ort-cpu \(\d+ tokens\); KV cache moved to js: \d+ positions/);
        else assert.match(b.timings.prefill_engine!, /^js \(\d+ tokens?\)/);
      }
    } finally {
      js.backend.dispose();
      split.backend.dispose();
    }
  });
}

test('with onnxruntime taking both phases, a snapshot still comes from the js cache (rows copied over) and continues there', async () => {
  const model = loadModel(oracleDir('llama-tiny'));
  const V = model.config.vocabSize;
  const allOrt: PhasePlan = { prefill: 'ort-cpu', prefillFrom: 1, decode: 'ort-cpu', measured: MEASURED };
  const split = new PhaseSplitBackend(await FastBackend.create(model, { threads: 1, kvCache: 'f16' }), await OrtBackend.create(model, { threads: 1 }), allOrt);
  const alone = await FastBackend.create(model, { threads: 1, kvCache: 'f16' });
  const fresh = await FastBackend.create(model, { threads: 1, kvCache: 'f16' });
  try {
    const rand = mulberry32(21);
    const ids = Int32Array.from({ length: 24 }, () => Math.floor(rand() * V));
    await split.forward(ids.subarray(0, 20), 0);
    for (let p = 20; p < 24; p++) await split.forward(ids.subarray(p, p + 1), p);
    assert.equal(split.js.cachedPositions, 0, 'nothing ran on js yet');
    fresh.restoreCache(split.saveCache(24));
    assert.match(split.takeEngineUse(), /^ort-cpu \(24 tokens\); KV cache moved to js: 24 positions/);
    await alone.forward(ids, 0);
    const next = Int32Array.of(5);
    const d = maxAbsDiff((await fresh.forward(next, 24)).logits, (await alone.forward(next, 24)).logits);
    assert.ok(d < TOLERANCE.f16, `a js backend continuing from the split's snapshot: logits differ by ${d}`);
  } finally {
    split.dispose();
    alone.dispose();
    fresh.dispose();
  }
});

test('the phase plan is measured once, written atomically beside the exports, and read back on the next load', async () => {
  const model = loadModel(oracleDir('llama-tiny'));
  const dir = mkdtempSync(join(tmpdir(), 'limelight-phase-plan-'));
  const js = await FastBackend.create(model, { threads: 1, kvCache: 'f16' });
  const ortBackend = await OrtBackend.create(model, { threads: 1, cacheDir: dir });
  try {
    const first = await phasePlan(js, ortBackend, dir);
    assert.equal(first.source, 'measured');
    assert.equal(first.file, planFile(dir, planKey(js, ortBackend)));
    assert.deepEqual(readdirSync(join(dir, 'phase-plans')), [first.file!.split('/').at(-1)], 'one file, no temporary left behind');
    const saved = JSON.parse(readFileSync(first.file!, 'utf8')) as { key: Record<string, unknown>; plan: PhasePlan };
    assert.deepEqual(saved.plan, first.plan);
    assert.equal((saved.key.machine as { cores: number }).cores > 0, true);
    assert.match((saved.key.js as { kernels: string }).kernels, /^[0-9a-f]{16}$/, 'the WASM kernels, hashed, stand for the js engine\'s version');
    assert.equal((saved.key.ort as { version: string }).version.length > 0, true);
    assert.equal(js.cachedPositions + ortBackend.cachedPositions, 0, 'measuring leaves both caches empty');
    const again = await phasePlan(js, ortBackend, dir);
    assert.equal(again.source, 'cached');
    assert.deepEqual(again.plan, first.plan);
    // A damaged file is measured again and replaced.
    writeFileSync(first.file!, '{"key": 1, "plan"');
    const remeasured = await phasePlan(js, ortBackend, dir);
    assert.equal(remeasured.source, 'measured');
    assert.equal((JSON.parse(readFileSync(first.file!, 'utf8')) as { plan: PhasePlan }).plan.prefill, remeasured.plan.prefill);
    // Another thread count is another machine setup: its own plan.
    const js2 = await FastBackend.create(model, { threads: 2, kvCache: 'f16' });
    try {
      assert.notEqual(planFile(dir, planKey(js2, ortBackend)), first.file);
    } finally {
      js2.dispose();
    }
  } finally {
    js.dispose();
    ortBackend.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Measures the plan once and replaces it with SPLIT in the cache, so a choice does not depend on this machine's load. */
async function pinPlan(model: ReturnType<typeof loadModel>, dir: string): Promise<void> {
  const js = await FastBackend.create(model, { threads: 1, kvCache: 'f16' });
  const ortBackend = await OrtBackend.create(model, { threads: 1, cacheDir: dir });
  try {
    const { file } = await phasePlan(js, ortBackend, dir);
    const saved = JSON.parse(readFileSync(file!, 'utf8')) as { key: unknown; plan: PhasePlan };
    writeFileSync(file!, JSON.stringify({ key: saved.key, plan: SPLIT }));
  } finally {
    js.dispose();
    ortBackend.dispose();
  }
}

/** What the split holds for gpt2-tiny with an f16 js cache: f32 weights twice, an f16 and an f32 cache of 64 positions. */
function splitNeed(model: ReturnType<typeof loadModel>): number {
  const c = model.config;
  return 2 * 4 * model.layout.total + 64 * 2 * c.nLayer * c.nKvHead * c.headDim * (2 + 4);
}

test('auto runs the split with the cached plan and says so; a model onnxruntime cannot run gets js for both, with the reason', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const dir = mkdtempSync(join(tmpdir(), 'limelight-phase-auto-'));
  try {
    await pinPlan(model, dir);
    const choice = await selectBackend(model, { setting: 'auto', threads: 1, kvCache: 'f16', cacheDir: dir, availableMemory: 2 ** 40 });
    try {
      assert.equal(choice.name, 'ort-cpu+js');
      assert.ok(choice.backend instanceof PhaseSplitBackend);
      assert.match(choice.reason, /^ort-cpu\+js \(auto: ort-cpu prefill from 6 tokens, js decode \(as measured at an earlier load: 2 tokens in 3 ms on ort-cpu, 2 ms on js; 30 tokens in 4 ms on ort-cpu, 8 ms on js; a decode step in 2\.0 ms on ort-cpu, 1\.0 ms on js\); ort-webgpu: /);
    } finally {
      choice.backend.dispose();
    }
    // Where onnxruntime's copy of the weights would not fit beside the js backend's, js runs alone.
    const need = splitNeed(model);
    const short = await selectBackend(model, { setting: 'auto', threads: 1, kvCache: 'f16', cacheDir: dir, availableMemory: need / 0.8 });
    try {
      assert.equal(short.name, 'js');
      assert.match(short.reason, /ort-cpu\+js: onnxruntime's copy of the weights \(0\.0 GB\) and KV cache beside the js backend's would leave this machine short of memory/);
    } finally {
      short.backend.dispose();
    }
    assert.equal(splitMemoryRefusal(model, { setting: 'auto', kvCache: 'f16' }, need / 0.7 + 1), null, 'it fits below the share of memory a load may take');
    const windowed = createModel({ ...model.config, slidingWindow: 8 }, model.params);
    const fallback = await selectBackend(windowed, { setting: 'auto', threads: 1, cacheDir: dir });
    try {
      assert.equal(fallback.name, 'js');
      assert.equal(fallback.fallbacks.at(-1)!.name, 'ort-cpu+js');
      assert.match(fallback.reason, /^js \(auto; .*ort-cpu\+js: failed: .*sliding-window/);
    } finally {
      fallback.backend.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the engine worker loads auto as the split, reports which engine did what per request, and frees both caches when idle', async () => {
  const modelDir = oracleDir('gpt2-tiny');
  const dir = mkdtempSync(join(tmpdir(), 'limelight-phase-worker-'));
  const engine = new WorkerState(() => {});
  try {
    await pinPlan(loadModel(modelDir), dir);
    const signal = new AbortController().signal;
    const load: LoadRequest = { type: 'load', modelDir, backend: 'auto', threads: 1, weightFormat: 'f32', kvCacheFormat: 'f16', onnxCacheDir: dir, idleReleaseSeconds: 0.2 };
    const info = (await engine.handle(1, load, signal)) as LoadResult;
    assert.equal(info.backend, 'ort-cpu+js');
    assert.match(info.reason, /^ort-cpu\+js \(auto: ort-cpu prefill from 6 tokens, js decode /);
    const c = loadModel(modelDir).config;
    assert.equal(info.kvBytesPerPosition, 2 * c.nLayer * c.nKvHead * c.headDim * 2, "the generator's cache is the js backend's f16 one");
    const promptIds = Array.from({ length: 20 }, (_, i) => (i * 37) % c.vocabSize);
    const gen: GenerateRequest = { type: 'generate', promptIds, maxNewTokens: 4, stopTokenIds: [] };
    const first = (await engine.handle(2, gen, signal)) as GenerateResultMessage;
    assert.match(first.timings.prefill_engine!, /^ort-cpu \(20 tokens\); KV cache moved to js: 20 positions in \d+ ms$/);
    assert.equal(first.timings.decode_engine, 'js (3 tokens)');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(engine.idleReleases, 1);
    const again = (await engine.handle(3, gen, signal)) as GenerateResultMessage;
    assert.deepEqual(again.newIds, first.newIds);
    assert.equal(again.timings.reused_tokens, 0, 'the idle release emptied the caches');
  } finally {
    engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
