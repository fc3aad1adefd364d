// An interrupted checkpoint write: a child process that saves checkpoints in a loop
// (test/harness/checkpointWriter.ts) is SIGKILLed at seeded random moments, again and again,
// resuming each time from what it left. After every kill the run folder loads, its checkpoint
// is the last one the child reported saved or the one it was writing (never a mix: every
// buffer carries its step), the exported weights belong to that checkpoint or the save cut
// short, and temporary files of killed saves are ignored by the loader and removed by the
// next save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../engine/model/init';
import { configFromHF } from '../../engine/model/families';
import { loadModel } from '../../engine/model/load';
import { loadAdapter } from '../../engine/train/lora';
import { readTrainerState, restoreCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';
import { markStep, WRITER_MODEL_JSON, writerTrainer } from '../harness/checkpointWriter';

const WRITER = join(__dirname, '..', 'harness', 'checkpointWriter.js');
const KILLS_PER_MODE = 15;
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

interface Round {
  pid: number;
  /** The step the child resumed from. */
  ready: number;
  /** The last "saved N" it printed (ready when none). */
  printed: number;
}

/** Starts the writer, kills it `delayMs` after it is ready, and reports what it printed. */
function runAndKill(out: string, base: string, mode: string, delayMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, out, base, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let errors = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (timer === null && text.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the writer exited by itself (code ${code}): ${errors}`));
      const lines = text.split('\n').filter((l) => l !== '');
      const ready = Number(/^ready (\d+)$/.exec(lines[0] ?? '')?.[1] ?? NaN);
      const saved = lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6)));
      resolve({ pid: child.pid!, ready, printed: saved.at(-1) ?? ready });
    });
  });
}

/** The value every element of `a` holds; fails when they differ (a mix). */
function uniform(a: Float32Array, what: string): number {
  const v = a[0]!;
  assert.ok(a.every((x) => x === v), `${what} holds values of different saves`);
  return v;
}

function checkFolder(out: string, mode: 'full' | 'lora', round: Round, kill: number): number {
  const where = `kill ${kill} (resumed at ${round.ready}, last printed ${round.printed})`;
  const state = readTrainerState(out);
  const step = state?.step ?? 0;
  assert.ok(step === round.printed || step === round.printed + 1, `${where}: the checkpoint is at step ${step}`);
  if (state !== null) {
    const trainer = writerTrainer(mode);
    restoreCheckpoint(out, trainer);
    assert.equal(uniform(trainer.trainable(), 'trainable'), step, where);
    assert.equal(uniform(trainer.optimizer.m, 'adamw.m'), -step, where);
    assert.equal(uniform(trainer.optimizer.v, 'adamw.v'), step / 2, where);
    assert.deepEqual(trainer.losses, Array.from({ length: step }, (_, i) => i + 1), where);
  }
  // The exported weights: this checkpoint's, or those of the save the kill cut short.
  const exported =
    mode === 'full'
      ? existsSync(join(out, 'model.safetensors')) && uniform(loadModel(out).params, 'model.safetensors')
      : existsSync(join(out, 'adapter_model.safetensors')) && uniform(loadAdapter(out, configFromHF(WRITER_MODEL_JSON)).params, 'adapter_model.safetensors');
  if (exported === false) assert.equal(step, 0, `${where}: no exported weights beside a checkpoint`);
  else assert.ok(exported === step || exported === step + 1, `${where}: exported weights of step ${exported} beside checkpoint ${step}`);

  // Only whole step folders; temporary files only from the child just killed once it saved.
  const root = join(out, 'checkpoints');
  for (const dir of [out, root]) {
    for (const name of readdirSync(dir)) {
      const m = TEMP.exec(name);
      if (m !== null) {
        if (round.printed > round.ready) assert.equal(Number(m[1]), round.pid, `${where}: ${name} of a killed save was not removed`);
        continue;
      }
      if (dir === root && name !== 'latest.json') {
        assert.match(name, /^step-\d+(-\d+)?$/, where);
        assert.deepEqual(readdirSync(join(root, name)).sort(), ['state.safetensors', 'trainer_state.json'], `${where}: ${name} is partial`);
      }
    }
  }
  return step;
}

for (const mode of ['full', 'lora'] as const) {
  test(`${mode}: ${KILLS_PER_MODE} SIGKILLs during checkpoint saves leave the previous or the new checkpoint, never a mix`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'limelight-ckill-'));
    try {
      const base = join(dir, 'base');
      const out = join(dir, 'run');
      mkdirSync(base);
      writeFileSync(join(base, 'config.json'), JSON.stringify(WRITER_MODEL_JSON));
      const rng = mulberry32(mode === 'full' ? 11 : 12);
      let step = 0;
      let killedMidSave = 0;
      for (let kill = 0; kill < KILLS_PER_MODE; kill++) {
        const round = await runAndKill(out, base, mode, Math.floor(rng() * 200));
        assert.equal(round.ready, step, `kill ${kill}: the writer resumed at ${round.ready}, the folder held ${step}`);
        step = checkFolder(out, mode, round, kill);
        if (readdirSync(join(out, 'checkpoints')).some((n) => TEMP.test(n)) || readdirSync(out).some((n) => TEMP.test(n))) killedMidSave++;
      }
      assert.ok(step > 0, 'the writer never finished a save');
      assert.ok(killedMidSave > 0, 'no kill landed inside a save; the test proved nothing');
      // One more save cleans everything a kill left behind.
      const trainer = writerTrainer(mode);
      restoreCheckpoint(out, trainer);
      markStep(trainer, step + 1);
      saveCheckpoint(out, trainer, base);
      const root = join(out, 'checkpoints');
      const current = JSON.parse(readFileSync(join(root, 'latest.json'), 'utf8')).stepDir as string;
      // -1 when a kill left the same step complete but not yet current.
      assert.match(current, new RegExp(`^step-${String(step + 1).padStart(6, '0')}(-1)?$`));
      assert.deepEqual(readdirSync(root).sort(), ['latest.json', current]);
      assert.ok(!readdirSync(out).some((n) => TEMP.test(n)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('saving the same step twice keeps the current folder until the new one is complete', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ctwice-'));
  try {
    const base = join(dir, 'base');
    mkdirSync(base);
    writeFileSync(join(base, 'config.json'), JSON.stringify(WRITER_MODEL_JSON));
    const out = join(dir, 'run');
    const trainer = writerTrainer('lora');
    markStep(trainer, 4);
    const first = saveCheckpoint(out, trainer, base);
    const second = saveCheckpoint(out, trainer, base);
    assert.notEqual(first, second);
    assert.ok(!existsSync(first) && existsSync(second));
    assert.equal(readTrainerState(out)!.step, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
