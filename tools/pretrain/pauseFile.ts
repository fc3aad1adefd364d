// The background CPU pretraining (tools/pretrain/cpuPretrain.ts) takes only idle CPU, but even a
// nice-19 job skews a benchmark on two cores. A benchmark therefore holds a pause while it runs:
// a file named by its pid in PAUSE_DIR, removed when it exits. The trainer sleeps between steps
// while any such file names a live process, and deletes the files of processes that are gone (a
// benchmark killed by SIGKILL cannot remove its own), so a stale file never stops it for good.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../engine/io/atomicFile';

/** Where the run keeps its checkpoints, log and pause files; outside any work tree. */
export const PRETRAIN_HOME = process.env['LIMELIGHT_PRETRAIN_HOME'] ?? join(homedir(), '.cache', 'limelight-pretrain');
export const PAUSE_DIR = join(PRETRAIN_HOME, 'pause');

/** Pauses the background pretraining until this process exits (a no-op where nothing can be written). */
export function pauseBackgroundTraining(dir = PAUSE_DIR): void {
  const file = join(dir, String(process.pid));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${process.argv.slice(1).join(' ')}\n`);
  } catch {
    return;
  }
  // A benchmark stopped by a signal leaves its file behind; pauseHolders drops it once the pid is gone.
  process.on('exit', () => rmSync(file, { force: true }));
}

/** The live pids holding a pause; files of processes that are gone are removed. */
export function pauseHolders(dir = PAUSE_DIR): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!/^\d+$/.test(name) || pid < 1) continue;
    if (processAlive(pid)) live.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return live;
}
