// The remote backend's latency: `npm run bench -- latency --remote [options]`.
// A loopback server (test/harness/fakeInferenceServers.ts) speaking the chosen API answers
// every request after --server-ms (its "own time": prompt processing and generation on a GPU
// box), and the typing of held-out files is replayed through the same pipeline as the
// extension (CompletionSession on a RemoteEngine). Reported, per shown suggestion:
//   keystroke -> suggestion (p50, p95), as the user sees it
//   overhead = keystroke -> suggestion - debounce wait - the server's own time (request body
//   received to last byte written): what Limelight adds (prompt, HTTP, streaming, post-processing)
// and the same overhead for explicit requests (Alt+\: no debounce), one at a time.
// Options: --server-ms N (default 50)  --api llama-infill|ollama|openai-completions
//          --keystrokes N  --ms-per-char N  --invokes N  --json
import { OptionReader, percentile } from './benchArgs';
import { cpus, loadavg } from 'node:os';
import { CompletionSession, type CompletionRecord } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { sleep } from '../../engine/complete/debounce';
import { RemoteClient } from '../../engine/remote/client';
import { isRemoteApi, REMOTE_APIS, type RemoteApi } from '../../engine/remote/endpoint';
import { estimatedTemplate, RemoteEngine, REMOTE_SESSION_OPTIONS } from '../../engine/remote/remoteEngine';
import { startFakeInferenceServer, type FakeInferenceServer } from '../../test/harness/fakeInferenceServers';
import { heldOutFiles, typingScript } from './latency';

interface Args {
  serverMs: number;
  api: RemoteApi;
  keystrokes: number;
  msPerChar: number;
  invokes: number;
  json: boolean;
}

const USAGE = `Usage: npm run bench -- latency --remote [--server-ms N] [--api ${REMOTE_APIS.join('|')}] [--keystrokes N] [--ms-per-char N] [--invokes N] [--json]`;

function parseArgs(argv: string[]): Args {
  const a: Args = { serverMs: 50, api: 'llama-infill', keystrokes: 400, msPerChar: 80, invokes: 100, json: false };
  const args = new OptionReader(argv, USAGE);
  for (let opt = args.next(); opt !== undefined; opt = args.next()) {
    const value = (): string => args.value(opt);
    const int = (min: number): number => args.int(opt, min);
    if (opt === '--remote') continue;
    else if (opt === '--server-ms') a.serverMs = int(0);
    else if (opt === '--api') {
      const v = value();
      if (!isRemoteApi(v)) throw new Error(`--api must be one of ${REMOTE_APIS.join(', ')}. ${USAGE}`);
      a.api = v;
    } else if (opt === '--keystrokes') a.keystrokes = int(1);
    else if (opt === '--ms-per-char') a.msPerChar = int(1);
    else if (opt === '--invokes') a.invokes = int(1);
    else if (opt === '--json') a.json = true;
    else throw new Error(`unknown option ${opt}. ${USAGE}`);
  }
  return a;
}


export interface RemoteLatencyRow {
  api: RemoteApi;
  serverMs: number;
  keystrokes: number;
  shown: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  debounceP50Ms: number;
  serverOwnP50Ms: number;
  overheadP50Ms: number;
  overheadP95Ms: number;
  invokeOverheadP50Ms: number;
  invokeOverheadP95Ms: number;
  requests: number;
  outcomes: Record<string, number>;
}

function newSession(server: FakeInferenceServer, api: RemoteApi, debounce: boolean): CompletionSession {
  const client = new RemoteClient({ endpoint: new URL(api === 'openai-completions' ? `${server.url}/v1` : server.url), api, model: 'qwen2.5-coder:7b', fimTemplate: '', apiKey: 'bench-key', timeoutMs: 10_000 });
  // As the extension sets it up: the user's (default) settings with the remote backend's own.
  return new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), { ...REMOTE_SESSION_OPTIONS, ...(debounce ? {} : { debounceMs: 0 }) });
}

/** The server's own time for the request a record was answered from (the newest when it ended). */
function serverOwnMs(server: FakeInferenceServer): number | null {
  const q = server.requests.at(-1);
  return q && q.endedAt !== null ? q.endedAt - q.at : null;
}

export async function runRemoteLatencyBench(argv: string[]): Promise<RemoteLatencyRow> {
  const args = parseArgs(argv);
  const { files, origin } = heldOutFiles(2);
  if (files.length === 0) throw new Error('no source files to replay: build the corpus (`npm run corpus`).');
  const keys = typingScript(files, args.keystrokes, args.msPerChar);
  const log = (s: string): void => {
    if (!args.json) console.log(s);
  };
  // A one-line answer, so that single-line and block suggestions both show it.
  const server = await startFakeInferenceServer({ pieces: ['value', ' + 1;'], firstPieceMs: args.serverMs });
  try {
    log(`Remote latency: ${args.api} on a loopback server answering after ${args.serverMs} ms; ${keys.length} keystrokes (${args.msPerChar} ms/char with pauses) over ${files.length} files from ${origin}.`);
    log(`Machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the start.`);

    // Typing, as the provider asks: every keystroke, VS Code cancelling the previous request.
    const session = newSession(server, args.api, true);
    const latencies: number[] = [];
    const overheads: number[] = [];
    const debounces: number[] = [];
    const serverOwn: number[] = [];
    const records: CompletionRecord[] = [];
    const pending: Promise<void>[] = [];
    const never = new AbortController().signal;
    let editorToken = new AbortController();
    let latest = -1;
    const t0 = performance.now();
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      await sleep(t0 + key.atMs - performance.now(), never);
      editorToken.abort();
      editorToken = new AbortController();
      latest = k;
      const pressedAt = t0 + key.atMs;
      const doc = { path: key.file.path, languageId: key.file.language, text: key.before + key.typed + key.after, offset: key.before.length + key.typed.length };
      pending.push(
        session.complete(doc, 'auto', editorToken.signal).then((r) => {
          records.push(r);
          if (r.outcome !== 'shown' || latest !== k) return;
          const own = serverOwnMs(server);
          if (own === null) return;
          const latency = performance.now() - pressedAt;
          latencies.push(latency);
          debounces.push(r.debounceMs);
          serverOwn.push(own);
          overheads.push(latency - r.debounceMs - own);
        }),
      );
    }
    await Promise.all(pending);

    // Explicit requests, one at a time, at places the typing-through cache does not know.
    const invoke = newSession(server, args.api, false);
    const invokeOverheads: number[] = [];
    for (let i = 0; i < args.invokes; i++) {
      const key = keys[(i * 7919) % keys.length]!;
      const doc = { path: key.file.path, languageId: key.file.language, text: `${key.before}${key.typed}/*${i}*/${key.after}`, offset: key.before.length + key.typed.length + `/*${i}*/`.length };
      const started = performance.now();
      const r = await invoke.complete(doc, 'invoke');
      const own = serverOwnMs(server);
      if (r.outcome === 'shown' && own !== null) invokeOverheads.push(performance.now() - started - own);
    }

    const outcomes: Record<string, number> = {};
    for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const row: RemoteLatencyRow = {
      api: args.api,
      serverMs: args.serverMs,
      keystrokes: keys.length,
      shown: latencies.length,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
      debounceP50Ms: percentile(debounces, 0.5),
      serverOwnP50Ms: percentile(serverOwn, 0.5),
      overheadP50Ms: percentile(overheads, 0.5),
      overheadP95Ms: percentile(overheads, 0.95),
      invokeOverheadP50Ms: percentile(invokeOverheads, 0.5),
      invokeOverheadP95Ms: percentile(invokeOverheads, 0.95),
      requests: server.requests.length,
      outcomes,
    };
    const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
    log(`  keystroke -> suggestion   p50 ${f(row.latencyP50Ms)} ms   p95 ${f(row.latencyP95Ms)} ms   (${row.shown} shown; debounce p50 ${f(row.debounceP50Ms)} ms, server's own time p50 ${f(row.serverOwnP50Ms)} ms)`);
    log(`  overhead over the server  p50 ${f(row.overheadP50Ms)} ms   p95 ${f(row.overheadP95Ms)} ms   (keystroke -> suggestion - debounce - server's own time; goal p50 <= 30 ms)`);
    log(`  explicit requests         overhead p50 ${f(row.invokeOverheadP50Ms)} ms   p95 ${f(row.invokeOverheadP95Ms)} ms   (${args.invokes} requests, no debounce)`);
    log(`  requests sent ${row.requests}; outcomes ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    log(`Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}.`);
    if (args.json) console.log(JSON.stringify(row, null, 2));
    return row;
  } finally {
    await server.close();
  }
}
