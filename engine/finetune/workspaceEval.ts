// How well a model (with or without trained LoRA adapters) knows the held-out files: the mean
// next-token loss over their left-to-right documents, and the edit similarity of greedy line
// completions against the real rest of the line. Generation merges the adapters into the
// weights for the duration of the evaluation and takes them out again.
import type { Model } from '../model/model';
import { createReferenceBackend } from '../runtime/referenceBackend';
import { Generator } from '../generate/generator';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { createActivations, countTargets, lossAndGrads, type TrainBatch } from '../train/gradients';
import { mergeLora, unmergeLora, type Lora } from '../train/lora';
import { editSimilarity, type LineTask } from './workspaceDataset';

export interface LineSample {
  path: string;
  line: number;
  expected: string;
  got: string;
}

export interface EvalResult {
  /** Mean cross-entropy per held-out token, in nats. */
  loss: number;
  /** Tokens the loss was measured on. */
  tokens: number;
  /** Mean edit similarity of the completed lines (0..1). */
  editSimilarity: number;
  /** Share of lines completed exactly. */
  exactMatch: number;
  lines: number;
  samples: LineSample[];
}

/** New tokens one line completion may write. */
export const LINE_MAX_TOKENS = 48;

export interface LossWindows {
  /** The documents one after another, `separator` after each. */
  stream: number[];
  /** Tokens scored per window: the T asked for, or fewer when the stream is shorter (0: nothing to score). */
  T: number;
  /** Where each window starts in the stream; it scores stream[start + 1 .. start + T]. */
  starts: number[];
}

/** The documents cut into windows of T tokens (at most maxWindows of them, evenly spread; one shorter window when there is less). */
export function lossWindows(docs: readonly number[][], separator: number, T: number, maxWindows: number): LossWindows {
  const stream: number[] = [];
  for (const d of docs) {
    for (const id of d) stream.push(id);
    stream.push(separator);
  }
  // Held-out text shorter than one window is measured in one shorter window.
  T = Math.max(0, Math.min(T, stream.length - 1));
  if (T < 1) return { stream, T, starts: [] };
  const windows = Math.floor((stream.length - 1) / T);
  const n = Math.min(maxWindows, windows);
  return { stream, T, starts: Array.from({ length: n }, (_, i) => Math.floor((i * windows) / n) * T) };
}

/** Mean loss over the documents' windows (lossWindows). */
export function heldOutLoss(model: Model, lora: Lora | null, docs: readonly number[][], separator: number, T: number, maxWindows: number, signal?: AbortSignal): { loss: number; tokens: number } {
  const w = lossWindows(docs, separator, T, maxWindows);
  if (w.T < 1) return { loss: NaN, tokens: 0 };
  const acts = createActivations(model.config, 1, w.T, { lora });
  const batch: TrainBatch = { B: 1, T: w.T, tokens: new Int32Array(w.T), targets: new Int32Array(w.T) };
  let total = 0;
  let tokens = 0;
  for (const start of w.starts) {
    signal?.throwIfAborted();
    for (let t = 0; t < w.T; t++) {
      batch.tokens[t] = w.stream[start + t]!;
      batch.targets[t] = w.stream[start + t + 1]!;
    }
    const count = countTargets(batch.targets);
    total += lossAndGrads(model, batch, acts, null, { lora }) * count;
    tokens += count;
  }
  return { loss: total / Math.max(1, tokens), tokens };
}

/** Greedy completions of the tasks' lines; a line ends at a newline, end of text or a FIM marker. */
export async function completeLines(model: Model, lora: Lora | null, tok: Tokenizer, tasks: readonly LineTask[], stopIds: readonly number[], signal?: AbortSignal): Promise<LineSample[]> {
  const stops = [...stopIds, ...model.config.eosTokenIds];
  if (lora) mergeLora(model, lora);
  try {
    const generator = new Generator(createReferenceBackend(model));
    const out: LineSample[] = [];
    for (const task of tasks) {
      signal?.throwIfAborted();
      const r = await generator.generate(task.promptIds, {
        maxNewTokens: LINE_MAX_TOKENS,
        sampling: { temperature: 0 },
        stopTokenIds: [...new Set(stops)],
        stopStrings: ['\n'],
        tokenizer: tok,
        signal,
      });
      signal?.throwIfAborted();
      out.push({ path: task.path, line: task.line, expected: task.expected, got: r.text.trimEnd() });
    }
    generator.reset();
    return out;
  } finally {
    if (lora) unmergeLora(model, lora);
  }
}

export interface EvalInputs {
  docs: readonly number[][];
  /** The token between held-out documents, and the tokens that end a line's completion (the model's FIM template's). */
  eot: number;
  stopIds: readonly number[];
  tasks: readonly LineTask[];
  T: number;
  maxWindows: number;
}

export async function evaluate(model: Model, lora: Lora | null, tok: Tokenizer, inputs: EvalInputs, signal?: AbortSignal): Promise<EvalResult> {
  const { loss, tokens } = heldOutLoss(model, lora, inputs.docs, inputs.eot, inputs.T, inputs.maxWindows, signal);
  const samples = await completeLines(model, lora, tok, inputs.tasks, inputs.stopIds, signal);
  const sims = samples.map((s) => editSimilarity(s.got, s.expected));
  const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    loss,
    tokens,
    editSimilarity: mean(sims),
    exactMatch: mean(samples.map((s) => (s.got === s.expected ? 1 : 0))),
    lines: samples.length,
    samples,
  };
}
