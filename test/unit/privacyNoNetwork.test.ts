// The no-network guard of the e2e suite (tools/e2e/noNetwork.ts), preloaded the way the suite
// preloads it (NODE_OPTIONS --require) into a real Node process that tries every way out:
// sockets, http(s), fetch, DNS, UDP, from the main thread and from a worker thread. Each try
// must be refused and recorded with the caller's stack, while a loopback connection still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocalHost, socketTarget, urlTarget, type NetRecord } from '../../tools/e2e/noNetwork';

const PRELOAD = join(__dirname, '..', '..', 'tools', 'e2e', 'noNetwork.js');

// Every attempt goes to TEST-NET-1 (192.0.2.0/24, never routed) or the reserved .invalid
// domain, so even a broken guard could not reach anyone.
const ATTEMPTS = `
const net = require('node:net'), http = require('node:http'), https = require('node:https');
const dns = require('node:dns'), dgram = require('node:dgram'), tls = require('node:tls');
const { Worker, isMainThread } = require('node:worker_threads');
const where = isMainThread ? 'main' : 'worker';
const results = [];
const settle = (label, p) => results.push(p.then(() => label + ': connected', (e) => label + ': ' + (e.code ?? e.cause?.code ?? e.message)));
const onError = (emitter) => new Promise((res, rej) => { emitter.once('error', rej); emitter.once('connect', res); emitter.once('response', res); });
settle('net.connect', onError(net.connect(80, '192.0.2.1')));
settle('fetch', fetch('https://example.invalid/model.bin'));
if (isMainThread) {
  settle('tls.connect', onError(tls.connect({ host: '192.0.2.1', port: 443 })));
  settle('http.get', onError(http.get('http://192.0.2.1/')));
  settle('https.request', onError(https.request({ hostname: 'example.invalid', path: '/x' }).end()));
  settle('dns.lookup', new Promise((res, rej) => dns.lookup('example.invalid', (e) => (e ? rej(e) : res()))));
  settle('dns.promises.resolve4', dns.promises.resolve4('example.invalid'));
  settle('dgram.send', new Promise((res, rej) => { const s = dgram.createSocket('udp4'); s.send('x', 53, '192.0.2.1', (e) => { s.close(); e ? rej(e) : res(); }); }));
  const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
    settle('loopback', onError(net.connect(server.address().port, '127.0.0.1')).finally(() => server.close()));
    const w = new Worker(__filename);
    w.on('message', (m) => {
      Promise.all(results).then((r) => console.log(JSON.stringify([...r, ...m].sort())));
    });
  });
} else {
  Promise.all(results).then((r) => require('node:worker_threads').parentPort.postMessage(r.map((x) => where + ' ' + x)));
}
`;

test('the preload refuses and records every outbound attempt, main thread and worker, and lets loopback through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-nonet-'));
  try {
    const script = join(dir, 'attempts.js');
    const log = join(dir, 'net.jsonl');
    writeFileSync(script, ATTEMPTS);
    const r = spawnSync(process.execPath, [script], {
      env: { ...process.env, NODE_OPTIONS: `--require "${PRELOAD}"`, LIMELIGHT_NET_LOG: log },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const outcomes = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
    assert.deepEqual(outcomes, [
      'dgram.send: ENETUNREACH',
      'dns.lookup: ENETUNREACH',
      'dns.promises.resolve4: ENETUNREACH',
      'fetch: ENETUNREACH',
      'http.get: ENETUNREACH',
      'https.request: ENETUNREACH',
      'loopback: connected',
      'net.connect: ENETUNREACH',
      'tls.connect: ENETUNREACH',
      'worker fetch: ENETUNREACH',
      'worker net.connect: ENETUNREACH',
    ]);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as NetRecord);
    const loaded = records.filter((x) => x.kind === 'loaded');
    assert.equal(loaded.length, 2, 'one loaded line for the main thread and one for the worker');
    assert.ok(loaded.some((x) => x.threadId !== 0), 'the preload ran in the worker thread');
    const denied = records.filter((x) => x.kind === 'denied');
    const apis = new Set(denied.map((x) => `${x.threadId === 0 ? '' : 'worker '}${x.api}`));
    for (const api of ['socket.connect', 'fetch', 'http.get', 'https.request', 'dns.lookup', 'dns.promises.resolve4', 'dgram.send', 'worker socket.connect', 'worker fetch']) {
      assert.ok(apis.has(api), `no record for ${api}: ${[...apis].join(', ')}`);
    }
    // The stack names the code that asked, so a test can tell whose attempt it was.
    for (const x of denied) if (x.api !== 'socket.connect' || x.threadId !== 0) assert.match(x.stack ?? '', /attempts\.js/, `${x.api} ${x.target}`);
    assert.ok(denied.every((x) => !isLocalHost(x.target!.replace(/^\w+:\/\/|:\d+$|\/.*$/g, ''))), 'nothing local was refused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('destinations: loopback and unix sockets are local, everything else is remote', () => {
  for (const h of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1', 'app.localhost']) assert.ok(isLocalHost(h), h);
  for (const h of ['example.com', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', '2001:db8::1', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLocalHost(h), h);
  assert.equal(socketTarget([[{ path: '/tmp/x.sock' }, null]]), null);
  assert.equal(socketTarget([{ host: '127.0.0.1', port: 80 }]), null);
  assert.equal(socketTarget([{ port: 80 }]), null, 'no host means localhost');
  assert.equal(socketTarget([[{ host: 'example.com', port: 443, path: null }, null]]), 'example.com:443');
  assert.equal(socketTarget([443, 'example.com']), 'example.com:443');
  assert.equal(urlTarget('https://huggingface.co/x'), 'https://huggingface.co/x');
  assert.equal(urlTarget(new URL('http://127.0.0.1:8080/healthz')), null);
  assert.equal(urlTarget('data:text/plain,hi'), null);
  assert.equal(urlTarget({ url: 'wss://example.com/socket' }), 'wss://example.com/socket');
});
