// A local imitation of the Hugging Face hub for the download tests: two servers on 127.0.0.1,
// the hub and its "CDN" (another port, so another origin). The hub answers
// /api/models/{repo}[/revision/{rev}] with the file list, and /{repo}/resolve/{rev}/{file} as
// the real one does: small files directly with their git ETag, LFS files by a 302 to the CDN
// with X-Linked-Etag (SHA-256) and X-Linked-Size; X-Repo-Commit on both; HEAD and Range;
// 401/403 with X-Error-Code for gated and private repos, 404 for unknown repos, revisions and
// files; a renamed repo answers 307 to its new name. The CDN serves LFS content with Range
// and injects faults per file: a connection dropped at a fraction, corrupted bytes, a stall,
// a slow rate, a lied size, an error status (an expired link). Every request is recorded (method, server, path, Authorization).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  name: string;
  content: Buffer;
  /** Stored in LFS: served by the CDN, with its SHA-256 as X-Linked-Etag. */
  lfs?: boolean;
}

export interface FakeRepo {
  id: string;
  commit: string;
  files: FakeFile[];
  /** Needs a token that has accepted its license (`acceptedTokens`). */
  gated?: boolean;
  /** Other revisions (branch or tag -> commit) besides main. */
  revisions?: Record<string, string>;
}

export interface Fault {
  /** Drop the connection once this fraction of the file is sent, `times` times (default 1). */
  dropAt?: number;
  times?: number;
  /** Flip one byte in the middle of what is sent. */
  corrupt?: boolean;
  /** Stop sending (and never close) after this many bytes. */
  stallAfter?: number;
  /** Send at most this many bytes per second. */
  bytesPerSecond?: number;
  /** Announce this size in X-Linked-Size instead of the real one. */
  announceSize?: number;
  /** The CDN answers this status (an expired signed link: 403). */
  cdnStatus?: number;
}

export interface RecordedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  authorization?: string;
  range?: string;
}

export const FAKE_COMMIT = 'a'.repeat(40);

/** Deterministic pseudo-random bytes (a file's content). */
export function fakeBytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function gitOid(b: Buffer): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  readonly faults = new Map<string, Fault>();
  /** Tokens that may read gated repos; any other token gets 403 there. */
  readonly acceptedTokens = new Set<string>();
  /** Old repo id -> new one (answered with a 307). */
  readonly renamed = new Map<string, string>();
  private hub!: Server;
  private cdn!: Server;

  private constructor(readonly repos: FakeRepo[]) {}

  static async start(repos: FakeRepo[]): Promise<FakeHub> {
    const h = new FakeHub(repos);
    h.hub = createServer((req, res) => h.onHub(req, res));
    h.cdn = createServer((req, res) => h.onCdn(req, res));
    await Promise.all([h.hub, h.cdn].map((s) => new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok))));
    return h;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  get cdnOrigin(): string {
    return `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) s.closeAllConnections();
    await Promise.all([this.hub, this.cdn].map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.requests.push({ server, method: req.method ?? '', path: req.url ?? '', ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}), ...(req.headers.range !== undefined ? { range: req.headers.range } : {}) });
  }

  private fail(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'x-error-code': code, 'x-error-message': message, 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: message }));
  }

  /** Whether the request may read the repo; answers the refusal itself when not. */
  private allowed(req: IncomingMessage, res: ServerResponse, repo: FakeRepo): boolean {
    if (!repo.gated) return true;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) {
      this.fail(res, 401, 'GatedRepo', `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      return false;
    }
    if (!this.acceptedTokens.has(token)) {
      // The real hub does not echo a token; this one does, to prove the client scrubs it.
      this.fail(res, 403, 'GatedRepo', `Access to model ${repo.id} is restricted and token ${token} is not in the authorized list. Visit the model page to ask for access.`);
      return false;
    }
    return true;
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    this.record('hub', req);
    const url = new URL(req.url ?? '/', this.endpoint);
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const id = api?.[1] ?? resolve?.[1];
    if (id === undefined) return this.fail(res, 404, '', 'Not found');
    const to = this.renamed.get(id);
    if (to !== undefined) {
      res.writeHead(307, { location: url.pathname.replace(id, to) + url.search });
      return void res.end();
    }
    const repo = this.repos.find((r) => r.id === id);
    if (repo === undefined) {
      return req.headers.authorization === undefined ? this.fail(res, 401, 'RepoNotFound', 'Repository not found') : this.fail(res, 404, 'RepoNotFound', 'Repository not found');
    }
    if (!this.allowed(req, res, repo)) return;
    const rev = decodeURIComponent((api !== null ? api[2] : resolve![2]) ?? 'main');
    const commit = rev === 'main' || rev === repo.commit ? repo.commit : (repo.revisions?.[rev] ?? Object.values(repo.revisions ?? {}).find((c) => c === rev));
    if (commit === undefined) return this.fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    if (api !== null) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const siblings = repo.files.map((f) => ({ rfilename: f.name, size: f.content.length, ...(f.lfs ? { lfs: { sha256: sha256(f.content), size: f.content.length } } : {}) }));
      return void res.end(JSON.stringify({ id: repo.id, sha: commit, gated: repo.gated ? 'manual' : false, siblings }));
    }
    const name = resolve![3]!.split('/').map(decodeURIComponent).join('/');
    const file = repo.files.find((f) => f.name === name);
    if (file === undefined) return this.fail(res, 404, 'EntryNotFound', `${name} does not exist on "${rev}"`);
    const fault = this.faults.get(file.name) ?? {};
    if (file.lfs) {
      const sha = sha256(file.content);
      res.writeHead(302, {
        location: `${this.cdnOrigin}/repos/${sha}?name=${encodeURIComponent(file.name)}&sig=signed`,
        'x-repo-commit': commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(fault.announceSize ?? file.content.length),
        etag: `"${gitOid(file.content)}"`,
      });
      return void res.end();
    }
    res.writeHead(200, { 'x-repo-commit': commit, etag: `"${gitOid(file.content)}"`, 'content-length': String(file.content.length) });
    res.end(req.method === 'HEAD' ? undefined : file.content);
  }

  private onCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record('cdn', req);
    const url = new URL(req.url ?? '/', this.cdnOrigin);
    const sha = /^\/repos\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const file = this.repos.flatMap((r) => r.files).find((f) => f.lfs && sha256(f.content) === sha);
    if (file === undefined) {
      res.writeHead(403);
      return void res.end('AccessDenied');
    }
    const fault = this.faults.get(file.name) ?? {};
    if (fault.cdnStatus !== undefined) {
      res.writeHead(fault.cdnStatus, { 'content-type': 'application/xml' });
      return void res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
    }
    const size = file.content.length;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        return void res.end();
      }
      res.writeHead(206, { 'content-length': String(size - start), 'content-range': `bytes ${start}-${size - 1}/${size}` });
    } else res.writeHead(200, { 'content-length': String(size) });
    if (req.method === 'HEAD') return void res.end();
    let body = file.content;
    if (fault.corrupt) {
      body = Buffer.from(body);
      body[size >> 1] = body[size >> 1]! ^ 0xff;
    }
    const times = fault.times ?? 1;
    const dropAt = fault.dropAt !== undefined && times > 0 ? Math.floor(size * fault.dropAt) : undefined;
    const end = Math.min(size, dropAt !== undefined && dropAt > start ? dropAt : size, fault.stallAfter !== undefined ? Math.max(start, fault.stallAfter) : size);
    const chunk = 64 * 1024;
    let pos = start;
    const step = (): void => {
      if (res.destroyed) return;
      if (pos >= end) {
        if (end === size) return void res.end();
        if (dropAt !== undefined && end === dropAt) {
          fault.times = times - 1;
          // Sent up to the cut: close the connection under the response.
          return void res.socket?.destroy();
        }
        return; // A stall: the connection stays open, silent.
      }
      const n = fault.bytesPerSecond !== undefined ? Math.min(chunk, Math.max(1, Math.floor(fault.bytesPerSecond / 20))) : chunk;
      const piece = body.subarray(pos, Math.min(end, pos + n));
      pos += piece.length;
      res.write(piece, () => (fault.bytesPerSecond !== undefined ? setTimeout(step, 50) : setImmediate(step)));
    };
    step();
  }
}
