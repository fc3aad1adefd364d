// Inference benchmark: the js backend (WebAssembly kernels on the thread pool) per weight
// format and thread count, onnxruntime on the CPU and WebGPU (tools/bench/ort.ts), and
// llama.cpp (node-llama-cpp) on the same random weights written as GGUF, on the GPT-2 124M
// shape and the starter shape. Each configuration runs in its own process (so peak RSS is its
// own) and reports medians over --runs repeats of:
//   prefill 512 tokens from an empty cache; time to first token of a 128-token prompt;
//   decode at context 128 (16 steps) and near 1024 (8 steps from position 1000).
// Beside each row: the bandwidth bound on decode (read bandwidth / weight bytes per token)
// and the compute bound on prefill (peak flops / 2 x matrix parameters per token), measured
// with the same thread count in a child of that process (so its buffers are not in the RSS),
// the ratios to llama.cpp's row of the same shape, weights and threads and to the decode
// bound, and for the js engine on a real-model shape the memory goal beside its peak RSS.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ModelConfig } from '../../engine/model/config';
import { configFromHF } from '../../engine/model/families';
import { createModel, type Model } from '../../engine/model/model';
import { randomModel } from '../../engine/model/init';
import { FastBackend, WEIGHT_FORMATS, type WeightFormat } from '../../engine/runtime/fastBackend';
import { writeGgufModel } from '../../engine/model/ggufExport';
import type { WeightType } from '../../engine/formats/formats';
import { measureMachine, type MachineLimits } from './machine';
import { ensureLlamaPeer, llamaPeerDir } from './llamaPeer';
import { REAL_FORMATS, REAL_SHAPES, realShapeGguf, type RealFormat } from './realShapes';
import { loadModel } from '../../engine/model/load';
import { kvBytesPerPosition } from '../../engine/model/memory';

export const BENCH_SHAPES: Record<string, ModelConfig> = {
  'gpt2-124m': configFromHF({ model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }),
  starter: configFromHF({ model_type: 'gpt2', vocab_size: 50284, n_positions: 1024, n_embd: 384, n_layer: 6, n_head: 6, limelight_encoding: 'p50k_base' }),
};

const SEED = 1337;
const PREFILL = 512;
const TTFT_PROMPT = 128;
const LONG_PROMPT = 1024;
/** KV-cache positions the measurements need. */
export const BENCH_CONTEXT = LONG_PROMPT + 16;

/** The long prompt's length: 1024 tokens, less where the model's positions end sooner (GPT-2's 1024 must also hold the decode steps after it). */
function longPrompt(c: ModelConfig): number {
  return Math.min(LONG_PROMPT, c.maxPositions - 16);
}
/** The real-models issue's memory goal: peak RSS at most this times the GGUF file, plus the KV cache. */
const RSS_GOAL_FILE_FACTOR = 1.25;

/** Backends the table can hold, in the order each configuration runs them (the peer first, for the ratios). */
/**
 * js-portable: the js backend on the portable kernels (no relaxed SIMD), as an engine without it
 * runs; js-kv16: the js backend with an f16 KV cache; auto: limelight.backend auto on the CPU,
 * each phase on the engine measured faster for it (runtime/phaseSplit.ts), last so that its
 * ratios to js, ort-cpu and llama.cpp can be printed.
 */
export const BENCH_ENGINES = ['llama.cpp', 'js', 'js-portable', 'js-kv16', 'ort-cpu', 'ort-webgpu', 'auto'] as const;
export type BenchEngine = (typeof BENCH_ENGINES)[number];
const ENGINE_LABEL: Record<BenchEngine, InferenceRow['engine']> = { 'llama.cpp': 'llama.cpp (node-llama-cpp)', js: 'limelight-js', 'js-portable': 'limelight-js portable SIMD', 'js-kv16': 'limelight-js f16 KV cache', 'ort-cpu': 'onnxruntime ort-cpu', 'ort-webgpu': 'onnxruntime ort-webgpu', auto: 'limelight auto (ort-cpu + js)' };

export interface InferenceRow {
  engine: 'limelight-js' | 'limelight-js portable SIMD' | 'limelight-js f16 KV cache' | 'llama.cpp (node-llama-cpp)' | 'onnxruntime ort-cpu' | 'onnxruntime ort-webgpu' | 'limelight auto (ort-cpu + js)';
  /** The auto row: which engine took which phase, and from what prompt length. */
  plan?: string;
  shape: string;
  /** The weight format (a real-model shape: the GGUF file's format, run as 'auto'). */
  weights: WeightFormat | RealFormat;
  threads: number;
  /** Real-model shapes: opening the GGUF file to the first token's logits (page cache warm), ms. */
  loadToFirstTokenMs?: number;
  prefillTokPerS: number;
  ttftMs: number;
  /** Cold time to first token of the long prompt (1024 tokens where the model allows), ms. */
  ttftLongMs: number;
  decode128TokPerS: number;
  decode1024TokPerS: number;
  peakRssMB: number;
  /** Real-model shapes on the js engine: the memory goal for peakRssMB (RSS_GOAL_FILE_FACTOR x file + KV cache), MiB. */
  rssGoalMB?: number;
  weightMB: number;
  machine: MachineLimits;
  /** read bandwidth / weight bytes per token */
  decodeBoundTokPerS: number;
  /** peak flops / (2 x matrix parameters per token) */
  prefillBoundTokPerS: number;
  /** Ratios to llama.cpp's row of the same shape, weights and threads (absent without one). */
  prefillVsPeer?: number;
  decode128VsPeer?: number;
  decode1024VsPeer?: number;
  /** Cold time to first token of the long prompt, ours over the peer's (at most 1 is the goal). */
  ttftLongVsPeer?: number;
  /** decode at 128 / decodeBoundTokPerS */
  decodeVsBound?: number;
  /** The GPU API the row ran on (llama.cpp's Vulkan build, onnxruntime's WebGPU); absent on the CPU. */
  gpu?: 'vulkan' | 'webgpu';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function promptIds(n: number, V: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919 + 13) % V);
}

/** Multiply-adds per token in the matrix products (weights, lm head included). */
export function matrixParams(c: ModelConfig): number {
  return c.nLayer * (4 * c.hidden * c.hidden + 2 * c.hidden * c.ffn) + c.vocabSize * c.hidden;
}

/** The shape's deterministic random weights, cached as raw f32 so each process loads them fast. */
export function benchModel(shape: string): Model {
  const config = BENCH_SHAPES[shape];
  if (!config) throw new Error(`unknown bench shape "${shape}"; known: ${Object.keys(BENCH_SHAPES).join(', ')}`);
  const dir = llamaPeerDir();
  const file = join(dir, `${shape}-seed${SEED}.f32`);
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    return createModel(config, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
  }
  const model = randomModel(config, SEED);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.tmp`, model.params);
  renameSync(`${file}.tmp`, file);
  return model;
}

function ggufType(w: WeightFormat): WeightType {
  return w === 'f32' ? 'F32' : w === 'f16' ? 'F16' : 'Q8_0';
}

function ggufPath(shape: string, w: WeightFormat): string {
  const path = join(llamaPeerDir(), `${shape}-seed${SEED}-${w}.gguf`);
  if (!existsSync(path)) writeGgufModel(path, benchModel(shape), { weightType: ggufType(w), name: `limelight-bench-${shape}` });
  return path;
}

export function bounds(c: ModelConfig, weightBytes: number, machine: MachineLimits) {
  return {
    decodeBoundTokPerS: machine.readBytesPerS / weightBytes,
    prefillBoundTokPerS: machine.peakFlopsPerS / (2 * matrixParams(c)),
  };
}

/** One forward step of a backend under test: logits of the last position (1, V). */
export type BenchForward = (tokens: Int32Array, pos: number) => Float32Array | Promise<Float32Array>;

export interface DecoderTimings {
  prefillTokPerS: number;
  ttftMs: number;
  /** Cold time to first token of the long prompt (1024 tokens; no cache), ms. */
  ttftLongMs: number;
  decode128TokPerS: number;
  decode1024TokPerS: number;
}

/**
 * The measurements every in-process backend gets (medians of `runs`): prefill 512 tokens from
 * an empty cache; time to first token of a 128-token prompt; decode at context 128 (16 steps);
 * cold time to first token of the long prompt (longPrompt, once) and decode after it (8 steps).
 */
export async function timeDecoder(forward: BenchForward, c: ModelConfig, runs: number): Promise<DecoderTimings> {
  const ids = Int32Array.from(promptIds(BENCH_CONTEXT, c.vocabSize));
  const long = longPrompt(c);
  const prefill: number[] = [];
  const ttft: number[] = [];
  const d128: number[] = [];
  const d1024: number[] = [];
  // A plain loop: reduce's callback per logit cost about 1 ms a token, 8 % of an 80 tok/s decode.
  const argmax = (l: Float32Array): number => {
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
    return best;
  };
  await forward(ids.subarray(0, 8), 0); // warm the kernels up
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    await forward(ids.subarray(0, PREFILL), 0);
    prefill.push(PREFILL / ((performance.now() - t) / 1000));
    t = performance.now();
    let next = argmax(await forward(ids.subarray(0, TTFT_PROMPT), 0));
    ttft.push(performance.now() - t);
    t = performance.now();
    for (let s = 0; s < 16; s++) next = argmax(await forward(Int32Array.of(next), TTFT_PROMPT + s));
    d128.push(16 / ((performance.now() - t) / 1000));
  }
  const t = performance.now();
  const first = argmax(await forward(ids.subarray(0, long), 0));
  const ttftLongMs = performance.now() - t;
  for (let r = 0; r < runs; r++) {
    let next = first;
    const t = performance.now();
    for (let s = 0; s < 8; s++) next = argmax(await forward(Int32Array.of(next), long + s));
    d1024.push(8 / ((performance.now() - t) / 1000));
  }
  return { prefillTokPerS: median(prefill), ttftMs: median(ttft), ttftLongMs, decode128TokPerS: median(d128), decode1024TokPerS: median(d1024) };
}

/** Reads the file through a small buffer, so it is in the page cache without being held in this process (its RSS is a column). */
function warmPageCache(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; readSync(fd, buf, 0, buf.length, at) > 0; at += buf.length);
  } finally {
    closeSync(fd);
  }
}

function isRealShape(shape: string): boolean {
  return REAL_SHAPES[shape] !== undefined;
}

function shapeConfig(shape: string): ModelConfig {
  const c = BENCH_SHAPES[shape] ?? REAL_SHAPES[shape];
  if (!c) throw new Error(`unknown bench shape "${shape}"; known: ${[...Object.keys(BENCH_SHAPES), ...Object.keys(REAL_SHAPES)].join(', ')}`);
  return c;
}

async function measureJs(shape: string, weights: WeightFormat | RealFormat, threads: number, runs: number, engine: BenchEngine): Promise<InferenceRow> {
  const relaxedSimd = engine !== 'js-portable';
  const kvCache = engine === 'js-kv16' ? 'f16' : 'f32';
  const machine = await measureMachine(threads);
  let loadToFirstTokenMs: number | undefined;
  let rssGoalMB: number | undefined;
  let be: FastBackend;
  if (isRealShape(shape)) {
    const path = realShapeGguf(shape, weights as RealFormat);
    warmPageCache(path); // the goal is from a warm page cache
    const t = performance.now();
    be = await FastBackend.create(loadModel(path), { threads, weightFormat: 'auto', contextLength: BENCH_CONTEXT, relaxedSimd, kvCache });
    be.forwardSync(Int32Array.of(1), 0);
    loadToFirstTokenMs = performance.now() - t;
    be.releaseCache();
    rssGoalMB = (RSS_GOAL_FILE_FACTOR * statSync(path).size + kvBytesPerPosition(be.config, kvCache) * be.contextLength) / 2 ** 20;
  } else {
    be = await FastBackend.create(benchModel(shape), { threads, weightFormat: weights as WeightFormat, relaxedSimd, kvCache });
  }
  const c = be.config;
  const timings = await timeDecoder((tokens, pos) => be.forwardSync(tokens, pos).logits, c, runs);
  be.dispose();
  return {
    engine: !be.relaxedSimd ? 'limelight-js portable SIMD' : kvCache === 'f16' ? 'limelight-js f16 KV cache' : 'limelight-js',
    shape,
    weights,
    threads,
    ...timings,
    ...(loadToFirstTokenMs !== undefined ? { loadToFirstTokenMs } : {}),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    ...(rssGoalMB !== undefined ? { rssGoalMB } : {}),
    weightMB: be.weightBytes / 2 ** 20,
    machine,
    ...bounds(c, be.weightBytes, machine),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- node-llama-cpp is loaded at run time from the bench cache, without its types */
async function measurePeer(shape: string, weights: WeightFormat | RealFormat, threads: number, runs: number, gpu: boolean): Promise<InferenceRow> {
  const peer = ensureLlamaPeer();
  if ('error' in peer) throw new Error(peer.error);
  const machine = await measureMachine(threads);
  const c = shapeConfig(shape);
  const path = isRealShape(shape) ? realShapeGguf(shape, weights as RealFormat) : ggufPath(shape, weights as WeightFormat);
  const lib: any = await import(pathToFileURL(join(peer.dir, 'dist', 'index.js')).href);
  const llama = await lib.getLlama({ gpu: gpu ? 'vulkan' : false, build: 'never', logLevel: 'error' });
  if (gpu && llama.gpu !== 'vulkan') throw new Error(`llama.cpp found no Vulkan GPU (got ${String(llama.gpu)})`);
  const model = await llama.loadModel({ modelPath: path, gpuLayers: gpu ? 'max' : 0 });
  const context = await model.createContext({ contextSize: BENCH_CONTEXT, batchSize: PREFILL, threads });
  const seq = context.getSequence();
  const ids = promptIds(BENCH_CONTEXT, c.vocabSize);
  const long = longPrompt(c);
  const prefill: number[] = [];
  const ttft: number[] = [];
  const d128: number[] = [];
  const ttftLong: number[] = [];
  const d1024: number[] = [];
  await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, 8));
  for (let r = 0; r < runs; r++) {
    await seq.clearHistory();
    let t = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, PREFILL));
    prefill.push(PREFILL / ((performance.now() - t) / 1000));
    await seq.clearHistory();
    t = performance.now();
    const gen = seq.evaluate(ids.slice(0, TTFT_PROMPT), { temperature: 0 });
    await gen.next();
    ttft.push(performance.now() - t);
    t = performance.now();
    for (let s = 0; s < 16; s++) await gen.next();
    d128.push(16 / ((performance.now() - t) / 1000));
    await gen.return(undefined);
  }
  for (let r = 0; r < runs; r++) {
    await seq.clearHistory();
    let t = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, long - 1));
    const gen = seq.evaluate([ids[long - 1]], { temperature: 0 });
    await gen.next();
    ttftLong.push(performance.now() - t);
    t = performance.now();
    for (let s = 0; s < 8; s++) await gen.next();
    d1024.push(8 / ((performance.now() - t) / 1000));
    await gen.return(undefined);
  }
  await context.dispose();
  await model.dispose();
  const params = matrixParams(c);
  // A real-model file is nearly all matrices; the bench shapes' files are computed from their format.
  const weightBytes = isRealShape(shape) ? statSync(path).size : weights === 'f32' ? params * 4 : weights === 'f16' ? params * 2 : params * (34 / 32);
  return {
    engine: 'llama.cpp (node-llama-cpp)',
    shape,
    weights,
    threads,
    prefillTokPerS: median(prefill),
    ttftMs: median(ttft),
    ttftLongMs: median(ttftLong),
    decode128TokPerS: median(d128),
    decode1024TokPerS: median(d1024),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    weightMB: weightBytes / 2 ** 20,
    machine,
    ...bounds(c, weightBytes, machine),
    ...(gpu ? { gpu: 'vulkan' as const } : {}),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits).padStart(8);
}

/** What `npm run bench -- --help` prints for the inference table. */
export const INFERENCE_OPTIONS = `  --shapes a,b        model shapes (${[...Object.keys(BENCH_SHAPES), ...Object.keys(REAL_SHAPES)].join(', ')}; default ${Object.keys(BENCH_SHAPES).join(', ')});
                      the real-model shapes are GGUF files of random weights both engines load
  --formats a,b       weight formats (${WEIGHT_FORMATS.join(', ')} for the GPT-2 shapes, ${REAL_FORMATS.join(', ')} for the real-model
                      shapes; default all that fit each shape; onnxruntime has f32 and q8_0, and runs a real shape's GGUF blocks as they are)
  --threads a,b       thread counts (default 1,2)
  --runs N            repeats per measurement, medians reported (default 3)
  --engines a,b       backends (${BENCH_ENGINES.join(', ')}; default all); ort-webgpu is skipped with the reason when there is no WebGPU adapter;
                      auto (ort-cpu prefill, js decode as measured at its first load) gets its prefill ratios to js, ort-cpu and llama.cpp
  --no-peer           leave llama.cpp out
  --peer-gpu          run llama.cpp on the GPU (its Vulkan build, every layer offloaded): the peer of
                      the ort-webgpu rows; CPU rows then get no peer ratios
  --json              the rows as JSON instead of the table`;

function childArgs(engine: BenchEngine): string[] {
  return engine === 'ort-cpu' || engine === 'ort-webgpu' || engine === 'auto' ? [join(__dirname, 'ort.js'), '--one', engine] : [__filename, '--one', engine];
}

/** The label a row is printed under. */
function engineLabel(engine: BenchEngine, gpu: boolean): string {
  return engine === 'llama.cpp' && gpu ? 'llama.cpp vulkan (node-llama-cpp)' : ENGINE_LABEL[engine];
}

/** The last line of a child's stdout as JSON, or why there is none. */
function childResult(child: SpawnSyncReturns<string>): { value: unknown } | { error: string } {
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status === 0 && last.startsWith('{')) return { value: JSON.parse(last) as unknown };
  const why = (child.stderr || child.stdout).trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
  return { error: why || `exit ${child.status}` };
}

/** Null when onnxruntime's WebGPU provider finds an adapter here, else why not (asked in a child process). */
function webGpuUnavailable(): string | null {
  const res = childResult(spawnSync(process.execPath, [join(__dirname, 'ort.js'), '--probe'], { encoding: 'utf8' }));
  return 'error' in res ? res.error : (res.value as { reason: string | null }).reason;
}

function ratio(a: number | undefined): string {
  return a === undefined ? '       -' : a.toFixed(2).padStart(8);
}

/** The auto row's prefill beside the js, ort-cpu and llama.cpp rows of the same configuration, and its plan. */
function autoRatios(auto: InferenceRow, rows: readonly InferenceRow[]): string {
  const same = (engine: InferenceRow['engine']): InferenceRow | undefined => rows.find((r) => r.engine === engine && r.shape === auto.shape && r.weights === auto.weights && r.threads === auto.threads);
  const vs = (engine: InferenceRow['engine'], name: string): string => {
    const r = same(engine);
    return r === undefined ? `${name} -` : `${name} ${(auto.prefillTokPerS / r.prefillTokPerS).toFixed(2)}x`;
  };
  return `  auto prefill 512 vs ${[vs('limelight-js', 'js'), vs('onnxruntime ort-cpu', 'ort-cpu'), vs('llama.cpp (node-llama-cpp)', 'llama.cpp')].join(', ')}; plan: ${auto.plan ?? '-'}`;
}

/** Runs every configuration in its own process; prints the table (or JSON with --json) and returns the rows. */
export function runInferenceBench(argv: readonly string[] = []): { rows: InferenceRow[]; skipped: string[] } {
  const json = argv.includes('--json');
  const shapes = (option(argv, 'shapes') ?? Object.keys(BENCH_SHAPES).join(',')).split(',');
  for (const s of shapes) shapeConfig(s);
  const askedFormats = option(argv, 'formats')?.split(',');
  const formatsOf = (shape: string): string[] => {
    const fit: readonly string[] = isRealShape(shape) ? REAL_FORMATS : WEIGHT_FORMATS;
    return askedFormats === undefined ? [...fit] : askedFormats.filter((f) => fit.includes(f));
  };
  const threadList = (option(argv, 'threads') ?? '1,2').split(',').map(Number);
  const runs = Number(option(argv, 'runs') ?? 3);
  const asked = (option(argv, 'engines') ?? BENCH_ENGINES.join(',')).split(',');
  const unknown = asked.filter((e) => !(BENCH_ENGINES as readonly string[]).includes(e));
  if (unknown.length > 0) throw new Error(`unknown engine ${unknown.join(', ')}; known: ${BENCH_ENGINES.join(', ')}`);
  let engines = BENCH_ENGINES.filter((e) => asked.includes(e) && !(e === 'llama.cpp' && argv.includes('--no-peer')));
  const peerGpu = argv.includes('--peer-gpu');
  const rows: InferenceRow[] = [];
  const skipped: string[] = [];
  const log = (s: string): void => {
    if (!json) console.log(s);
  };
  log(`inference bench: random weights (seed ${SEED}), medians of ${runs} runs; decode bound = read bandwidth / weight bytes, prefill bound = peak SIMD flops / (2 x matrix params); ratios to llama.cpp's row (x peer) and of dec@128 to its bound`);
  if (engines.includes('ort-webgpu')) {
    const reason = webGpuUnavailable();
    if (reason !== null) {
      skipped.push(`ort-webgpu: no WebGPU adapter: ${reason}`);
      log(`ort-webgpu: skipped (no WebGPU adapter: ${reason})`);
      engines = engines.filter((e) => e !== 'ort-webgpu');
    }
  }
  log('engine                            shape              weights thr  prefill512   TTFT128ms TTFT1kms  dec@128  dec@1024  bound-dec  bound-pre  RSS MB  goal MB   GB/s  GFLOP/s  pre/peer dec/peer d1k/peer t1k/peer dec/bound  load ms');
  for (const shape of shapes) {
    for (const weights of formatsOf(shape)) {
      for (const threads of threadList) {
        let peer: InferenceRow | null = null;
        for (const engine of engines) {
          const head = `${engineLabel(engine, peerGpu).padEnd(33)} ${shape.padEnd(18)} ${weights.padEnd(7)} ${String(threads).padStart(3)}`;
          const gpuArg = engine === 'llama.cpp' && peerGpu ? ['gpu'] : [];
          const res = childResult(spawnSync(process.execPath, [...childArgs(engine), shape, weights, String(threads), String(runs), ...gpuArg], { encoding: 'utf8', maxBuffer: 1 << 22 }));
          if ('error' in res || 'skip' in (res.value as object)) {
            const why = 'error' in res ? res.error : (res.value as { skip: string }).skip;
            skipped.push(`${engine} ${shape} ${weights} ${threads} threads: ${why}`);
            log(`${head}  ${'error' in res ? 'failed' : 'skipped'}: ${why}`);
            continue;
          }
          const r = res.value as InferenceRow;
          // The bounds are this machine's CPU's: a GPU row gets none.
          if (r.gpu === undefined) r.decodeVsBound = r.decode128TokPerS / r.decodeBoundTokPerS;
          if (engine === 'llama.cpp') peer = r;
          // Ratios compare like with like: CPU rows with the CPU peer, GPU rows with the GPU peer.
          if (peer && (peer.gpu === undefined) === (r.gpu === undefined)) {
            r.prefillVsPeer = r.prefillTokPerS / peer.prefillTokPerS;
            r.decode128VsPeer = r.decode128TokPerS / peer.decode128TokPerS;
            r.decode1024VsPeer = r.decode1024TokPerS / peer.decode1024TokPerS;
            r.ttftLongVsPeer = r.ttftLongMs / peer.ttftLongMs;
          }
          rows.push(r);
          log(
            `${head} ${fmt(r.prefillTokPerS)}  ${fmt(r.ttftMs)} ${fmt(r.ttftLongMs, 0)}  ${fmt(r.decode128TokPerS)} ${fmt(r.decode1024TokPerS)}  ${r.gpu === undefined ? `${fmt(r.decodeBoundTokPerS)}  ${fmt(r.prefillBoundTokPerS)}` : `${'-'.padStart(8)}  ${'-'.padStart(8)}`} ${fmt(r.peakRssMB, 0)} ${r.rssGoalMB === undefined ? '       -' : fmt(r.rssGoalMB, 0)} ${fmt(r.machine.readBytesPerS / 1e9)} ${fmt(r.machine.peakFlopsPerS / 1e9)}  ${ratio(r.prefillVsPeer)} ${ratio(r.decode128VsPeer)} ${ratio(r.decode1024VsPeer)} ${ratio(r.ttftLongVsPeer)} ${ratio(r.decodeVsBound)} ${r.loadToFirstTokenMs === undefined ? '       -' : fmt(r.loadToFirstTokenMs, 0)}`,
          );
          if (engine === 'auto') log(autoRatios(r, rows));
        }
      }
    }
  }
  if (json) console.log(JSON.stringify({ rows, skipped }, null, 2));
  return { rows, skipped };
}

async function one(argv: readonly string[]): Promise<void> {
  const [, engine, shape, weights, threads, runs, gpu] = argv;
  const row = engine === 'llama.cpp' ? await measurePeer(shape!, weights as WeightFormat | RealFormat, Number(threads), Number(runs), gpu === 'gpu') : await measureJs(shape!, weights as WeightFormat | RealFormat, Number(threads), Number(runs), engine as BenchEngine);
  console.log(JSON.stringify(row));
  process.exit(0);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--one') {
    one(argv).catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    });
  } else {
    runInferenceBench(argv);
  }
}
