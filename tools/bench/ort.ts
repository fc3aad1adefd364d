// Benchmark rows for the ONNX Runtime backends: prefill and decode speed on the GPT-2 124M shape
// and the starter shape (6 layers, 6 heads, 384 wide, vocabulary 50284), random weights.
// benchOrt() returns the rows for the bench dispatcher; run alone with
//   node out/tools/bench/ort.js [--device cpu|webgpu] [--threads N] [--spin] [--formats f32,q8_0] [--shapes gpt2-124m,starter] [--repeats N]
import { configFromHF, type ModelConfig } from '../../engine/model/config';
import { randomModel } from '../../engine/model/init';
import { OrtBackend, type OrtDevice } from '../../engine/runtime/ortBackend';
import type { OnnxWeightFormat } from '../../engine/onnx/export';

export const ORT_BENCH_SHAPES: Record<string, ModelConfig> = {
  'gpt2-124m': configFromHF({ model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }),
  starter: configFromHF({ model_type: 'gpt2', vocab_size: 50284, n_positions: 1024, n_embd: 384, n_layer: 6, n_head: 6 }),
};

export interface OrtBenchOptions {
  device?: OrtDevice;
  threads?: number;
  formats?: OnnxWeightFormat[];
  shapes?: string[];
  /** Prompt length of the prefill measurement, also the context the decode steps run after. */
  prompt?: number;
  /** Decode steps timed per repeat. */
  decodeSteps?: number;
  /** Repeats; the median is reported. */
  repeats?: number;
  /** Let onnxruntime's idle threads spin-wait (see OrtBackendOptions.spin). */
  spin?: boolean;
}

export interface OrtBenchRow {
  backend: string;
  shape: string;
  weights: OnnxWeightFormat;
  threads: number;
  spin: boolean;
  /** Tokens per second processing a `prompt`-token prompt from an empty cache (median). */
  prefillTokPerS: number;
  prompt: number;
  /** Tokens per second decoding one token at a time after the prompt (median of per-repeat rates). */
  decodeTokPerS: number;
  /** Export plus session creation, milliseconds. */
  loadMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function benchOrt(opts: OrtBenchOptions = {}): Promise<OrtBenchRow[]> {
  const device = opts.device ?? 'cpu';
  const threads = opts.threads ?? 2;
  const prompt = opts.prompt ?? 512;
  const steps = opts.decodeSteps ?? 32;
  const repeats = opts.repeats ?? 3;
  const rows: OrtBenchRow[] = [];
  for (const shape of opts.shapes ?? Object.keys(ORT_BENCH_SHAPES)) {
    const config = ORT_BENCH_SHAPES[shape];
    if (!config) throw new Error(`unknown bench shape "${shape}"; known: ${Object.keys(ORT_BENCH_SHAPES).join(', ')}`);
    const model = randomModel(config);
    const ids = Int32Array.from({ length: prompt + steps }, (_, i) => (i * 7919) % config.vocabSize);
    for (const weights of opts.formats ?? (['f32', 'q8_0'] as OnnxWeightFormat[])) {
      const t0 = performance.now();
      const be = await OrtBackend.create(model, { device, threads, weightFormat: weights, contextLength: prompt + steps, spin: opts.spin === true });
      const loadMs = performance.now() - t0;
      try {
        await be.forward(ids.subarray(0, 8), 0); // warm-up: first-run allocations and kernel selection
        const prefill: number[] = [];
        const decode: number[] = [];
        for (let r = 0; r < repeats; r++) {
          be.releaseCache();
          const p0 = performance.now();
          await be.forward(ids.subarray(0, prompt), 0);
          prefill.push((prompt * 1000) / (performance.now() - p0));
          const d0 = performance.now();
          for (let s = 0; s < steps; s++) await be.forward(ids.subarray(prompt + s, prompt + s + 1), prompt + s);
          decode.push((steps * 1000) / (performance.now() - d0));
        }
        rows.push({ backend: be.name, shape, weights, threads, spin: opts.spin === true, prefillTokPerS: median(prefill), prompt, decodeTokPerS: median(decode), loadMs });
      } finally {
        be.dispose();
      }
    }
  }
  return rows;
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const list = (s: string | undefined): string[] | undefined => s?.split(',').filter((x) => x !== '');
  const rows = await benchOrt({
    device: (argValue(args, '--device') as OrtDevice | undefined) ?? 'cpu',
    threads: Number(argValue(args, '--threads') ?? 2),
    formats: list(argValue(args, '--formats')) as OnnxWeightFormat[] | undefined,
    shapes: list(argValue(args, '--shapes')),
    repeats: Number(argValue(args, '--repeats') ?? 3),
    spin: args.includes('--spin'),
  });
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(10)} ${r.shape.padEnd(10)} ${r.weights.padEnd(4)} threads ${r.threads}${r.spin ? ' spin' : ''}  prefill ${r.prompt}: ${r.prefillTokPerS.toFixed(0).padStart(6)} tok/s  decode: ${r.decodeTokPerS.toFixed(1).padStart(6)} tok/s  (load ${(r.loadMs / 1000).toFixed(1)} s)`,
    );
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
