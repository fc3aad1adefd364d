// What the engine worker holds and does, apart from the message loop (main.ts): the loaded
// model, its backend and generator, the mapping of each wire request (protocol.ts) to the
// engine's own options, and the guard-rails on them:
//   - threads are capped to the machine's cores, the context to the model's positions and to
//     the KV-cache memory the settings allow (the LoadResult says which limit applied);
//   - after idleReleaseSeconds without a request the KV cache is freed (the js backend's whole
//     kernel memory: WebAssembly memory cannot shrink, so its packed weights go too and are
//     packed again on the next request, which then prefills its whole prompt).
import { availableParallelism, freemem } from 'node:os';
import { loadModel } from '../model/load';
import type { Model } from '../model/model';
import type { ModelConfig } from '../model/config';
import { heldWeightBytes, kvBytesPerPosition, mainFormat, memoryFit } from '../model/memory';
import { autoWeightFormat, selectBackend } from '../runtime/select';
import { defaultOnnxCacheDir } from '../onnx/cache';
import { FastBackend, type WeightFormat } from '../runtime/fastBackend';
import { ContextOverflowError, type InferenceBackend } from '../runtime/backend';
import type { PhaseSplitBackend } from '../runtime/phaseSplit';
import { Generator, type GeneratorOptions } from '../generate/generator';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { loadModelPrompts, type ModelPrompts } from '../model/modelTokenizer';
import { PromptBuilder } from '../complete/prompt';
import { summaryPlan } from '../summarize/summaryPrompt';
import { loadAdapter, mergeLora } from '../train/lora';
import { readTrainerState } from '../train/checkpoint';
import { fineTuneWorkspace, type WorkspaceTrainOptions } from '../finetune/workspaceFineTune';
import { exportTrainingData } from '../finetune/workspaceExport';
import { inspect, type InspectInput } from '../inspect/inspect';
import { toWire } from '../inspect/wire';
import { getTokenizer } from '../tokenizer/tokenizer';
import { STARTER_ENCODING } from '../tokenizer/promptFormats';
import { readModelConfig } from '../model/load';
import { describeModel } from '../model/describe';
import { discoverModels } from '../model/discover';
import type { BuildPromptRequest, CountTokensRequest, EngineRequest, FromWorker, ForwardResultMessage, GenerateRequest, GenerateResultMessage, InspectRequest, LoadRequest, LoadResult, ResultOf, SummaryPromptRequest, TrainRequest, TrainStateResult } from './protocol';


/** Largest float32 copy of a quantized or half-precision model kept between inspections (bigger ones are made per inspection). */
const KEEP_INSPECTION_BYTES = 512 * 2 ** 20;

/** The context a load gets: the least of the setting, the model's positions and what the KV-cache memory holds. */
export function contextPlan(c: ModelConfig, asked: number | undefined, kvCacheMemoryMB: number | undefined, kvFormat: 'f32' | 'f16' = 'f32'): { positions: number; reason: string } {
  const perPos = kvBytesPerPosition(c, kvFormat);
  const wanted = Math.min(asked ?? c.maxPositions, c.maxPositions);
  const wantedWhy = asked === undefined ? `the model's ${c.maxPositions} positions` : asked > c.maxPositions ? `the model's ${c.maxPositions} positions (limelight.maxContextTokens asks ${asked})` : 'limelight.maxContextTokens';
  if (kvCacheMemoryMB === undefined) return { positions: wanted, reason: wantedWhy };
  const fits = Math.max(1, Math.floor((kvCacheMemoryMB * 2 ** 20) / perPos));
  const kib = (perPos / 1024).toFixed(perPos < 10240 ? 1 : 0);
  if (fits >= wanted) return { positions: wanted, reason: `${wantedWhy}; the KV cache takes ${mib(wanted * perPos)} of the ${kvCacheMemoryMB} MB allowed` };
  return {
    positions: fits,
    reason: `limelight.kvCacheMemoryMB (${kvCacheMemoryMB} MB at ${kib} KiB per position) holds ${fits} of the ${wanted} positions asked; raise it for longer prompts`,
  };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** Threads for a setting, at most the machine's cores (0 stays 0: cores minus one, chosen by the pool). */
export function cappedThreads(asked: number, cores = availableParallelism()): { threads: number; note: string | null } {
  if (asked <= cores) return { threads: asked, note: null };
  return { threads: cores, note: `limelight.threads ${asked} capped to the ${cores} cores of this machine` };
}

interface Loaded {
  request: LoadRequest;
  /** null while released for idleness: created again by the next request that needs it. */
  backend: InferenceBackend | null;
  generator: Generator | null;
  /** The model's tokenizer with its prompt layouts (null: it carries no tokenizer). */
  prompts: ModelPrompts | null;
  /** The completion prompts' builder, made at the first buildPrompt: it keeps the prefix window's start between requests. */
  completionPrompts: PromptBuilder | null;
  info: LoadResult;
  /** The weights as loaded (adapter merged), in their stored formats. */
  model: Model;
  /** The float32 model the inspector runs on, kept between inspections when small (see inspectionModel). */
  inspection: Model | null;
  /** The js backend's options, to create it again (on `model`) after an idle release. */
  recreate: { threads: number; contextLength: number; weightFormat: WeightFormat | 'auto'; kvCache: 'f32' | 'f16' } | null;
}

export class WorkerState {
  private loaded: Loaded | null = null;
  private active = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private releases = 0;

  constructor(
    private readonly send: (msg: FromWorker) => void,
    /** Bytes of memory available now (tests pass their own). */
    private readonly availableMemory: () => number = availableNow,
  ) {}

  /** How many times the cache was released for idleness (for the status and the tests). */
  get idleReleases(): number {
    return this.releases;
  }

  /** Whether the backend's memory is currently released (the next request allocates it again). */
  get released(): boolean {
    return this.loaded !== null && this.loaded.backend === null;
  }

  async handle(id: number, req: EngineRequest, signal: AbortSignal): Promise<ResultOf[keyof ResultOf]> {
    this.active++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    try {
      return await this.dispatch(id, req, signal);
    } finally {
      this.active--;
      this.armIdleRelease();
    }
  }

  private async dispatch(id: number, req: EngineRequest, signal: AbortSignal): Promise<ResultOf[keyof ResultOf]> {
    switch (req.type) {
      case 'load':
        return this.load(req);
      case 'generate':
        return this.generate(id, req, signal);
      case 'forward':
        return this.forward(req);
      case 'inspect':
        return this.inspect(req, signal);
      case 'train':
        return fineTuneWorkspace(trainOptions(req), (progress) => this.send({ kind: 'progress', id, progress }), signal);
      case 'trainState':
        return trainState(req.outDir);
      case 'checkAdapter':
        // Reads the adapter's config and its weights' header against the base model's shapes.
        loadAdapter(req.adapterDir, readModelConfig(req.modelDir));
        return null;
      case 'countTokens':
        return this.countTokens(req);
      case 'exportTrainingData':
        return exportTrainingData(req.outDir, req.files);
      case 'discoverModels':
        return discoverModels({ contextLength: req.contextLength, limelightDir: req.limelightDir, recent: req.recent });
      case 'describeModel':
        return describeModel(req.path, req.contextLength);
      case 'buildPrompt':
        return this.buildPrompt(req);
      case 'summaryPrompt':
        return this.summaryPrompt(req);
      case 'dispose':
        this.dispose();
        return null;
      default:
        throw new Error(`Unknown request type "${(req as { type: unknown }).type}"; the extension and the engine are out of step: reinstall Limelight.`);
    }
  }

  dispose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.loaded?.backend?.dispose();
    this.loaded = null;
  }

  private async load(req: LoadRequest): Promise<LoadResult> {
    this.dispose();
    const model = loadWeights(req);
    const c = model.config;
    const weightFormat = req.weightFormat === 'auto' ? autoWeightFormat(model) : req.weightFormat;
    // onnxruntime keeps an f32 cache whatever the setting; the js backend takes it.
    const kvFormat = req.backend === 'ort-cpu' || req.backend === 'ort-webgpu' ? 'f32' : (req.kvCacheFormat ?? 'f32');
    const ctx = contextPlan(c, req.contextLength, req.kvCacheMemoryMB, kvFormat);
    // Before the backend packs the weights (where the memory is taken): refuse what would swap the machine to a halt.
    const fit = memoryFit({ weightBytes: heldWeightBytes(model.weightBytes(), model.layout.total, weightFormat), kvBytesPerPosition: kvBytesPerPosition(c, kvFormat), positions: ctx.positions, mainFormat: mainFormat(model) }, this.availableMemory());
    if (fit.verdict === 'too-big') throw new MemoryFitError(fit.message!);
    const cap = cappedThreads(req.threads);
    // js runs the pool-backed FastBackend; the other settings fall back to it when they cannot start.
    // ONNX exports are cached on disk: exporting in memory on every load would peak at 2-3x the weights.
    const cacheDir = req.onnxCacheDir ?? defaultOnnxCacheDir();
    const choice = await selectBackend(model, { setting: req.backend, threads: cap.threads, contextLength: ctx.positions, weightFormat, kvCache: kvFormat, cacheDir, availableMemory: this.availableMemory() });
    const backend = choice.backend;
    const js = jsOf(backend);
    const held = js !== null ? js.weightFormat : weightFormat === 'q8_0' ? 'q8_0' : 'f32';
    const reason = [choice.reason, `${held} weights`, ...(cap.note ? [cap.note] : [])].join('; ');
    const prompts = loadModelPrompts(model.dir ?? req.modelDir, c);
    const info: LoadResult = {
      modelDir: req.modelDir,
      backend: backend.name,
      reason,
      weightFormat: held,
      threads: js !== null ? js.threads : cap.threads,
      contextLength: backend.contextLength,
      contextReason: ctx.reason,
      kvBytesPerPosition: kvBytesPerPosition(c, kvFormatOf(backend)),
      vocabSize: c.vocabSize,
      encoding: c.encoding,
      fim: prompts?.fim?.name ?? null,
      fimStopIds: prompts?.fim ? [...prompts.fim.stopIds] : [],
      chatTemplate: prompts?.chatTemplate != null,
      memoryNote: fit.message,
    };
    const recreate = backend instanceof FastBackend ? { threads: backend.threads, contextLength: backend.contextLength, weightFormat, kvCache: backend.kvCache } : null;
    this.loaded = { request: req, backend, generator: new Generator(backend, generatorOptions(req, backend)), prompts, completionPrompts: null, info, model, inspection: null, recreate };
    return info;
  }

  private needLoaded(): Loaded {
    if (!this.loaded) throw new Error('No model is loaded in the engine: send a load request first.');
    return this.loaded;
  }

  /**
   * Inspects on the loaded model's own weights, without reading the file again. The inspector
   * runs float32 on its own KV cache, so the packed weights and the generator's cached prefix
   * stay as they are.
   */
  private async inspect(req: InspectRequest, signal: AbortSignal): Promise<ResultOf['inspect']> {
    const l = this.needLoaded();
    const { type: _type, ...input } = req;
    const query: InspectInput = input;
    return toWire(await inspect(this.inspectionModel(l), query, { signal, tokenizer: l.prompts?.tokenizer ?? null }));
  }

  /** A float32 view of the loaded weights: the model itself when it is float32, else a copy kept while it is small. */
  private inspectionModel(l: Loaded): Model {
    if (l.inspection !== null) return l.inspection;
    const m = l.model.float32();
    if (m === l.model || m.layout.total * 4 <= KEEP_INSPECTION_BYTES) l.inspection = m;
    return m;
  }

  /** Tokens per text with the model's tokenizer (the loaded one when it is that model; the starter's encoding for a model without one). */
  private countTokens(req: CountTokensRequest): number[] {
    const l = this.loaded;
    const prompts = l !== null && l.request.modelDir === req.modelDir ? l.prompts : loadModelPrompts(req.modelDir, readModelConfig(req.modelDir));
    const t = prompts?.tokenizer ?? getTokenizer(STARTER_ENCODING);
    return req.texts.map((text) => t.encode(text).length);
  }

  /** The loaded model's completion prompt for a cursor. */
  private buildPrompt(req: BuildPromptRequest): ResultOf['buildPrompt'] {
    const l = this.needLoaded();
    const fim = l.prompts?.fim;
    if (!fim) throw new Error(`buildPrompt: ${l.request.modelDir} has no fill-in-the-middle layout, so it cannot complete between the code before and after the cursor; choose a code model with FIM.`);
    l.completionPrompts ??= new PromptBuilder(fim);
    if (req.resetAnchor) l.completionPrompts.resetAnchor();
    return l.completionPrompts.build(req.doc, req.budget, req.excerpts);
  }

  /** The loaded model's Summarize Selection prompt. */
  private summaryPrompt(req: SummaryPromptRequest): ResultOf['summaryPrompt'] {
    const l = this.needLoaded();
    if (l.prompts === null) throw new Error(`summaryPrompt: ${l.request.modelDir} carries no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding).`);
    return summaryPlan(l.prompts, req.path, req.code, req.maxPromptTokens);
  }

  /** The backend and generator, created again when an idle release freed them. */
  private async ready(): Promise<{ backend: InferenceBackend; generator: Generator; tokenizer: Tokenizer | null }> {
    const l = this.needLoaded();
    if (l.backend === null || l.generator === null) {
      const r = l.recreate!;
      const backend = await FastBackend.create(l.model, { threads: r.threads, contextLength: r.contextLength, weightFormat: r.weightFormat, kvCache: r.kvCache });
      if (this.loaded !== l) {
        backend.dispose();
        throw new Error('The model was unloaded while its memory was being allocated again; try again.');
      }
      l.backend = backend;
      l.generator = new Generator(backend, generatorOptions(l.request, backend));
    }
    return { backend: l.backend, generator: l.generator, tokenizer: l.prompts?.tokenizer ?? null };
  }

  private async generate(id: number, req: GenerateRequest, signal: AbortSignal): Promise<GenerateResultMessage> {
    const { backend, generator, tokenizer } = await this.ready();
    let promptIds = req.promptIds;
    if (promptIds === undefined) {
      if (req.prompt === undefined) throw new Error('generate: give promptIds or prompt.');
      if (!tokenizer) throw new Error('generate: this model carries no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding); send promptIds instead of prompt.');
      // Megabytes of text are refused before the seconds their tokenization would take.
      const least = tokenizer.minTokens(req.prompt);
      if (least > backend.contextLength) throw new ContextOverflowError(least, backend.contextLength);
      promptIds = tokenizer.encode(req.prompt);
    }
    const r = await generator.generate(promptIds, {
      maxNewTokens: req.maxNewTokens,
      sampling: req.sampling,
      stopStrings: req.stopStrings,
      stopTokenIds: req.stopTokenIds,
      maxTimeMs: req.maxTimeMs,
      signal,
      tokenizer: tokenizer ?? undefined,
      onToken: (tokenId, text) => this.send({ kind: 'token', id, tokenId, text }),
    });
    return { ids: r.ids, newIds: r.newIds, text: r.text, stopReason: r.stopReason, contextLimited: r.contextLimited, timings: r.timings };
  }

  private async forward(req: Extract<EngineRequest, { type: 'forward' }>): Promise<ForwardResultMessage> {
    const { backend, generator } = await this.ready();
    // A raw forward pass rewrites the cache behind the generator's back: forget its prefix.
    generator.reset();
    const r = await backend.forward(Int32Array.from(req.ids), req.pos, { allLogits: req.allLogits, captureAttention: req.captureAttention });
    generator.reset();
    return r.attention ? { logits: r.logits, attention: r.attention } : { logits: r.logits };
  }

  private armIdleRelease(): void {
    const seconds = this.loaded?.request.idleReleaseSeconds ?? 0;
    if (this.active > 0 || this.loaded === null || this.loaded.backend === null || !(seconds > 0)) return;
    // Timers hold at most 2^31 - 1 ms (about 24 days); longer is as good as never.
    if (seconds * 1000 >= 2 ** 31) return;
    this.idleTimer = setTimeout(() => this.releaseIdle(), seconds * 1000);
  }

  /** Frees the KV cache of an engine that nobody used for idleReleaseSeconds. */
  private releaseIdle(): void {
    this.idleTimer = null;
    const l = this.loaded;
    if (this.active > 0 || l === null || l.backend === null || l.generator === null) return;
    this.releases++;
    if (l.inspection !== l.model) l.inspection = null;
    if (l.recreate !== null) {
      l.backend.dispose();
      l.backend = null;
      l.generator = null;
    } else {
      l.generator.reset();
    }
  }
}

/** The element format of a backend's KV cache: the fast backend's setting; onnxruntime and the reference keep f32. */
function kvFormatOf(backend: InferenceBackend): 'f32' | 'f16' {
  return jsOf(backend)?.kvCache ?? 'f32';
}

/** The js backend that holds the KV cache the generator sees: the backend itself, or the one auto's phase split decodes on (its snapshots are the js cache's). */
function jsOf(backend: InferenceBackend): FastBackend | null {
  if (backend instanceof FastBackend) return backend;
  return backend.name === 'ort-cpu+js' ? (backend as PhaseSplitBackend).js : null;
}

/**
 * The prompt cache across files gets what limelight.kvCacheMemoryMB leaves beside the live
 * cache (none without the setting).
 */
function generatorOptions(req: LoadRequest, backend: InferenceBackend): GeneratorOptions {
  if (req.kvCacheMemoryMB === undefined) return {};
  const live = backend.contextLength * kvBytesPerPosition(backend.config, kvFormatOf(backend));
  return { promptCacheBytes: Math.max(0, req.kvCacheMemoryMB * 2 ** 20 - live) };
}

/** A load the machine's memory cannot hold. */
export class MemoryFitError extends Error {
  override name = 'MemoryFitError';
}

/** Memory available to a new allocation now: what the OS can hand out, within a container's limit. */
function availableNow(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 ? Math.min(freemem(), limit) : freemem();
}

/** The wire's train request as the fine-tune's options (the compiler checks that both sides agree). */
function trainOptions(req: TrainRequest): WorkspaceTrainOptions {
  const { type: _type, ...options } = req;
  return options;
}

/** What the extension needs of a saved run in outDir (null: none saved). */
function trainState(outDir: string): TrainStateResult | null {
  const s = readTrainerState(outDir);
  return s === null ? null : { baseModel: s.baseModel, step: s.step, steps: s.options.steps, mode: s.lora !== null ? 'lora' : 'full' };
}

/** The model's weights as stored, with the fine-tuned adapter merged when there is one. */
function loadWeights(req: LoadRequest): Model {
  const model = loadModel(req.modelDir);
  if (req.adapterDir !== undefined) mergeLora(model, loadAdapter(req.adapterDir, model.config));
  return model;
}
