// The engine worker (bundled as dist/worker.js): owns the model, the backend and the generator,
// and answers the protocol's requests one at a time. A `cancel` aborts the named request
// between forward passes (the generator yields to the event loop between steps).
import { parentPort } from 'node:worker_threads';
import { loadModel } from '../model/load';
import type { Model } from '../model/model';
import { selectBackend } from '../runtime/select';
import { defaultOnnxCacheDir } from '../onnx/cache';
import { FastBackend, type WeightFormat } from '../runtime/fastBackend';
import type { InferenceBackend } from '../runtime/backend';
import { Generator } from '../generate/generator';
import { getTokenizer, type Tokenizer } from '../tokenizer/tokenizer';
import { loadAdapter, mergeLora } from '../train/lora';
import { fineTuneWorkspace } from '../finetune/workspaceFineTune';
import { inspect } from '../inspect/inspect';
import { toWire } from '../inspect/wire';
import { errorData, type EngineRequest, type FromWorker, type ForwardResultMessage, type GenerateRequest, type LoadRequest, type LoadResult, type ToWorker } from './protocol';

/** Weights above this many bytes in f32 are held as Q8_0 under weightFormat 'auto'. */
const AUTO_Q8_BYTES = 1 << 30;

interface Loaded {
  request: LoadRequest;
  backend: InferenceBackend;
  generator: Generator;
  tokenizer: Tokenizer | null;
  info: LoadResult;
}

let loaded: Loaded | null = null;
const controllers = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function send(msg: FromWorker): void {
  const transfer: ArrayBuffer[] = [];
  if (msg.kind === 'result' && msg.result && 'logits' in msg.result) {
    transfer.push(msg.result.logits.buffer as ArrayBuffer);
    if (msg.result.attention) transfer.push(msg.result.attention.buffer as ArrayBuffer);
  }
  parentPort!.postMessage(msg, transfer);
}

/** The model's full-precision weights, with the fine-tuned adapter merged when there is one. */
function loadWeights(req: LoadRequest): Model {
  const model = loadModel(req.modelDir);
  if (req.adapterDir !== undefined) mergeLora(model, loadAdapter(req.adapterDir, model.config));
  return model;
}

async function load(req: LoadRequest): Promise<LoadResult> {
  loaded?.backend.dispose();
  loaded = null;
  const model = loadWeights(req);
  const c = model.config;
  const weightFormat: WeightFormat = req.weightFormat === 'auto' ? (model.params.length * 4 > AUTO_Q8_BYTES ? 'q8_0' : 'f32') : req.weightFormat;
  // js runs the pool-backed FastBackend; the other settings fall back to it when they cannot start.
  // ONNX exports are cached on disk: exporting in memory on every load would peak at 2-3x the weights.
  const cacheDir = req.onnxCacheDir ?? defaultOnnxCacheDir();
  const choice = await selectBackend(model, { setting: req.backend, threads: req.threads, contextLength: req.contextLength, weightFormat, cacheDir });
  const backend = choice.backend;
  const reason = `${choice.reason}; ${weightFormat} weights`;
  const tokenizer = c.encoding ? getTokenizer(c.encoding) : null;
  const info: LoadResult = {
    modelDir: req.modelDir,
    backend: backend.name,
    reason,
    weightFormat,
    threads: backend instanceof FastBackend ? backend.threads : req.threads,
    contextLength: backend.contextLength,
    vocabSize: c.vocabSize,
    encoding: c.encoding,
  };
  loaded = { request: req, backend, generator: new Generator(backend), tokenizer, info };
  return info;
}

function needLoaded(): Loaded {
  if (!loaded) throw new Error('No model is loaded in the engine: send a load request first.');
  return loaded;
}

async function generate(id: number, req: GenerateRequest, signal: AbortSignal) {
  const { generator, tokenizer } = needLoaded();
  let promptIds = req.promptIds;
  if (promptIds === undefined) {
    if (req.prompt === undefined) throw new Error('generate: give promptIds or prompt.');
    if (!tokenizer) throw new Error('generate: this model names no tokenizer encoding; send promptIds instead of prompt.');
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
    onToken: (tokenId, text) => send({ kind: 'token', id, tokenId, text }),
  });
  return { ids: r.ids, newIds: r.newIds, text: r.text, stopReason: r.stopReason, contextLimited: r.contextLimited, timings: r.timings };
}

async function forward(req: Extract<EngineRequest, { type: 'forward' }>): Promise<ForwardResultMessage> {
  const { backend, generator } = needLoaded();
  // A raw forward pass rewrites the cache behind the generator's back: forget its prefix.
  generator.reset();
  const r = await backend.forward(Int32Array.from(req.ids), req.pos, { allLogits: req.allLogits, captureAttention: req.captureAttention });
  generator.reset();
  return r.attention ? { logits: r.logits, attention: r.attention } : { logits: r.logits };
}

async function handle(id: number, req: EngineRequest, signal: AbortSignal) {
  switch (req.type) {
    case 'load':
      return load(req);
    case 'generate':
      return generate(id, req, signal);
    case 'forward':
      return forward(req);
    case 'inspect':
      // The inspector reads full-precision weights and its own KV cache, so the packed
      // weights and the generator's cached prefix stay as they are.
      return toWire(inspect(loadWeights(needLoaded().request), req));
    case 'train':
      return fineTuneWorkspace(req, (progress) => send({ kind: 'progress', id, progress }), signal);
    case 'dispose':
      loaded?.backend.dispose();
      loaded = null;
      return null;
    default:
      throw new Error(`Unknown request type "${(req as { type: unknown }).type}"; the extension and the engine are out of step: reinstall Limelight.`);
  }
}

parentPort!.on('message', (msg: ToWorker) => {
  if (msg.kind === 'cancel') {
    controllers.get(msg.id)?.abort(new Error('cancelled'));
    return;
  }
  const controller = new AbortController();
  controllers.set(msg.id, controller);
  queue = queue.then(async () => {
    try {
      if (controller.signal.aborted && msg.request.type !== 'dispose') throw new Error('The request was cancelled before it started.');
      send({ kind: 'result', id: msg.id, result: await handle(msg.id, msg.request, controller.signal) });
    } catch (e) {
      send({ kind: 'error', id: msg.id, error: errorData(e) });
    } finally {
      controllers.delete(msg.id);
    }
  });
});
