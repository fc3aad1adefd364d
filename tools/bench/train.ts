// Training benchmark: tokens/s, achieved GFLOP/s and peak memory of full and LoRA training
// steps on the GPT-2 124M shape (B=4, T=64, llm.c's reference setting) and the 30M starter
// shape (6 layers, 6 heads, 384 wide, vocabulary 50284; B=8, T=256), random weights.
// Each configuration runs in a child process so its peak resident memory is its own.
// Kernels: `wasm` runs the linear layers' products on the compute pool's SIMD kernels
// (engine/train/trainPool.ts) with 1 thread and all of them; `ref` on the TypeScript
// reference kernels (single-threaded), the figures before the pool.
// runTrainBench(argv) is the entry for the bench dispatcher (`npm run bench -- train`); alone:
//   node out/tools/bench/train.js [--shapes gpt2-124m,starter] [--modes full,lora] [--kernels wasm,ref] [--threads 1,2]
//     [--steps N] [--warmup N] [--batch B] [--seq T] [--recompute]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { qkvWidth, fcWidth, type ModelConfig } from '../../engine/model/config';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { TokenDataset } from '../../engine/train/data';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';
import { createLora, defaultLoraOptions, type Lora } from '../../engine/train/lora';
import { TrainPool } from '../../engine/train/trainPool';

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
type Kernels = 'wasm' | 'ref';

export interface TrainBenchRow {
  shape: string;
  mode: Mode;
  kernels: Kernels;
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

async function measure(shapeName: string, mode: Mode, kernels: Kernels, threads: number, steps: number, warmup: number, B: number, T: number, recompute: boolean): Promise<TrainBenchRow> {
  const shape = TRAIN_BENCH_SHAPES[shapeName]!;
  const c = shape.config;
  const model = randomModel(c);
  const lora = mode === 'lora' ? createLora(c, defaultLoraOptions(c, 8)) : null;
  const ids = Array.from({ length: (steps + warmup) * B * T + 1 }, (_, i) => (i * 7919) % c.vocabSize);
  const data = new TokenDataset([ids], 0, T, 1);
  const pool = kernels === 'wasm' ? await TrainPool.forTraining(c, B, T, lora, { threads, recompute }) : null;
  const trainer = new Trainer(model, data, { ...TRAINER_DEFAULTS, batchSize: B, seqLen: T, steps: steps + warmup, recompute }, lora, pool);
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
  await pool?.dispose();
  const tokPerS = (B * T) / median(stepSeconds);
  const flopsPerToken = trainFlopsPerToken(c, T, lora);
  return {
    shape: shapeName,
    mode,
    kernels,
    B,
    T,
    threads: pool?.threads ?? 1,
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
  const kernelsList = (option(argv, 'kernels') ?? 'wasm').split(',') as Kernels[];
  const threadsList = [...new Set((option(argv, 'threads') ?? `1,${availableParallelism()}`).split(',').map(Number))];
  const rows: TrainBenchRow[] = [];
  console.log('train bench: js backend, random weights, median step; wasm = SIMD kernels on the compute pool, ref = TypeScript reference kernels (1 thread)');
  for (const shapeName of shapes) {
    const shape = TRAIN_BENCH_SHAPES[shapeName];
    if (!shape) throw new Error(`unknown shape "${shapeName}"; known: ${Object.keys(TRAIN_BENCH_SHAPES).join(', ')}`);
    const B = Number(option(argv, 'batch') ?? shape.B);
    const T = Number(option(argv, 'seq') ?? shape.T);
    const runs = kernelsList.flatMap((kernels) => (kernels === 'ref' ? [1] : threadsList).map((threads) => ({ kernels, threads })));
    for (const mode of modes) for (const { kernels, threads } of runs) {
      const child = spawnSync(process.execPath, [__filename, '--one', shapeName, mode, kernels, String(threads), String(steps), String(warmup), String(B), String(T), argv.includes('--recompute') ? '1' : '0'], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`train bench ${shapeName} ${mode} ${kernels} failed:\n${child.stderr}`);
      const row = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as TrainBenchRow;
      rows.push(row);
      const anchor = row.anchorTokPerS !== null ? `  PyTorch anchor ${row.anchorTokPerS} tok/s (x${(row.tokPerS / row.anchorTokPerS).toFixed(2)})` : '';
      console.log(
        `${row.shape.padEnd(10)} ${row.mode.padEnd(4)} ${row.kernels.padEnd(4)} ${row.threads} thr  B=${row.B} T=${row.T}  ${row.tokPerS.toFixed(1)} tok/s (${row.cpuTokPerS.toFixed(1)} per CPU-s)  ${(row.flopsPerToken / 1e6).toFixed(0)} MFLOP/token  ${row.gflops.toFixed(2)} GFLOP/s  ` +
          `peak RSS ${row.peakRssMB.toFixed(0)} MB (activations ${row.activationMB.toFixed(0)} MB)  steps ${row.stepSeconds.map((s) => s.toFixed(1)).join('/')} s${anchor}`,
      );
    }
  }
  return rows;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--one') {
    const [, shape, mode, kernels, threads, steps, warmup, B, T, recompute] = argv;
    measure(shape!, mode as Mode, kernels as Kernels, Number(threads), Number(steps), Number(warmup), Number(B), Number(T), recompute === '1').then(
      (row) => console.log(JSON.stringify(row)),
      (e: unknown) => {
        console.error(e instanceof Error ? e.message : String(e));
        process.exitCode = 1;
      },
    );
  } else {
    runTrainBench(argv);
  }
}
