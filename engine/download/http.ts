// HTTP(S) requests of the download client, on node:http and node:https. Inside VS Code the
// editor patches these two modules to apply `http.proxy`, `http.proxyStrictSSL` and the
// system's certificates, so a plain request through them honours the user's settings (`fetch`
// would not). Outside VS Code (the CLI), HTTPS_PROXY / HTTP_PROXY / NO_PROXY are applied here:
// an HTTP CONNECT tunnel for https targets, an absolute-URI request for http ones.
// Each request has an idle timeout (no byte for `timeoutMs` ends it) and an AbortSignal.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { DownloadError, errorCode } from './errors';

export interface HttpOptions {
  /** The environment to read the proxy variables from; undefined: no proxy of our own (inside VS Code, which applies its settings). */
  proxyEnv?: NodeJS.ProcessEnv;
  /** A request that receives no byte for this long ends with a `timeout` error. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export function cancelled(): DownloadError {
  return new DownloadError('The download was cancelled. What was received is kept: run the same download again to continue it.', 'cancelled', true);
}

/** The proxy for `url` by curl's conventions (lower-case names first, NO_PROXY honoured), or undefined to connect directly. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const names = url.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] : ['http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'];
  const name = names.find((n) => (env[n] ?? '').trim() !== '');
  if (name === undefined) return undefined;
  if (bypassed(url, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  const raw = env[name]!.trim();
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    // The value is not echoed: it may hold a password.
    throw new DownloadError(`The ${name} environment variable is not a proxy address. Set it as http://HOST:PORT (or http://USER:PASSWORD@HOST:PORT), or unset it to connect directly.`, 'input');
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new DownloadError(`The ${name} environment variable names a ${proxy.protocol} proxy; only http:// and https:// proxies are supported. Set it as http://HOST:PORT, or unset it.`, 'input');
  }
  return proxy;
}

/** NO_PROXY: `*`, or host names and domain suffixes (`example.com`, `.example.com`, `*.example.com`), each with an optional `:port`. */
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''))!;
    const name = m[1]!.replace(/^\*?\./, '');
    if (m[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

function proxyPort(proxy: URL): number {
  return Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
}

function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '') return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** A socket to `host:port` through the proxy's CONNECT method, ready for TLS. */
export function openTunnel(proxy: URL, host: string, port: number, opts: HttpOptions): Promise<net.Socket> {
  const where = `the proxy ${proxy.host}`;
  return new Promise((resolve, reject) => {
    const socket = proxy.protocol === 'https:' ? tls.connect({ host: proxy.hostname, port: proxyPort(proxy), servername: proxy.hostname }) : net.connect({ host: proxy.hostname, port: proxyPort(proxy) });
    let head = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.setTimeout(0);
    };
    const fail = (e: DownloadError): void => {
      cleanup();
      socket.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16384) fail(new DownloadError(`${where} sent no HTTP answer to CONNECT. Check the proxy variables (HTTPS_PROXY, NO_PROXY).`, 'network'));
        return;
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status !== 200) {
        fail(
          new DownloadError(
            status === 407
              ? `${where} asks for a user name and password (407). Put them in the proxy variable as http://USER:PASSWORD@HOST:PORT.`
              : `${where} refused to open a connection to ${host}:${port} (${status === 0 ? 'no HTTP status' : `status ${status}`}). Check the proxy variables (HTTPS_PROXY, NO_PROXY).`,
            'network',
          ),
        );
        return;
      }
      // Nothing follows the proxy's answer until the client speaks (a TLS hello, a request).
      cleanup();
      resolve(socket);
    };
    const onError = (e: Error): void => fail(new DownloadError(`Could not reach ${where}: ${e.message}. Check HTTPS_PROXY / HTTP_PROXY, or unset them to connect directly.`, 'network', true));
    const onClose = (): void => fail(new DownloadError(`${where} closed the connection before opening one to ${host}:${port}. Check the proxy variables (HTTPS_PROXY, NO_PROXY).`, 'network', true));
    const onTimeout = (): void => fail(new DownloadError(`${where} did not answer for ${opts.timeoutMs / 1000} s. Check the proxy, or unset HTTPS_PROXY to connect directly.`, 'timeout', true));
    const onAbort = (): void => fail(cancelled());
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const auth = proxyAuthorization(proxy);
    socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n${auth !== undefined ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  });
}

/** What a failed connection means, said for a user. */
function networkError(url: URL, e: Error): DownloadError {
  const code = errorCode(e) ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new DownloadError(`Cannot find the host ${url.hostname} (${code}). Check the hub address (limelight.download.endpoint, or --endpoint) and your connection.`, 'network', true);
  if (code === 'ECONNREFUSED') return new DownloadError(`${url.host} refused the connection. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'network', true);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new DownloadError(`The TLS certificate of ${url.host} is not trusted (${code}). Behind a company proxy, VS Code uses the system's certificates (setting http.systemCertificates); the command line takes extra ones from NODE_EXTRA_CA_CERTS.`, 'network');
  }
  return new DownloadError(`The connection to ${url.host} failed: ${e.message}. Check your connection; run the download again to continue it.`, 'network', true);
}

/**
 * Sends one request (no redirect followed) and resolves with the response once its headers
 * arrive. The idle timeout and the signal keep watching while the caller reads the body: they
 * end it with a `timeout` or `cancelled` DownloadError.
 */
export async function send(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, opts: HttpOptions): Promise<http.IncomingMessage> {
  if (opts.signal?.aborted) throw cancelled();
  const proxy = opts.proxyEnv !== undefined ? proxyFor(url, opts.proxyEnv) : undefined;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const path = `${url.pathname}${url.search}`;
  let request: (o: http.RequestOptions) => http.ClientRequest;
  let options: http.RequestOptions;
  if (proxy !== undefined && url.protocol === 'https:') {
    const raw = await openTunnel(proxy, url.hostname, port, opts);
    const servername = url.hostname.replace(/^\[|\]$/g, '');
    request = http.request;
    options = { method, host: url.hostname, port, path, headers, createConnection: () => tls.connect({ socket: raw, servername: net.isIP(servername) ? undefined : servername }) };
  } else if (proxy !== undefined) {
    const auth = proxyAuthorization(proxy);
    request = proxy.protocol === 'https:' ? https.request : http.request;
    options = { method, host: proxy.hostname, port: proxyPort(proxy), path: url.href, headers: { ...headers, host: url.host, ...(auth !== undefined ? { 'proxy-authorization': auth } : {}) } };
  } else {
    request = url.protocol === 'https:' ? https.request : http.request;
    options = { method, host: url.hostname, port, path, headers };
  }
  return new Promise((resolve, reject) => {
    const req = request(options);
    let response: http.IncomingMessage | undefined;
    // Before the headers the request carries the error; after, the response (its reader sees it).
    const end = (e: DownloadError): void => {
      if (response !== undefined) response.destroy(e);
      else req.destroy(e);
    };
    const onAbort = (): void => end(cancelled());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(opts.timeoutMs, () =>
      end(new DownloadError(`${url.host} sent nothing for ${opts.timeoutMs / 1000} s, so the transfer was stopped. What was received is kept: run the same download again to continue it.`, 'timeout', true)),
    );
    req.on('response', (res) => {
      response = res;
      res.on('close', () => opts.signal?.removeEventListener('abort', onAbort));
      resolve(res);
    });
    req.on('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e instanceof DownloadError ? e : networkError(url, e));
    });
    req.end();
  });
}

/** A response body as text, at most `limit` bytes (an API answer, an error page). */
export async function readText(res: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      res.destroy();
      throw new DownloadError(`The hub's answer is larger than ${Math.round(limit / 2 ** 20)} MiB; this is not a Hugging Face hub API answer. Check the hub address (limelight.download.endpoint, or --endpoint).`, 'server');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
