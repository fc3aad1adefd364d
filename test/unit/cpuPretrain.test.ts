import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePretrainArgs, pretrain, type PretrainArgs } from '../../tools/pretrain/cpuPretrain';
import { pauseBackgroundTraining, pauseHolders } from '../../tools/pretrain/pauseFile';

/** A corpus folder of random p50k_edit ids (the same each time): enough for a few windows of 32 tokens. */
function tinyCorpus(dir: string): string {
  const data = join(dir, 'corpus');
  mkdirSync(data, { recursive: true });
  let s = 7;
  const ids = (n: number): Buffer => {
    const a = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      a[i] = s % 50284;
    }
    return Buffer.from(a.buffer);
  };
  writeFileSync(join(data, 'train.bin'), ids(4000));
  writeFileSync(join(data, 'val.bin'), ids(400));
  return data;
}

function tinyArgs(dir: string, run: string, extra: string[] = []): PretrainArgs {
  return parsePretrainArgs(['--data', tinyCorpus(dir), '--run', join(dir, run), '--pause-dir', join(dir, 'pause'), '--hidden', '32', '--layers', '1', '--ffn', '64',
    '--seq', '32', '--batch', '2', '--accum', '1', '--tokens', '384', '--warmup', '1', '--eval-windows', '4', '--threads', '1', ...extra]);
}

const quiet = (): void => {};

test('cpuPretrain: a run stopped after 2 steps and resumed ends with the same weights and losses as one never stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-pretrain-'));
  try {
    assert.equal(await pretrain(tinyArgs(dir, 'whole'), quiet), 0);
    const parts = join(dir, 'parts');
    mkdirSync(parts);
    assert.equal(await pretrain(tinyArgs(parts, 'run', ['--max-steps', '2']), quiet), 0);
    const first = JSON.parse(readFileSync(join(parts, 'run', 'training.json'), 'utf8')) as { sessions: { toStep: number }[] };
    assert.equal(first.sessions[0]!.toStep, 2);
    // The resumed session is given another shape and budget: the checkpoint's own are kept.
    assert.equal(await pretrain({ ...tinyArgs(parts, 'run'), hidden: 64, tokens: 10_000 }, quiet), 0);
    const whole = readFileSync(join(dir, 'whole', 'model.safetensors'));
    const resumed = readFileSync(join(parts, 'run', 'model.safetensors'));
    assert.ok(whole.equals(resumed), 'the resumed run wrote other weights than the uninterrupted one');
    const log = JSON.parse(readFileSync(join(parts, 'run', 'training.json'), 'utf8')) as { sessions: { fromStep: number; toStep: number }[]; evals: { step: number; valLoss: number }[] };
    assert.deepEqual(log.sessions.map((s) => [s.fromStep, s.toStep]), [[0, 2], [2, 6]]);
    assert.equal(log.evals.at(-1)!.step, 6);
    assert.ok(log.evals.at(-1)!.valLoss > 5 && log.evals.at(-1)!.valLoss < 12, `val loss ${log.evals.at(-1)!.valLoss}`);
    const config = JSON.parse(readFileSync(join(parts, 'run', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['limelight_encoding'], 'p50k_edit');
    assert.equal(config['hidden_size'], 32);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pauseFile: a pause held by a live process counts; the file of a process that is gone is removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-pause-'));
  try {
    assert.deepEqual(pauseHolders(join(dir, 'none')), []);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 200)']);
    await new Promise((done) => child.once('spawn', done));
    writeFileSync(join(dir, String(child.pid)), 'bench\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a pid\n');
    assert.deepEqual(pauseHolders(dir), [child.pid]);
    await new Promise((done) => child.once('exit', done));
    assert.deepEqual(pauseHolders(dir), []);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    pauseBackgroundTraining(dir);
    assert.deepEqual(pauseHolders(dir), [process.pid]);
    assert.ok(existsSync(join(dir, String(process.pid))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cpuPretrain: a pause holder stops the loop between steps until it is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-pretrain-'));
  try {
    mkdirSync(join(dir, 'pause'));
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 2500)']);
    await new Promise((done) => holder.once('spawn', done));
    writeFileSync(join(dir, 'pause', String(holder.pid)), 'bench\n');
    const lines: string[] = [];
    const started = Date.now();
    assert.equal(await pretrain(tinyArgs(dir, 'run', ['--max-steps', '1']), (l) => lines.push(l)), 0);
    assert.ok(Date.now() - started >= 2000, 'the step ran while a live process held the pause');
    assert.ok(lines.some((l) => l.startsWith(`paused: pid ${holder.pid}`)), lines.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
