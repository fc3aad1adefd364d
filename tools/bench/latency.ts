// Completion latency as the user sees it: `npm run bench -- latency [options]`.
// Replays the typing of held-out source files (the starter corpus's test split, several
// languages; source files from node_modules where the corpus was not built) character by
// character at a human rate, through the same pipeline the extension uses below the VS Code
// API: CompletionSession (cache, policy, debounce, prompt, post-processing) and the engine
// worker (EngineClient), with a random model of the starter's shape (its text is garbage,
// its timings are real). Every keystroke asks for a completion as VS Code would.
// Reported per backend:
//   keystroke -> suggestion shown (p50, p95), counted where it came before the next keystroke
//   tokens prefilled per generation (median, p95) and per keystroke (mean), KV reuse share
//   typing-through cache hit rate, suggestions shown per 100 keystrokes, outcomes
//   acceptance proxy: share of shown suggestions whose first line is what the user typed next
// Options: --backends js,js:q8_0,ort-cpu (js takes :f32, :f16 or :q8_0 weights)  --keystrokes N (per backend)
//          --ms-per-char N  --threads N
//          --engine worker|local  --files DIR (a corpus test folder)  --json  --trace (a line per request)
//          --switch (a few characters per visit to each file, file after file, each visit going
//          on where the last stopped: the prefill a file switch costs with the prompt cache
//          across files)  --kv-cache-mb N (0: that cache off)
import { OptionReader, percentile } from './benchArgs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { configFromHF } from '../../engine/model/families';
import { mulberry32, randomModel } from '../../engine/model/init';
import { kvBytesPerPosition } from '../../engine/model/memory';
import { loadModel } from '../../engine/model/load';
import { ContextRing } from '../../engine/complete/contextRing';
import type { Model } from '../../engine/model/model';
import { hfTensors } from '../../engine/train/hfExport';
import { writeSafetensors } from '../../engine/io/safetensors';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { Generator } from '../../engine/generate/generator';
import { selectBackend, type BackendSetting } from '../../engine/runtime/select';
import { FastBackend, WEIGHT_FORMATS, type WeightFormat } from '../../engine/runtime/fastBackend';
import { EngineClient } from '../../engine/worker/client';
import { CompletionSession, type CompletionEngine, type CompletionRecord } from '../../engine/complete/session';
import { LocalEngine } from '../../engine/complete/localEngine';
import { WorkerEngine } from '../../engine/worker/workerEngine';
import { WorkerPrompter } from '../../engine/worker/workerPrompter';
import { PromptBuilder, type Prompter } from '../../engine/complete/prompt';
import { sleep } from '../../engine/complete/debounce';
import { formatRecordLine } from '../../engine/complete/explain';

/** config.json of a model with the starter's shape and encoding. */
export const STARTER_SHAPE_CONFIG = { model_type: 'gpt2', vocab_size: 50284, n_positions: 1024, n_embd: 384, n_layer: 6, n_head: 6, limelight_encoding: 'p50k_edit' };

/** Writes `model` as a checkpoint folder (config.json from `hfConfig`, model.safetensors). */
export function writeModelFolder(dir: string, hfConfig: Record<string, unknown>, model: Model): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), hfTensors(model.config, model.layout, model.params), { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2));
}

/** Writes a random model of `hfConfig`'s shape as a checkpoint folder. */
export function writeRandomModel(dir: string, hfConfig: Record<string, unknown>, seed = 1337): void {
  writeModelFolder(dir, hfConfig, randomModel(configFromHF(hfConfig), seed));
}

export interface SourceFile {
  path: string;
  language: string;
  text: string;
}

const LANGUAGES = ['typescript', 'javascript', 'python', 'go'];
const EXT_LANGUAGE: Record<string, string> = { '.ts': 'typescript', '.js': 'javascript', '.mjs': 'javascript', '.py': 'python', '.go': 'go' };

function usable(text: string): boolean {
  const lines = text.split('\n');
  return text.length > 1500 && text.length < 40_000 && lines.length > 40 && lines.every((l) => l.length < 200);
}

/** A few held-out files per language, in a fixed order. */
export function heldOutFiles(perLanguage: number, corpusTest = join('.cache', 'corpus', 'test')): { files: SourceFile[]; origin: string } {
  const files: SourceFile[] = [];
  const list = join(corpusTest, 'files.jsonl');
  if (existsSync(list)) {
    const entries = readFileSync(list, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { file: string; path: string; language: string });
    for (const lang of LANGUAGES) {
      let n = 0;
      for (const e of entries) {
        if (e.language !== lang || n >= perLanguage) continue;
        const text = readFileSync(join(corpusTest, e.file), 'utf8');
        if (!usable(text)) continue;
        files.push({ path: e.path, language: lang, text });
        n++;
      }
    }
    return { files, origin: `${list} (held-out test split)` };
  }
  // No corpus here: permissive sources from node_modules, in a fixed order.
  const counts = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (name !== '.bin' && name !== 'test') walk(p);
        continue;
      }
      const lang = EXT_LANGUAGE[extname(name)];
      if (!lang || name.endsWith('.d.ts') || name.includes('.min.') || (counts.get(lang) ?? 0) >= perLanguage) continue;
      const text = readFileSync(p, 'utf8');
      if (!usable(text)) continue;
      files.push({ path: relative('node_modules', p), language: lang, text });
      counts.set(lang, (counts.get(lang) ?? 0) + 1);
    }
  };
  walk('node_modules');
  return { files, origin: 'node_modules (no corpus test split found; run `npm run corpus` for held-out files)' };
}

/** One simulated keystroke: the document after it, the cursor, and when it happens. */
interface Keystroke {
  file: SourceFile;
  before: string;
  typed: string;
  after: string;
  /** The text the user will type next on from here (for the acceptance proxy). */
  upcoming: string;
  atMs: number;
  /** The first keystroke of a span: the user put the cursor there READ_MS earlier. */
  spanStart: boolean;
  /** At a span's start, what of it was typed on an earlier visit (the cursor arrives after it). */
  typedBefore?: string;
}

/** The pause before each span, while the user reads and places the cursor. */
const READ_MS = 1000;
/** Spans retyped per file before moving to the next file. */
const SPANS_PER_FILE = 3;
/** Lines retyped in one place. */
const SPAN_LINES = 6;

/**
 * Keystrokes that retype spans of each file (SPAN_LINES lines at a time, the rest of the file in
 * place, a few spans per file; or the given shape). Enter brings the next line's indentation with it, as the
 * editor's auto-indent does. A pause follows each line and, now and then, a word.
 */
export function typingScript(files: SourceFile[], total: number, msPerChar: number, seed = 7): Keystroke[] {
  const rand = mulberry32(seed);
  const out: Keystroke[] = [];
  let t = READ_MS;
  for (let round = 0; out.length < total && round < 8; round++) {
    for (const file of files) {
      const lines = file.text.split('\n');
      const lineStart = (i: number): number => lines.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
      for (let s = 0; s < SPANS_PER_FILE && out.length < total; s++) {
        let first = Math.floor(lines.length * (0.15 + 0.7 * ((round * SPANS_PER_FILE + s) * 0.29 + rand() * 0.05) % 0.999));
        while (first < lines.length - SPAN_LINES - 1 && lines[first].trim() === '') first++;
        first = Math.min(first, lines.length - SPAN_LINES - 1);
        const indent = lines[first].length - lines[first].trimStart().length;
        const start = lineStart(first) + indent;
        const end = lineStart(first + SPAN_LINES) - 1;
        const span = file.text.slice(start, end);
        let i = 0;
        while (i < span.length && out.length < total) {
          let step = 1;
          if (span[i] === '\n') while (span[i + step] === ' ' || span[i + step] === '\t') step++;
          i += step;
          out.push({ file, before: file.text.slice(0, start), typed: span.slice(0, i), after: file.text.slice(end), upcoming: span.slice(i), atMs: t, spanStart: i === step });
          const ch = span[i - step];
          t += msPerChar;
          if (ch === '\n') t += 300;
          else if (ch === ' ' && rand() < 0.08) t += 500 + rand() * 500;
        }
        t += READ_MS;
      }
    }
  }
  return out;
}

/** Characters typed per visit to a file in the switching replay. */
const CHARS_PER_VISIT = 16;

/**
 * Keystrokes of a user who edits one place in each file and goes from file to file: each visit
 * types CHARS_PER_VISIT more characters of that file's span, where the last visit stopped, so
 * coming back finds the file as it was left (what the prompt cache across files is for).
 */
export function switchingScript(files: SourceFile[], total: number, msPerChar: number): Keystroke[] {
  const spans = files.map((file) => {
    const lines = file.text.split('\n');
    let first = Math.floor(lines.length * 0.6);
    while (first < lines.length - SPAN_LINES - 1 && lines[first]!.trim() === '') first++;
    first = Math.min(first, lines.length - SPAN_LINES - 1);
    const lineStart = (i: number): number => lines.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
    const start = lineStart(first) + (lines[first]!.length - lines[first]!.trimStart().length);
    const end = lineStart(first + SPAN_LINES) - 1;
    return { file, start, end, typed: 0 };
  });
  const out: Keystroke[] = [];
  let t = READ_MS;
  while (out.length < total && spans.some((s) => s.typed < s.end - s.start)) {
    for (const s of spans) {
      const span = s.file.text.slice(s.start, s.end);
      const stop = Math.min(span.length, s.typed + CHARS_PER_VISIT);
      const first = s.typed;
      while (s.typed < stop && out.length < total) {
        s.typed++;
        const f = s.file;
        const spanStart = s.typed === first + 1;
        out.push({ file: f, before: f.text.slice(0, s.start), typed: span.slice(0, s.typed), after: f.text.slice(s.end), upcoming: span.slice(s.typed), atMs: t, spanStart, ...(spanStart ? { typedBefore: span.slice(0, first) } : {}) });
        t += msPerChar;
      }
      t += READ_MS;
    }
  }
  return out;
}


function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').trimEnd();
}

export interface LatencyRow {
  backend: string;
  engine: 'worker' | 'local';
  keystrokes: number;
  shown: number;
  shownPer100: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  prefillPerGenerationMedian: number;
  prefillPerGenerationP95: number;
  prefillPerKeystrokeMean: number;
  kvReuseShare: number;
  typingCacheHitRate: number;
  /** Visits to a file seen before, and the tokens each such visit prefilled in all. */
  fileReturns: number;
  returnPrefillMedian: number;
  returnPrefillP95: number;
  acceptanceProxy: number;
  newTokensPerGenerationMedian: number;
  decodeTokPerS: number;
  outcomes: Record<string, number>;
}

/** Replays the keystrokes in real time through a session on `engine`, its prompts built by `prompter` (in the worker, as the extension does, or here). */
export async function replay(keys: Keystroke[], engine: CompletionEngine, prompter: Prompter, backend: string, kind: 'worker' | 'local', trace = false): Promise<LatencyRow> {
  // Every generation the engine runs, warm-ups included (after a jump they do the prefill).
  const calls: { path: string; prefilled: number }[] = [];
  const counted: CompletionEngine = {
    keepsPromptCache: engine.keepsPromptCache,
    generate: async (req, signal, onText) => {
      const r = await engine.generate(req, signal, onText);
      calls.push({ path: req.parts.path, prefilled: r.timings.prefilled_tokens });
      return r;
    },
  };
  // Other files' excerpts, noted as the extension notes them: where the user leaves a file.
  const ring = new ContextRing();
  const session = new CompletionSession(prompter, counted, {}, ring);
  const latencies: number[] = [];
  const records: CompletionRecord[] = [];
  let accepted = 0;
  let latest = -1;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const never = new AbortController().signal;
  // VS Code cancels the pending request when the text or the cursor changes.
  let editorToken = new AbortController();
  let last: Promise<void> = Promise.resolve();
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    if (key.spanStart) {
      const left = keys[k - 1];
      if (left !== undefined && left.file !== key.file) ring.note(left.file.path, left.before + left.typed + left.after, left.before.length + left.typed.length);
      // The user clicks elsewhere, reads, then types: the extension warms the cache there.
      await sleep(t0 + key.atMs - READ_MS - performance.now(), never);
      editorToken.abort();
      latest = -1;
      const arrived = key.typedBefore ?? '';
      const warmDoc = { path: key.file.path, languageId: key.file.language, text: key.before + arrived + key.after, offset: key.before.length + arrived.length };
      void last.then(() => session.warm(warmDoc));
    }
    await sleep(t0 + key.atMs - performance.now(), never);
    editorToken.abort();
    editorToken = new AbortController();
    latest = k;
    const pressedAt = t0 + key.atMs; // when the user pressed it, even if this loop ran late
    const text = key.before + key.typed + key.after;
    const doc = { path: key.file.path, languageId: key.file.language, text, offset: key.before.length + key.typed.length };
    last = session.complete(doc, 'auto', editorToken.signal).then((r) => {
      records.push(r);
      if (trace) console.log(`  key ${k} at ${Math.round(key.atMs)} ms${key.spanStart ? ' (after a jump)' : ''}: ${formatRecordLine(r)}`);
      if ((r.outcome === 'shown' || r.outcome === 'typed-through') && latest === k) {
        latencies.push(performance.now() - pressedAt);
        if (firstLine(r.text) !== '' && firstLine(r.text) === firstLine(key.upcoming)) accepted++;
      }
    });
    pending.push(last);
  }
  await Promise.all(pending);
  const generations = records.filter((r) => r.timings !== null && r.outcome !== 'cancelled');
  const prefills = generations.map((r) => r.timings!.prefilled_tokens);
  const allPrefilled = records.reduce((n, r) => n + (r.timings?.prefilled_tokens ?? 0), 0);
  const prompt = generations.reduce((n, r) => n + r.timings!.prompt_tokens, 0);
  const reused = generations.reduce((n, r) => n + r.timings!.reused_tokens, 0);
  const newTokens = generations.reduce((n, r) => n + r.timings!.new_tokens, 0);
  const decodeMs = generations.reduce((n, r) => n + r.timings!.decode_ms, 0);
  const outcomes: Record<string, number> = {};
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  // Visits: runs of generations in one file. What a return to a file costs is everything its
  // visit prefilled (the warm-up at the jump, then each keystroke's share).
  const visits: { path: string; prefilled: number; again: boolean }[] = [];
  const seen = new Set<string>();
  for (const c of calls) {
    const v = visits.at(-1);
    if (v !== undefined && v.path === c.path) v.prefilled += c.prefilled;
    else visits.push({ path: c.path, prefilled: c.prefilled, again: seen.has(c.path) });
    seen.add(c.path);
  }
  const returns = visits.filter((v) => v.again).map((v) => v.prefilled);
  return {
    backend,
    engine: kind,
    keystrokes: keys.length,
    shown: latencies.length,
    shownPer100: (100 * latencies.length) / keys.length,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP95Ms: percentile(latencies, 0.95),
    prefillPerGenerationMedian: percentile(prefills, 0.5),
    prefillPerGenerationP95: percentile(prefills, 0.95),
    prefillPerKeystrokeMean: allPrefilled / keys.length,
    kvReuseShare: prompt > 0 ? reused / prompt : 0,
    typingCacheHitRate: (outcomes['typed-through'] ?? 0) / keys.length,
    fileReturns: returns.length,
    returnPrefillMedian: percentile(returns, 0.5),
    returnPrefillP95: percentile(returns, 0.95),
    acceptanceProxy: latencies.length > 0 ? accepted / latencies.length : 0,
    newTokensPerGenerationMedian: percentile(
      generations.map((r) => r.timings!.new_tokens),
      0.5,
    ),
    decodeTokPerS: decodeMs > 0 ? (1000 * newTokens) / decodeMs : 0,
    outcomes,
  };
}

interface Args {
  /** A backend setting, for js optionally with a weight format: js:q8_0. */
  backends: { setting: BackendSetting; weights: WeightFormat | 'auto' }[];
  keystrokes: number;
  msPerChar: number;
  threads: number;
  engine: 'worker' | 'local';
  files: string | undefined;
  json: boolean;
  trace: boolean;
  /** limelight.kvCacheMemoryMB, as the extension passes it (its default 256): the prompt cache across files lives in what the live cache leaves; 0 turns it off. */
  kvCacheMB: number;
  /** Visits file after file, each going on where the last stopped (switchingScript). */
  switching: boolean;
}

const USAGE = 'Usage: npm run bench -- latency [--backends js,js:q8_0,ort-cpu] [--keystrokes N] [--ms-per-char N] [--threads N] [--engine worker|local] [--files CORPUS_TEST_DIR] [--json] [--trace] [--kv-cache-mb N (0: no prompt cache across files)] [--switch (a few characters per file visit, files revisited)]';

function parseArgs(argv: string[]): Args {
  const a: Args = { backends: [{ setting: 'js', weights: 'auto' }, { setting: 'js', weights: 'q8_0' }, { setting: 'ort-cpu', weights: 'auto' }], keystrokes: 400, msPerChar: 80, threads: 0, engine: 'worker', files: undefined, json: false, trace: false, kvCacheMB: 256, switching: false };
  const args = new OptionReader(argv, USAGE);
  for (let opt = args.next(); opt !== undefined; opt = args.next()) {
    const value = (): string => args.value(opt);
    const int = (min: number): number => args.int(opt, min);
    if (opt === '--backends') {
      a.backends = value()
        .split(',')
        .map((spec) => {
          const [setting, weights = 'auto'] = spec.split(':');
          if (!['js', 'ort-cpu', 'ort-webgpu'].includes(setting)) throw new Error(`--backends: "${setting}" is not js, ort-cpu or ort-webgpu. ${USAGE}`);
          if (weights !== 'auto' && (setting !== 'js' || !(WEIGHT_FORMATS as readonly string[]).includes(weights))) throw new Error(`--backends: "${spec}": only js takes a weight format (${WEIGHT_FORMATS.join(', ')}). ${USAGE}`);
          return { setting: setting as BackendSetting, weights: weights as WeightFormat | 'auto' };
        });
    }
    else if (opt === '--keystrokes') a.keystrokes = int(1);
    else if (opt === '--ms-per-char') a.msPerChar = int(1);
    else if (opt === '--threads') a.threads = int(0);
    else if (opt === '--engine') {
      const e = value();
      if (e !== 'worker' && e !== 'local') throw new Error(`--engine must be worker or local. ${USAGE}`);
      a.engine = e;
    } else if (opt === '--files') a.files = value();
    else if (opt === '--json') a.json = true;
    else if (opt === '--trace') a.trace = true;
    else if (opt === '--kv-cache-mb') a.kvCacheMB = int(0);
    else if (opt === '--switch') a.switching = true;
    else throw new Error(`unknown option ${opt}. ${USAGE}`);
  }
  return a;
}

async function engineFor(kind: 'worker' | 'local', backend: BackendSetting, weights: WeightFormat | 'auto', modelDir: string, threads: number, kvCacheMB: number): Promise<{ engine: CompletionEngine; prompter: Prompter; name: string; close(): Promise<void> }> {
  if (kind === 'worker') {
    const client = new EngineClient();
    try {
      const info = await client.load({ modelDir, backend, threads, weightFormat: weights, contextLength: 1024, ...(kvCacheMB > 0 ? { kvCacheMemoryMB: kvCacheMB } : {}) });
      return { engine: new WorkerEngine(client), prompter: new WorkerPrompter(client, info.fimStopIds), name: `${info.backend}${info.weightFormat ? ` ${info.weightFormat}` : ''}, ${info.threads} threads`, close: () => client.dispose() };
    } catch (e) {
      await client.dispose();
      throw e;
    }
  }
  const model = loadModel(modelDir);
  const be = backend === 'js' ? await FastBackend.create(model, { threads, weightFormat: weights === 'auto' ? 'f32' : weights }) : (await selectBackend(model, { setting: backend, threads })).backend;
  if (backend !== 'js' && be.name !== backend) {
    be.dispose();
    throw new Error(`${backend} is not available here (it fell back to ${be.name})`);
  }
  const promptCacheBytes = Math.max(0, kvCacheMB * 2 ** 20 - be.contextLength * kvBytesPerPosition(be.config));
  return { engine: new LocalEngine(new Generator(be, { promptCacheBytes }), getTokenizer('p50k_edit')), prompter: new PromptBuilder(requireFimTemplate(getTokenizer('p50k_edit'), 'p50k_edit')), name: be.name, close: async () => be.dispose() };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export async function runLatencyBench(argv: string[]): Promise<LatencyRow[]> {
  const args = parseArgs(argv);
  const { files, origin } = heldOutFiles(2, args.files);
  if (files.length === 0) throw new Error('no source files to replay: build the corpus (`npm run corpus`) or pass --files.');
  const keys = args.switching ? switchingScript(files, args.keystrokes, args.msPerChar) : typingScript(files, args.keystrokes, args.msPerChar);
  const dir = mkdtempSync(join(tmpdir(), 'limelight-latency-'));
  const rows: LatencyRow[] = [];
  const skipped: { backend: string; reason: string }[] = [];
  const log = (s: string): void => {
    if (!args.json) console.log(s);
  };
  try {
    writeRandomModel(dir, STARTER_SHAPE_CONFIG);
    log(`Replaying ${keys.length} keystrokes (${args.msPerChar} ms/char with pauses) over ${files.length} files from ${origin}:`);
    log(`  ${[...new Set(files.map((f) => `${f.language}: ${f.path}`))].join('\n  ')}`);
    log(`Machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the start (timings are wall-clock: other load slows them).`);
    log('Model: random weights, starter shape (GPT-2, 6 layers, 6 heads, 384 wide, vocabulary 50284, p50k_edit); default completion settings.');
    for (const { setting, weights } of args.backends) {
      const backend = weights === 'auto' ? setting : `${setting}:${weights}`;
      let eng: Awaited<ReturnType<typeof engineFor>>;
      try {
        eng = await engineFor(args.engine, setting, weights, dir, args.threads, args.kvCacheMB);
      } catch (e) {
        skipped.push({ backend, reason: (e as Error).message.split('\n')[0] });
        log(`\n${backend}: skipped (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      try {
        const row = await replay(keys, eng.engine, eng.prompter, eng.name, args.engine, args.trace && !args.json);
        rows.push(row);
        log(`\n${eng.name} (${args.engine} engine)`);
        log(`  keystroke -> suggestion   p50 ${fmt(row.latencyP50Ms)} ms   p95 ${fmt(row.latencyP95Ms)} ms   (${row.shown} shown, ${fmt(row.shownPer100, 1)} per 100 keystrokes)`);
        log(`  prefilled tokens          per generation median ${fmt(row.prefillPerGenerationMedian)}  p95 ${fmt(row.prefillPerGenerationP95)};  per keystroke mean ${fmt(row.prefillPerKeystrokeMean, 1)};  KV reuse ${fmt(100 * row.kvReuseShare, 1)}% of prompt tokens`);
        log(`  typing-through cache      ${fmt(100 * row.typingCacheHitRate, 1)}% of keystrokes`);
        log(`  returns to a file         ${row.fileReturns}, tokens prefilled per return median ${fmt(row.returnPrefillMedian)}  p95 ${fmt(row.returnPrefillP95)} (prompt cache across files ${args.kvCacheMB > 0 ? `in ${args.kvCacheMB} MB of KV cache` : 'off'})`);
        log(`  new tokens / generation   median ${fmt(row.newTokensPerGenerationMedian)}, decode ${fmt(row.decodeTokPerS, 1)} tok/s`);
        log(`  acceptance proxy          ${fmt(100 * row.acceptanceProxy, 1)}% (random weights: expect ~0)`);
        log(`  outcomes                  ${Object.entries(row.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      } finally {
        await eng.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`\nLoad average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}.`);
  if (args.json) console.log(JSON.stringify({ rows, skipped }, null, 2));
  return rows;
}

if (require.main === module) {
  runLatencyBench(process.argv.slice(2)).catch((e: Error) => {
    console.error(`bench latency: ${e.message}`);
    process.exitCode = 1;
  });
}
