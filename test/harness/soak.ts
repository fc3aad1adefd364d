// The completion soak: keystrokes into a CompletionSession over WorkerEngine and the real
// EngineClient/worker (the extension's own pipeline) with the tiny model, with random edits
// (type, delete, paste, new line, jump elsewhere, switch files), random cancellations (the
// editor cancelling a request at a random moment) and preemption by newer keystrokes. It
// counts outcomes, unhandled rejections and uncaught exceptions, samples resident memory, and
// measures the main thread's event-loop delay per tenth of the run.
//
// Event-loop delay: perf_hooks.monitorEventLoopDelay records the whole interval between its
// timer's ticks, so every sample holds the resolution itself (an idle loop at resolution 10
// reads about 10 ms). With a 1 ms resolution the samples are fine-grained enough to catch a
// few-ms stall, and 1 ms is subtracted to report the delay beyond the schedule.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EngineClient } from '../../engine/worker/client';
import { WorkerEngine } from '../../engine/worker/workerEngine';
import { WorkerPrompter } from '../../engine/worker/workerPrompter';
import { CompletionSession, type CompletionRecord, type Outcome } from '../../engine/complete/session';
import { ContextRing } from '../../engine/complete/contextRing';
import type { CompletionDocument } from '../../engine/complete/prompt';
import { mulberry32 } from '../../engine/model/init';
import { writeTinyModel } from './tinyModel';

export interface SoakOptions {
  requests: number;
  seed: number;
  /** limelight.completions.debounceMs for the session. */
  debounceMs: number;
  /** Mean gap between keystrokes (exponential), before the occasional pause. */
  meanGapMs: number;
  /** Chance that a keystroke is followed by a pause long enough for a suggestion to show. */
  pauseChance: number;
}

export interface SoakFigures {
  requests: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** complete() calls that rejected (it must never). */
  rejected: number;
  /** The distinct reasons of 'error' outcomes and rejections (at most 5). */
  errors: string[];
  unhandledRejections: number;
  uncaughtExceptions: number;
  /**
   * Resident set (main thread and engine worker: one process), MiB: the median of the samples
   * (one per 1 % of the run) in the tenth after warm-up, and in the last tenth. The worker's
   * heap rises and falls with its garbage collections, so single samples would be noise.
   */
  rssWarmMiB: number;
  rssEndMiB: number;
  rssGrowthPct: number;
  /** Median RSS of each tenth after warm-up, MiB (the trend behind the growth figure). */
  rssTenthsMiB: number[];
  /** Event-loop delay beyond schedule over the whole run after warm-up, ms. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** The worst p99 of any tenth of the run after warm-up, ms. */
  loopWorstWindowP99Ms: number;
  /** The same figures for an idle Node process over the same windows (the machine's share). */
  control: ControlFigures;
  wallS: number;
}

const RESOLUTION_MS = 1;
const WARMUP = 0.1;

/** Source files to type in: the fixture workspace and a few of the engine's own, long ones. */
function corpus(root: string): { path: string; languageId: string; text: string }[] {
  const files: [string, string][] = [
    ['test/fixtures/sample-workspace/src/fib.py', 'python'],
    ['test/fixtures/sample-workspace/src/stack.ts', 'typescript'],
    ['test/fixtures/sample-workspace/src/wordCount.js', 'javascript'],
    ['engine/complete/session.ts', 'typescript'],
    ['engine/generate/generator.ts', 'typescript'],
    ['tools/build.mjs', 'javascript'],
  ];
  return files.map(([path, languageId]) => ({ path: join(root, path), languageId, text: readFileSync(join(root, path), 'utf8') }));
}

/**
 * An idle Node process measuring its own event-loop delay over the same windows: on a
 * machine shared with other work, the delay the scheduler adds to any thread. The soak's
 * figures are read against it.
 */
const CONTROL = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const all = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
const win = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
all.enable(); win.enable();
const ms = (h, q) => Math.max(0, (q === 100 ? h.max : h.percentile(q)) / 1e6 - ${RESOLUTION_MS});
let worst = 0;
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'window') { worst = Math.max(worst, ms(win, 99)); win.reset(); return; }
  process.stdout.write(JSON.stringify({ p50: ms(all, 50), p99: ms(all, 99), max: ms(all, 100), worstWindowP99: worst }) + '\\n');
  process.exit(0);
}).on('close', () => process.exit(0));
`;

interface ControlFigures {
  p50: number;
  p99: number;
  max: number;
  worstWindowP99: number;
}

function startControl(): { window(): void; stop(): Promise<ControlFigures> } {
  const child = spawn(process.execPath, ['-e', CONTROL], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    window: () => void child.stdin.write('window\n'),
    stop: async () => {
      child.stdin.write('stop\n');
      await exited;
      return JSON.parse(out) as ControlFigures;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function ms(h: IntervalHistogram, q: number): number {
  return Math.max(0, (q === 100 ? h.max : h.percentile(q)) / 1e6 - RESOLUTION_MS);
}

export async function runSoak(o: SoakOptions): Promise<SoakFigures> {
  // A full collection before each memory sample keeps garbage not yet collected out of the figure.
  setFlagsFromString('--expose-gc');
  (globalThis as { gc?: () => void }).gc ??= runInNewContext('gc') as () => void;
  const root = join(__dirname, '..', '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'limelight-soak-'));
  const rng = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  let unhandledRejections = 0;
  let uncaughtExceptions = 0;
  const onRejection = (): void => void unhandledRejections++;
  const onException = (): void => void uncaughtExceptions++;
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const client = new EngineClient();
  const started = performance.now();
  try {
    const modelDir = writeTinyModel(join(dir, 'model'), { nPositions: 1024 });
    const info = await client.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32', contextLength: 1024 });
    const ring = new ContextRing();
    const session = new CompletionSession(new WorkerPrompter(client, info.fimStopIds), new WorkerEngine(client), { debounceMs: o.debounceMs, contextLength: info.contextLength }, ring);
    const docs = corpus(root);
    // Where a user puts the cursor: the end of a line.
    const lineEnd = (text: string, at: number): number => {
      const nl = text.indexOf('\n', at);
      return nl < 0 ? text.length : nl;
    };
    const open = docs.map((d) => ({ ...d, offset: lineEnd(d.text, Math.floor(rng() * d.text.length)) }));
    let cur = 0;
    // Typed text comes from a place in another file, character after character.
    let source = pick(docs).text;
    let sourceAt = Math.floor(rng() * source.length);

    const outcomes: Partial<Record<Outcome, number>> = {};
    let rejected = 0;
    const errors = new Set<string>();
    const pending = new Set<Promise<void>>();
    const overall = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    const window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    window.enable();
    let worstWindowP99 = 0;
    const tenth = Math.max(1, Math.floor(o.requests / 10));
    const hundredth = Math.max(1, Math.floor(o.requests / 100));
    const warmEnd = tenth * Math.round(WARMUP * 10);
    const rssByTenth: number[][] = Array.from({ length: 10 }, () => []);
    let control: ReturnType<typeof startControl> | null = null;

    for (let i = 0; i < o.requests; i++) {
      const d = open[cur]!;
      const op = rng();
      if (op < 0.6) {
        // Type the next character of the source text, so the text stays code-like.
        if (sourceAt >= source.length || rng() < 0.02) {
          source = pick(docs).text;
          sourceAt = Math.floor(rng() * source.length);
        }
        const ch = source[sourceAt++]!;
        d.text = d.text.slice(0, d.offset) + ch + d.text.slice(d.offset);
        d.offset += ch.length;
      } else if (op < 0.72) {
        const n = Math.min(d.offset, 1 + Math.floor(rng() * 3));
        d.text = d.text.slice(0, d.offset - n) + d.text.slice(d.offset);
        d.offset -= n;
      } else if (op < 0.77) {
        const src = pick(docs).text;
        const at = Math.floor(rng() * src.length);
        const chunk = src.slice(at, at + 20 + Math.floor(rng() * 600));
        d.text = d.text.slice(0, d.offset) + chunk + d.text.slice(d.offset);
        d.offset += chunk.length;
      } else if (op < 0.85) {
        const indent = /^[ \t]*/.exec(d.text.slice(d.text.lastIndexOf('\n', d.offset - 1) + 1))![0];
        d.text = d.text.slice(0, d.offset) + '\n' + indent + d.text.slice(d.offset);
        d.offset += 1 + indent.length;
      } else if (op < 0.95) {
        d.offset = lineEnd(d.text, Math.floor(rng() * (d.text.length + 1)));
      } else {
        // Switch files: the place left is noted for context, the new file is warmed.
        ring.note(d.path, d.text, d.offset);
        cur = (cur + 1 + Math.floor(rng() * (open.length - 1))) % open.length;
        const next = open[cur]!;
        void session.warm({ ...next });
      }
      // Keep the edited files from drifting far from their original sizes.
      if (d.text.length > 3 * docs[cur]!.text.length + 4000) {
        d.text = docs[cur]!.text;
        d.offset = Math.min(d.offset, d.text.length);
      }
      const doc: CompletionDocument = { path: open[cur]!.path, languageId: open[cur]!.languageId, text: open[cur]!.text, offset: open[cur]!.offset };
      // The editor cancels some requests at a random moment (its token), the rest run until
      // they end or a newer keystroke preempts them.
      const cancel = rng() < 0.15 ? new AbortController() : null;
      if (cancel) setTimeout(() => cancel.abort(), Math.floor(rng() * 60));
      const p: Promise<void> = session
        .complete(doc, rng() < 0.03 ? 'invoke' : 'auto', cancel?.signal)
        .then(
          (r: CompletionRecord) => {
            outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
            if (r.outcome === 'error' && errors.size < 5) errors.add(r.reason);
          },
          (e: Error) => {
            rejected++;
            if (errors.size < 5) errors.add(`rejected: ${e.message}`);
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);

      const gap = rng() < o.pauseChance ? 100 + rng() * 300 : -Math.log(1 - rng()) * o.meanGapMs;
      await new Promise((r) => setTimeout(r, gap));

      if ((i + 1) % hundredth === 0 && i + 1 > warmEnd) rssByTenth[Math.min(9, Math.floor((10 * i) / o.requests))]!.push(process.memoryUsage().rss);
      if ((i + 1) % tenth === 0) {
        if (i + 1 === warmEnd) {
          await Promise.all(pending);
          gc();
          control = startControl();
          overall.enable();
        } else if (i + 1 > warmEnd) {
          worstWindowP99 = Math.max(worstWindowP99, ms(window, 99));
          control?.window();
        }
        window.reset();
      }
    }
    await Promise.all(pending);
    overall.disable();
    window.disable();
    const controlFigures = await control!.stop();
    const MiB = 1024 * 1024;
    const tenths = rssByTenth.filter((t) => t.length > 0).map((t) => median(t) / MiB);
    const rssWarm = tenths[0]!;
    const rssEnd = tenths.at(-1)!;
    return {
      requests: o.requests,
      outcomes,
      rejected,
      errors: [...errors],
      unhandledRejections,
      uncaughtExceptions,
      rssWarmMiB: rssWarm,
      rssEndMiB: rssEnd,
      rssGrowthPct: (100 * (rssEnd - rssWarm)) / rssWarm,
      rssTenthsMiB: tenths,
      loopP50Ms: ms(overall, 50),
      loopP99Ms: ms(overall, 99),
      loopMaxMs: ms(overall, 100),
      loopWorstWindowP99Ms: worstWindowP99,
      control: controlFigures,
      wallS: (performance.now() - started) / 1000,
    };
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as the report prints them. */
export function formatSoak(f: SoakFigures): string {
  const outcomes = Object.entries(f.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `requests ${f.requests}: ${outcomes}; rejected ${f.rejected}, unhandled rejections ${f.unhandledRejections}, uncaught exceptions ${f.uncaughtExceptions}`,
    `RSS after warm-up ${f.rssWarmMiB.toFixed(1)} MiB, at the end ${f.rssEndMiB.toFixed(1)} MiB, growth ${f.rssGrowthPct.toFixed(2)} % (by tenth: ${f.rssTenthsMiB.map((r) => r.toFixed(0)).join(' ')})`,
    `event-loop delay after warm-up: p50 ${f.loopP50Ms.toFixed(2)} ms, p99 ${f.loopP99Ms.toFixed(2)} ms, max ${f.loopMaxMs.toFixed(2)} ms, worst tenth p99 ${f.loopWorstWindowP99Ms.toFixed(2)} ms`,
    `idle control process, same windows: p50 ${f.control.p50.toFixed(2)} ms, p99 ${f.control.p99.toFixed(2)} ms, max ${f.control.max.toFixed(2)} ms, worst tenth p99 ${f.control.worstWindowP99.toFixed(2)} ms`,
    ...f.errors.map((e) => `error: ${e}`),
    `wall ${f.wallS.toFixed(1)} s`,
  ].join('\n');
}
