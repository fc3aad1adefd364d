// `limelight download` end to end: the built CLI (dist/cli.js, loading dist/download.js) in a
// child process against the fake hub: the path on stdout, plain progress lines on a non-TTY
// stderr, HF_TOKEN and HF_ENDPOINT from the environment, the token never printed, usage errors
// with exit code 2 and the GGUF files listed when a repo needs one named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progressLine } from '../../engine/cli/commands/download';
import { FAKE_COMMIT, FakeHub, fakeBytes } from '../harness/fakeHub';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const GGUF = fakeBytes(600_000, 3);
const TOKEN = 'hf_cliSECRET0987654321';

let hub: FakeHub;
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'limelight-download-cli-'));
  hub = await FakeHub.start([
    { id: 'acme/Coder-GGUF', commit: FAKE_COMMIT, files: [{ name: 'coder-q8_0.gguf', content: GGUF, lfs: true }, { name: 'coder-q4_0.gguf', content: fakeBytes(1000, 4), lfs: true }] },
    { id: 'acme/gated', commit: FAKE_COMMIT, gated: true, files: [{ name: 'g.gguf', content: GGUF, lfs: true }] },
  ]);
});

after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process (the fake hub answers from it). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: root, HF_HUB_CACHE: join(root, 'hub'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('limelight download OWNER/REPO FILE: into the hub cache, the path on stdout, progress lines on a non-TTY stderr', async () => {
  const r = await cli(['download', 'acme/Coder-GGUF', 'coder-q8_0.gguf', '--endpoint', hub.endpoint]);
  assert.equal(r.code, 0, r.stderr);
  const path = r.stdout.trim();
  assert.equal(path, join(root, 'hub', 'models--acme--Coder-GGUF', 'snapshots', FAKE_COMMIT, 'coder-q8_0.gguf'));
  assert.deepEqual(readFileSync(path), GGUF);
  assert.match(r.stderr, /coder-q8_0\.gguf: 100% 600 kB of 600 kB/);
  assert.match(r.stderr, /Downloaded 1 file \(600 kB over the network, commit aaaaaaaaaa\), checked\./);
  assert.ok(!r.stderr.includes('\r'), 'no bar redrawing on a non-terminal');
});

test('--to DIR and HF_ENDPOINT; a repo with several GGUF files wants one named (exit 2, the files listed)', async () => {
  const dir = join(root, 'picked');
  const r = await cli(['download', 'acme/Coder-GGUF', 'coder-q4_0.gguf', '--to', dir], { HF_ENDPOINT: hub.endpoint });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), join(dir, 'coder-q4_0.gguf'));
  const several = await cli(['download', 'acme/Coder-GGUF', '--endpoint', hub.endpoint]);
  assert.equal(several.code, 2);
  assert.match(several.stderr, /several GGUF files.*coder-q8_0\.gguf.*coder-q4_0\.gguf/s);
});

test('a gated repo with a token that has no access: exit 1, what to do, and the token never printed', async () => {
  const r = await cli(['download', 'acme/gated', 'g.gguf', '--endpoint', hub.endpoint], { HF_TOKEN: TOKEN });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no access to acme\/gated \(403\).*Accept its license/s);
  assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
  assert.ok(hub.requests.some((q) => q.authorization === `Bearer ${TOKEN}`), 'HF_TOKEN was sent to the hub');
});

test('usage mistakes: no repo, a third argument, a bad timeout; the main help lists download', async () => {
  const none = await cli(['download']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /name the model to download: limelight download OWNER\/REPO \[FILE\]/);
  const extra = await cli(['download', 'a/b', 'c.gguf', 'd']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument "d"/);
  const timeout = await cli(['download', 'a/b', '--timeout', '0']);
  assert.equal(timeout.code, 2);
  const help = await cli(['--help']);
  assert.match(help.stdout, /\n {2}download +Download a model from the Hugging Face hub/);
  const own = await cli(['download', '--help']);
  assert.match(own.stdout, /Usage: limelight download OWNER\/REPO \[FILE\] \[--to DIR\] \[--revision REV\] \[--endpoint URL\]/);
});

test('the progress line: a bar on a terminal, facts otherwise, fitted to the width', () => {
  const p = { file: 'model.gguf', fileIndex: 2, fileCount: 3, bytes: 250e6, total: 1e9, bytesPerSecond: 12.5e6, etaSeconds: 60 };
  assert.equal(progressLine(p, false), 'model.gguf (2/3):  25% 250 MB of 1.00 GB, 12.5 MB/s, 1:00 left');
  assert.equal(progressLine(p, true, 200), '[#####...............]  25% 250 MB of 1.00 GB, 12.5 MB/s, 1:00 left model.gguf (2/3)');
  assert.equal(progressLine({ ...p, etaSeconds: undefined }, true, 40).length, 40);
  assert.match(progressLine({ ...p, etaSeconds: undefined }, false), /--:-- left/);
});
