// tools/setup.mjs, the pre-script of `npm test` and `npm start`, with a PATH of our own: a fake
// apt-get records what it was asked. As root it runs `apt-get update` then installs exactly the
// missing packages; as another user it stops at once with the one command to run; without
// apt-get it warns and goes on; `npm start` with VS Code's `code` needs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SETUP = join(__dirname, '..', '..', '..', 'tools', 'setup.mjs');
const posixRoot = process.platform === 'linux' && process.getuid?.() === 0;
const KRB5 = existsSync('/usr/include/krb5.h') || existsSync('/usr/include/gssapi/gssapi.h');

function fakeBin(tools: string[]): { bin: string; log: string; done: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'limelight-setup-'));
  const log = join(bin, 'apt.log');
  for (const t of tools) {
    writeFileSync(join(bin, t), t === 'apt-get' ? `#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> ${log}\n` : '#!/bin/sh\n');
    chmodSync(join(bin, t), 0o755);
  }
  return { bin, log, done: () => rmSync(bin, { recursive: true, force: true }) };
}

function setup(bin: string, extra: Record<string, string> = {}, uid?: number): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SETUP], { env: { PATH: bin, LIMELIGHT_CHROMIUM: '/nonexistent/chromium', npm_lifecycle_event: 'pretest', ...extra }, encoding: 'utf8', timeout: 30_000, ...(uid !== undefined ? { uid, gid: uid } : {}) });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const MISSING = ['chromium', 'ripgrep', ...(KRB5 ? [] : ['libkrb5-dev']), 'build-essential', 'python3'];

test('as root with apt-get: apt-get update, then an install of exactly the missing packages, non-interactive', { skip: !posixRoot && 'needs root on Linux' }, () => {
  const f = fakeBin(['apt-get']);
  try {
    const r = setup(f.bin);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(readFileSync(f.log, 'utf8').trim().split('\n'), ['noninteractive update', `noninteractive install -y ${MISSING.join(' ')}`]);
  } finally {
    f.done();
  }
});

test('as another user: stops at once with the one command to run, installing nothing', { skip: !posixRoot && 'needs root on Linux to start a process as another user' }, () => {
  const f = fakeBin(['apt-get']);
  try {
    chmodSync(f.bin, 0o755);
    const r = setup(f.bin, {}, 65534);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, new RegExp(`sudo apt-get update && sudo apt-get install -y ${MISSING.join(' ')}\\n`));
    assert.ok(!existsSync(f.log));
  } finally {
    f.done();
  }
});

test('nothing missing, no apt-get, or npm start with VS Code: no install', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const all = fakeBin(['apt-get', 'chromium', 'rg', 'make', 'g++', 'python3']);
  const none = fakeBin([]);
  const code = fakeBin(['apt-get', 'code']);
  try {
    // The Kerberos headers are looked for in /usr/include, which a PATH cannot fake.
    if (KRB5) {
      const present = setup(all.bin);
      assert.equal(present.status, 0, present.out);
      assert.equal(present.out, '');
      assert.ok(!existsSync(all.log));
    }
    const noApt = setup(none.bin);
    assert.equal(noApt.status, 0);
    assert.match(noApt.out, /need chromium, ripgrep.* and this system has no apt-get/);
    const start = setup(code.bin, { npm_lifecycle_event: 'prestart' });
    assert.equal(start.status, 0, start.out);
    assert.ok(!existsSync(code.log));
  } finally {
    for (const f of [all, none, code]) f.done();
  }
});
