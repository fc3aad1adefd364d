// The Hugging Face hub's HTTP conventions, as huggingface_hub's file_download.py and hf_api.py
// use them: a file is `{endpoint}/{repo}/resolve/{revision}/{file}`; a HEAD on it answers with
// X-Repo-Commit (the commit the revision names), X-Linked-Etag and X-Linked-Size for LFS files
// (the SHA-256 and size of the content; ETag and Content-Length otherwise) and, for LFS files, a
// redirect to a CDN host; `/api/models/{repo}[/revision/{rev}]` lists the files (siblings).
// Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo); a
// private or gated repo answers 401 without a token and 403 with one that has no access.
// The token goes to the hub's own host only: never to a redirect's other host (the CDN).
import type { IncomingMessage } from 'node:http';
import { DownloadError, scrub } from './errors';
import { readText, send, type HttpOptions } from './http';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions {
  /** The hub's base URL (a mirror or an internal hub); default huggingface.co. */
  endpoint?: string;
  /** For gated and private repos. Sent to the hub's host only; never shown. */
  token?: string;
  /** Seconds without a byte before a request is given up (default 30). */
  timeoutMs?: number;
  proxyEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface RepoFile {
  name: string;
  size?: number;
}

export interface RepoInfo {
  /** The commit the revision names, when the hub says it. */
  commit?: string;
  files: RepoFile[];
}

export interface FileMeta {
  commit?: string;
  /** The blob's name in the cache: the LFS SHA-256, or the git object id of a small file. */
  etag: string;
  size: number;
  /** The SHA-256 the content must have (LFS files). */
  sha256?: string;
}

const MAX_REDIRECTS = 5;

/** `raw` checked as a hub repo id, OWNER/NAME (letters, digits, `-`, `_`, `.`; no `--` or `..`). */
export function checkRepoId(raw: string): string {
  const repo = raw.trim();
  if (!/^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9_.][\w.-]{0,95}$/.test(repo) || /--|\.\./.test(repo) || /[.-]$/.test(repo)) {
    throw new DownloadError(`"${repo.slice(0, 120)}" is not a Hugging Face repo name. Give it as OWNER/NAME, as on the model's page, e.g. lmstudio-community/Qwen2.5-Coder-0.5B-GGUF.`, 'input');
  }
  return repo;
}

/** `raw` checked as a file path inside a repo: relative, `/`-separated, no `..`. */
export function checkRepoFile(raw: string): string {
  const file = raw.trim();
  const parts = file.split('/');
  if (file === '' || file.length > 1000 || file.includes('\\') || /[\0-\x1f]/.test(file) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new DownloadError(`"${file.slice(0, 120)}" is not a file name inside a repo. Give it as the hub lists it (e.g. qwen2.5-coder-0.5b-q8_0.gguf, or folder/file.gguf).`, 'input');
  }
  return file;
}

/** `raw` checked as a revision: a branch, tag or commit. */
export function checkRevision(raw: string): string {
  const rev = raw.trim();
  if (rev === '' || rev.length > 256 || /[\0-\x20~^:?*[\\]|\.\.|\/\/|^\/|\/$/.test(rev)) {
    throw new DownloadError(`"${rev.slice(0, 120)}" is not a revision. Give a branch (main), a tag or a commit hash.`, 'input');
  }
  return rev;
}

/** `raw` checked as the hub's base URL: http(s), no user or password in it. */
export function checkEndpoint(raw: string | undefined): URL {
  const text = (raw ?? '').trim() === '' ? DEFAULT_ENDPOINT : raw!.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DownloadError(`The hub address "${text.slice(0, 200)}" is not a URL. Set limelight.download.endpoint (or --endpoint) to the hub's base URL, such as ${DEFAULT_ENDPOINT}.`, 'input');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DownloadError(`The hub address must start with https:// (or http://), not ${url.protocol}. Set limelight.download.endpoint (or --endpoint) to the hub's base URL.`, 'input');
  }
  if (url.username !== '' || url.password !== '') {
    throw new DownloadError('The hub address holds a user name or password. Remove them from it, and give a token instead (Limelight: Set Hugging Face Token, or HF_TOKEN for the command line).', 'input');
  }
  if (url.search !== '' || url.hash !== '') throw new DownloadError(`The hub address ${url.origin}${url.pathname} must not have a query or fragment; give only its base URL.`, 'input');
  return url;
}

/** An ETag without its weak prefix and quotes. */
function normalizeEtag(raw: string | string[] | undefined): string | undefined {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined) return undefined;
  return v.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class Hub {
  readonly endpoint: URL;
  private readonly http: HttpOptions;

  constructor(private readonly opts: HubOptions) {
    this.endpoint = checkEndpoint(opts.endpoint);
    this.http = { proxyEnv: opts.proxyEnv, timeoutMs: opts.timeoutMs ?? 30_000, signal: opts.signal };
    const token = opts.token?.trim();
    if (token !== undefined && token !== '' && !/^[\x21-\x7e]+$/.test(token)) {
      throw new DownloadError('The Hugging Face token holds spaces or characters a token never has. Set it again (Limelight: Set Hugging Face Token, or HF_TOKEN), pasted from huggingface.co/settings/tokens.', 'input');
    }
  }

  private get token(): string | undefined {
    const t = this.opts.token?.trim();
    return t === undefined || t === '' ? undefined : t;
  }

  /** A page of the hub, for messages (where to accept a license). */
  pageUrl(repo: string): string {
    return `${this.endpoint.origin}${this.basePath}/${repo}`;
  }

  /** The endpoint's path prefix (a mirror under a path), without its trailing slash. */
  private get basePath(): string {
    return this.endpoint.pathname.replace(/\/+$/, '');
  }

  fileUrl(repo: string, revision: string, file: string): URL {
    return new URL(`${this.basePath}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`, this.endpoint.origin);
  }

  private headers(url: URL, extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': 'limelight (+vscode extension; node)', 'accept-encoding': 'identity', ...extra };
    // The token is for the hub itself: a redirect to another host (the CDN) goes without it.
    if (this.token !== undefined && url.origin === this.endpoint.origin) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  /** The files of `repo` at `revision`. */
  async repoInfo(repo: string, revision: string): Promise<RepoInfo> {
    const base = `${this.basePath}/api/models/${repo}`;
    const url = new URL(revision === 'main' ? base : `${base}/revision/${encodeURIComponent(revision)}`, this.endpoint.origin);
    url.search = '?blobs=true';
    const { res } = await this.follow('GET', url, {}, 'any');
    if (res.statusCode !== 200) throw await this.failure(res, repo, revision);
    let info: unknown;
    try {
      info = JSON.parse(await this.body(res, 32 * 2 ** 20, url));
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      throw new DownloadError(`${url.host} did not answer with a Hugging Face model description for ${repo}. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
    }
    const siblings = (info as { siblings?: unknown } | null)?.siblings;
    if (!Array.isArray(siblings)) throw new DownloadError(`${url.host} listed no files for ${repo}. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
    const files: RepoFile[] = [];
    for (const s of siblings as unknown[]) {
      const name = (s as { rfilename?: unknown } | null)?.rfilename;
      if (typeof name !== 'string') continue;
      const lfs = (s as { lfs?: { size?: unknown } }).lfs;
      const size = typeof lfs?.size === 'number' ? lfs.size : (s as { size?: unknown }).size;
      files.push({ name, ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}) });
    }
    const sha = (info as { sha?: unknown }).sha;
    return { files, ...(typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? { commit: sha } : {}) };
  }

  /** The metadata of one file (HEAD, same-host redirects followed: a renamed repo). */
  async fileMeta(repo: string, revision: string, file: string): Promise<FileMeta> {
    const { res } = await this.follow('HEAD', this.fileUrl(repo, revision, file), {}, 'same-host');
    res.resume();
    const status = res.statusCode ?? 0;
    if (status >= 400) throw await this.failure(res, repo, revision, file);
    const etag = normalizeEtag(res.headers['x-linked-etag']) ?? normalizeEtag(res.headers.etag);
    const size = Number(header(res, 'x-linked-size') ?? header(res, 'content-length'));
    const where = `${this.endpoint.host} for ${repo}/${file}`;
    if (etag === undefined || !/^[\w.-]{1,128}$/.test(etag) || etag.startsWith('.')) throw new DownloadError(`No usable ETag from ${where}: this does not look like a Hugging Face hub. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
    if (!Number.isSafeInteger(size) || size < 0) throw new DownloadError(`No file size from ${where}: this does not look like a Hugging Face hub. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
    const commit = header(res, 'x-repo-commit');
    return {
      etag,
      size,
      ...(commit !== undefined && /^[0-9a-f]{40}$/.test(commit) ? { commit } : {}),
      ...(/^[0-9a-f]{64}$/.test(etag) ? { sha256: etag } : {}),
    };
  }

  /** GET of a file's content (redirects to the CDN followed), from byte `start`. */
  async openFile(repo: string, revision: string, file: string, start: number): Promise<IncomingMessage> {
    const { res, url } = await this.follow('GET', this.fileUrl(repo, revision, file), start > 0 ? { range: `bytes=${start}-` } : {}, 'any');
    const status = res.statusCode ?? 0;
    if (status >= 400 && status !== 416 && url.origin !== this.endpoint.origin) {
      // The file host the hub sent us to (a CDN, with a signed link) refused: the link may have expired.
      res.resume();
      throw new DownloadError(`The file host ${url.host} answered ${status} for ${repo}/${file}; its download link may have expired. Run the same download again (it continues where it stopped).`, 'server', true);
    }
    if (status >= 400 && status !== 416) throw await this.failure(res, repo, revision, file);
    return res;
  }

  /**
   * Sends a request and follows redirects: every one (`any`, a download reaching the CDN) or
   * those to the same host only (`same-host`: a HEAD stops at the CDN's redirect, which carries
   * the file's metadata).
   */
  private async follow(method: 'GET' | 'HEAD', first: URL, extra: Record<string, string>, redirects: 'any' | 'same-host'): Promise<{ res: IncomingMessage; url: URL }> {
    let url = first;
    for (let hop = 0; ; hop++) {
      const res = await send(method, url, this.headers(url, extra), this.http);
      const status = res.statusCode ?? 0;
      const location = header(res, 'location');
      if (status < 300 || status >= 400 || status === 304 || location === undefined) return { res, url };
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        res.resume();
        throw new DownloadError(`${url.host} redirected to an address that is not a URL. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
      }
      if (redirects === 'same-host' && next.origin !== url.origin) return { res, url };
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new DownloadError(`${first.host} redirected more than ${MAX_REDIRECTS} times. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new DownloadError(`${url.host} redirected to a ${next.protocol} address, which Limelight does not follow.`, 'server');
      if (url.protocol === 'https:' && next.protocol === 'http:') throw new DownloadError(`${url.host} redirected from https to plain http (${next.host}); Limelight does not follow that. Check the hub address.`, 'server');
      url = next;
    }
  }

  private async body(res: IncomingMessage, limit: number, url: URL): Promise<string> {
    try {
      return await readText(res, limit);
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      throw new DownloadError(`The connection to ${url.host} broke while reading its answer (${(e as Error).message}). Try again.`, 'network', true);
    }
  }

  /** The error a failed answer means, in words: which repo, what to do; never the token. */
  private async failure(res: IncomingMessage, repo: string, revision: string, file?: string): Promise<DownloadError> {
    const status = res.statusCode ?? 0;
    const code = header(res, 'x-error-code') ?? '';
    let said = header(res, 'x-error-message') ?? '';
    if (said === '') {
      try {
        const text = await readText(res, 64 * 1024);
        const parsed = JSON.parse(text) as { error?: unknown };
        said = typeof parsed.error === 'string' ? parsed.error : '';
      } catch {
        said = '';
      }
    }
    res.resume();
    said = scrub(said.replace(/\s+/g, ' ').trim().slice(0, 300), [this.token]);
    const hubSays = said !== '' ? ` The hub says: "${said}"` : '';
    const what = file !== undefined ? `${repo}/${file}` : repo;
    const tokenHow = 'set a token (in VS Code: "Limelight: Set Hugging Face Token"; on the command line: the HF_TOKEN environment variable), made at huggingface.co/settings/tokens';
    let message: string;
    let kind: DownloadError['kind'] = 'server';
    if (status === 401 && this.token === undefined) {
      kind = 'auth';
      message = code === 'GatedRepo'
        ? `${repo} is a gated model: it needs a Hugging Face token (401). Accept its license at ${this.pageUrl(repo)}, then ${tokenHow}.`
        : `${repo} was not found, or it is private or gated, which needs a Hugging Face token (401). Check the name (OWNER/NAME as on its page); for a private or gated model, ${tokenHow}${code === 'GatedRepo' ? '' : ` and accept its license at ${this.pageUrl(repo)} if it has one`}.`;
    } else if (status === 401) {
      kind = 'auth';
      message = `The hub did not accept your Hugging Face token for ${repo} (401), or the repo does not exist. Check the name, and that the token is current: ${tokenHow}.`;
    } else if (status === 403) {
      kind = 'auth';
      message = `Your Hugging Face token has no access to ${repo} (403): it is gated or private. Accept its license (or ask for access) at ${this.pageUrl(repo)}; if you have, check that the token may read gated repos, or ${tokenHow}.`;
    } else if (status === 404) {
      kind = 'not-found';
      message =
        code === 'RevisionNotFound'
          ? `${repo} has no revision "${revision}". Give a branch, tag or commit that exists (default: main).`
          : code === 'EntryNotFound' || (file !== undefined && code !== 'RepoNotFound')
            ? `${repo} has no file "${file ?? ''}" at revision ${revision}. Check the name as the hub lists it (${this.pageUrl(repo)}/tree/${encodeURIComponent(revision)}).`
            : `${repo} was not found on ${this.endpoint.host}. Check the name (OWNER/NAME, as on the model's page).`;
    } else if (status === 429) {
      message = `The hub is limiting requests (429) for ${what}. Wait a few minutes and try again; a token (${tokenHow}) raises the limit.`;
    } else if (status >= 500) {
      message = `The hub failed (${status}) for ${what}. Try again later.`;
    } else {
      message = `The hub answered ${status} for ${what}, which Limelight did not expect. Check the hub address (limelight.download.endpoint, or --endpoint).`;
    }
    return new DownloadError(scrub(message + hubSays, [this.token]), kind, kind === 'server');
  }
}
