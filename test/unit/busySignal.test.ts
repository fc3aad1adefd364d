// Completions before training: a BusySignal raised by the completion side makes a training
// thread wait (until it is lowered, or at most the bound), the fine-tune loop waits before each
// step while it is raised, and the worker protocol carries it only as shared memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BusySignal, waitWhileBusy } from '../../engine/runtime/busySignal';
import { fineTuneWorkspace } from '../../engine/finetune/workspaceFineTune';
import { parseToWorker, ProtocolError } from '../../engine/worker/protocol';
import { writeTinyModel } from '../harness/tinyModel';

/** Runs waitWhileBusy on another thread, as the training worker does: `ready` once it is about to wait, `waited` with the ms waited. */
function waitInWorker(buffer: SharedArrayBuffer, maxMs: number): { ready: Promise<void>; waited: Promise<number> } {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    const { waitWhileBusy } = require(workerData.module);
    parentPort.postMessage('ready');
    parentPort.postMessage(waitWhileBusy(workerData.buffer, workerData.maxMs));`;
  const w = new Worker(code, { eval: true, workerData: { module: require.resolve('../../engine/runtime/busySignal'), buffer, maxMs } });
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const waited = new Promise<number>((resolve, reject) => {
    w.on('message', (m: number | string) => (m === 'ready' ? ready() : resolve(m as number)));
    w.once('error', reject);
  });
  return { ready: readyP, waited };
}

test('a training thread waits while a completion runs and goes on as soon as it ends', async () => {
  const busy = new BusySignal();
  assert.ok(waitWhileBusy(busy.buffer, 1000) < 50, 'no wait while nothing runs');
  busy.enter();
  const worker = waitInWorker(busy.buffer, 10_000);
  await worker.ready;
  await new Promise((r) => setTimeout(r, 300));
  busy.leave();
  const ms = await worker.waited;
  assert.ok(ms >= 200 && ms < 5000, `waited ${ms.toFixed(0)} ms for a 300 ms completion`);
});

test('a signal left raised holds a thread at most the bound; during() lowers it when the work throws', async () => {
  const busy = new BusySignal();
  await assert.rejects(busy.during(() => Promise.reject(new Error('engine crashed'))), /engine crashed/);
  assert.ok(waitWhileBusy(busy.buffer, 1000) < 50, 'lowered after the failure');
  busy.enter();
  const ms = await waitInWorker(busy.buffer, 200).waited;
  assert.ok(ms >= 190 && ms < 2000, `waited ${ms.toFixed(0)} ms with a 200 ms bound`);
});

test('the fine-tune waits before each step while completions run, and not otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-busy-'));
  try {
    const modelDir = writeTinyModel(join(dir, 'model'));
    const files = [0, 1, 2, 3].map((i) => ({ path: `src/f${i}.ts`, text: `export function f${i}(x: number): number {\n  return x * ${i} + ${i * 7};\n}\n`.repeat(6) }));
    const opts = { modelDir, files, mode: 'lora' as const, loraRank: 2, maxMinutes: 5, resume: false, steps: 2, seqLen: 32, batchSize: 1, evalLines: 1, evalWindows: 1, threads: 1 };
    const busy = new BusySignal();
    const free = await fineTuneWorkspace({ ...opts, outDir: join(dir, 'free'), yieldTo: busy.buffer });
    assert.equal(free.status, 'completed');
    assert.ok(free.yieldedSeconds < 0.1, `waited ${free.yieldedSeconds} s with nothing running`);
    busy.enter();
    const held = await fineTuneWorkspace({ ...opts, outDir: join(dir, 'held'), yieldTo: busy.buffer });
    assert.equal(held.status, 'completed');
    assert.equal(held.step, 2);
    assert.ok(held.yieldedSeconds >= 1.9 && held.yieldedSeconds < 5, `waited ${held.yieldedSeconds} s over 2 steps (1 s bound each)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the train request takes the signal only as shared memory', () => {
  const request = { type: 'train', modelDir: '/m', outDir: '/o', files: [], mode: 'lora', loraRank: 4, maxMinutes: 1, resume: false };
  assert.doesNotThrow(() => parseToWorker({ id: 1, kind: 'request', request: { ...request, yieldTo: new BusySignal().buffer } }));
  assert.throws(() => parseToWorker({ id: 2, kind: 'request', request: { ...request, yieldTo: new ArrayBuffer(4) } }), (e: Error) => e instanceof ProtocolError && /yieldTo/.test(e.message));
});
