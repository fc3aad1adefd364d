// Downloads a model from a Hugging Face hub, when the user asks (the CLI's `limelight download`,
// the extension's Download Model). Bundled alone as dist/download.js: the one bundle that may
// open a network connection; the others load it (load.ts) only for a download.
// The files of one download come from one commit (the revision is resolved first), go to the
// hub cache layout or a folder the user picked, after a free-space check, one at a time, each
// resumable and verified (fetchFile.ts). Progress: bytes, total, speed and time left.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDestination, folderDestination, linkSnapshot, repoFolder, tidyPartials, writeRef, type Destination } from './cache';
import { DownloadError, scrub } from './errors';
import { fetchFile, hashFile, partialSize } from './fetchFile';
import { checkRepoFile, checkRepoId, checkRevision, DEFAULT_ENDPOINT, Hub, type FileMeta, type HubOptions, type RepoFile } from './hub';
import { planFiles, shardsOf } from './plan';
import { sizeText } from './units';

export { checkRepoId, DEFAULT_ENDPOINT, DownloadError };
export type { RepoFile };

export interface DownloadProgress {
  /** The file being fetched, its number (from 1) and how many there are. */
  file: string;
  fileIndex: number;
  fileCount: number;
  /** Bytes on disk of all the files, and their total. */
  bytes: number;
  total: number;
  /** Over the last few seconds; 0 before any byte arrived. */
  bytesPerSecond: number;
  /** Seconds left at that speed; undefined while unknown. */
  etaSeconds?: number;
}

export interface DownloadOptions extends HubOptions {
  /** OWNER/NAME on the hub. */
  repo: string;
  /** One file of the repo; without it, the repo's model (see plan.ts). */
  file?: string;
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** A folder to save into instead of the hub cache. */
  to?: string;
  /** The Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir: string;
  /** Times a dropped connection is resumed within this call (default 3). */
  retries?: number;
  retryDelayMs?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  /** What to open: the file (one file) or the folder of the model's files. */
  path: string;
  files: string[];
  commit?: string;
  /** Bytes that came over the network in this call. */
  downloadedBytes: number;
}

/** The files of a repo, for a picker. */
export async function listRepoFiles(opts: HubOptions & { repo: string; revision?: string }): Promise<RepoFile[]> {
  const hub = new Hub(opts);
  try {
    return (await hub.repoInfo(checkRepoId(opts.repo), checkRevision(opts.revision ?? 'main'))).files;
  } catch (e) {
    throw clean(e, opts.token);
  }
}

/** Any failure as a DownloadError whose message holds no secret. */
function clean(e: unknown, token: string | undefined): DownloadError {
  const err = e instanceof DownloadError ? e : new DownloadError(e instanceof Error ? e.message : String(e), 'network', false);
  const message = scrub(err.message, [token?.trim()]);
  return message === err.message ? err : new DownloadError(message, err.kind, err.resumable);
}

/** Free bytes where `path` (or its nearest existing parent) lives; undefined where the system cannot say. */
function freeBytes(path: string): { dir: string; free: number } | undefined {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const s = statfsSync(dir);
    return { dir, free: Number(s.bavail) * Number(s.bsize) };
  } catch {
    return undefined;
  }
}

/** Whether a file already at a user-folder destination is this content (never overwritten if not). */
async function sameContent(path: string, meta: FileMeta): Promise<boolean> {
  if (statSync(path).size !== meta.size) return false;
  if (meta.sha256 === undefined) return true;
  const hash = createHash('sha256');
  await hashFile(path, hash);
  return hash.digest('hex') === meta.sha256;
}

/** Speed over a sliding window of the last few seconds. */
class SpeedMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  private received = 0;

  add(bytes: number): void {
    this.received += bytes;
    const t = Date.now();
    this.samples.push({ t, bytes: this.received });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 5000) this.samples.shift();
  }

  get bytesPerSecond(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    return b.t > a.t ? ((b.bytes - a.bytes) * 1000) / (b.t - a.t) : 0;
  }

  get total(): number {
    return this.received;
  }
}

export async function downloadModel(o: DownloadOptions): Promise<DownloadResult> {
  try {
    return await run(o);
  } catch (e) {
    throw clean(e, o.token);
  }
}

async function run(o: DownloadOptions): Promise<DownloadResult> {
  const repo = checkRepoId(o.repo);
  const revision = checkRevision(o.revision ?? 'main');
  const file = o.file !== undefined ? checkRepoFile(o.file) : undefined;
  if (o.to !== undefined && o.to.trim() === '') throw new DownloadError('The folder to save into (--to) is empty. Give a folder path, or leave --to out to save into the Hugging Face cache.', 'input');
  if (o.to !== undefined && existsSync(o.to) && !statSync(o.to).isDirectory()) throw new DownloadError(`${o.to} is a file, not a folder. Give a folder to save into (--to DIR).`, 'input');
  const hub = new Hub(o);
  const info = await hub.repoInfo(repo, revision);
  const plan = planFiles(repo, info.files, file);
  // Every file from the commit the revision names now, even if the branch moves meanwhile.
  let commit = info.commit;
  const metas = new Map<string, FileMeta>();
  const meta = async (f: string): Promise<FileMeta> => {
    const m = await hub.fileMeta(repo, commit ?? revision, f);
    commit ??= m.commit;
    metas.set(f, m);
    return m;
  };
  for (const f of plan.files) await meta(f);
  const snapshot = (): string => commit ?? revision;
  const destination = (f: string): Destination => {
    const m = metas.get(f)!;
    return o.to !== undefined ? folderDestination(o.to, f, m.etag) : cacheDestination(o.cacheDir, repo, snapshot(), f, m.etag);
  };

  const meter = new SpeedMeter();
  const files = [...plan.files];
  let doneBytes = 0;
  let lastReport = 0;
  const report = (f: string, fileBytes: number, force: boolean): void => {
    const now = Date.now();
    if (o.onProgress === undefined || (!force && now - lastReport < 200)) return;
    lastReport = now;
    const total = files.reduce((s, x) => s + (metas.get(x)?.size ?? 0), 0);
    const bytes = doneBytes + fileBytes;
    const speed = meter.bytesPerSecond;
    o.onProgress({ file: f, fileIndex: files.indexOf(f) + 1, fileCount: files.length, bytes, total, bytesPerSecond: speed, ...(speed > 0 ? { etaSeconds: Math.max(0, (total - bytes) / speed) } : {}) });
  };

  const fetchOne = async (f: string): Promise<void> => {
    const m = metas.get(f)!;
    const dest = destination(f);
    if (existsSync(dest.final)) {
      if (o.to !== undefined && !(await sameContent(dest.final, m))) {
        throw new DownloadError(`${dest.final} already exists and is not ${repo}/${f}. Limelight never overwrites a file: move it away, or choose another folder.`, 'exists');
      }
    } else {
      await fetchFile({
        hub,
        repo,
        revision: snapshot(),
        file: f,
        meta: m,
        dest,
        retries: o.retries ?? 3,
        retryDelayMs: o.retryDelayMs ?? 1000,
        signal: o.signal,
        onData: (fileBytes, received) => {
          if (received > 0) meter.add(received);
          report(f, fileBytes, false);
        },
      });
    }
    linkSnapshot(dest);
    tidyPartials(dest);
    doneBytes += m.size;
    report(f, 0, true);
  };

  if (plan.index !== undefined) {
    await meta(plan.index);
    files.push(plan.index);
    await fetchOne(plan.index);
    const shards = shardsOf(repo, plan.index, readFileSync(destination(plan.index).path, 'utf8'));
    for (const s of shards) {
      await meta(s);
      files.push(s);
    }
  }

  const pending = files.filter((f) => !existsSync(destination(f).final));
  const need = pending.reduce((s, f) => s + metas.get(f)!.size - Math.min(partialSize(destination(f).partial), metas.get(f)!.size), 0);
  const root = o.to ?? repoFolder(o.cacheDir, repo);
  const space = freeBytes(root);
  // A margin for the file system's own blocks.
  if (space !== undefined && need > 0 && need + 16 * 2 ** 20 > space.free) {
    throw new DownloadError(`Not enough free disk space: the download needs ${sizeText(need)} more in ${space.dir}, which has ${sizeText(space.free)} free. Free some space, or choose another folder${o.to !== undefined ? '' : ' (or set HF_HUB_CACHE to a disk with room)'}.`, 'no-space');
  }

  for (const f of files) if (f !== plan.index) await fetchOne(f);
  if (o.to === undefined && commit !== undefined) writeRef(o.cacheDir, repo, revision, commit);

  const one = plan.index === undefined && files.length === 1;
  const first = destination(files[0]!);
  const folder = o.to ?? join(repoFolder(o.cacheDir, repo), 'snapshots', snapshot());
  return { path: one ? first.path : folder, files, ...(commit !== undefined ? { commit } : {}), downloadedBytes: meter.total };
}

