// Fetches one file's content into its destination: resumed with an HTTP Range request from what
// a `.incomplete` file already holds (hashed first, so the checksum covers every byte), retried
// when the connection drops, checked against the SHA-256 the hub publishes for LFS files, then
// renamed into place. A mismatch deletes the partial file; a timeout, a cancellation or a full
// disk keep it for the next run. Nothing is ever written at the final path but by that rename.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Destination } from './cache';
import { DownloadError, errorCode } from './errors';
import type { FileMeta, Hub } from './hub';
import { cancelled } from './http';
import { sizeText } from './units';

export interface FetchFileOptions {
  hub: Hub;
  repo: string;
  /** The commit (or revision) to fetch from. */
  revision: string;
  file: string;
  meta: FileMeta;
  dest: Destination;
  /** Times a dropped connection is resumed before giving up. */
  retries: number;
  retryDelayMs: number;
  signal?: AbortSignal;
  /** Bytes of this file now on disk, and how many of them just arrived. */
  onData(fileBytes: number, received: number): void;
}

/** The size of a partial file, or 0 when there is none. */
export function partialSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Feeds a file's bytes to `hash`. */
export async function hashFile(path: string, hash: Hash, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) hash.update(chunk);
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Whether an error is a dropped connection that resuming may get past. */
function dropped(e: unknown): boolean {
  if (e instanceof DownloadError) return e.kind === 'network' && e.resumable;
  const code = errorCode(e);
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted';
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** Whether process `pid` is running (EPERM: it is, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

/**
 * Takes `<partial>.lock` (holding this process's id) so that two downloads of one file never
 * append to the same partial file; a lock whose process has ended is taken over.
 */
function lock(path: string, file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => unlinkQuietly(path);
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw new DownloadError(`Cannot write beside ${path} (${errorCode(e) ?? (e as Error).message}). Choose a folder you can write to.`, 'input');
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8'));
      } catch {
        // Removed meanwhile: try again.
      }
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new DownloadError(`Another download of ${file} is running (process ${pid}${pid === process.pid ? ', this one' : ''}). Wait for it to finish, or stop it and run this again.`, 'exists');
      }
      unlinkQuietly(path);
    }
  }
  throw new DownloadError(`Cannot take the lock ${path} for ${file}. Remove it if no download is running, then run this again.`, 'exists');
}

export async function fetchFile(o: FetchFileOptions): Promise<void> {
  const { dest, file } = o;
  try {
    mkdirSync(dirname(dest.partial), { recursive: true });
    mkdirSync(dirname(dest.final), { recursive: true });
  } catch (e) {
    throw new DownloadError(`Cannot create the folder for ${file} (${errorCode(e) ?? (e as Error).message}): ${dirname(dest.final)}. Choose a folder you can write to.`, 'input');
  }
  const release = lock(`${dest.partial}.lock`, file);
  try {
    await fetchLocked(o);
  } finally {
    release();
  }
}

async function fetchLocked(o: FetchFileOptions): Promise<void> {
  const { dest, meta, file } = o;
  let have = partialSize(dest.partial);
  if (have > meta.size) {
    unlinkQuietly(dest.partial);
    have = 0;
  }
  let hash = createHash('sha256');
  if (have > 0) await hashFile(dest.partial, hash, o.signal);
  // An empty file has nothing to fetch, but still a partial file to rename into place.
  if (meta.size === 0) closeSync(openSync(dest.partial, 'w'));
  o.onData(have, 0);
  let failures = 0;
  const retryOr = async (e: unknown): Promise<void> => {
    if (o.signal?.aborted) throw cancelled();
    if (!dropped(e) || failures >= o.retries) {
      if (e instanceof DownloadError && e.kind !== 'network') throw e;
      throw new DownloadError(`The connection broke while downloading ${file}, at ${sizeText(have)} of ${sizeText(meta.size)} (${(e as Error).message}). What was received is kept: run the same download again to continue it.`, 'network', true);
    }
    failures++;
    await wait(o.retryDelayMs * failures, o.signal);
  };

  while (have < meta.size) {
    let res;
    try {
      res = await o.hub.openFile(o.repo, o.revision, file, have);
    } catch (e) {
      await retryOr(e);
      continue;
    }
    const status = res.statusCode ?? 0;
    if (status === 416) {
      // The server has nothing past `have`: the partial file is not this content. Start over.
      res.resume();
      const refused = new DownloadError(`The server refused to resume ${file} from ${sizeText(have)}; the partial file was deleted. Run the same download again.`, 'network', true);
      unlinkQuietly(dest.partial);
      have = 0;
      hash = createHash('sha256');
      await retryOr(refused);
      continue;
    }
    if (status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (range === null || Number(range[1]) !== have) {
        res.destroy();
        throw new DownloadError(`The server resumed ${file} from the wrong place (${String(res.headers['content-range'] ?? 'no Content-Range')}, asked for byte ${have}). Try again later.`, 'server', true);
      }
    } else if (status === 200) {
      // The server ignored the Range header: the whole file comes again.
      have = 0;
      hash = createHash('sha256');
    } else {
      res.resume();
      throw new DownloadError(`The hub answered ${status} to the download of ${file}, which Limelight did not expect. Try again later.`, 'server', true);
    }
    let fh;
    try {
      fh = await open(dest.partial, have === 0 ? 'w' : 'a');
    } catch (e) {
      res.destroy();
      throw new DownloadError(`Cannot write ${dest.partial} (${errorCode(e) ?? (e as Error).message}). Choose a folder you can write to.`, 'input');
    }
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (have + chunk.length > meta.size) {
          res.destroy();
          await fh.close();
          unlinkQuietly(dest.partial);
          throw new DownloadError(`The server sent more than the ${meta.size} bytes it announced for ${file}; the partial file was deleted. Try again later.`, 'server');
        }
        await fh.write(chunk);
        hash.update(chunk);
        have += chunk.length;
        o.onData(have, chunk.length);
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      const code = errorCode(e);
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        res.destroy();
        throw new DownloadError(`The disk is full: ${file} stopped at ${sizeText(have)} of ${sizeText(meta.size)}. Free some space and run the same download again to continue it.`, 'no-space', true);
      }
      if (code === 'EIO' || code === 'EROFS' || code === 'EFBIG' || code === 'EACCES' || code === 'EPERM') {
        res.destroy();
        throw new DownloadError(`Cannot write ${dest.partial} (${code}) at ${sizeText(have)} of ${sizeText(meta.size)}. Check the disk, or choose another folder; what was written is kept.`, 'input', true);
      }
      if (e instanceof DownloadError && (e.kind === 'cancelled' || e.kind === 'timeout' || e.kind === 'server')) throw e;
      await retryOr(e);
      continue;
    }
    await fh.close();
    if (have < meta.size) await retryOr(new DownloadError('the server ended the transfer early', 'network', true));
  }

  if (meta.sha256 !== undefined) {
    const got = hash.digest('hex');
    if (got !== meta.sha256) {
      unlinkQuietly(dest.partial);
      throw new DownloadError(
        `${file} did not match its checksum: the hub publishes SHA-256 ${meta.sha256}, the data received has ${got}. The partial file was deleted. Run the download again; if it fails again, something between you and the hub (a proxy, a mirror) alters the file.`,
        'checksum',
      );
    }
  }
  renameSync(dest.partial, dest.final);
}
