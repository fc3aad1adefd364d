// Benchmark rows for the ONNX Runtime backends (ort-cpu, ort-webgpu): the same shapes, seeded
// random weights and measurements as the js and llama.cpp rows (tools/bench/inference.ts
// runs this file once per configuration with --one and puts the row in its table). Run alone:
//   node out/tools/bench/ort.js [--device cpu|webgpu] [--threads N] [--spin] [--formats f32,q8_0] [--shapes gpt2-124m,starter] [--runs N] [--json]
//   node out/tools/bench/ort.js --probe      {"reason": null} when a WebGPU adapter exists, else why not
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { OrtBackend, type OrtDevice } from '../../engine/runtime/ortBackend';
import { createPhaseSplit } from '../../engine/runtime/phaseSplit';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { runWebGpuProbe } from '../../engine/runtime/ortProbe';
import type { OnnxWeightFormat } from '../../engine/onnx/export';
import type { WeightFormat } from '../../engine/runtime/fastBackend';
import { BENCH_CONTEXT, BENCH_SHAPES, benchModel, bounds, matrixParams, timeDecoder, type InferenceRow } from './inference';
import { measureMachine } from './machine';
import { llamaPeerDir } from './llamaPeer';
import { REAL_FORMATS, REAL_SHAPES, realShapeGguf, type RealFormat } from './realShapes';

/** Weight formats the ONNX export has (MatMulNBits 8-bit blocks of 32 with a float scale for q8_0). */
export const ORT_FORMATS: readonly OnnxWeightFormat[] = ['f32', 'q8_0'];

function isOrtFormat(w: string): w is OnnxWeightFormat {
  return (ORT_FORMATS as readonly string[]).includes(w);
}

function isRealShape(shape: string): boolean {
  return REAL_SHAPES[shape] !== undefined;
}

/**
 * One table row for onnxruntime on `device`; the export is cached beside the bench's other files.
 * A real-model shape runs its GGUF file's blocks as they are (MatMulNBits), `weights` naming the file.
 */
export async function measureOrt(device: OrtDevice, shape: string, weights: OnnxWeightFormat | RealFormat, threads: number, runs: number, spin = false): Promise<InferenceRow> {
  const machine = await measureMachine(threads);
  const real = isRealShape(shape);
  const model = real ? loadModel(realShapeGguf(shape, weights as RealFormat)) : benchModel(shape);
  const c = model.config;
  const weightFormat: OnnxWeightFormat = weights === 'q8_0' && !real ? 'q8_0' : 'f32';
  const be = await OrtBackend.create(model, { device, threads, weightFormat, contextLength: BENCH_CONTEXT, cacheDir: join(llamaPeerDir(), 'onnx'), spin });
  try {
    const timings = await timeDecoder(async (tokens, pos) => (await be.forward(tokens, pos)).logits, c, runs);
    // Bytes a decode step reads: the matrices (lm head included), as the llama.cpp row counts them; a GGUF file's as stored.
    const weightBytes = real ? model.weightBytes() : matrixParams(c) * (weights === 'f32' ? 4 : 36 / 32);
    return {
      engine: device === 'webgpu' ? 'onnxruntime ort-webgpu' : 'onnxruntime ort-cpu',
      shape,
      weights,
      threads,
      ...timings,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      weightMB: weightBytes / 2 ** 20,
      machine,
      ...bounds(c, weightBytes, machine),
      ...(device === 'webgpu' ? { gpu: 'webgpu' as const } : {}),
    };
  } finally {
    be.dispose();
  }
}

/**
 * The auto row: ort-cpu and js on the same model, each phase on the engine measured faster for
 * it at the first load (the plan is cached beside the bench's exports, as the extension caches it).
 * A real-model shape runs its GGUF file as the extension would: js as the file holds it, onnxruntime on its blocks.
 */
export async function measureAuto(shape: string, weights: OnnxWeightFormat | RealFormat, threads: number, runs: number): Promise<InferenceRow> {
  const machine = await measureMachine(threads);
  const real = isRealShape(shape);
  const model = real ? loadModel(realShapeGguf(shape, weights as RealFormat)) : benchModel(shape);
  const c = model.config;
  const cacheDir = join(llamaPeerDir(), 'onnx');
  const js = { threads, weightFormat: real ? ('auto' as const) : (weights as OnnxWeightFormat), contextLength: BENCH_CONTEXT };
  const ort = { threads, weightFormat: weights === 'q8_0' && !real ? ('q8_0' as const) : ('f32' as const), contextLength: BENCH_CONTEXT };
  const split = await createPhaseSplit(model, { js, ort, cacheDir });
  const be = split.backend;
  try {
    const timings = await timeDecoder(async (tokens, pos) => (await be.forward(tokens, pos)).logits, c, runs);
    // Decode reads the js backend's weights.
    const weightBytes = (be instanceof FastBackend ? be : be.js).weightBytes;
    return { engine: 'limelight auto (ort-cpu + js)', plan: split.description, shape, weights, threads, ...timings, peakRssMB: process.resourceUsage().maxRSS / 1024, weightMB: weightBytes / 2 ** 20, machine, ...bounds(c, weightBytes, machine) };
  } finally {
    be.dispose();
  }
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `--one ort-cpu|ort-webgpu|auto shape weights threads runs`: one row as JSON (or {"skip": why}) for the main table. */
async function one(args: readonly string[]): Promise<void> {
  const [, engine, shape, weights, threads, runs] = args;
  const realFormat = isRealShape(shape!) && (REAL_FORMATS as readonly string[]).includes(weights!);
  if (!isOrtFormat(weights!) && !realFormat) {
    console.log(JSON.stringify({ skip: `the ONNX export has no ${weights} weights (${ORT_FORMATS.join(', ')}; a real-model shape's GGUF formats ${REAL_FORMATS.join(', ')})` }));
  } else if (engine === 'auto') {
    console.log(JSON.stringify(await measureAuto(shape!, weights as OnnxWeightFormat | RealFormat, Number(threads), Number(runs))));
  } else {
    console.log(JSON.stringify(await measureOrt(engine === 'ort-webgpu' ? 'webgpu' : 'cpu', shape!, weights as OnnxWeightFormat | RealFormat, Number(threads), Number(runs))));
  }
}

async function alone(args: readonly string[]): Promise<void> {
  const list = (s: string | undefined): string[] | undefined => s?.split(',').filter((x) => x !== '');
  const device = (argValue(args, '--device') ?? 'cpu') as OrtDevice;
  const threads = Number(argValue(args, '--threads') ?? 2);
  const runs = Number(argValue(args, '--runs') ?? 3);
  const spin = args.includes('--spin');
  const formats = (list(argValue(args, '--formats')) ?? [...ORT_FORMATS]) as WeightFormat[];
  const bad = formats.filter((w) => !isOrtFormat(w));
  if (bad.length > 0) throw new Error(`the ONNX export has no ${bad.join(', ')} weights; use --formats ${ORT_FORMATS.join(',')}`);
  const rows: InferenceRow[] = [];
  for (const shape of list(argValue(args, '--shapes')) ?? Object.keys(BENCH_SHAPES)) {
    for (const weights of formats as OnnxWeightFormat[]) {
      const r = await measureOrt(device, shape, weights, threads, runs, spin);
      rows.push(r);
      if (!args.includes('--json')) {
        console.log(
          `${r.engine} ${r.shape.padEnd(10)} ${r.weights.padEnd(4)} threads ${r.threads}${spin ? ' spin' : ''}  prefill 512: ${r.prefillTokPerS.toFixed(0).padStart(6)} tok/s  TTFT 128: ${r.ttftMs.toFixed(1).padStart(7)} ms  decode@128: ${r.decode128TokPerS.toFixed(1).padStart(6)}  decode@1024: ${r.decode1024TokPerS.toFixed(1).padStart(6)} tok/s  RSS ${r.peakRssMB.toFixed(0)} MB`,
        );
      }
    }
  }
  if (args.includes('--json')) console.log(JSON.stringify(rows, null, 2));
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const run = args[0] === '--probe' ? runWebGpuProbe().then((reason) => console.log(JSON.stringify({ reason }))) : args[0] === '--one' ? one(args) : alone(args);
  run.then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
