// Atomic file writes: a temporary file in the same folder, fsynced, then renamed over the
// target, so an interrupted run never leaves half a file behind and a failed write leaves
// the previous file as it was. Temporary files a killed process left behind are named so
// that the next writer can tell them apart and remove them (removeStaleTemps).
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** `.<name>.<pid>.<8 hex>.tmp`: a file or folder being written by process <pid>. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** A fresh temporary path beside `path` (same folder, so the rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether a process with this pid runs (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files and folders in `dir` left by writers that are no longer running
 * (a kill or a crash between creating and renaming them). Those of live processes stay.
 */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder, nothing left behind
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** What to do about a failed write, from the error's code. */
export function writeAdvice(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
      return 'ENOSPC: the disk is full. Free some disk space and try again';
    case 'EDQUOT':
      return 'EDQUOT: your disk quota is used up. Free some space in your quota and try again';
    case 'EROFS':
      return 'EROFS: the file system is read-only. Choose a folder on a writable disk';
    case 'EACCES':
    case 'EPERM':
      return `${code}: permission denied. Choose a folder you can write to, or change its permissions`;
    case 'EFBIG':
      return 'EFBIG: the file is larger than this process may write (see `ulimit -f`). Raise the limit or choose a smaller output';
    default:
      return `${code ?? (e as Error).message}. Check free disk space and permissions`;
  }
}

/**
 * Calls `write(fd)` on a fresh temporary file, then renames it to `path`. Failures are
 * reported through `makeError` (the caller's error class) with what to do.
 */
export function writeAtomic(path: string, write: (fd: number) => void, makeError: (message: string) => Error = (m) => new Error(m)): void {
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw makeError(`${path}: cannot create a file in ${dirname(path)} (${writeAdvice(e)}).`);
  }
  try {
    try {
      write(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone: the write error below is the one worth reporting
    }
    // The caller's own errors (bad data found while writing) pass through; I/O errors get advice.
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
    throw makeError(`${path}: writing failed (${writeAdvice(e)}); the previous file, if any, is unchanged.`);
  }
}

/** Writes all of `bytes`: a nearly full disk takes part of a write, and the next one fails with ENOSPC. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

/** Writes a text file atomically. */
export function writeFileAtomic(path: string, text: string): void {
  writeAtomic(path, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}
