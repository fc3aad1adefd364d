// Training benchmark: tokens/s, achieved GFLOP/s and peak memory of full and LoRA training
// steps on the GPT-2 124M shape (B=4, T=64, llm.c's reference setting) and the 30M starter
// shape (6 layers, 6 heads, 384 wide, vocabulary 50284; B=8, T=256), random weights.
// Each configuration runs in a child process so its peak resident memory is its own.
// runTrainBench(argv) is the entry for the bench dispatcher (`npm run bench -- train`); alone:
//   node out/tools/bench/train.js [--shapes gpt2-124m,starter] [--modes full,lora] [--steps N] [--warmup N] [--batch B] [--seq T] [--recompute]
import { spawnSync } from 'node:child_process';
import { configFromHF, qkvWidth, fcWidth, type ModelConfig } from '../../engine/model/config';
import { randomModel } from '../../engine/model/init';
import { TokenDataset } from '../../engine/train/data';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';
import { createLora, defaultLoraOptions, type Lora } from '../../engine/train/lora';

interface Shape {
  config: ModelConfig;
  B: number;
  T: number;
  /** PyTorch 1.13 CPU (OpenBLAS, 2 threads) on the project's reference machine, tokens/s. */
  anchor: { full: number; lora: number | null };
}

export const TRAIN_BENCH_SHAPES: Record<string, Shape> = {
  'gpt2-124m': {
    config: configFromHF({ model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }),
    B: 4,
    T: 64,
    anchor: { full: 90, lora: null },
  },
  starter: {
    config: configFromHF({ model_type: 'gpt2', vocab_size: 50284, n_positions: 1024, n_embd: 384, n_layer: 6, n_head: 6 }),
    B: 8,
    T: 256,
    anchor: { full: 349, lora: 562 },
  },
};

type Mode = 'full' | 'lora';

export interface TrainBenchRow {
  shape: string;
  mode: Mode;
  B: number;
  T: number;
  threads: number;
  tokPerS: number;
  /** Seconds of each timed step. */
  stepSeconds: number[];
  /** Tokens per CPU-second of this process (median step): on a machine shared with other work, closer to the unloaded rate. */
  cpuTokPerS: number;
  flopsPerToken: number;
  gflops: number;
  peakRssMB: number;
  activationMB: number;
  anchorTokPerS: number | null;
}

/**
 * Multiply-add FLOPs (2 per MAC) of one training token. Forward: every linear layer, the LM head
 * and causal attention (on average (T + 1) / 2 keys). Backward: twice the forward for what is
 * trained (input and weight gradients), once for frozen weights (input gradient only).
 */
export function trainFlopsPerToken(c: ModelConfig, T: number, lora: Lora | null): number {
  const C = c.hidden;
  const ATT = c.nHead * c.headDim;
  const linear = c.nLayer * (C * qkvWidth(c) + ATT * C + C * fcWidth(c) + c.ffn * C);
  const head = C * c.vocabSize;
  const attention = c.nLayer * 2 * c.nHead * c.headDim * ((T + 1) / 2);
  const fwd = 2 * (linear + head + attention);
  if (lora === null) return 3 * fwd;
  const r = lora.options.rank;
  const adapters = lora.adapters.reduce((n, a) => n + r * (a.inDim + a.rows), 0);
  // Frozen base: forward + input gradient; attention has no weights, so its backward is 2x.
  return 2 * 2 * (linear + head) + 3 * 2 * attention + 3 * 2 * adapters;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function measure(shapeName: string, mode: Mode, steps: number, warmup: number, B: number, T: number, recompute: boolean): TrainBenchRow {
  const shape = TRAIN_BENCH_SHAPES[shapeName]!;
  const c = shape.config;
  const model = randomModel(c);
  const lora = mode === 'lora' ? createLora(c, defaultLoraOptions(c, 8)) : null;
  const ids = Array.from({ length: (steps + warmup) * B * T + 1 }, (_, i) => (i * 7919) % c.vocabSize);
  const data = new TokenDataset([ids], 0, T, 1);
  const trainer = new Trainer(model, data, { ...TRAINER_DEFAULTS, batchSize: B, seqLen: T, steps: steps + warmup, recompute }, lora);
  for (let i = 0; i < warmup; i++) trainer.trainStep();
  const stepSeconds: number[] = [];
  const cpuSeconds: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    trainer.trainStep();
    const dc = process.cpuUsage(c0);
    stepSeconds.push((performance.now() - t0) / 1000);
    cpuSeconds.push((dc.user + dc.system) / 1e6);
  }
  const tokPerS = (B * T) / median(stepSeconds);
  const flopsPerToken = trainFlopsPerToken(c, T, lora);
  return {
    shape: shapeName,
    mode,
    B,
    T,
    threads: 1,
    tokPerS,
    stepSeconds,
    cpuTokPerS: (B * T) / median(cpuSeconds),
    flopsPerToken,
    gflops: (tokPerS * flopsPerToken) / 1e9,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    activationMB: trainer.acts.bytes / 2 ** 20,
    anchorTokPerS: mode === 'full' ? shape.anchor.full : shape.anchor.lora,
  };
}

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Runs the benchmark, prints one line per configuration and returns the rows. */
export function runTrainBench(argv: readonly string[] = []): TrainBenchRow[] {
  const shapes = (option(argv, 'shapes') ?? Object.keys(TRAIN_BENCH_SHAPES).join(',')).split(',');
  const modes = (option(argv, 'modes') ?? 'full,lora').split(',') as Mode[];
  const steps = Number(option(argv, 'steps') ?? 2);
  const warmup = Number(option(argv, 'warmup') ?? 1);
  const rows: TrainBenchRow[] = [];
  console.log('train bench: js backend, 1 thread (single-threaded kernels; the worker pool is not wired into training yet), random weights, median step');
  for (const shapeName of shapes) {
    const shape = TRAIN_BENCH_SHAPES[shapeName];
    if (!shape) throw new Error(`unknown shape "${shapeName}"; known: ${Object.keys(TRAIN_BENCH_SHAPES).join(', ')}`);
    const B = Number(option(argv, 'batch') ?? shape.B);
    const T = Number(option(argv, 'seq') ?? shape.T);
    for (const mode of modes) {
      const child = spawnSync(process.execPath, [__filename, '--one', shapeName, mode, String(steps), String(warmup), String(B), String(T), argv.includes('--recompute') ? '1' : '0'], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`train bench ${shapeName} ${mode} failed:\n${child.stderr}`);
      const row = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as TrainBenchRow;
      rows.push(row);
      const anchor = row.anchorTokPerS !== null ? `  PyTorch anchor ${row.anchorTokPerS} tok/s (x${(row.tokPerS / row.anchorTokPerS).toFixed(2)})` : '';
      console.log(
        `${row.shape.padEnd(10)} ${row.mode.padEnd(4)} B=${row.B} T=${row.T}  ${row.tokPerS.toFixed(1)} tok/s (${row.cpuTokPerS.toFixed(1)} per CPU-s)  ${(row.flopsPerToken / 1e6).toFixed(0)} MFLOP/token  ${row.gflops.toFixed(2)} GFLOP/s  ` +
          `peak RSS ${row.peakRssMB.toFixed(0)} MB (activations ${row.activationMB.toFixed(0)} MB)  steps ${row.stepSeconds.map((s) => s.toFixed(1)).join('/')} s${anchor}`,
      );
    }
  }
  return rows;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--one') {
    const [, shape, mode, steps, warmup, B, T, recompute] = argv;
    console.log(JSON.stringify(measure(shape!, mode as Mode, Number(steps), Number(warmup), Number(B), Number(T), recompute === '1')));
  } else {
    runTrainBench(argv);
  }
}
