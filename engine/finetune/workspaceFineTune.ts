// Fine-tune on Workspace, engine side: from the selected files to trained adapters (or a full
// checkpoint) in an output folder, with the held-out evaluation before and after and a short
// markdown report. The engine worker runs it for the extension; tests and the measurement
// script call it directly. It is cancellable between steps (the latest checkpoint is kept
// and a later call with `resume` continues exactly), bounded by a time budget (the number of
// steps comes from the measured speed of one step), and reports progress as it goes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../model/load';
import { loadModelPrompts } from '../model/modelTokenizer';
import type { Model } from '../model/model';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { FimTemplate } from '../tokenizer/fimTemplates';
import { TokenDataset } from '../train/data';
import { lossAndGrads } from '../train/gradients';
import { createLora, defaultLoraOptions, type Lora } from '../train/lora';
import { Trainer, TRAINER_DEFAULTS, type TrainerOptions } from '../train/trainer';
import { TrainPool } from '../train/trainPool';
import { prepareOutDir, readTrainerState, restoreCheckpoint, resumeLora, saveCheckpoint } from '../train/checkpoint';
import { CheckpointError, type TrainerState } from '../train/checkpointState';
import { writeFileAtomic } from '../io/atomicFile';
import { waitWhileBusy } from '../runtime/busySignal';
import { heldOutDocuments, lineTasks, splitByFile, trainingDocuments, type SourceFile } from './workspaceDataset';
import { evaluate, LINE_MAX_TOKENS, type EvalInputs, type EvalResult } from './workspaceEval';
import { yieldToEventLoop } from '../runtime/eventLoop';

export interface WorkspaceTrainOptions {
  /** The base model's checkpoint folder (never written to). */
  modelDir: string;
  /** Where checkpoints, the adapter (or model), eval results and the report go. */
  outDir: string;
  /** The selected workspace files (paths relative to the workspace). */
  files: SourceFile[];
  /** LoRA adapters on the attention projections (default), or every weight. */
  mode: 'lora' | 'full';
  loraRank: number;
  /** Time budget of the whole run (evaluations included), in minutes. */
  maxMinutes: number;
  /** Continue the run saved in outDir. */
  resume: boolean;
  /** Fixed number of updates instead of what the time budget allows. */
  steps?: number;
  seqLen?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Passes over the training data at most (default 4). */
  maxEpochs?: number;
  /** Held-out line completions per evaluation (default 32). */
  evalLines?: number;
  /** Held-out loss windows per evaluation (default 24). */
  evalWindows?: number;
  /** Compute threads for training, the caller included (limelight.threads; 0 or absent: cores - 1). */
  threads?: number;
  /** A BusySignal's buffer: while completions are generating, training waits between steps. */
  yieldTo?: SharedArrayBuffer;
  /** Least seconds between two training progress reports (default 0.25; 0 reports every step). */
  reportEverySeconds?: number;
}

export type TrainPhase = 'preparing' | 'evaluating-before' | 'training' | 'evaluating-after' | 'saving';

export interface TrainProgress {
  phase: TrainPhase;
  step: number;
  steps: number;
  /** Loss of the latest update (null before the first). */
  loss: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
}

export type TrainStatus = 'completed' | 'time-limit' | 'cancelled';

export interface WorkspaceTrainResult {
  status: TrainStatus;
  step: number;
  steps: number;
  mode: 'lora' | 'full';
  outDir: string;
  trainFiles: number;
  heldOutFiles: number;
  trainTokens: number;
  before: EvalResult;
  /** Null when cancelled: the run is incomplete and can be resumed. */
  after: EvalResult | null;
  seconds: number;
  /** Seconds spent waiting for completions to finish (see WorkspaceTrainOptions.yieldTo). */
  yieldedSeconds: number;
  /** The short markdown report (also written to outDir/report.md). */
  report: string;
}

export class WorkspaceTrainError extends Error {
  override name = 'WorkspaceTrainError';
}

const EVAL_BEFORE = 'eval-before.json';
const RESULT = 'result.json';
const REPORT = 'report.md';
/** The longest wait for completions before one training step (a completion's budget is below a second). */
const MAX_YIELD_MS = 1000;
/** Save a checkpoint at least this often, so a crash or a cancel loses little. */
const CHECKPOINT_SECONDS = 30;

function trainerOptions(o: WorkspaceTrainOptions, model: Model): TrainerOptions {
  const lr = o.lr ?? (o.mode === 'lora' ? 1e-3 : 1e-4);
  return {
    ...TRAINER_DEFAULTS,
    steps: o.steps ?? 1,
    batchSize: o.batchSize ?? 4,
    seqLen: Math.min(o.seqLen ?? 256, model.config.maxPositions),
    lr,
    minLr: lr / 10,
    warmupSteps: 0,
    weightDecay: o.mode === 'lora' ? 0 : TRAINER_DEFAULTS.weightDecay,
    seed: o.seed ?? TRAINER_DEFAULTS.seed,
  };
}

/** Seconds of one update on this machine, measured on a batch without changing anything. */
function timeOneStep(trainer: Trainer): number {
  const { batchSize: B, seqLen: T } = trainer.options;
  const batch = { B, T, tokens: new Int32Array(B * T), targets: new Int32Array(B * T) };
  trainer.dataset.fill(batch, { epoch: 0, index: 0 });
  const started = performance.now();
  lossAndGrads(trainer.model, batch, trainer.acts, trainer.lora ? null : trainer.grads, { lora: trainer.lora, loraGrads: trainer.lora ? trainer.grads : null, kernels: trainer.pool ?? undefined });
  trainer.grads.fill(0);
  return ((performance.now() - started) / 1000) * trainer.options.gradAccum;
}

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function change(before: number, after: number, lowerIsBetter: boolean): string {
  if (!Number.isFinite(before) || !Number.isFinite(after) || before === 0) return '';
  const pct = ((after - before) / Math.abs(before)) * 100;
  const better = lowerIsBetter ? pct < 0 : pct > 0;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)} %${Math.abs(pct) >= 0.05 ? (better ? ' (better)' : ' (worse)') : ''}`;
}

export function reportMarkdown(r: Omit<WorkspaceTrainResult, 'report'>, modelDir: string): string {
  const a = r.after;
  const row = (name: string, b: number, x: number | undefined, digits: number, lower: boolean): string =>
    `| ${name} | ${fmt(b, digits)} | ${x === undefined ? '—' : fmt(x, digits)} | ${x === undefined ? '' : change(b, x, lower)} |`;
  const lines = [
    '# Limelight: fine-tune on workspace',
    '',
    `${r.mode === 'lora' ? 'LoRA adapters' : 'Full fine-tune'} of \`${modelDir}\`: ${r.step} of ${r.steps} steps in ${Math.round(r.seconds)} s (${r.status}${r.yieldedSeconds >= 1 ? `; ${Math.round(r.yieldedSeconds)} s of it waiting for completions` : ''}), on ${r.trainFiles} files (${r.trainTokens.toLocaleString('en-US')} tokens); ${r.heldOutFiles} files held out for the evaluation.`,
    '',
    '| held-out metric | before | after | change |',
    '| --- | --- | --- | --- |',
    row('loss (nats/token)', r.before.loss, a?.loss, 4, true),
    row('perplexity', Math.exp(r.before.loss), a ? Math.exp(a.loss) : undefined, 2, true),
    row(`line completion edit similarity (${r.before.lines} lines)`, r.before.editSimilarity, a?.editSimilarity, 3, false),
    row('exact lines', r.before.exactMatch, a?.exactMatch, 3, false),
    '',
  ];
  if (a) {
    const shown = a.samples.slice(0, 3);
    if (shown.length > 0) {
      lines.push('Examples of held-out lines (expected / before / after):', '');
      a.samples.slice(0, 3).forEach((s, i) => {
        lines.push(`- \`${s.path}:${s.line}\`: \`${s.expected}\` / \`${r.before.samples[i]?.got ?? ''}\` / \`${s.got}\``);
      });
      lines.push('');
    }
  } else {
    lines.push('The run was cancelled; its latest checkpoint is kept and can be resumed.', '');
  }
  return lines.join('\n');
}

/** Trains on the workspace files and evaluates before and after; see the file comment. */
/** The model, its prompts and where the run starts: a new run, or the one saved in outDir. */
interface RunSetup {
  model: Model;
  tokenizer: Tokenizer;
  fim: FimTemplate;
  saved: TrainerState | null;
  options: TrainerOptions;
  mode: 'lora' | 'full';
  lora: Lora | null;
}

function setUpRun(o: WorkspaceTrainOptions): RunSetup {
  const model = loadModel(o.modelDir);
  // Training examples are laid out as the model's completions are prompted: its FIM template.
  const prompts = loadModelPrompts(o.modelDir, model.config);
  if (prompts === null || prompts.fim === null) {
    throw new WorkspaceTrainError(`${o.modelDir}: fine-tuning teaches the model to complete between a prefix and a suffix, and this model has ${prompts === null ? 'no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding)' : 'no fill-in-the-middle tokens'}. Fine-tune a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama or the starter model).`);
  }
  if (o.files.length < 2) throw new WorkspaceTrainError(`Fine-tuning needs at least 2 files (one is held out to measure the gain); ${o.files.length} selected. Widen limelight.fineTune.include.`);

  prepareOutDir(o.outDir, o.modelDir);
  const saved = readTrainerState(o.outDir);
  if (saved !== null && !o.resume) throw new CheckpointError(`${o.outDir} holds a run at step ${saved.step}; resume it or remove the folder first.`);
  if (saved === null && o.resume) throw new CheckpointError(`${o.outDir} holds no run to resume; start a new one.`);
  if (saved) return { model, tokenizer: prompts.tokenizer, fim: prompts.fim, saved, options: saved.options, mode: saved.lora ? 'lora' : 'full', lora: resumeLora(o.outDir, saved, model.config) };
  const options = trainerOptions(o, model);
  const lora = o.mode === 'lora' ? createLora(model.config, defaultLoraOptions(model.config, o.loraRank), options.seed) : null;
  return { model, tokenizer: prompts.tokenizer, fim: prompts.fim, saved: null, options, mode: o.mode, lora };
}

/** The held-out measurement before training: saved with the run, so a resumed run keeps its baseline. */
async function evaluateBefore(o: WorkspaceTrainOptions, run: RunSetup, inputs: EvalInputs, onProgress: (p: TrainProgress) => void, signal?: AbortSignal): Promise<EvalResult> {
  const beforePath = join(o.outDir, EVAL_BEFORE);
  if (run.saved && existsSync(beforePath)) return JSON.parse(readFileSync(beforePath, 'utf8')) as EvalResult;
  onProgress({ phase: 'evaluating-before', step: 0, steps: 0, loss: null, tokensPerSecond: null, etaSeconds: null });
  // The base model: adapters that were never trained change nothing (B = 0).
  const before = await evaluate(run.model, null, run.tokenizer, inputs, signal);
  writeFileAtomic(beforePath, JSON.stringify(before) + '\n');
  return before;
}

/**
 * The step count, fixed before the first update (the schedule depends on it): what the budget
 * left after both evaluations allows at the measured speed, at most maxEpochs passes.
 */
function planSteps(o: WorkspaceTrainOptions, trainer: Trainer, dataset: TokenDataset, options: TrainerOptions, secondsLeft: number): void {
  const perEpoch = Math.ceil(dataset.examples / (options.batchSize * options.gradAccum));
  const maxSteps = Math.max(1, perEpoch * (o.maxEpochs ?? 4));
  const affordable = Math.floor(secondsLeft / timeOneStep(trainer));
  options.steps = o.steps ?? Math.max(1, Math.min(maxSteps, affordable));
  options.warmupSteps = Math.min(10, Math.floor(options.steps / 10));
}

interface LoopClock {
  elapsed: () => number;
  /** Seconds into the run after which no new step starts (unless a step count was given). */
  deadline: number;
  /** What the after-evaluation will take, for the ETA. */
  evalSeconds: number;
}

/** Training steps until done, cancelled or out of time, with progress reports and periodic checkpoints. */
async function trainSteps(o: WorkspaceTrainOptions, trainer: Trainer, options: TrainerOptions, clock: LoopClock, onProgress: (p: TrainProgress) => void, signal?: AbortSignal): Promise<{ status: TrainStatus; yieldedMs: number }> {
  const { elapsed } = clock;
  const firstStep = trainer.step;
  const trainStarted = elapsed();
  let lastSave = elapsed();
  let lastReport = 0;
  const reportEvery = o.reportEverySeconds ?? 0.25;
  let tokens = 0;
  let yieldedMs = 0;
  while (trainer.step < options.steps) {
    if (signal?.aborted) return { status: 'cancelled', yieldedMs };
    if (o.steps === undefined && elapsed() > clock.deadline && trainer.step > firstStep) return { status: 'time-limit', yieldedMs };
    if (o.yieldTo) yieldedMs += waitWhileBusy(o.yieldTo, MAX_YIELD_MS);
    const r = trainer.trainStep();
    tokens += r.tokens;
    const spent = elapsed() - trainStarted;
    if (elapsed() - lastReport >= reportEvery || trainer.step === options.steps) {
      lastReport = elapsed();
      const perStep = spent / (trainer.step - firstStep);
      onProgress({ phase: 'training', step: trainer.step, steps: options.steps, loss: r.loss, tokensPerSecond: tokens / spent, etaSeconds: (options.steps - trainer.step) * perStep + clock.evalSeconds });
    }
    if (elapsed() - lastSave > CHECKPOINT_SECONDS && trainer.step < options.steps) {
      saveCheckpoint(o.outDir, trainer, o.modelDir);
      lastSave = elapsed();
    }
    // Lets a cancel message reach the signal between steps.
    await yieldToEventLoop();
  }
  return { status: 'completed', yieldedMs };
}

/** Writes the report and the result next to the checkpoint; returns the result. */
function writeResult(o: WorkspaceTrainOptions, result: Omit<WorkspaceTrainResult, 'report'>): WorkspaceTrainResult {
  const report = reportMarkdown(result, o.modelDir);
  writeFileAtomic(join(o.outDir, REPORT), report);
  const full: WorkspaceTrainResult = { ...result, report };
  writeFileAtomic(join(o.outDir, RESULT), JSON.stringify(full) + '\n');
  return full;
}

export async function fineTuneWorkspace(o: WorkspaceTrainOptions, onProgress: (p: TrainProgress) => void = () => {}, signal?: AbortSignal): Promise<WorkspaceTrainResult> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  onProgress({ phase: 'preparing', step: 0, steps: 0, loss: null, tokensPerSecond: null, etaSeconds: null });
  const run = setUpRun(o);
  const { model, fim, options, lora } = run;
  const split = splitByFile(o.files);
  const dataset = new TokenDataset(trainingDocuments(fim, split.train, options.seed), fim.eot, options.seqLen, options.seed);
  const evalInputs: EvalInputs = {
    docs: heldOutDocuments(fim, split.heldOut),
    eot: fim.eot,
    stopIds: fim.stopIds,
    tasks: lineTasks(fim, split.heldOut, o.evalLines ?? 32, model.config.maxPositions - LINE_MAX_TOKENS),
    T: options.seqLen,
    maxWindows: o.evalWindows ?? 24,
  };
  // The training products run on the compute threads (the same setting as inference's).
  const pool = await TrainPool.forTraining(model.config, options.batchSize, options.seqLen, lora, { threads: o.threads, recompute: options.recompute });
  try {
    const trainer = new Trainer(model, dataset, options, lora, pool);
    if (run.saved) restoreCheckpoint(o.outDir, trainer);
    const evalStarted = elapsed();
    const before = await evaluateBefore(o, run, evalInputs, onProgress, signal);
    const evalSeconds = elapsed() - evalStarted;
    const budget = o.maxMinutes * 60;
    if (!run.saved) planSteps(o, trainer, dataset, options, budget - elapsed() - evalSeconds * 1.2);

    const loop = await trainSteps(o, trainer, options, { elapsed, deadline: budget - evalSeconds * 1.1, evalSeconds }, onProgress, signal);
    let status = loop.status;
    onProgress({ phase: 'saving', step: trainer.step, steps: options.steps, loss: trainer.losses.at(-1) ?? null, tokensPerSecond: null, etaSeconds: null });
    saveCheckpoint(o.outDir, trainer, o.modelDir);

    let after: EvalResult | null = null;
    if (status !== 'cancelled') {
      onProgress({ phase: 'evaluating-after', step: trainer.step, steps: options.steps, loss: trainer.losses.at(-1) ?? null, tokensPerSecond: null, etaSeconds: evalSeconds });
      try {
        after = await evaluate(model, lora, run.tokenizer, evalInputs, signal);
      } catch (e) {
        if (!signal?.aborted) throw e;
        status = 'cancelled';
      }
    }
    return writeResult(o, {
      status,
      step: trainer.step,
      steps: options.steps,
      mode: run.mode,
      outDir: o.outDir,
      trainFiles: split.train.length,
      heldOutFiles: split.heldOut.length,
      trainTokens: dataset.stream.length,
      before,
      after,
      seconds: elapsed(),
      yieldedSeconds: loop.yieldedMs / 1000,
    });
  } finally {
    await pool.dispose();
  }
}
