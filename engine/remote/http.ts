// One JSON request to an inference server, answered whole or streamed: server-sent events
// (llama.cpp, OpenAI-style servers) or newline-delimited JSON (Ollama). Through node:http and
// node:https, which VS Code patches for its proxy settings. Aborting the signal destroys the
// request at once; a request that runs past its time limit is destroyed the same way.
// Failures are RemoteErrors saying what went wrong and what to do, never with the key in them.
import * as http from 'node:http';
import * as https from 'node:https';
import { redact } from './endpoint';
import { RemoteError } from './remoteError';

export type Framing = 'json' | 'sse' | 'ndjson';

export interface PostOptions {
  apiKey: string;
  signal: AbortSignal;
  timeoutMs: number;
  framing: Framing;
  /** Each streamed message (sse, ndjson) as parsed JSON; for 'json', the whole body once. */
  onMessage: (message: unknown) => void;
}

/** The most characters of an error body quoted in a message. */
const ERROR_BODY_CHARS = 300;

/** Retry-After as milliseconds: seconds, or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  const s = Number(value.trim());
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

function statusError(status: number, body: string, url: URL, retryAfterMs: number | null): RemoteError {
  const said = body.trim() === '' ? '' : ` The server said: ${body.trim().replace(/\s+/g, ' ').slice(0, ERROR_BODY_CHARS)}`;
  const where = `${url.origin}${url.pathname}`;
  if (status === 401 || status === 403) return new RemoteError(`${where} refused the request (HTTP ${status}): the API key is missing or wrong. Run "Limelight: Set Remote API Key" (CLI: LIMELIGHT_REMOTE_API_KEY).${said}`, 'auth', status);
  if (status === 429) return new RemoteError(`${where} is rate limiting requests (HTTP 429)${retryAfterMs !== null ? `; it asks to wait ${Math.ceil(retryAfterMs / 1000)} s` : ''}.${said}`, 'rate-limited', status, retryAfterMs);
  if (status === 404) return new RemoteError(`${where} was not found (HTTP 404): check limelight.remote.endpoint and limelight.remote.api (this API expects that path), and that the model is served.${said}`, 'bad-request', status);
  if (status >= 500) return new RemoteError(`${where} failed (HTTP ${status}); the server's log says why.${said}`, 'server', status, retryAfterMs);
  return new RemoteError(`${where} rejected the request (HTTP ${status}): check limelight.remote.model and limelight.remote.api.${said}`, 'bad-request', status);
}

/** Splits a byte stream into lines, across chunk boundaries. */
class LineSplitter {
  private rest = '';
  push(chunk: string, onLine: (line: string) => void): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      onLine(text.slice(start, nl).replace(/\r$/, ''));
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }
  end(onLine: (line: string) => void): void {
    if (this.rest !== '') onLine(this.rest.replace(/\r$/, ''));
    this.rest = '';
  }
}

/**
 * Posts `body` as JSON to `url` and feeds the answer's messages to `onMessage`. Resolves when
 * the answer ended (for SSE at `data: [DONE]` or the end of the body); rejects with a RemoteError.
 */
export function postJson(url: URL, body: unknown, o: PostOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const where = `${url.origin}${url.pathname}`;
    let settled = false;
    let req: http.ClientRequest | null = null;
    const fail = (e: RemoteError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      req?.destroy();
      reject(new RemoteError(redact(e.message, o.apiKey), e.kind, e.status, e.retryAfterMs));
    };
    const done = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      req?.destroy();
      resolve();
    };
    const onAbort = (): void => fail(new RemoteError(`the request to ${where} was cancelled`, 'cancelled'));
    const timer = setTimeout(() => fail(new RemoteError(`${where} did not finish answering within ${Math.round(o.timeoutMs)} ms; the server may be overloaded, or raise limelight.remote.timeoutMs.`, 'timeout')), Math.max(1, Math.min(o.timeoutMs, 2 ** 31 - 1)));
    const cleanup = (): void => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
    };
    if (o.signal.aborted) {
      onAbort();
      return;
    }
    o.signal.addEventListener('abort', onAbort, { once: true });

    const payload = Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': payload.length,
      accept: o.framing === 'sse' ? 'text/event-stream' : o.framing === 'ndjson' ? 'application/x-ndjson' : 'application/json',
    };
    if (o.apiKey !== '') headers.authorization = `Bearer ${o.apiKey}`;
    const send = url.protocol === 'https:' ? https.request : http.request;
    req = send(url, { method: 'POST', headers });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message;
      const hint = code === 'ECONNREFUSED' ? 'nothing listens there: is the server running, and is limelight.remote.endpoint right?' : code === 'ENOTFOUND' ? 'the host name does not resolve: check limelight.remote.endpoint.' : code === 'ECONNRESET' ? 'the connection was dropped; the server may have restarted or crashed.' : 'check the network and limelight.remote.endpoint.';
      fail(new RemoteError(`cannot reach ${where} (${code}): ${hint}`, 'network'));
    });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let text = '';
        res.on('data', (c: string) => {
          if (text.length < 4 * ERROR_BODY_CHARS) text += c;
        });
        res.on('end', () => fail(statusError(status, text, url, parseRetryAfter(res.headers['retry-after'] as string | undefined))));
        res.on('error', () => fail(statusError(status, text, url, parseRetryAfter(res.headers['retry-after'] as string | undefined))));
        return;
      }
      const parse = (text: string): unknown => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new RemoteError(`${where} answered with malformed JSON (${JSON.stringify(text.slice(0, 80))}): is limelight.remote.api right for this server?`, 'protocol');
        }
      };
      const deliver = (text: string): void => {
        try {
          o.onMessage(parse(text));
        } catch (e) {
          fail(e instanceof RemoteError ? e : new RemoteError(`${where}: ${(e as Error).message}`, 'protocol'));
        }
      };
      const lines = new LineSplitter();
      let whole = '';
      const onLine = (line: string): void => {
        if (settled) return;
        if (o.framing === 'ndjson') {
          if (line.trim() !== '') deliver(line);
          return;
        }
        // SSE: only data lines carry messages; comments (":") and event names are skipped.
        if (!line.startsWith('data:')) return;
        const data = line.slice(5).trim();
        if (data === '[DONE]') done();
        else if (data !== '') deliver(data);
      };
      res.on('data', (c: string) => {
        if (o.framing === 'json') whole += c;
        else lines.push(c, onLine);
      });
      res.on('end', () => {
        if (o.framing === 'json') deliver(whole);
        else lines.end(onLine);
        done();
      });
      res.on('aborted', () => fail(new RemoteError(`${where} dropped the connection in the middle of its answer; the server may have restarted or crashed.`, 'network')));
      res.on('error', () => fail(new RemoteError(`${where} dropped the connection in the middle of its answer; the server may have restarted or crashed.`, 'network')));
    });
    req.end(payload);
  });
}
