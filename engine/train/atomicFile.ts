// Writes a small text file atomically: a temporary file in the same folder, fsynced, then
// renamed over the target, so an interrupted run never leaves half a JSON file behind.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw new Error(`${path}: cannot create a file in ${dirname(path)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that the folder exists and is writable.`);
  }
  try {
    try {
      writeSync(fd, text);
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
    throw new Error(`${path}: writing failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the previous file, if any, is unchanged. Check free disk space and permissions.`);
  }
}
