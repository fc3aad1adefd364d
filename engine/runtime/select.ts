// Choosing a backend from the `limelight.backend` setting (auto | js | ort-cpu | ort-webgpu).
// Each candidate is created and smoke-tested with one token; one that fails falls through to
// the next with its reason recorded, so a broken GPU driver or a missing onnxruntime binary
// costs a notice, never the completions. `auto` tries WebGPU only when an adapter exists and the
// model is big enough for the GPU to beat the CPU, then ort-cpu and js together (each phase on
// the engine measured faster for it: runtime/phaseSplit.ts), then js.
import type { Model } from '../model/model';
import { heldWeightBytes, kvBytesPerPosition, mainFormat, memoryFit } from '../model/memory';
import { onnxRunsFormat } from '../onnx/nbits';
import { FastBackend, type KvCacheFormat, type WeightFormat } from './fastBackend';
import type { BackendName, InferenceBackend } from './backend';
import type { OrtBackendOptions } from './ortBackend';

/** Float weights (F32, F16, BF16) above this many bytes are held as Q8_0 under weightFormat 'auto'. */
const AUTO_Q8_BYTES = 1 << 30;

/**
 * What weightFormat 'auto' holds: a large float checkpoint as Q8_0 (a quarter of f32's memory
 * traffic per token), anything else as near its file's formats as the kernels allow.
 */
export function autoWeightFormat(model: Model): WeightFormat | 'auto' {
  const floats = [...model.formats().keys()].every((t) => t === 'F32' || t === 'F16' || t === 'BF16');
  return floats && model.weightBytes() > AUTO_Q8_BYTES ? 'q8_0' : 'auto';
}

/** What limelight.backend may name: the reference backend is for tests and the inspector, never chosen. */
export type BackendSetting = 'auto' | Exclude<BackendName, 'reference' | 'ort-cpu+js'>;
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'js', 'ort-cpu', 'ort-webgpu'];

/** Below this many parameters, per-kernel dispatch on the GPU costs more than the CPU's whole step. */
export const WEBGPU_MIN_PARAMS = 20_000_000;

export interface SelectOptions {
  setting: BackendSetting;
  /** Compute threads of the js backend and intra-op threads of onnxruntime (0 = cores minus one). */
  threads?: number;
  contextLength?: number;
  /** How the matrices are held (default f32; 'auto' as near the file's formats as the kernels allow). onnxruntime runs f32 and q8_0; f16 runs as f32 there. */
  weightFormat?: WeightFormat | 'auto';
  /** The js backend's KV-cache precision (default f32; onnxruntime's cache is f32). */
  kvCache?: KvCacheFormat;
  /** Where ONNX exports are cached (null = in memory). */
  cacheDir?: string | null;
  webgpuMinParams?: number;
  /** Bytes of memory available: auto splits the phases only where onnxruntime's copy of the weights fits beside the js backend's (absent: not checked). */
  availableMemory?: number;
}

export interface BackendAttempt {
  name: BackendName;
  /** Why it was skipped or why it failed. */
  reason: string;
}

export interface BackendChoice {
  backend: InferenceBackend;
  name: BackendName;
  /** One line for the status bar and the log: what runs the model and why. */
  reason: string;
  /** Candidates skipped or failed before this one, in order. */
  fallbacks: BackendAttempt[];
}

let webgpuProbe: Promise<string | null> | null = null;

/**
 * Whether onnxruntime's WebGPU provider finds an adapter here: null when it does, else the
 * reason it does not (no Vulkan/Metal/D3D12 driver, no GPU, no onnxruntime). Probed once per process.
 */
export function probeWebGpu(): Promise<string | null> {
  webgpuProbe ??= (async () => {
    try {
      const { runWebGpuProbe } = await import('./ortProbe.js');
      return await runWebGpuProbe();
    } catch (e) {
      return firstLine(e);
    }
  })();
  return webgpuProbe;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}

/**
 * Why onnxruntime cannot take this model, or null: the export runs float formats as float32 and
 * a quantized file's blocks as MatMulNBits on the same integers (onnx/nbits.ts); a format with
 * no such form would have to be expanded, so it stays on js.
 */
export function ortRefusal(model: Model): string | null {
  const other = [...model.formats().keys()].filter((t) => !onnxRunsFormat(t));
  return other.length === 0 ? null : `the file's ${other.join(', ')} weights have no ONNX form; they run on the js backend`;
}

/**
 * Why auto's phase split would not fit in `availableBytes`, or null: it holds the weights twice
 * (as the js backend holds them, and as onnxruntime runs them: float checkpoints in f32 or
 * q8_0, a quantized file's blocks as stored) and onnxruntime's f32 KV cache beside the js one.
 */
export function splitMemoryRefusal(model: Model, opts: SelectOptions, availableBytes: number): string | null {
  const c = model.config;
  const weightFormat = opts.weightFormat ?? 'f32';
  const floats = [...model.formats().keys()].every((t) => t === 'F32' || t === 'F16' || t === 'BF16');
  const stored = model.weightBytes();
  const ortWeights = heldWeightBytes(stored, model.layout.total, weightFormat === 'q8_0' ? 'q8_0' : floats ? 'f32' : 'auto');
  const need = {
    weightBytes: heldWeightBytes(stored, model.layout.total, weightFormat) + ortWeights,
    kvBytesPerPosition: kvBytesPerPosition(c, opts.kvCache ?? 'f32') + kvBytesPerPosition(c, 'f32'),
    positions: Math.min(c.maxPositions, opts.contextLength ?? c.maxPositions),
    mainFormat: mainFormat(model),
  };
  if (memoryFit(need, availableBytes).verdict === 'fits') return null;
  return `onnxruntime's copy of the weights (${(ortWeights / 2 ** 30).toFixed(1)} GB) and KV cache beside the js backend's would leave this machine short of memory`;
}

/** A candidate backend, and for the phase split the words that say which engine takes which phase. */
async function create(name: Exclude<BackendName, 'reference'>, model: Model, opts: SelectOptions): Promise<{ backend: InferenceBackend; how?: string }> {
  const weightFormat = opts.weightFormat ?? 'f32';
  const jsOptions = { threads: opts.threads, contextLength: opts.contextLength, weightFormat, kvCache: opts.kvCache };
  if (name === 'js') return { backend: await FastBackend.create(model, jsOptions) };
  const refusal = ortRefusal(model);
  if (refusal !== null) throw new Error(refusal);
  const ortOptions: OrtBackendOptions = { threads: opts.threads, contextLength: opts.contextLength, weightFormat: weightFormat === 'q8_0' ? 'q8_0' : 'f32', cacheDir: opts.cacheDir };
  if (name === 'ort-cpu+js') {
    const { createPhaseSplit } = await import('./phaseSplit.js');
    const split = await createPhaseSplit(model, { js: jsOptions, ort: ortOptions, cacheDir: opts.cacheDir ?? null });
    return { backend: split.backend, how: `auto: ${split.description}` };
  }
  const { OrtBackend } = await import('./ortBackend.js');
  return { backend: await OrtBackend.create(model, { ...ortOptions, device: name === 'ort-webgpu' ? 'webgpu' : 'cpu' }) };
}

/** Runs one token and clears the cache: a backend that loads but cannot run is caught here. */
async function smokeTest(backend: InferenceBackend): Promise<void> {
  const out = await backend.forward(Int32Array.of(0), 0);
  backend.releaseCache();
  if (out.logits.length !== backend.config.vocabSize || !Number.isFinite(out.logits[0])) {
    throw new Error(`the first forward pass returned ${out.logits.length} logits starting with ${out.logits[0]}; expected ${backend.config.vocabSize} finite values`);
  }
}

export async function selectBackend(model: Model, opts: SelectOptions): Promise<BackendChoice> {
  const fallbacks: BackendAttempt[] = [];
  const candidates: Exclude<BackendName, 'reference'>[] = [];
  let why: string;
  switch (opts.setting) {
    case 'js':
      candidates.push('js');
      why = 'set by limelight.backend';
      break;
    case 'ort-cpu':
    case 'ort-webgpu':
      candidates.push(...(opts.setting === 'ort-webgpu' ? (['ort-webgpu', 'ort-cpu', 'js'] as const) : (['ort-cpu', 'js'] as const)));
      why = 'set by limelight.backend';
      break;
    case 'auto': {
      const params = model.layout.total;
      const minParams = opts.webgpuMinParams ?? WEBGPU_MIN_PARAMS;
      const refusal = ortRefusal(model);
      if (refusal !== null) {
        // No onnxruntime session is tried (nor the GPU probed) for weights it would expand.
        fallbacks.push({ name: 'ort-webgpu', reason: refusal }, { name: 'ort-cpu', reason: refusal });
      } else if (params < minParams) {
        fallbacks.push({ name: 'ort-webgpu', reason: `the model (${millions(params)} parameters) is below ${millions(minParams)}, too small to gain from the GPU` });
      } else {
        const noAdapter = await probeWebGpu();
        if (noAdapter === null) candidates.push('ort-webgpu');
        else fallbacks.push({ name: 'ort-webgpu', reason: `no WebGPU adapter (${noAdapter})` });
      }
      const short = refusal === null && opts.availableMemory !== undefined ? splitMemoryRefusal(model, opts, opts.availableMemory) : null;
      if (short !== null) fallbacks.push({ name: 'ort-cpu+js', reason: short });
      else if (refusal === null) candidates.push('ort-cpu+js');
      candidates.push('js');
      why = 'auto';
      break;
    }
    default:
      throw new Error(`limelight.backend: "${String(opts.setting)}" is not one of ${BACKEND_SETTINGS.join(', ')}`);
  }
  for (const name of candidates) {
    let backend: InferenceBackend | null = null;
    try {
      const created = await create(name, model, opts);
      backend = created.backend;
      await smokeTest(backend);
      const notes = [created.how ?? why, ...fallbacks.map((f) => `${f.name}: ${f.reason}`)];
      if (backend.name !== 'js' && opts.weightFormat === 'f16') notes.push('f16 weights run as f32 on onnxruntime');
      const reason = `${backend.name} (${notes.join('; ')})`;
      return { backend, name: backend.name, reason, fallbacks };
    } catch (e) {
      backend?.dispose();
      fallbacks.push({ name, reason: `failed: ${firstLine(e)}` });
    }
  }
  throw new Error(`No backend could run the model: ${fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(1)} M`;
}
