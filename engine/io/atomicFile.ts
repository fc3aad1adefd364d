// Atomic file writes: a temporary file in the same folder, fsynced, then renamed over the
// target, so an interrupted run never leaves half a file behind and a failed write leaves
// the previous file as it was.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Calls `write(fd)` on a fresh temporary file, then renames it to `path`. Failures are
 * reported through `makeError` (the caller's error class) with what to check.
 */
export function writeAtomic(path: string, write: (fd: number) => void, makeError: (message: string) => Error = (m) => new Error(m)): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw makeError(`${path}: cannot create a file in ${dirname(path)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that the folder exists and is writable.`);
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
    throw makeError(`${path}: writing failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the previous file, if any, is unchanged. Check free disk space and permissions.`);
  }
}

/** Writes a text file atomically. */
export function writeFileAtomic(path: string, text: string): void {
  writeAtomic(path, (fd) => {
    writeSync(fd, text);
  });
}
