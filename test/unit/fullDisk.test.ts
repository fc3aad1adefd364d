// A full disk, a read-only disk, no permission: every write path (atomic files, safetensors,
// checkpoints with their exported adapter, the ONNX cache) fails with an error that names the
// file, the cause and what to do, removes its temporary files, and leaves the previous files
// as they were. The first test injects each errno at the write itself (runs everywhere); the
// second fills and then write-protects a real tiny tmpfs, which needs root and mount rights
// (skipped, with the reason, where the runner has neither).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic, writeFileAtomic } from '../../engine/io/atomicFile';
import { writeSafetensors } from '../../engine/io/safetensors';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { exportCached } from '../../engine/onnx/cache';
import { CHECKPOINTS, readTrainerState, restoreCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';
import { AdapterStore } from '../../extension/fineTune/adapterStore';
import { markStep, WRITER_MODEL_JSON, writerTrainer } from '../harness/checkpointWriter';

const ADVICE: Record<string, RegExp> = {
  ENOSPC: /ENOSPC: the disk is full\. Free some disk space/,
  EDQUOT: /EDQUOT: your disk quota is used up/,
  EROFS: /EROFS: the file system is read-only\. Choose a folder on a writable disk/,
  EACCES: /EACCES: permission denied\. Choose a folder you can write to/,
};

/** Names in `dir` that a writer left behind (dot-named temp files and folders). */
function temps(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('.tmp-'));
}

test('each write error code becomes advice; the temp file goes and the previous file stays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-wfail-'));
  try {
    const path = join(dir, 'state.json');
    writeFileAtomic(path, '{"previous": true}\n');
    for (const [code, advice] of Object.entries(ADVICE)) {
      const failing = (fd: number): void => {
        writeSync(fd, 'half of the new ');
        throw Object.assign(new Error(`${code}: simulated failure, write`), { code, syscall: 'write' });
      };
      assert.throws(
        () => writeAtomic(path, failing),
        (e: Error) => e.message.includes(path) && advice.test(e.message) && /previous file, if any, is unchanged/.test(e.message),
      );
      assert.equal(readFileSync(path, 'utf8'), '{"previous": true}\n', code);
      assert.deepEqual(temps(dir), [], code);
    }
    // A folder that does not exist: the create step says so.
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'x.json'), 'x'), /cannot create a file in .*missing \(ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Mounts a tmpfs of `kib` KiB at `dir`; returns why not when this runner cannot. */
function mountTmpfs(dir: string, kib: number): string | null {
  if (process.platform !== 'linux') return 'mounting a tmpfs needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (the injected-error test above covers the error paths)';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `this runner cannot mount a tmpfs (${(e as Error).message.split('\n')[0]})`;
  }
}

/** Fills the file system holding `dir` to the last byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  try {
    for (const size of [65536, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('a real full and then read-only disk: clear errors, previous checkpoint and files intact, no temp files', (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'limelight-disk-'));
  const why = mountTmpfs(mnt, 1024);
  if (why !== null) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(why);
    return;
  }
  try {
    const base = join(mnt, 'base');
    const out = join(mnt, 'run');
    const cache = join(mnt, 'onnx');
    mkdirSync(base);
    writeFileSync(join(base, 'config.json'), JSON.stringify(WRITER_MODEL_JSON));
    const trainer = writerTrainer('lora');
    markStep(trainer, 1);
    saveCheckpoint(out, trainer, base);
    const adapterBefore = readFileSync(join(out, 'adapter_model.safetensors'));
    writeFileAtomic(join(mnt, 'notes.json'), '{"previous": true}\n');
    const model = randomModel(configFromHF(WRITER_MODEL_JSON), 1);
    const store = new AdapterStore(join(mnt, 'store'));
    const installed = store.install(out, { baseModel: base, created: 'before', source: 'fine-tune' });
    mkdirSync(join(mnt, 'exported'));

    const checkIntact = (code: string): void => {
      assert.equal(readFileSync(join(mnt, 'notes.json'), 'utf8'), '{"previous": true}\n', code);
      assert.equal(readTrainerState(out)!.step, 1, code);
      const resumed = writerTrainer('lora');
      restoreCheckpoint(out, resumed);
      assert.ok(resumed.trainable().every((x) => x === 1), `${code}: the checkpoint's buffers changed`);
      assert.deepEqual(readFileSync(join(out, 'adapter_model.safetensors')), adapterBefore, `${code}: the exported adapter changed`);
      for (const d of [mnt, out, join(out, CHECKPOINTS)]) assert.deepEqual(temps(d), [], `${code}: temp files left in ${d}`);
      assert.deepEqual(readdirSync(join(out, CHECKPOINTS)).sort(), ['latest.json', 'step-000001'], code);
    };

    for (const code of ['ENOSPC', 'EROFS']) {
      if (code === 'ENOSPC') fill(mnt);
      else {
        rmSync(join(mnt, 'filler'));
        execFileSync('mount', ['-o', 'remount,ro', mnt]);
      }
      const advice = ADVICE[code]!;
      assert.throws(() => writeFileAtomic(join(mnt, 'notes.json'), JSON.stringify({ next: 'x'.repeat(50_000) })), (e: Error) => e.message.includes('notes.json') && advice.test(e.message));
      assert.throws(
        () => writeSafetensors(join(mnt, 'weights.safetensors'), [{ name: 'w', dtype: 'F32', shape: [40_000], data: new Float32Array(40_000) }]),
        (e: Error) => e.name === 'SafetensorsError' && e.message.includes('weights.safetensors') && advice.test(e.message),
      );
      markStep(trainer, 2);
      assert.throws(
        () => saveCheckpoint(out, trainer, base),
        (e: Error) => e.name === 'CheckpointError' && /at step 2/.test(e.message) && advice.test(e.message) && /previous checkpoint is kept/.test(e.message),
      );
      assert.throws(
        () => exportCached(model, cache),
        (e: Error) => /ONNX/.test(e.message) && advice.test(e.message),
      );
      assert.throws(
        () => store.install(out, { baseModel: base, created: 'after', source: 'fine-tune' }),
        (e: Error) => /Storing the fine-tuned adapter/.test(e.message) && advice.test(e.message) && /one in use is unchanged/.test(e.message),
      );
      assert.match(readFileSync(join(installed, 'limelight-adapter.json'), 'utf8'), /"before"/, code);
      assert.deepEqual(temps(join(mnt, 'store')), [], `${code}: temp folders left in the adapter store`);
      assert.throws(() => store.exportTo(join(mnt, 'exported')), (e: Error) => /Exporting to/.test(e.message) && advice.test(e.message));
      assert.deepEqual(readdirSync(join(mnt, 'exported')), [], `${code}: a failed export left files`);
      checkIntact(code);
    }
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
