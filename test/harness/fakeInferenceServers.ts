// An inference server on 127.0.0.1 that speaks the request and answer shapes of the APIs the
// remote backend uses, streamed and whole, records every request it receives, and misbehaves
// on demand. One server answers all of them, each on its own routes:
//   llama.cpp server  POST /infill, /completion, /v1/chat/completions    SSE: data: {content, stop, ...}
//   Ollama            POST /api/generate, /api/chat                      NDJSON: {response | message, done, ...}
//   OpenAI-style      POST /v1/completions, /v1/chat/completions         SSE: data: {choices}, data: [DONE]
// (/v1/chat/completions is the same route in llama.cpp and OpenAI-style servers.)
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** When the request's body had arrived (performance.now()). */
  at: number;
  /** When the answer's last byte was written (performance.now()), or null before (or without) it. */
  endedAt: number | null;
  /** Whether the client went away before the answer ended (an abort reached the server). */
  closedEarly: boolean;
}

export type Fault =
  | { kind: 'none' }
  /** Each piece `ms` after the one before. */
  | { kind: 'slow'; ms: number }
  /** The connection is destroyed after the first piece. */
  | { kind: 'drop' }
  /** An error status; with retryAfter, a Retry-After header. The body echoes the Authorization header (a careless proxy). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** A body that is not JSON. */
  | { kind: 'malformed' }
  /** Pieces every 20 ms that never end. */
  | { kind: 'endless' }
  /** Headers sent, then nothing. */
  | { kind: 'silent' };

export interface FakeServerOptions {
  /** The answer's text, in the pieces it is streamed in. */
  pieces?: string[];
  /** The server's own time before its first piece (prompt processing). */
  firstPieceMs?: number;
  fault?: Fault;
}

export interface FakeInferenceServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: RecordedRequest[];
  options: FakeServerOptions;
  /** Resolves once `n` requests have arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

type Route = 'llama' | 'ollama-generate' | 'ollama-chat' | 'openai' | 'openai-chat';

const ROUTES: Record<string, Route> = {
  '/infill': 'llama',
  '/completion': 'llama',
  '/api/generate': 'ollama-generate',
  '/api/chat': 'ollama-chat',
  '/v1/completions': 'openai',
  '/v1/chat/completions': 'openai-chat',
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One answer message of `route` carrying `text`; `last` adds the end and the counts. */
function message(route: Route, text: string, last: boolean): Record<string, unknown> {
  switch (route) {
    case 'llama':
      return last ? { content: text, stop: true, stop_type: 'eos', tokens_evaluated: 40, timings: { prompt_n: 12, prompt_ms: 5, predicted_n: 3, predicted_ms: 9, cache_n: 28 } } : { content: text, stop: false };
    case 'ollama-generate':
      return last ? { model: 'm', response: text, done: true, done_reason: 'stop', prompt_eval_count: 40, prompt_eval_duration: 5e6, eval_count: 3, eval_duration: 9e6 } : { model: 'm', response: text, done: false };
    case 'ollama-chat':
      return { model: 'm', message: { role: 'assistant', content: text }, done: last, ...(last ? { done_reason: 'stop', eval_count: 3 } : {}) };
    case 'openai':
      return { id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text, finish_reason: last ? 'stop' : null }], ...(last ? { usage: { prompt_tokens: 40, completion_tokens: 3 } } : {}) };
    case 'openai-chat':
      return { id: 'chat-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text }, finish_reason: last ? 'stop' : null }] };
  }
}

/** The whole (non-streamed) answer. */
function whole(route: Route, text: string): Record<string, unknown> {
  if (route === 'openai-chat') return { id: 'chat-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] };
  return message(route, text, true);
}

function frame(route: Route, m: unknown): string {
  return route.startsWith('ollama') ? `${JSON.stringify(m)}\n` : `data: ${JSON.stringify(m)}\n\n`;
}

export async function startFakeInferenceServer(options: FakeServerOptions = {}): Promise<FakeInferenceServer> {
  const requests: RecordedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const state = { options };

  const answer = async (route: Route, rec: RecordedRequest, res: ServerResponse, closed: () => boolean): Promise<void> => {
    const o = state.options;
    const fault = o.fault ?? { kind: 'none' };
    const pieces = o.pieces ?? ['return ', 'a + b;'];
    if (o.firstPieceMs) await sleep(o.firstPieceMs);
    if (fault.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(JSON.stringify({ error: { message: `status ${fault.status}`, seen_authorization: rec.headers.authorization ?? null } }));
      return;
    }
    const stream = rec.body.stream === true;
    const type = !stream ? 'application/json' : route.startsWith('ollama') ? 'application/x-ndjson' : 'text/event-stream';
    res.writeHead(200, { 'content-type': type });
    if (fault.kind === 'malformed') {
      res.end(stream ? (route.startsWith('ollama') ? '{"response": "ret\n' : 'data: {"content": "ret\n\n') : '{"content": ');
      return;
    }
    if (fault.kind === 'silent') return;
    if (!stream) {
      res.end(JSON.stringify(whole(route, pieces.join(''))));
      return;
    }
    if (fault.kind === 'endless') {
      while (!closed()) {
        res.write(frame(route, message(route, 'x', false)));
        await sleep(20);
      }
      return;
    }
    for (let i = 0; i < pieces.length && !closed(); i++) {
      if (i > 0 && fault.kind === 'slow') await sleep(fault.ms);
      res.write(frame(route, message(route, pieces[i]!, false)));
      if (fault.kind === 'drop') {
        res.socket?.destroy();
        return;
      }
    }
    if (closed()) return;
    res.write(frame(route, message(route, '', true)));
    if (route === 'openai' || route === 'openai-chat') res.write('data: [DONE]\n\n');
    res.end();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { unparsable: Buffer.concat(chunks).toString('utf8') };
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const rec: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, at: performance.now(), endedAt: null, closedEarly: false };
      requests.push(rec);
      for (const w of [...waiters]) {
        if (requests.length < w.n) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      let ended = false;
      res.on('finish', () => (rec.endedAt = performance.now()));
      res.on('close', () => {
        if (!ended && !res.writableFinished) rec.closedEarly = true;
        ended = true;
      });
      const route = req.method === 'POST' ? ROUTES[path] : undefined;
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no route ${req.method} ${path}` }));
        return;
      }
      void answer(route, rec, res, () => rec.closedEarly || res.destroyed);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get options() {
      return state.options;
    },
    set options(o: FakeServerOptions) {
      state.options = o;
    },
    waitForRequests: (n) => (requests.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
