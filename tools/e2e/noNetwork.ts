// Preloaded (`node --require`, through NODE_OPTIONS) into code-server and so into every process
// it starts and every worker thread of theirs (Node runs NODE_OPTIONS preloads in workers too):
// denies every outbound connection, UDP datagram and DNS query that would leave the machine,
// and appends one JSON line per attempt, with the stack of the caller, to the file that
// LIMELIGHT_NET_LOG names. Loopback addresses and unix sockets stay allowed: code-server
// talks to its own processes through them. Each process and thread also writes a `loaded`
// line, so a test can prove the guard ran where it looks (the extension host, the engine
// worker) instead of trusting an empty log.
import { appendFileSync } from 'node:fs';
import dgram from 'node:dgram';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { threadId } from 'node:worker_threads';

export interface NetRecord {
  kind: 'loaded' | 'denied';
  /** The API that was called: 'socket.connect', 'dns.lookup', 'fetch', ... */
  api?: string;
  /** host:port, host name or URL that was asked for. */
  target?: string;
  pid: number;
  threadId: number;
  argv: string;
  stack?: string;
}

const logPath = process.env.LIMELIGHT_NET_LOG;

function write(r: NetRecord): void {
  try {
    appendFileSync(logPath as string, JSON.stringify(r) + '\n');
  } catch {
    // The log folder is gone (the test is tearing down): nothing left to tell.
  }
}

function callerStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 80;
  const stack = new Error('outbound network use').stack ?? '';
  Error.stackTraceLimit = limit;
  return stack;
}

function deny(api: string, target: string): Error {
  write({ kind: 'denied', api, target, pid: process.pid, threadId, argv: process.argv.slice(1).join(' '), stack: callerStack() });
  return Object.assign(new Error(`${api} ${target}: outbound network use is denied in this test (tools/e2e/noNetwork.ts).`), { code: 'ENETUNREACH' });
}

/** Whether a host name or address stays on this machine. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === '' ||
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === '0.0.0.0' ||
    h === '::' ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    /^::ffff:127\./.test(h)
  );
}

/** The remote host:port a Socket#connect call asks for, or null for a local one. */
export function socketTarget(args: unknown[]): string | null {
  // net.connect hands Socket#connect its normalized arguments as one array [options, callback].
  const a = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const first = a[0];
  if (typeof first === 'object' && first !== null) {
    const o = first as { path?: unknown; host?: unknown; port?: unknown };
    if (typeof o.path === 'string' && o.path !== '') return null; // unix socket or named pipe
    const host = typeof o.host === 'string' ? o.host : 'localhost';
    return isLocalHost(host) ? null : `${host}:${String(o.port)}`;
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return null; // a pipe path
  const host = typeof a[1] === 'string' ? a[1] : 'localhost';
  return isLocalHost(host) ? null : `${host}:${String(first)}`;
}

/** The remote URL a fetch/WebSocket/http request asks for, or null for a local or non-network one. */
export function urlTarget(input: unknown): string | null {
  let url: URL;
  try {
    const s = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as { url?: unknown } | null)?.url;
    if (typeof s !== 'string') return null;
    url = new URL(s);
  } catch {
    return null;
  }
  if (!/^(https?|wss?|ftp):$/.test(url.protocol)) return null;
  return isLocalHost(url.hostname) ? null : url.href;
}

function requestTarget(args: unknown[], defaultProtocol: string): string | null {
  const first = args[0];
  if (typeof first === 'string' || first instanceof URL) return urlTarget(first);
  if (typeof first === 'object' && first !== null) {
    const o = first as { socketPath?: unknown; hostname?: unknown; host?: unknown; port?: unknown; path?: unknown; protocol?: unknown };
    if (typeof o.socketPath === 'string') return null;
    const host = typeof o.hostname === 'string' ? o.hostname : typeof o.host === 'string' ? o.host : 'localhost';
    if (isLocalHost(host)) return null;
    return `${typeof o.protocol === 'string' ? o.protocol : defaultProtocol}//${host}${o.port !== undefined ? `:${String(o.port)}` : ''}${typeof o.path === 'string' ? o.path : '/'}`;
  }
  return null;
}

function guardSockets(): void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const target = socketTarget(args);
    if (target === null) return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    const err = deny('socket.connect', target);
    process.nextTick(() => this.destroy(err));
    return this;
  } as typeof connect;

  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    const address = args.slice(1).find((x) => typeof x === 'string');
    if (typeof address !== 'string' || isLocalHost(address)) return (send as (...a: unknown[]) => void).apply(this, args);
    const err = deny('dgram.send', address);
    const cb = args[args.length - 1];
    if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(err));
  } as typeof send;

  const udpConnect = dgram.Socket.prototype.connect;
  dgram.Socket.prototype.connect = function (this: dgram.Socket, ...args: unknown[]) {
    const address = typeof args[1] === 'string' ? args[1] : 'localhost';
    if (isLocalHost(address)) return (udpConnect as (...a: unknown[]) => void).apply(this, args);
    const err = deny('dgram.connect', `${address}:${String(args[0])}`);
    const cb = args[args.length - 1];
    if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(err));
  } as typeof udpConnect;
}

function guardHttp(): void {
  for (const [mod, protocol] of [
    [http, 'http:'],
    [https, 'https:'],
  ] as const) {
    for (const name of ['request', 'get'] as const) {
      const original = mod[name] as (...a: unknown[]) => http.ClientRequest;
      // Recorded here for the caller's stack and the URL; the socket guard then refuses the connection.
      (mod as unknown as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
        const target = requestTarget(args, protocol);
        if (target !== null) deny(`${protocol.slice(0, -1)}.${name}`, target);
        return original.apply(this, args);
      };
    }
  }
}

const DNS_QUERIES = ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse'] as const;

function guardDns(): void {
  // The callback and promise APIs differ only in how a refusal reaches the caller.
  const guard = (owner: Record<string, unknown>, label: string, refuse: (args: unknown[], err: Error) => unknown): void => {
    for (const name of DNS_QUERIES) {
      const original = owner[name];
      if (typeof original !== 'function') continue;
      owner[name] = function (this: unknown, ...args: unknown[]) {
        const host = String(args[0]);
        if (name === 'lookup' && (isLocalHost(host) || net.isIP(host) !== 0)) return (original as (...a: unknown[]) => unknown).apply(this, args);
        return refuse(args, deny(`${label}.${name}`, host));
      };
    }
  };
  const viaCallback = (args: unknown[], err: Error): undefined => {
    const cb = args[args.length - 1];
    if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(err));
    return undefined;
  };
  const viaPromise = (_args: unknown[], err: Error): Promise<never> => Promise.reject(err);
  guard(dns as unknown as Record<string, unknown>, 'dns', viaCallback);
  guard(dns.Resolver.prototype as unknown as Record<string, unknown>, 'dns.Resolver', viaCallback);
  guard(dns.promises as unknown as Record<string, unknown>, 'dns.promises', viaPromise);
  guard(dns.promises.Resolver.prototype as unknown as Record<string, unknown>, 'dns.promises.Resolver', viaPromise);
}

function guardWebApis(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const fetchFn = g.fetch;
  if (typeof fetchFn === 'function') {
    g.fetch = function (this: unknown, input: unknown, init?: unknown) {
      const target = urlTarget(input);
      if (target !== null) return Promise.reject(new TypeError('fetch failed', { cause: deny('fetch', target) }));
      return (fetchFn as (i: unknown, o?: unknown) => Promise<unknown>).call(this, input, init);
    };
  }
  const WS = g.WebSocket;
  if (typeof WS === 'function') {
    g.WebSocket = new Proxy(WS, {
      construct(targetCtor, args: unknown[]) {
        const target = urlTarget(args[0]);
        if (target !== null) throw deny('WebSocket', target);
        return Reflect.construct(targetCtor, args) as object;
      },
    });
  }
}

if (logPath) {
  guardSockets();
  guardHttp();
  guardDns();
  guardWebApis();
  write({ kind: 'loaded', pid: process.pid, threadId, argv: process.argv.slice(1).join(' ') });
}
