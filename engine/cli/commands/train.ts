// `limelight train`: fine-tune a checkpoint on text files, fully or with LoRA adapters, with a
// progress line (step, loss, tokens/s, ETA). Ctrl+C saves a checkpoint and stops; --resume
// continues from the output folder's latest checkpoint exactly as if never interrupted.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../../model/model';
import { getTokenizer } from '../../tokenizer/tokenizer';
import { TokenDataset } from '../../train/data';
import { Trainer, TRAINER_DEFAULTS, type TrainerOptions } from '../../train/trainer';
import { createLora, defaultLoraOptions, type Lora } from '../../train/lora';
import { prepareOutDir, readTrainerState, restoreCheckpoint, resumeLora, saveCheckpoint } from '../../train/checkpoint';
import { TrainPool } from '../../train/trainPool';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_OPTIONS, modelDir, openModel } from '../modelOptions';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', 'build']);

/** Text files under the given paths (folders are walked, hidden and build folders skipped, binary files dropped). */
function textFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`--data ${p} does not exist.`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (!name.startsWith('.') && !SKIP_DIRS.has(name)) walk(join(p, name));
    } else if (st.isFile()) {
      files.push(p);
    }
  };
  for (const p of paths) walk(p);
  return files;
}

function tokenize(model: Model, paths: string[]): { docs: number[][]; eot: number; files: number } {
  const encoding = model.config.encoding;
  if (encoding === null) throw new UsageError(`${model.dir}: the model's tokenizer is unknown; add "limelight_encoding" (e.g. "r50k_base") to its config.json.`);
  const tok = getTokenizer(encoding);
  const docs: number[][] = [];
  for (const f of textFiles(paths)) {
    const bytes = readFileSync(f);
    if (bytes.includes(0)) continue;
    const ids = tok.encode(bytes.toString('utf8'));
    if (ids.length > 0) docs.push(ids);
  }
  if (docs.length === 0) throw new UsageError(`--data: no text files found in ${paths.join(', ')}.`);
  return { docs, eot: tok.special.eot, files: docs.length };
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

function optionsFrom(args: ParsedArgs): TrainerOptions {
  const d = TRAINER_DEFAULTS;
  const lr = args.number('lr', d.lr);
  const o: TrainerOptions = {
    ...d,
    steps: args.int('steps', d.steps),
    batchSize: args.int('batch-size', d.batchSize),
    seqLen: args.int('seq-len', d.seqLen),
    gradAccum: args.int('grad-accum', d.gradAccum),
    lr,
    minLr: args.number('min-lr', lr / 10),
    warmupSteps: args.int('warmup', d.warmupSteps),
    weightDecay: args.number('weight-decay', d.weightDecay),
    clipNorm: args.number('clip', 1) > 0 ? args.number('clip', 1) : null,
    recompute: args.flag('recompute'),
    seed: args.int('seed', d.seed),
  };
  for (const k of ['steps', 'batchSize', 'seqLen', 'gradAccum'] as const) if (o[k] < 1) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be at least 1.`);
  if (!(o.lr > 0)) throw new UsageError('--lr must be a positive number.');
  return o;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Fine-tune a model on text files (fully, or LoRA adapters with --lora); Ctrl+C saves a checkpoint, --resume continues.',
  usage: '--model DIR --data PATHS... --out DIR [--lora R] [--steps N] [--batch-size B] [--seq-len T] [--lr LR] [--resume]',
  options: [
    ...MODEL_OPTIONS.filter((o) => o.name === 'model'),
    { name: 'data', kind: 'string', value: 'PATHS...', many: true, help: 'text files or folders to train on (required)' },
    { name: 'out', kind: 'string', value: 'DIR', help: 'output folder: adapter or model, and checkpoints (required; never the model folder)' },
    { name: 'lora', kind: 'int', value: 'R', help: 'train rank-R LoRA adapters on the attention projections instead of every weight' },
    { name: 'lora-alpha', kind: 'number', value: 'A', help: 'LoRA alpha (default 2R)' },
    { name: 'lora-dropout', kind: 'number', value: 'P', help: 'LoRA dropout (default 0)' },
    { name: 'lora-targets', kind: 'string', value: 'LIST', help: 'comma-separated PEFT module names (default: c_attn for GPT-2, q_proj,v_proj for Llama)' },
    { name: 'steps', kind: 'int', value: 'N', help: `optimizer updates (default ${TRAINER_DEFAULTS.steps})` },
    { name: 'batch-size', kind: 'int', value: 'B', help: `sequences per micro-batch (default ${TRAINER_DEFAULTS.batchSize})` },
    { name: 'seq-len', kind: 'int', value: 'T', help: `tokens per sequence (default ${TRAINER_DEFAULTS.seqLen})` },
    { name: 'grad-accum', kind: 'int', value: 'K', help: 'micro-batches per update (default 1)' },
    { name: 'lr', kind: 'number', value: 'LR', help: `peak learning rate (default ${TRAINER_DEFAULTS.lr})` },
    { name: 'min-lr', kind: 'number', value: 'LR', help: 'learning rate at the end of the cosine decay (default lr/10)' },
    { name: 'warmup', kind: 'int', value: 'N', help: `warm-up steps (default ${TRAINER_DEFAULTS.warmupSteps})` },
    { name: 'weight-decay', kind: 'number', value: 'WD', help: `AdamW weight decay; norms and biases exempt (default ${TRAINER_DEFAULTS.weightDecay})` },
    { name: 'clip', kind: 'number', value: 'NORM', help: 'clip the global gradient norm (default 1; 0 = off)' },
    { name: 'seed', kind: 'int', value: 'N', help: 'seed of the data order and adapter init (default 1337)' },
    { name: 'threads', kind: 'int', value: 'N', help: `compute threads for the SIMD kernels (default: every core, ${availableParallelism()} here)` },
    { name: 'recompute', kind: 'flag', help: 'recompute activations in the backward pass (less memory, about 30% slower)' },
    { name: 'checkpoint-every', kind: 'int', value: 'N', help: 'save a checkpoint every N steps (default 50)' },
    { name: 'resume', kind: 'flag', help: "continue the run saved in --out (its options are reused; --steps may extend it)" },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required: the folder for the trained adapter or model and its checkpoints.');
    const data = args.list('data').flatMap((d) => d.split(',')).filter((d) => d !== '');
    if (data.length === 0) throw new UsageError('--data is required: one or more text files or folders.');
    const base = modelDir(args);
    prepareOutDir(out, base);
    const saved = readTrainerState(out);
    if (saved !== null && !args.flag('resume')) throw new UsageError(`${out} holds a run at step ${saved.step}; pass --resume to continue it, or choose another --out.`);
    if (saved === null && args.flag('resume')) throw new UsageError(`${out} holds no checkpoint to resume; run without --resume to start.`);
    const model = openModel(args);
    let options: TrainerOptions;
    let lora: Lora | null;
    if (saved !== null) {
      options = { ...saved.options, steps: args.has('steps') ? args.int('steps', saved.options.steps) : saved.options.steps };
      lora = resumeLora(out, saved, model.config);
    } else {
      options = optionsFrom(args);
      const rank = args.has('lora') ? args.int('lora', 8) : null;
      lora = null;
      if (rank !== null) {
        const d = defaultLoraOptions(model.config, rank);
        const targets = args.string('lora-targets');
        lora = createLora(model.config, {
          rank,
          alpha: args.number('lora-alpha', d.alpha),
          dropout: args.number('lora-dropout', d.dropout),
          targetModules: targets ? targets.split(',').map((t) => t.trim()).filter((t) => t !== '') : d.targetModules,
        }, options.seed);
      }
    }
    if (options.seqLen > model.config.maxPositions) throw new UsageError(`--seq-len ${options.seqLen} is longer than the model's context (${model.config.maxPositions}).`);
    const { docs, eot } = tokenize(model, data);
    const dataset = new TokenDataset(docs, eot, options.seqLen, options.seed);
    const threads = args.int('threads', availableParallelism());
    if (threads < 1) throw new UsageError(`--threads takes a number of threads >= 1 (got ${threads}).`);
    let pool: TrainPool | null = null;
    try {
      pool = await TrainPool.forTraining(model.config, options.batchSize, options.seqLen, lora, { threads, recompute: options.recompute });
    } catch (e) {
      process.stderr.write(`note: training on the plain TypeScript kernels, one thread (${(e as Error).message})\n`);
    }
    try {
      return await train(args, out, base, options, model, dataset, lora, saved !== null, docs.length, pool);
    } finally {
      await pool?.dispose();
    }
  },
};

/** The training loop of `limelight train`, on `pool` when there is one. */
async function train(args: ParsedArgs, out: string, base: string, options: TrainerOptions, model: Model, dataset: TokenDataset, lora: Lora | null, resume: boolean, files: number, pool: TrainPool | null): Promise<number> {
  const trainer = new Trainer(model, dataset, options, lora, pool);
  if (resume) restoreCheckpoint(out, trainer);
  const every = Math.max(1, args.int('checkpoint-every', 50));
  const trained = trainer.trainable().length;
  process.stderr.write(
    `training ${lora ? `LoRA r=${lora.options.rank} on ${lora.options.targetModules.join(',')}` : 'every weight'} (${trained.toLocaleString('en-US')} parameters) on ${dataset.stream.length.toLocaleString('en-US')} tokens from ${files} files${pool ? ` on ${pool.threads} thread${pool.threads > 1 ? 's' : ''}` : ''}, ` +
      `B=${options.batchSize} T=${options.seqLen}${options.gradAccum > 1 ? ` x${options.gradAccum}` : ''}, ${options.steps} steps${resume ? `, resuming at step ${trainer.step}` : ''}\n`,
  );
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  const firstStep = trainer.step;
  let tokens = 0;
  try {
    while (trainer.step < options.steps && !interrupted) {
      const r = trainer.trainStep();
      tokens += options.batchSize * options.seqLen * options.gradAccum;
      const elapsed = (Date.now() - started) / 1000;
      const eta = ((options.steps - trainer.step) * elapsed) / (trainer.step - firstStep);
      const line = `step ${r.step}/${options.steps}  loss ${r.loss.toFixed(4)}  lr ${r.lr.toExponential(2)}  ${Math.round(tokens / elapsed)} tok/s  ETA ${duration(eta)}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      if (trainer.step % every === 0 && trainer.step < options.steps) saveCheckpoint(out, trainer, base);
      // Let a pending Ctrl+C run its handler between steps.
      await new Promise((done) => setImmediate(done));
    }
  } finally {
    process.off('SIGINT', onSigint);
    if (tty) process.stderr.write('\n');
  }
  saveCheckpoint(out, trainer, base);
  const what = lora ? 'adapter_model.safetensors + adapter_config.json' : 'model.safetensors + config.json';
  if (interrupted) {
    process.stderr.write(`interrupted at step ${trainer.step}: checkpoint saved in ${out}; continue with --resume.\n`);
    return 130;
  }
  process.stdout.write(JSON.stringify({ step: trainer.step, loss: trainer.losses.at(-1) ?? null, out, files: what }) + '\n');
  return 0;
}
