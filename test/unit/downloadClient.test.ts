// The download client against a local imitation of the Hugging Face hub (test/harness/fakeHub.ts):
// the hub cache layout other tools share, a checkpoint's file set, and every fault the issue
// names: a connection dropped at 40 % (resumed to a verified file), a wrong checksum (partial
// deleted), 404, 401/403 for a gated repo (the token never shown), a stalled or cancelled
// transfer (stopped cleanly, resumable), too little disk space (refused before starting). None
// leaves a half-written file at the destination.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadModel, listRepoFiles, type DownloadOptions, type DownloadProgress } from '../../engine/download/main';
import { DownloadError } from '../../engine/download/errors';
import { openTunnel, proxyFor } from '../../engine/download/http';
import { checkEndpoint } from '../../engine/download/hub';
import { FAKE_COMMIT, FakeHub, fakeBytes, sha256 } from '../harness/fakeHub';

const GGUF = fakeBytes(1 << 20, 7);
const GGUF_SMALL = fakeBytes(300_000, 8);
const WEIGHTS = fakeBytes(200_000, 9);
const SHARD1 = fakeBytes(150_000, 10);
const SHARD2 = fakeBytes(120_000, 11);
const TOKEN = 'hf_SECRETtoken1234567890';
const OTHER_COMMIT = 'b'.repeat(40);

let hub: FakeHub;
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'limelight-download-'));
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  hub = await FakeHub.start([
    {
      id: 'acme/Coder-GGUF',
      commit: FAKE_COMMIT,
      revisions: { v1: OTHER_COMMIT },
      files: [
        { name: '.gitattributes', content: Buffer.from('*.gguf filter=lfs\n') },
        { name: 'README.md', content: Buffer.from('# Coder\n') },
        { name: 'empty.txt', content: Buffer.alloc(0) },
        { name: 'coder-q8_0.gguf', content: GGUF, lfs: true },
        { name: 'coder-q4_k_m.gguf', content: GGUF_SMALL, lfs: true },
      ],
    },
    {
      id: 'acme/one-gguf',
      commit: FAKE_COMMIT,
      files: [{ name: 'only-q8_0.gguf', content: GGUF_SMALL, lfs: true }],
    },
    {
      id: 'acme/tiny-llama',
      commit: FAKE_COMMIT,
      files: [
        { name: 'config.json', content: json({ model_type: 'llama' }) },
        { name: 'tokenizer.json', content: json({ model: {} }) },
        { name: 'tokenizer_config.json', content: json({}) },
        { name: 'model.safetensors', content: WEIGHTS, lfs: true },
        { name: 'pytorch_model.bin', content: Buffer.from('not fetched') },
      ],
    },
    {
      id: 'acme/sharded',
      commit: FAKE_COMMIT,
      files: [
        { name: 'config.json', content: json({ model_type: 'qwen2' }) },
        { name: 'generation_config.json', content: json({}) },
        { name: 'tokenizer.json', content: json({ model: {} }) },
        { name: 'model.safetensors.index.json', content: json({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } }) },
        { name: 'model-00001-of-00002.safetensors', content: SHARD1, lfs: true },
        { name: 'model-00002-of-00002.safetensors', content: SHARD2, lfs: true },
      ],
    },
    {
      id: 'acme/gated-coder',
      commit: FAKE_COMMIT,
      gated: true,
      files: [{ name: 'gated-q8_0.gguf', content: GGUF_SMALL, lfs: true }],
    },
  ]);
  hub.renamed.set('oldname/Coder-GGUF', 'acme/Coder-GGUF');
});

after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function fresh(): string {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function options(cacheDir: string, o: Partial<DownloadOptions> & { repo: string }): DownloadOptions {
  return { endpoint: hub.endpoint, cacheDir, retryDelayMs: 10, timeoutMs: 5000, ...o };
}

async function rejects(p: Promise<unknown>, kind: DownloadError['kind']): Promise<DownloadError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DownloadError, `not a DownloadError: ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail(`expected a ${kind} error`);
}

/** Every file under `dir` (relative paths), to show nothing half-written is anywhere but .incomplete. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const REPO = 'models--acme--Coder-GGUF';
const BLOB = join(REPO, 'blobs', sha256(GGUF));
const SNAP = join(REPO, 'snapshots', FAKE_COMMIT, 'coder-q8_0.gguf');

test('a GGUF file lands in the hub cache layout: blob named by its SHA-256, relative snapshot link, refs/main; the token goes to the hub only', async () => {
  const cache = fresh();
  hub.requests.length = 0;
  const progress: DownloadProgress[] = [];
  const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', token: TOKEN, onProgress: (p) => progress.push(p) }));
  assert.equal(r.path, join(cache, SNAP));
  assert.equal(r.commit, FAKE_COMMIT);
  assert.deepEqual(tree(cache), [BLOB, join(REPO, 'refs', 'main'), SNAP].sort());
  assert.ok(lstatSync(join(cache, SNAP)).isSymbolicLink());
  assert.equal(readlinkSync(join(cache, SNAP)), join('..', '..', 'blobs', sha256(GGUF)));
  assert.deepEqual(readFileSync(r.path), GGUF);
  assert.equal(readFileSync(join(cache, REPO, 'refs', 'main'), 'utf8'), FAKE_COMMIT);
  assert.equal(r.downloadedBytes, GGUF.length);
  const last = progress.at(-1)!;
  assert.equal(last.bytes, GGUF.length);
  assert.equal(last.total, GGUF.length);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.bytes >= progress[i - 1]!.bytes);
  // The hub sees the token, the CDN (another origin) never does, and files come from the resolved commit.
  assert.ok(hub.requests.filter((q) => q.server === 'hub').every((q) => q.authorization === `Bearer ${TOKEN}`));
  const cdn = hub.requests.filter((q) => q.server === 'cdn');
  assert.ok(cdn.length > 0);
  assert.ok(cdn.every((q) => q.authorization === undefined));
  assert.ok(hub.requests.some((q) => q.method === 'HEAD' && q.path === `/acme/Coder-GGUF/resolve/${FAKE_COMMIT}/coder-q8_0.gguf`));

  // Again: already there, nothing fetched.
  hub.requests.length = 0;
  const again = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' }));
  assert.equal(again.path, r.path);
  assert.equal(again.downloadedBytes, 0);
  assert.ok(!hub.requests.some((q) => q.server === 'cdn'));
});

test('a branch other than main is resolved to its commit and recorded in refs/', async () => {
  const cache = fresh();
  const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q4_k_m.gguf', revision: 'v1' }));
  assert.equal(r.commit, OTHER_COMMIT);
  assert.equal(readFileSync(join(cache, REPO, 'refs', 'v1'), 'utf8'), OTHER_COMMIT);
  assert.deepEqual(readFileSync(r.path), GGUF_SMALL);
});

test('an empty file is saved as one', async () => {
  const r = await downloadModel(options(fresh(), { repo: 'acme/Coder-GGUF', file: 'empty.txt' }));
  assert.equal(readFileSync(r.path).length, 0);
});

test('a renamed repo is followed (same-host redirect)', async () => {
  const r = await downloadModel(options(fresh(), { repo: 'oldname/Coder-GGUF', file: 'coder-q4_k_m.gguf' }));
  assert.deepEqual(readFileSync(r.path), GGUF_SMALL);
});

test('a GGUF repo without a file name: refused with its .gguf files listed; a repo with one .gguf takes it', async () => {
  const cache = fresh();
  const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF' })), 'input');
  assert.match(e.message, /several GGUF files/);
  assert.match(e.message, /coder-q8_0\.gguf \(1\.0 MB\)/);
  assert.match(e.message, /coder-q4_k_m\.gguf/);
  assert.doesNotMatch(e.message, /README/);
  assert.deepEqual(tree(cache), []);
  const r = await downloadModel(options(cache, { repo: 'acme/one-gguf' }));
  assert.match(r.path, /only-q8_0\.gguf$/);
});

test('a safetensors checkpoint: config, tokenizer files and model.safetensors into one snapshot folder', async () => {
  const cache = fresh();
  const r = await downloadModel(options(cache, { repo: 'acme/tiny-llama' }));
  assert.equal(r.path, join(cache, 'models--acme--tiny-llama', 'snapshots', FAKE_COMMIT));
  assert.deepEqual(readdirSync(r.path).sort(), ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  assert.deepEqual(readFileSync(join(r.path, 'model.safetensors')), WEIGHTS);
  assert.equal(JSON.parse(readFileSync(join(r.path, 'config.json'), 'utf8')).model_type, 'llama');
});

test('a sharded checkpoint: the index is read and each shard fetched once', async () => {
  const cache = fresh();
  const progress: DownloadProgress[] = [];
  const r = await downloadModel(options(cache, { repo: 'acme/sharded', onProgress: (p) => progress.push(p) }));
  assert.deepEqual(readdirSync(r.path).sort(), ['config.json', 'generation_config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json']);
  assert.deepEqual(readFileSync(join(r.path, 'model-00002-of-00002.safetensors')), SHARD2);
  assert.equal(progress.at(-1)!.fileCount, 6);
  assert.equal(progress.at(-1)!.bytes, progress.at(-1)!.total);
});

test('connection dropped at 40 %: resumed with a Range request within the call, to a verified file', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { dropAt: 0.4 });
  hub.requests.length = 0;
  try {
    const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' }));
    assert.deepEqual(readFileSync(r.path), GGUF);
    const ranges = hub.requests.filter((q) => q.server === 'cdn').map((q) => q.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    assert.ok(from > 0 && from <= GGUF.length * 0.4, `resumed from ${ranges[1]}`);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('connection dropped with no retry left: stops with the partial kept, and the next run resumes it to a verified file', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { dropAt: 0.4 });
  try {
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', retries: 0 })), 'network');
    assert.ok(e.resumable);
    assert.match(e.message, /run the same download again to continue/);
    assert.deepEqual(tree(cache), [`${BLOB}.incomplete`]);
    const kept = lstatSync(join(cache, `${BLOB}.incomplete`)).size;
    assert.ok(kept > 0 && kept <= GGUF.length * 0.4);
    hub.requests.length = 0;
    const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', retries: 0 }));
    assert.deepEqual(readFileSync(r.path), GGUF);
    assert.deepEqual(hub.requests.filter((q) => q.server === 'cdn').map((q) => q.range), [`bytes=${kept}-`]);
    assert.equal(r.downloadedBytes, GGUF.length - kept);
    assert.deepEqual(tree(cache), [BLOB, join(REPO, 'refs', 'main'), SNAP].sort());
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('two downloads of one file never share its partial file: a live lock refuses, a dead one is taken over', async () => {
  const cache = fresh();
  mkdirSync(join(cache, REPO, 'blobs'), { recursive: true });
  const lockFile = join(cache, `${BLOB}.incomplete.lock`);
  writeFileSync(lockFile, String(process.pid));
  const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' })), 'exists');
  assert.match(e.message, new RegExp(`Another download of coder-q8_0\\.gguf is running \\(process ${process.pid}`));
  assert.equal(readFileSync(lockFile, 'utf8'), String(process.pid), 'the other download keeps its lock');
  // A lock left by a process that has ended (a crash) is taken over.
  writeFileSync(lockFile, '2147483646');
  const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' }));
  assert.deepEqual(readFileSync(r.path), GGUF);
  assert.ok(!existsSync(lockFile));
});

test('wrong checksum: the partial file is deleted and the message says so; nothing at the destination', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { corrupt: true });
  try {
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' })), 'checksum');
    assert.match(e.message, new RegExp(`publishes SHA-256 ${sha256(GGUF)}`));
    assert.match(e.message, /partial file was deleted/);
    assert.deepEqual(tree(cache), []);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('a corrupt partial file from an earlier run fails the checksum and is deleted, and the next run starts clean', async () => {
  const cache = fresh();
  mkdirSync(join(cache, REPO, 'blobs'), { recursive: true });
  writeFileSync(join(cache, `${BLOB}.incomplete`), Buffer.alloc(1000, 1));
  await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' })), 'checksum');
  assert.deepEqual(tree(cache), []);
  const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' }));
  assert.deepEqual(readFileSync(r.path), GGUF);
});

test('404: an unknown file (the repo\'s GGUF files listed), revision or repo', async () => {
  const cache = fresh();
  const file = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q5.gguf' })), 'not-found');
  assert.match(file.message, /has no file "coder-q5\.gguf"/);
  assert.match(file.message, /coder-q8_0\.gguf/);
  const rev = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', revision: 'nope' })), 'not-found');
  assert.match(rev.message, /no revision "nope"/);
  const repo = await rejects(downloadModel(options(cache, { repo: 'acme/missing', token: TOKEN })), 'not-found');
  assert.match(repo.message, /acme\/missing was not found/);
  const anonymous = await rejects(downloadModel(options(cache, { repo: 'acme/missing' })), 'auth');
  assert.match(anonymous.message, /was not found, or it is private or gated/);
  assert.deepEqual(tree(cache), []);
});

test('the CDN refusing its signed link (403): a clear message about the file host, not about the token; nothing written', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { cdnStatus: 403 });
  try {
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', token: TOKEN })), 'server');
    assert.match(e.message, new RegExp(`The file host ${new URL(hub.cdnOrigin).host} answered 403 .* link may have expired`));
    assert.ok(e.resumable);
    assert.deepEqual(tree(cache), []);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('a gated repo: 401 without a token says to set one and accept the license; 403 with one says where to ask for access; the token is never shown', async () => {
  const cache = fresh();
  const progress: DownloadProgress[] = [];
  const none = await rejects(downloadModel(options(cache, { repo: 'acme/gated-coder', file: 'gated-q8_0.gguf' })), 'auth');
  assert.match(none.message, /gated model: it needs a Hugging Face token \(401\)/);
  assert.match(none.message, /Limelight: Set Hugging Face Token/);
  assert.match(none.message, new RegExp(`Accept its license at ${hub.endpoint}/acme/gated-coder`));
  const refused = await rejects(downloadModel(options(cache, { repo: 'acme/gated-coder', file: 'gated-q8_0.gguf', token: TOKEN, onProgress: (p) => progress.push(p) })), 'auth');
  assert.match(refused.message, /no access to acme\/gated-coder \(403\)/);
  // The fake hub echoes the token in its error message; the client must not.
  assert.match(refused.message, /token \*\*\* is not in the authorized list/);
  assert.ok(!refused.message.includes(TOKEN));
  assert.ok(!String(refused.stack).includes(TOKEN));
  const listed = await rejects(listRepoFiles({ endpoint: hub.endpoint, repo: 'acme/gated-coder', token: TOKEN }), 'auth');
  assert.ok(!listed.message.includes(TOKEN));
  assert.deepEqual(tree(cache), []);
  hub.acceptedTokens.add(TOKEN);
  try {
    const r = await downloadModel(options(cache, { repo: 'acme/gated-coder', file: 'gated-q8_0.gguf', token: TOKEN, onProgress: (p) => progress.push(p) }));
    assert.deepEqual(readFileSync(r.path), GGUF_SMALL);
    assert.ok(!JSON.stringify(progress).includes(TOKEN));
  } finally {
    hub.acceptedTokens.delete(TOKEN);
  }
});

test('a stalled server: the transfer stops at the timeout with a clear message, the partial kept; the next run resumes it', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { stallAfter: 400_000 });
  try {
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', timeoutMs: 300 })), 'timeout');
    assert.match(e.message, /sent nothing for 0\.3 s/);
    assert.ok(e.resumable);
    assert.deepEqual(tree(cache), [`${BLOB}.incomplete`]);
    hub.faults.delete('coder-q8_0.gguf');
    const r = await downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' }));
    assert.deepEqual(readFileSync(r.path), GGUF);
    assert.ok(r.downloadedBytes < GGUF.length);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('a slow server, cancelled: stops at once, keeps the partial, leaves nothing at the destination; progress shows speed and time left', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { bytesPerSecond: 400_000 });
  try {
    const abort = new AbortController();
    const progress: DownloadProgress[] = [];
    const started = Date.now();
    const p = downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', signal: abort.signal, onProgress: (x) => {
      progress.push(x);
      if (x.bytes > 300_000) abort.abort();
    } }));
    const e = await rejects(p, 'cancelled');
    assert.ok(Date.now() - started < 4000);
    assert.match(e.message, /cancelled/);
    assert.deepEqual(tree(cache), [`${BLOB}.incomplete`]);
    const moving = progress.filter((x) => x.bytesPerSecond > 0);
    assert.ok(moving.length > 0, 'a speed was reported');
    assert.ok(moving.every((x) => x.etaSeconds !== undefined && x.etaSeconds > 0));
    assert.ok(moving.some((x) => x.bytesPerSecond > 100_000 && x.bytesPerSecond < 2_000_000), `speed ${moving.map((x) => Math.round(x.bytesPerSecond)).join(',')}`);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('too little disk space: refused before any byte is written, with the sizes', async () => {
  const cache = fresh();
  hub.faults.set('coder-q8_0.gguf', { announceSize: 2 ** 52 });
  try {
    hub.requests.length = 0;
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf' })), 'no-space');
    assert.match(e.message, /needs 4503599\.63 GB more in .*, which has [\d.]+ [GMk]B free/);
    assert.ok(!hub.requests.some((q) => q.server === 'cdn'));
    assert.deepEqual(tree(cache), []);
  } finally {
    hub.faults.delete('coder-q8_0.gguf');
  }
});

test('--to DIR: plain files in the folder, partial data out of sight; an existing different file is never overwritten', async () => {
  const dir = join(fresh(), 'models');
  const r = await downloadModel(options(fresh(), { repo: 'acme/tiny-llama', to: dir }));
  assert.equal(r.path, dir);
  assert.deepEqual(tree(dir), ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), WEIGHTS);
  // The same again: the files are recognised, nothing changes.
  await downloadModel(options(fresh(), { repo: 'acme/tiny-llama', to: dir }));
  const mine = join(fresh(), 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'coder-q8_0.gguf'), 'my own file');
  const e = await rejects(downloadModel(options(fresh(), { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', to: mine })), 'exists');
  assert.match(e.message, /never overwrites/);
  assert.equal(readFileSync(join(mine, 'coder-q8_0.gguf'), 'utf8'), 'my own file');
});

test('bad input is refused with what to do: repo names, file paths, revisions, hub addresses, a token with spaces', async () => {
  const cache = fresh();
  for (const repo of ['', 'noslash', 'a/b/c', '../etc', 'a--b/c', 'owner/name with space']) {
    const e = await rejects(downloadModel(options(cache, { repo })), 'input');
    assert.match(e.message, /OWNER\/NAME/);
  }
  for (const file of ['../x.gguf', '/abs.gguf', 'a\\b.gguf', 'a//b.gguf']) await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file })), 'input');
  await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', file: 'coder-q8_0.gguf', revision: 'a b' })), 'input');
  for (const endpoint of ['ftp://hub.example', 'not a url', 'http://user:pw@127.0.0.1:1']) {
    const e = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', endpoint })), 'input');
    assert.ok(!e.message.includes('pw@'), e.message);
  }
  await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', token: 'hf_abc def' })), 'input');
  assert.equal(checkEndpoint(' https://hub.example/mirror/ ').href, 'https://hub.example/mirror/');
  const refused = await rejects(downloadModel(options(cache, { repo: 'acme/Coder-GGUF', endpoint: 'http://127.0.0.1:1' })), 'network');
  assert.match(refused.message, /refused the connection/);
  assert.deepEqual(tree(cache), []);
});

test('proxies from the environment: HTTPS_PROXY and NO_PROXY by curl\'s rules; the password never in a message', () => {
  const u = (s: string): URL => new URL(s);
  assert.equal(proxyFor(u('https://huggingface.co/x'), { HTTPS_PROXY: 'proxy.corp:3128' })?.href, 'http://proxy.corp:3128/');
  assert.equal(proxyFor(u('https://huggingface.co/x'), { https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2' })?.host, 'a:1');
  assert.equal(proxyFor(u('http://127.0.0.1:9/x'), { HTTPS_PROXY: 'http://p:1' }), undefined, 'an http target uses HTTP_PROXY');
  for (const no of ['huggingface.co', '.huggingface.co', '*.huggingface.co', 'example.com, huggingface.co', '*', 'huggingface.co:443']) {
    assert.equal(proxyFor(u('https://cdn.huggingface.co/x'), { HTTPS_PROXY: 'http://p:1', NO_PROXY: no }), undefined, no);
  }
  assert.ok(proxyFor(u('https://huggingface.co/x'), { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'huggingface.co:8443' }) !== undefined);
  assert.ok(proxyFor(u('https://nothuggingface.co/x'), { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'huggingface.co' }) !== undefined);
  assert.throws(() => proxyFor(u('https://h/x'), { HTTPS_PROXY: 'http://user:s3cret@[bad' }), (e: Error) => e instanceof DownloadError && !e.message.includes('s3cret'));
  assert.throws(() => proxyFor(u('https://h/x'), { HTTPS_PROXY: 'socks5://p:1' }), /only http:\/\/ and https:\/\/ proxies/);
});

/** A tiny forward proxy: CONNECT tunnels and absolute-URI requests, recording what it was asked. */
async function startProxy(seen: string[]): Promise<Server> {
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers['proxy-authorization'] ?? ''}`);
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  proxy.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url} auth=${req.headers['proxy-authorization'] ?? ''}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  return proxy;
}

test('through an HTTP proxy from the environment: http targets by absolute URI (with Proxy-Authorization), CONNECT tunnels for https', async () => {
  const seen: string[] = [];
  const proxy = await startProxy(seen);
  try {
    const port = (proxy.address() as AddressInfo).port;
    const r = await downloadModel(options(fresh(), { repo: 'acme/Coder-GGUF', file: 'coder-q4_k_m.gguf', proxyEnv: { HTTP_PROXY: `http://me:pa%40ss@127.0.0.1:${port}` } }));
    assert.deepEqual(readFileSync(r.path), GGUF_SMALL);
    assert.ok(seen.some((s) => s.startsWith(`HEAD ${hub.endpoint}/acme/Coder-GGUF/resolve/`)), seen.join('\n'));
    assert.ok(seen.some((s) => s.startsWith(`GET ${hub.cdnOrigin}/repos/`)));
    assert.ok(seen.every((s) => s.endsWith(`auth=Basic ${Buffer.from('me:pa@ss').toString('base64')}`)));
    // NO_PROXY sends it direct.
    seen.length = 0;
    await downloadModel(options(fresh(), { repo: 'acme/Coder-GGUF', file: 'coder-q4_k_m.gguf', proxyEnv: { HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: '127.0.0.1' } }));
    assert.equal(seen.length, 0, seen.join('\n'));
    // The tunnel an https target goes through (TLS then runs inside it; here plain HTTP shows the bytes pass).
    const hubPort = Number(new URL(hub.endpoint).port);
    const socket = await openTunnel(new URL(`http://127.0.0.1:${port}`), '127.0.0.1', hubPort, { timeoutMs: 2000 });
    const status = await new Promise<number>((ok, fail) => {
      const req = httpRequest({ host: '127.0.0.1', port: hubPort, path: '/api/models/acme/one-gguf', createConnection: () => socket }, (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      });
      req.on('error', fail);
      req.end();
    });
    assert.equal(status, 200);
    assert.ok(seen.includes(`CONNECT 127.0.0.1:${hubPort} auth=`));
  } finally {
    proxy.closeAllConnections();
    await new Promise<void>((ok) => proxy.close(() => ok()));
  }
});
