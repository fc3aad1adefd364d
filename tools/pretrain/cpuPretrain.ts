// The starter model's CPU fallback pretraining (issue 18 item 3): the engine's own trainer
// (engine/train, the WASM SIMD kernels on a thread pool; measured faster here than Debian's
// PyTorch 1.13) on the corpus of `npm run corpus`, from random weights, in runs that resume
// one another. tools/pretrain/cpu-fallback.sh starts it at nice 19; docs/pretraining.md says how
// to start, stop, pause and resume it.
//
//   node cpuPretrain.js [--data .cache/corpus] [--run DIR] [--hidden 192 --layers 6 --ffn 512]
//                       [--tokens 20000000] [--max-steps N] [--checkpoint-minutes 5]
//
// RUN (default ~/.cache/limelight-pretrain/run) holds everything, outside the work tree:
//   RUN/init/config.json        the shape, written once (HF Llama config, p50k_edit)
//   RUN/checkpoints/...         engine/train/checkpoint.ts: weights, AdamW moments, step, data
//                               position; written whole then switched to, so a kill at any
//                               moment leaves the previous checkpoint in charge
//   RUN/model.safetensors + RUN/config.json   the latest weights, a model folder
//                               `limelight eval --model RUN` loads as it is
//   RUN/training.json           shape, options, validation losses and throughput so far
// The schedule (warm-up, cosine decay) is defined over the total token budget, so a resumed
// run continues the same curve; the data order is a seeded shuffle whose position the
// checkpoint keeps, so a resumed run sees what an uninterrupted one would have.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { writeFileAtomic } from '../../engine/io/atomicFile';
import { TokenDataset } from '../../engine/train/data';
import { countTargets, lossAndGrads, type TrainBatch } from '../../engine/train/gradients';
import { prepareOutDir, readTrainerState, restoreCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';
import { Trainer, TRAINER_DEFAULTS, type TrainerOptions } from '../../engine/train/trainer';
import { TrainPool } from '../../engine/train/trainPool';
import { STARTER_ENCODING } from '../../engine/tokenizer/promptFormats';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { IGNORE_INDEX } from '../../engine/kernels/crossEntropy';
import { PAUSE_DIR, PRETRAIN_HOME, pauseHolders } from './pauseFile';

/** The starter's encoding: the corpus's ids and the model's vocabulary (50281 BPE ranks + 3 FIM tokens). */
const STARTER = getTokenizer(STARTER_ENCODING);
const VOCAB = STARTER.vocabSize;
const EOT = STARTER.special.eot!;
const USAGE = 'Usage: node cpuPretrain.js [--data DIR] [--run DIR] [--hidden C --layers L --ffn FF --seq T --batch B --accum K] [--tokens N] [--lr LR] [--warmup N] [--max-steps N] [--checkpoint-minutes M] [--eval-windows N] [--threads N] [--seed N]';

export interface PretrainArgs {
  data: string;
  run: string;
  hidden: number;
  layers: number;
  ffn: number;
  seq: number;
  batch: number;
  accum: number;
  /** Total training tokens the schedule spans (over every resumed run). */
  tokens: number;
  lr: number;
  warmup: number;
  /** Steps this invocation may take before it saves and exits (null: until the budget is spent). */
  maxSteps: number | null;
  checkpointMinutes: number;
  evalWindows: number;
  threads: number;
  seed: number;
  pauseDir: string;
}

export function parsePretrainArgs(argv: readonly string[]): PretrainArgs {
  const a: PretrainArgs = {
    data: resolve('.cache/corpus'),
    run: join(PRETRAIN_HOME, 'run'),
    hidden: 192,
    layers: 6,
    ffn: 512,
    seq: 256,
    batch: 2,
    accum: 8,
    tokens: 20_000_000,
    lr: 2e-3,
    warmup: 100,
    maxSteps: null,
    checkpointMinutes: 5,
    evalWindows: 32,
    threads: availableParallelism(),
    seed: 1234,
    pauseDir: PAUSE_DIR,
  };
  const ints: Record<string, 'hidden' | 'layers' | 'ffn' | 'seq' | 'batch' | 'accum' | 'tokens' | 'warmup' | 'evalWindows' | 'threads' | 'seed'> = {
    '--hidden': 'hidden', '--layers': 'layers', '--ffn': 'ffn', '--seq': 'seq', '--batch': 'batch', '--accum': 'accum',
    '--tokens': 'tokens', '--warmup': 'warmup', '--eval-windows': 'evalWindows', '--threads': 'threads', '--seed': 'seed',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value. ${USAGE}`);
    const n = Number(value);
    const key = ints[flag];
    if (key !== undefined) {
      if (!Number.isInteger(n) || n < (key === 'warmup' || key === 'evalWindows' || key === 'seed' ? 0 : 1)) throw new Error(`${flag} takes a whole number (got ${value}). ${USAGE}`);
      a[key] = n;
    } else if (flag === '--data') a.data = resolve(value);
    else if (flag === '--run') a.run = resolve(value);
    else if (flag === '--pause-dir') a.pauseDir = resolve(value);
    else if (flag === '--lr' || flag === '--checkpoint-minutes') {
      if (!(n > 0)) throw new Error(`${flag} takes a positive number (got ${value}). ${USAGE}`);
      if (flag === '--lr') a.lr = n;
      else a.checkpointMinutes = n;
    } else if (flag === '--max-steps') {
      if (!Number.isInteger(n) || n < 1) throw new Error(`--max-steps takes a whole number >= 1 (got ${value}).`);
      a.maxSteps = n;
    } else throw new Error(`unknown option ${flag}. ${USAGE}`);
  }
  if (a.hidden % 32 !== 0) throw new Error(`--hidden ${a.hidden} must be a multiple of 32 (heads of 32 dimensions).`);
  return a;
}

/** The HF Llama config.json of the shape: heads of 32, half as many key/value heads, tied embeddings. */
export function starterConfigJson(a: PretrainArgs): Record<string, unknown> {
  const heads = a.hidden / 32;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: VOCAB,
    hidden_size: a.hidden,
    intermediate_size: a.ffn,
    num_hidden_layers: a.layers,
    num_attention_heads: heads,
    num_key_value_heads: heads % 2 === 0 ? heads / 2 : heads,
    head_dim: 32,
    max_position_embeddings: 1024,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: true,
    bos_token_id: EOT,
    eos_token_id: EOT,
    torch_dtype: 'float32',
    limelight_encoding: STARTER_ENCODING,
    limelight_prompt_layout: 'engine/tokenizer/promptFormats.ts (SPM FIM, <path: ...> header, Summary cue)',
  };
}

function readTokens(path: string): Uint16Array {
  if (!existsSync(path)) throw new Error(`${path} not found. Build the corpus first: npm run corpus.`);
  const bytes = readFileSync(path);
  const ids = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  for (let i = 0; i < ids.length; i++) if (ids[i]! >= VOCAB) throw new Error(`${path}: token ${ids[i]} at ${i} is outside p50k_edit (${VOCAB} ids); rebuild the corpus with npm run corpus.`);
  return ids;
}

interface EvalPoint {
  step: number;
  tokens: number;
  valLoss: number;
  at: string;
}

interface TrainingLog {
  shape: Record<string, unknown>;
  options: TrainerOptions;
  tokensPerStep: number;
  evals: EvalPoint[];
  /** One entry per session: steps taken, seconds, tokens per second, seconds paused. */
  sessions: { started: string; fromStep: number; toStep: number; seconds: number; pausedSeconds: number; tokensPerSecond: number }[];
}

/** Mean next-token loss on evalWindows fixed, evenly spaced windows of the validation tokens. */
function validationLoss(trainer: Trainer, val: Uint16Array, windows: number, pool: TrainPool): number {
  const { batchSize: B, seqLen: T } = trainer.options;
  const batch: TrainBatch = { B, T, tokens: new Int32Array(B * T), targets: new Int32Array(B * T) };
  const count = Math.min(windows, Math.floor((val.length - 1) / T));
  let total = 0;
  let tokens = 0;
  for (let w0 = 0; w0 < count; w0 += B) {
    // The last batch repeats the first windows to fill B rows; they are not counted twice.
    batch.targets.fill(IGNORE_INDEX);
    for (let b = 0; b < B && w0 + b < count; b++) {
      const start = Math.floor(((w0 + b) * (val.length - T - 1)) / Math.max(1, count - 1));
      for (let t = 0; t < T; t++) {
        batch.tokens[b * T + t] = val[start + t]!;
        batch.targets[b * T + t] = val[start + t + 1]!;
      }
    }
    const n = countTargets(batch.targets);
    total += lossAndGrads(trainer.model, batch, trainer.acts, null, { kernels: pool }) * n;
    tokens += n;
  }
  return total / Math.max(1, tokens);
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export async function pretrain(a: PretrainArgs, log: (line: string) => void = (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`)): Promise<number> {
  const initDir = join(a.run, 'init');
  const saved = existsSync(join(a.run, 'checkpoints')) ? readTrainerState(a.run) : null;
  let configJson: Record<string, unknown>;
  if (saved !== null) {
    configJson = JSON.parse(readFileSync(join(initDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } else {
    configJson = starterConfigJson(a);
    mkdirSync(initDir, { recursive: true });
    writeFileAtomic(join(initDir, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
  }
  prepareOutDir(a.run, initDir);
  const config = configFromHF(configJson);
  const tokensPerStep = a.batch * a.seq * a.accum;
  const options: TrainerOptions = saved?.options ?? {
    ...TRAINER_DEFAULTS,
    steps: Math.ceil(a.tokens / tokensPerStep),
    batchSize: a.batch,
    seqLen: a.seq,
    gradAccum: a.accum,
    lr: a.lr,
    minLr: a.lr / 10,
    warmupSteps: a.warmup,
    weightDecay: 0.1,
    beta2: 0.95,
    seed: a.seed,
  };
  const train = readTokens(join(a.data, 'train.bin'));
  const val = readTokens(join(a.data, 'val.bin'));
  const model = randomModel(config, options.seed);
  const dataset = new TokenDataset([train], EOT, options.seqLen, options.seed);
  const pool = await TrainPool.forTraining(config, options.batchSize, options.seqLen, null, { threads: a.threads });
  const logPath = join(a.run, 'training.json');
  const history: TrainingLog = existsSync(logPath)
    ? (JSON.parse(readFileSync(logPath, 'utf8')) as TrainingLog)
    : { shape: { hidden: config.hidden, layers: config.nLayer, ffn: config.ffn, heads: config.nHead, kvHeads: config.nKvHead, vocab: config.vocabSize }, options, tokensPerStep: options.batchSize * options.seqLen * options.gradAccum, evals: [], sessions: [] };
  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const trainer = new Trainer(model, dataset, options, null, pool);
    if (saved !== null) restoreCheckpoint(a.run, trainer);
    const perStep = history.tokensPerStep;
    log(`${saved !== null ? `resuming at step ${trainer.step}` : 'starting'}: llama C=${config.hidden} L=${config.nLayer} FF=${config.ffn} NH=${config.nHead} KVH=${config.nKvHead} V=${config.vocabSize}, ${trainer.trainable().length.toLocaleString('en-US')} parameters; ` +
      `${train.length.toLocaleString('en-US')} train tokens; ${perStep} tokens per step, ${options.steps} steps (${(options.steps * perStep / 1e6).toFixed(1)}M tokens); ${pool.threads} threads; pause dir ${a.pauseDir}`);
    const session = { started: new Date().toISOString(), fromStep: trainer.step, toStep: trainer.step, seconds: 0, pausedSeconds: 0, tokensPerSecond: 0 };
    history.sessions.push(session);
    const started = Date.now();
    let paused = 0;
    let lastSave = Date.now();
    let saves = 0;
    const save = (): void => {
      saveCheckpoint(a.run, trainer, initDir);
      saves++;
      if (saves % 6 === 0 || trainer.step >= options.steps || stopping) {
        const valLoss = validationLoss(trainer, val, a.evalWindows, pool);
        history.evals.push({ step: trainer.step, tokens: trainer.step * perStep, valLoss, at: new Date().toISOString() });
        log(`step ${trainer.step} val loss ${valLoss.toFixed(4)}`);
      }
      session.toStep = trainer.step;
      session.seconds = Math.round((Date.now() - started) / 1000);
      session.pausedSeconds = Math.round(paused / 1000);
      session.tokensPerSecond = Math.round(((trainer.step - session.fromStep) * perStep) / Math.max(1, (Date.now() - started - paused) / 1000));
      writeFileAtomic(logPath, JSON.stringify(history, null, 1) + '\n');
      log(`checkpoint at step ${trainer.step} (${(trainer.step * perStep / 1e6).toFixed(2)}M tokens), ${session.tokensPerSecond} tok/s this session`);
      lastSave = Date.now();
    };
    let taken = 0;
    while (trainer.step < options.steps && !stopping && (a.maxSteps === null || taken < a.maxSteps)) {
      let holders = pauseHolders(a.pauseDir);
      if (holders.length > 0) {
        log(`paused: pid ${holders.join(', ')} holds a pause in ${a.pauseDir}`);
        const t0 = Date.now();
        while (holders.length > 0 && !stopping) {
          await sleep(2000);
          holders = pauseHolders(a.pauseDir);
        }
        paused += Date.now() - t0;
        log(`going on after ${Math.round((Date.now() - t0) / 1000)} s paused`);
        if (stopping) break;
      }
      const t0 = Date.now();
      const r = trainer.trainStep();
      taken++;
      if (trainer.step % 10 === 0 || taken === 1) log(`step ${r.step}/${options.steps} loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} norm ${r.gradNorm.toFixed(2)} ${Math.round(perStep / ((Date.now() - t0) / 1000))} tok/s`);
      if (!Number.isFinite(r.loss)) throw new Error(`the loss became ${r.loss} at step ${r.step}; restart from an earlier checkpoint with a lower --lr.`);
      if (Date.now() - lastSave >= a.checkpointMinutes * 60_000) save();
      // Let a SIGTERM run its handler between steps.
      await new Promise((done) => setImmediate(done));
    }
    if (taken > 0) save();
    log(trainer.step >= options.steps ? `done: ${trainer.step} steps, the budget is spent` : `stopped at step ${trainer.step}; run again to resume`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await pool.dispose();
  }
}

if (require.main === module) {
  let args: PretrainArgs;
  try {
    args = parsePretrainArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`cpuPretrain: ${(e as Error).message}`);
    process.exit(2);
  }
  pretrain(args).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`cpuPretrain: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
