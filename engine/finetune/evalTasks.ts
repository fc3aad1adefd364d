// The samples of `limelight eval` drawn from a folder of source files, and the model's answers
// to them. Samples are drawn without replacement from a seeded generator, so the same files,
// seed and limit give the same samples on every machine. Four tasks:
//   lm         windows of the files left to right: loss per token, perplexity, bits per byte
//   line       the code of a line from the file before it (and after it, for FIM models)
//   fim        a span cut from the middle of a line, or a block of lines, between what is around it
//   summarize  a documented function's first doc sentence from its code (docstrings.ts)
// Each comes with its baseline (evalMetrics.ts); lm's is the uniform distribution over the
// vocabulary, a model that has learnt nothing.
import type { Generator } from '../generate/generator';
import { Rng } from '../generate/rng';
import { crossEntropyForward } from '../kernels/crossEntropy';
import type { InferenceBackend } from '../runtime/backend';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { SummaryEncode } from '../tokenizer/promptFormats';
import { documentedFunctions, type Language } from '../workspace/docstrings';
import { closestEarlierLine, completionScores, nameWords, summaryScores, type CompletionScores, type SummaryScores } from './evalMetrics';
import { LINE_MAX_TOKENS, lossWindows } from './workspaceEval';
import { lineCandidates, promptAround, type SourceFile } from './workspaceDataset';

export const EVAL_TASKS = ['lm', 'line', 'fim', 'summarize'] as const;
export type EvalTaskName = (typeof EVAL_TASKS)[number];

/** `limit` indices out of 0..n-1 drawn without replacement from `seed`, in increasing order. */
export function sampleIndices(n: number, limit: number, seed: number): number[] {
  const rng = new Rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  const k = Math.min(n, Math.max(0, limit));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.nextFloat() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

export interface LmScores {
  loss: number;
  perplexity: number;
  bits_per_byte: number;
}

function lmScores(loss: number, tokensPerByte: number): LmScores {
  return { loss, perplexity: Math.exp(loss), bits_per_byte: (loss * tokensPerByte) / Math.LN2 };
}

/**
 * The files left to right, one after another with `separator` between them, cut into windows
 * of the backend's context of which `limit` are drawn from `seed`, each scored from the
 * backend's logits at every position (the inference path: quantized weights stay as they
 * are). Bits per byte take the files' mean tokens per UTF-8 byte.
 */
export async function lmEval(backend: InferenceBackend, vocabSize: number, encode: (text: string) => number[], files: readonly SourceFile[], separator: number, seed: number, limit: number, signal?: AbortSignal): Promise<{ model: LmScores; baseline: LmScores; tokens: number; windows: number }> {
  const docs = files.map((f) => encode(f.text));
  const all = lossWindows(docs, separator, backend.contextLength, Infinity);
  const w = { ...all, starts: sampleIndices(all.starts.length, limit, seed).map((i) => all.starts[i]!) };
  const ids = new Int32Array(w.T); // (T)
  const targets = new Int32Array(w.T); // (T)
  const losses = new Float32Array(w.T); // (T)
  let total = 0;
  for (const start of w.starts) {
    signal?.throwIfAborted();
    for (let t = 0; t < w.T; t++) {
      ids[t] = w.stream[start + t]!;
      targets[t] = w.stream[start + t + 1]!;
    }
    const { logits } = await backend.forward(ids, 0, { allLogits: true }); // (T, V)
    crossEntropyForward(losses, logits, targets, w.T, logits.length / w.T);
    for (let t = 0; t < w.T; t++) total += losses[t]!;
  }
  const tokens = w.starts.length * w.T;
  const perByte = w.stream.length / Math.max(1, files.reduce((a, f) => a + Buffer.byteLength(f.text, 'utf8'), 0));
  return { model: lmScores(total / Math.max(1, tokens), perByte), baseline: lmScores(Math.log(vocabSize), perByte), tokens, windows: w.starts.length };
}

/** The prompt for the text before and after a gap in the file at `path`. */
export type GapPrompt = (path: string, prefix: string, suffix: string) => number[];

export interface CompletionTask {
  path: string;
  /** 1-based line number. */
  line: number;
  promptIds: number[];
  expected: string;
  baseline: string;
  /** The answer runs over several lines (a fim block): it does not stop at a line feed. */
  multiLine?: boolean;
}

function linesBefore(text: string, offset: number): string[] {
  return text.slice(0, text.lastIndexOf('\n', offset - 1) + 1).split('\n');
}

/** Line completion: the prompt ends at the start of a line's code; the answer is the rest of that line. */
export function lineEvalTasks(prompt: GapPrompt, files: readonly SourceFile[], seed: number, limit: number, maxPromptTokens: number): CompletionTask[] {
  const candidates = lineCandidates(files);
  const out: CompletionTask[] = [];
  for (const i of sampleIndices(candidates.length, limit, seed)) {
    const c = candidates[i]!;
    const text = c.file.text;
    const promptIds = promptAround((p, s) => prompt(c.file.path, p, s), text, c.cursor, c.end, maxPromptTokens);
    if (promptIds === null) continue;
    const expected = text.slice(c.cursor, c.end).trimEnd();
    out.push({ path: c.file.path, line: c.line, promptIds, expected, baseline: closestEarlierLine(expected, linesBefore(text, c.cursor)) });
  }
  return out;
}

/**
 * The fim baseline: the earlier line most like the gapped line's visible code (`before` +
 * `after`), less the start it shares with `before` and the end it shares with `after`.
 */
export function fillFromEarlierLine(before: string, after: string, earlierLines: readonly string[]): string {
  const line = closestEarlierLine(before + after, earlierLines);
  let p = 0;
  while (p < line.length && p < before.length && line[p] === before[p]) p++;
  let s = 0;
  while (s < line.length - p && s < after.length && line[line.length - 1 - s] === after[after.length - 1 - s]) s++;
  return line.slice(p, line.length - s);
}

/** New tokens a fim block (two or three lines) may take. */
export const BLOCK_MAX_TOKENS = 3 * LINE_MAX_TOKENS;

/** The block baseline: the run of as many earlier lines most like the answer (its first indentation dropped). */
function closestEarlierRun(expected: string, earlierLines: readonly string[], n: number): string {
  const runs: string[] = [];
  for (let i = 0; i + n <= earlierLines.length; i++) runs.push(earlierLines.slice(i, i + n).join('\n'));
  return closestEarlierLine(expected, runs);
}

/**
 * Fill in the middle, half the samples each way: a span of at least one character cut from
 * inside a line's code with code left on both sides, or a block of two or three whole lines
 * (from the first line's code to the last line's end) where the file has them.
 */
export function fimEvalTasks(prompt: GapPrompt, files: readonly SourceFile[], seed: number, limit: number, maxPromptTokens: number): CompletionTask[] {
  const candidates = lineCandidates(files);
  const spans = new Rng(seed ^ 0x5bd1e995);
  const out: CompletionTask[] = [];
  for (const i of sampleIndices(candidates.length, limit, seed)) {
    const c = candidates[i]!;
    const text = c.file.text;
    const earlier = linesBefore(text, c.cursor);
    const blockLines = spans.nextFloat() < 0.5 ? 2 + Math.floor(spans.nextFloat() * 2) : 1;
    if (blockLines > 1) {
      const last = candidates[i + blockLines - 1];
      if (last !== undefined && last.file === c.file && last.line === c.line + blockLines - 1) {
        const promptIds = promptAround((p, s) => prompt(c.file.path, p, s), text, c.cursor, last.end, maxPromptTokens);
        if (promptIds === null) continue;
        const expected = text.slice(c.cursor, last.end).trimEnd();
        out.push({ path: c.file.path, line: c.line, promptIds, expected, baseline: closestEarlierRun(expected, earlier, blockLines), multiLine: true });
        continue;
      }
    }
    const code = text.slice(c.cursor, c.end).trimEnd();
    // Candidates have at least 6 characters of code: a in 1..L-2, b in a+1..L-1.
    const a = 1 + Math.floor(spans.nextFloat() * (code.length - 2));
    const b = a + 1 + Math.floor(spans.nextFloat() * (code.length - 1 - a));
    const promptIds = promptAround((p, s) => prompt(c.file.path, p, s), text, c.cursor + a, c.cursor + b, maxPromptTokens);
    if (promptIds === null) continue;
    out.push({ path: c.file.path, line: c.line, promptIds, expected: code.slice(a, b), baseline: fillFromEarlierLine(code.slice(0, a), code.slice(b), earlier) });
  }
  return out;
}

export interface SummaryTask extends CompletionTask {
  name: string;
}

const LANGUAGE_OF_EXTENSION: Record<string, Language> = { py: 'python', js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript', ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'typescript', go: 'go' };

/** The language whose doc comments docstrings.ts reads, from the file's extension (null: none). */
export function summaryLanguage(path: string): Language | null {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? null : LANGUAGE_OF_EXTENSION[path.slice(dot + 1).toLowerCase()] ?? null;
}

/** Summaries: documented functions (Python docstrings, JSDoc, Go doc comments); code that does not fit is cut at line ends from its end. */
export function summaryEvalTasks(prompt: SummaryEncode, files: readonly SourceFile[], seed: number, limit: number, maxPromptTokens: number): SummaryTask[] {
  const fns = files.flatMap((f) => {
    const lang = summaryLanguage(f.path);
    return lang === null ? [] : documentedFunctions(f.text, lang).map((fn) => ({ path: f.path, fn }));
  });
  const out: SummaryTask[] = [];
  for (const i of sampleIndices(fns.length, limit, seed)) {
    const { path, fn } = fns[i]!;
    const lines = fn.code.split('\n');
    let promptIds = prompt(path, fn.code);
    for (let keep = lines.length; promptIds.length > maxPromptTokens && keep > 1; ) {
      keep = Math.ceil(keep / 2);
      promptIds = prompt(path, lines.slice(0, keep).join('\n'));
    }
    if (promptIds.length > maxPromptTokens) continue;
    out.push({ path, line: fn.line, name: fn.name, promptIds, expected: fn.summary, baseline: nameWords(fn.name) });
  }
  return out;
}

export interface AnswerOptions {
  stopIds: readonly number[];
  tokenizer: Tokenizer;
  /** The answer ends at the first line feed (completions but fim blocks, plain summaries). */
  oneLine: boolean;
  maxNewTokens?: number;
  signal?: AbortSignal;
}

/** Greedy answers to the tasks' prompts, one after another on the same generator. */
export async function answer(generator: Generator, tasks: readonly CompletionTask[], opts: AnswerOptions): Promise<string[]> {
  const out: string[] = [];
  for (const task of tasks) {
    opts.signal?.throwIfAborted();
    const r = await generator.generate(task.promptIds, {
      maxNewTokens: opts.maxNewTokens ?? LINE_MAX_TOKENS,
      sampling: { temperature: 0 },
      stopTokenIds: [...new Set(opts.stopIds)],
      stopStrings: opts.oneLine && task.multiLine !== true ? ['\n'] : [],
      tokenizer: opts.tokenizer,
      signal: opts.signal,
    });
    out.push(r.text);
  }
  return out;
}

export interface TaskScores<S> {
  model: S;
  baseline: S;
}

/** Line and fim scores; a line's or block's answer is compared without trailing space, as its expected text is. */
export function scoreCompletions(tasks: readonly CompletionTask[], answers: readonly string[], lines: boolean): TaskScores<CompletionScores> {
  return {
    model: completionScores(tasks.map((t, i) => ({ got: lines || t.multiLine === true ? answers[i]!.trimEnd() : answers[i]!, expected: t.expected }))),
    baseline: completionScores(tasks.map((t) => ({ got: t.baseline, expected: t.expected }))),
  };
}

/** Summary scores on the answer's first non-blank line (an instruct model may start with a blank one). */
export function scoreSummaries(tasks: readonly SummaryTask[], answers: readonly string[]): TaskScores<SummaryScores> {
  const firstLine = (s: string): string => s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return {
    model: summaryScores(tasks.map((t, i) => ({ got: firstLine(answers[i]!), expected: t.expected }))),
    baseline: summaryScores(tasks.map((t) => ({ got: t.baseline, expected: t.expected }))),
  };
}
