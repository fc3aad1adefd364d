// Before a load, the engine compares what the model needs (weights as held + KV cache at the
// context) with the memory available: it loads, warns, or refuses with advice that names a
// smaller quantization or context, rather than swapping the machine to a halt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heldWeightBytes, memoryFit } from '../../engine/model/memory';
import { WorkerState } from '../../engine/worker/workerState';
import type { LoadRequest, LoadResult } from '../../engine/worker/protocol';
import { writeTinyModel } from '../harness/tinyModel';
import { loadModel } from '../../engine/model/load';

const GiB = 2 ** 30;
// Qwen2.5-Coder-1.5B in Q8_0: 28 KiB of KV cache per position (28 layers x 2 x 256 x 4 bytes).
const qwen15 = { weightBytes: 1.65 * GiB, kvBytesPerPosition: 28 * 1024, positions: 4096, mainFormat: 'Q8_0' };

test('a model that leaves room loads without a word', () => {
  assert.deepEqual(memoryFit(qwen15, 16 * GiB), { verdict: 'fits', message: null });
});

test('a model that takes most of the memory loads with a warning naming a smaller quantization', () => {
  const fit = memoryFit(qwen15, 2.5 * GiB);
  assert.equal(fit.verdict, 'tight');
  assert.match(fit.message!, /needs about 1\.8 GB \(weights 1\.6 GB, KV cache 0\.1 GB at 4096 positions\) and this machine has 2\.5 GB available/);
  assert.match(fit.message!, /Q4_K_M/);
});

test('a model that does not fit is refused, with a quantization and a context that would', () => {
  const big = { weightBytes: 1 * GiB, kvBytesPerPosition: 256 * 1024, positions: 32768, mainFormat: 'F16' };
  const fit = memoryFit(big, 8 * GiB);
  assert.equal(fit.verdict, 'too-big');
  assert.match(fit.message!, /was not loaded/);
  assert.match(fit.message!, /Q8_0 or Q4_K_M GGUF .*limelight\.weightFormat q8_0/);
  // (0.7 x 8 GiB - 1 GiB) / 256 KiB = 18022 positions: the advice rounds down to a power of two.
  assert.match(fit.message!, /limelight\.maxContextTokens 16384 instead of 32768/);
});

test('weights held in an asked format count at that format, auto at the file', () => {
  assert.equal(heldWeightBytes(1000, 1000, 'auto'), 1000);
  assert.equal(heldWeightBytes(500, 1000, 'f32'), 4000);
  assert.equal(heldWeightBytes(2000, 1024, 'q8_0'), 1088);
});

test('the engine refuses a load the available memory cannot hold, and warns near the limit', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'limelight-fit-'));
  try {
    const modelDir = writeTinyModel(tmp);
    const load: LoadRequest = { type: 'load', modelDir, backend: 'js', threads: 1, weightFormat: 'f32', contextLength: 64 };
    const signal = new AbortController().signal;
    const starved = new WorkerState(() => {}, () => 64 * 1024);
    await assert.rejects(starved.handle(1, load, signal), (e: Error) => e.name === 'MemoryFitError' && /was not loaded/.test(e.message));
    starved.dispose();

    const roomy = new WorkerState(() => {});
    const info = (await roomy.handle(1, load, signal)) as LoadResult;
    assert.equal(info.memoryNote, null);
    roomy.dispose();
    // Needing 80 % of the memory: loaded, with the note the extension shows.
    const need = 4 * loadModel(modelDir).layout.total + info.kvBytesPerPosition * info.contextLength;
    const tight = new WorkerState(() => {}, () => need / 0.8);
    const tightInfo = (await tight.handle(1, load, signal)) as LoadResult;
    tight.dispose();
    assert.match(tightInfo.memoryNote ?? '', /it loads, but the machine may slow down/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an f16 KV cache holds twice the positions in the same memory, and generates', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'limelight-kv16-'));
  try {
    const modelDir = writeTinyModel(tmp, { nPositions: 1024 });
    const signal = new AbortController().signal;
    const infos: LoadResult[] = [];
    for (const kvCacheFormat of ['f32', 'f16'] as const) {
      const engine = new WorkerState(() => {});
      // 2 layers x 2 x 32 wide: 512 bytes a position in f32; 0.25 MB holds 512 positions in f32.
      const info = (await engine.handle(1, { type: 'load', modelDir, backend: 'js', threads: 1, weightFormat: 'f32', kvCacheMemoryMB: 0.25, kvCacheFormat }, signal)) as LoadResult;
      const r = (await engine.handle(2, { type: 'generate', promptIds: [1, 2, 3, 4, 5], maxNewTokens: 3, stopTokenIds: [] }, signal)) as { newIds: number[] };
      assert.equal(r.newIds.length, 3, kvCacheFormat);
      engine.dispose();
      infos.push(info);
    }
    assert.equal(infos[0]!.contextLength, 512);
    assert.equal(infos[1]!.contextLength, 1024);
    assert.equal(infos[1]!.kvBytesPerPosition, infos[0]!.kvBytesPerPosition / 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
