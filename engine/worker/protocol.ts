// The typed messages between the extension (EngineClient) and the engine worker (main.ts), in
// the way of vscode-eslint's shared message types: this file is the whole contract and a leaf.
// It imports nothing from the engine except the inspection's data format, which the webview
// shares (inspect/wire.ts and format.ts, themselves leaves); the engine maps each request to
// its own options (worker/engine.ts), so an internal change cannot silently change the wire.
// Every request carries an id; the worker answers with exactly one `result` or `error` for
// it, after any number of `token` or `progress` messages. `cancel` names the id of the request
// to stop. Errors cross as plain data, never as thrown objects. Every field of every request is
// checked by one table (REQUEST_FIELDS) before the worker acts on it.
import type { InspectionWire } from '../inspect/wire';

/** limelight.backend values a local load may name. */
export const LOAD_BACKENDS = ['auto', 'js', 'ort-cpu', 'ort-webgpu'] as const;
export type LoadBackend = (typeof LOAD_BACKENDS)[number];

/** How the js backend may hold the matrices ('auto': as near the file's formats as the kernels allow). */
export const LOAD_WEIGHT_FORMATS = ['auto', 'f32', 'f16', 'q8_0'] as const;
export type LoadWeightFormat = (typeof LOAD_WEIGHT_FORMATS)[number];

export interface LoadRequest {
  type: 'load';
  /** A Hugging Face checkpoint folder (config.json + safetensors) or a GGUF file. */
  modelDir: string;
  backend: LoadBackend;
  /** Compute threads (0 = cores - 1). */
  threads: number;
  weightFormat: LoadWeightFormat;
  /** KV-cache capacity in positions (capped by the model). */
  contextLength?: number;
  /** Where ONNX exports of the model are cached for the ort backends (default: the user's cache folder). */
  onnxCacheDir?: string;
  /** A PEFT LoRA adapter folder merged into the weights at load (Fine-tune on Workspace's result). */
  adapterDir?: string;
  /** Most memory the KV cache may take, in MiB: the context is cut to the positions that fit. */
  kvCacheMemoryMB?: number;
  /** The js backend's KV-cache precision (default f32; f16 halves its memory and what attention reads, as llama.cpp's default does). */
  kvCacheFormat?: 'f32' | 'f16';
  /** Idle seconds after which the KV cache (and the js backend's kernel memory) is freed; 0 or absent = never. */
  idleReleaseSeconds?: number;
}

export interface Sampling {
  /** 0 picks the most likely token (greedy). */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
}

export interface GenerateRequest {
  type: 'generate';
  /** Token ids of the prompt; or `prompt`, encoded with the model's tokenizer. */
  promptIds?: number[];
  prompt?: string;
  maxNewTokens: number;
  sampling?: Sampling;
  stopStrings?: string[];
  stopTokenIds?: number[];
  maxTimeMs?: number;
}

export interface ForwardRequest {
  type: 'forward';
  ids: number[];
  /** Position of ids[0]; the cache must hold [0, pos). */
  pos: number;
  allLogits?: boolean;
  captureAttention?: boolean;
}

/** One workspace file to learn from (path relative to its workspace folder). */
export interface SourceFileWire {
  path: string;
  text: string;
}

/** Fine-tune on Workspace; streams `progress` messages; a cancel keeps the latest checkpoint. */
export interface TrainRequest {
  type: 'train';
  /** The base model (never written to). */
  modelDir: string;
  /** Where checkpoints, the adapter (or model), eval results and the report go. */
  outDir: string;
  files: SourceFileWire[];
  /** LoRA adapters on the attention projections, or every weight. */
  mode: 'lora' | 'full';
  loraRank: number;
  /** Time budget of the whole run (evaluations included), in minutes. */
  maxMinutes: number;
  /** Continue the run saved in outDir. */
  resume: boolean;
  /** Fixed number of updates instead of what the time budget allows. */
  steps?: number;
  seqLen?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  maxEpochs?: number;
  evalLines?: number;
  evalWindows?: number;
  threads?: number;
  /** A BusySignal's buffer: while completions are generating, training waits between steps. */
  yieldTo?: SharedArrayBuffer;
  /** Least seconds between two training progress reports. */
  reportEverySeconds?: number;
}

/** Where a span of the decoded prompt sits in the editor's document. */
export interface SourceSegmentWire {
  textStart: number;
  length: number;
  docOffset: number;
}

/** Attention inspector data for ids or text, computed on the loaded model's own weights. */
export interface InspectRequest {
  type: 'inspect';
  /** Token ids to inspect; when absent, `text` is tokenized with the model's tokenizer. */
  ids?: number[];
  text?: string;
  /** Tokens [0, promptLength) are the prompt, the rest were generated (default: all prompt). */
  promptLength?: number;
  segments?: SourceSegmentWire[];
  /** Document text the prompt holds, located in the decoded text by the engine (its last occurrence). */
  spans?: { text: string; docOffset: number }[];
  /** A gpt-tokenizer encoding for pieces when the model names none (e.g. 'r50k_base'). */
  encoding?: string;
  /** Multiply-adds allowed for the logit lens. */
  lensBudget?: number;
}

/** A fine-tune run's saved state in `outDir`, or null when there is none (a damaged one is an error). */
export interface TrainStateRequest {
  type: 'trainState';
  outDir: string;
}

/** Checks a PEFT LoRA adapter folder against a base model's shapes, without loading the weights. */
export interface CheckAdapterRequest {
  type: 'checkAdapter';
  adapterDir: string;
  modelDir: string;
}

/** Tokens each text takes with `modelDir`'s tokenizer (the loaded one when it is that model). */
export interface CountTokensRequest {
  type: 'countTokens';
  modelDir: string;
  texts: string[];
}

/** Writes the workspace's training data (JSONL in the Hugging Face datasets layout) into a new folder under outDir. */
export interface ExportTrainingDataRequest {
  type: 'exportTrainingData';
  outDir: string;
  files: SourceFileWire[];
}

/** The models already on this machine (Hugging Face cache, Ollama, LM Studio, llama.cpp, Limelight's downloads, recent ones), headers only. */
export interface DiscoverModelsRequest {
  type: 'discoverModels';
  /** Positions to size each model's KV cache for (default: its own context). */
  contextLength?: number;
  /** Where Limelight keeps the models it downloaded. */
  limelightDir?: string;
  recent?: string[];
}

/** A model's facts from its headers (config.json or the GGUF header), without loading its weights; rejects saying what is wrong with it. */
export interface DescribeModelRequest {
  type: 'describeModel';
  path: string;
  contextLength?: number;
}

/** A cursor in a document, as the completion prompt sees it (complete/prompt.ts CompletionDocument). */
export interface CompletionDocumentWire {
  /** Workspace-relative path, or '' for an untitled editor. */
  path: string;
  languageId: string;
  text: string;
  /** Cursor offset in `text` (UTF-16 units). */
  offset: number;
}

/** Token budgets of a completion prompt (complete/prompt.ts PromptBudget). */
export interface PromptBudgetWire {
  prefixTokens: number;
  suffixTokens: number;
  contextTokens: number;
  maxPromptTokens: number;
}

/**
 * The loaded model's completion prompt for a cursor, built in the worker with the model's
 * tokenizer and FIM layout. The worker keeps the prefix window's start from one request to the
 * next (the KV cache behind it stays valid); `resetAnchor` chooses it afresh.
 */
export interface BuildPromptRequest {
  type: 'buildPrompt';
  doc: CompletionDocumentWire;
  budget: PromptBudgetWire;
  /** Other files' excerpts (the extension's context ring), oldest first. */
  excerpts: SourceFileWire[];
  resetAnchor?: boolean;
}

/** The loaded model's Summarize Selection prompt for `code`, at most maxPromptTokens long. */
export interface SummaryPromptRequest {
  type: 'summaryPrompt';
  /** The file's workspace-relative path (the starter's layout names it). */
  path: string;
  code: string;
  maxPromptTokens: number;
}

export interface DisposeRequest {
  type: 'dispose';
}

export type EngineRequest =
  | LoadRequest
  | GenerateRequest
  | ForwardRequest
  | TrainRequest
  | InspectRequest
  | TrainStateRequest
  | CheckAdapterRequest
  | CountTokensRequest
  | ExportTrainingDataRequest
  | DiscoverModelsRequest
  | DescribeModelRequest
  | BuildPromptRequest
  | SummaryPromptRequest
  | DisposeRequest;

export interface LoadResult {
  modelDir: string;
  backend: string;
  /** Why this backend runs the model (fallbacks included). */
  reason: string;
  /** The format the matrices are held in ('mixed' when a file's formats differ by tensor), null for onnxruntime. */
  weightFormat: 'f32' | 'f16' | 'q8_0' | 'mixed' | null;
  threads: number;
  contextLength: number;
  /** Why the context holds contextLength positions (the setting, the model, or the KV-cache memory cap). */
  contextReason: string;
  /** Bytes of KV cache per position (keys and values of every layer, in the cache's format). */
  kvBytesPerPosition: number;
  vocabSize: number;
  /** The gpt-tokenizer encoding of Limelight's own models (their prompt layouts), else null. */
  encoding: string | null;
  /** The model's fill-in-the-middle layout, or null: completions are off for a model without one. */
  fim: string | null;
  /** Tokens that end a fill-in-the-middle answer ([] without a layout). */
  fimStopIds: number[];
  /** Whether the model carries a chat template (an instruct model). */
  chatTemplate: boolean;
  /** A warning when the model takes most of the memory available (a load that would not fit is refused instead). */
  memoryNote: string | null;
}

export type StopReasonWire = 'eos' | 'stop-string' | 'max-tokens' | 'max-time' | 'cancelled';

export interface TimingsWire {
  prompt_tokens: number;
  /** Prompt tokens whose keys and values were already in the cache. */
  reused_tokens: number;
  /** Prompt tokens run through the model. */
  prefilled_tokens: number;
  new_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  backend: string;
  /** Which engine read the prompt and which generated, when the backend splits the phases (auto: ort-cpu prefill, js decode). */
  prefill_engine?: string;
  decode_engine?: string;
}

export interface GenerateResultMessage {
  ids: number[];
  newIds: number[];
  text: string;
  stopReason: StopReasonWire;
  contextLimited: boolean;
  timings: TimingsWire;
}

export interface ForwardResultMessage {
  logits: Float32Array;
  attention?: Float32Array;
}

export interface TrainProgress {
  phase: 'preparing' | 'evaluating-before' | 'training' | 'evaluating-after' | 'saving';
  step: number;
  steps: number;
  /** Loss of the latest update (null before the first). */
  loss: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
}

export interface EvalResultWire {
  /** Mean cross-entropy per held-out token, in nats. */
  loss: number;
  tokens: number;
  /** Mean edit similarity of the completed lines (0..1). */
  editSimilarity: number;
  exactMatch: number;
  lines: number;
  samples: { path: string; line: number; expected: string; got: string }[];
}

export interface TrainResult {
  status: 'completed' | 'time-limit' | 'cancelled';
  step: number;
  steps: number;
  mode: 'lora' | 'full';
  outDir: string;
  trainFiles: number;
  heldOutFiles: number;
  trainTokens: number;
  before: EvalResultWire;
  /** Null when cancelled: the run is incomplete and can be resumed. */
  after: EvalResultWire | null;
  seconds: number;
  /** Seconds spent waiting for completions to finish. */
  yieldedSeconds: number;
  /** The short markdown report (also written to outDir/report.md). */
  report: string;
}

/** What the extension needs of a saved fine-tune run. */
export interface TrainStateResult {
  baseModel: string;
  step: number;
  steps: number;
  mode: 'lora' | 'full';
}

export interface ExportTrainingDataResult {
  dir: string;
  train: number;
  test: number;
}

export interface FoundModelWire {
  /** A readable name: `ORG/NAME` (HF), `NAME:TAG` (Ollama), `publisher/repo/file` (LM Studio)... */
  name: string;
  path: string;
  source: 'huggingface' | 'ollama' | 'lmstudio' | 'llama.cpp' | 'limelight' | 'recent';
  family?: string;
  /** A GGUF's file type (Q4_K_M, Q8_0...), else the format most weights are stored in. */
  format?: string;
  fim?: boolean;
  instruct?: boolean;
  bytes?: number;
  parameters?: number;
  /** Weights + KV cache at the context asked for. */
  memoryBytes?: number;
  /** Whether memoryBytes fits in this machine's memory. */
  fits?: boolean;
  /** Why this entry cannot be used. */
  error?: string;
}

export interface ModelDescriptionWire {
  path: string;
  family: string;
  modelType: string;
  parameters: number;
  /** Weights per stored format. */
  formats: Partial<Record<string, number>>;
  weightBytes: number;
  contextLength: number;
  vocabSize: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  /** The FIM layout, or null: completions need one. */
  fim: string | null;
  chatTemplate: boolean;
  kvBytesPerPosition: number;
  /** Weights + KV cache at `atContext` positions. */
  memoryBytes: number;
  atContext: number;
}

/** A built completion prompt (complete/prompt.ts BuiltPrompt). */
export interface BuiltPromptWire {
  ids: number[];
  headerPath: string;
  layout: string;
  prefix: string;
  suffix: string;
  chunks: SourceFileWire[];
  prefixStart: number;
  suffixEnd: number;
  tokens: { context: number; header: number; suffix: number; prefix: number };
  budget: { prefix: number; suffix: number; context: number };
}

/** A summary prompt and how to end its answer. */
export interface SummaryPromptWire {
  ids: number[];
  /** starter: the layout Limelight's models were trained with; chat: the model's chat template; plain: text to continue. */
  kind: 'starter' | 'chat' | 'plain';
  keptLines: number;
  totalLines: number;
  /** Some of the code was left out to fit. */
  cut: boolean;
  stopTokenIds: number[];
  stopStrings: string[];
  /** Why the chat template was not used, for the log (null when nothing went wrong). */
  note: string | null;
}

export interface ResultOf {
  load: LoadResult;
  generate: GenerateResultMessage;
  forward: ForwardResultMessage;
  train: TrainResult;
  inspect: InspectionWire;
  trainState: TrainStateResult | null;
  checkAdapter: null;
  countTokens: number[];
  exportTrainingData: ExportTrainingDataResult;
  discoverModels: FoundModelWire[];
  describeModel: ModelDescriptionWire;
  buildPrompt: BuiltPromptWire;
  summaryPrompt: SummaryPromptWire;
  dispose: null;
}

/** Client -> worker. */
export type ToWorker = { kind: 'request'; id: number; request: EngineRequest } | { kind: 'cancel'; id: number };

export interface ErrorData {
  name: string;
  message: string;
}

/** Worker -> client. */
export type FromWorker =
  | { kind: 'token'; id: number; tokenId: number; text: string }
  | { kind: 'progress'; id: number; progress: TrainProgress }
  | { kind: 'result'; id: number; result: ResultOf[keyof ResultOf] }
  | { kind: 'error'; id: number; error: ErrorData };

export function errorData(e: unknown): ErrorData {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** A message the worker cannot act on: wrong types, a missing field or an unknown request. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** The most ids (or texts) one request may carry: far above any context, low enough to check quickly. */
export const MAX_REQUEST_IDS = 1 << 20;

/** How one field is checked. Values are checked for type and range here; against the model (vocabulary, context) by the engine. */
type Rule =
  | { is: 'text' }
  | { is: 'number' }
  | { is: 'whole'; min: number }
  | { is: 'positive' }
  | { is: 'atLeast'; min: number }
  | { is: 'flag' }
  | { is: 'oneOf'; values: readonly string[] }
  | { is: 'ids' }
  | { is: 'texts' }
  | { is: 'list'; of: Record<string, Field> }
  | { is: 'record'; of: Record<string, Field> }
  | { is: 'sharedBuffer' };

interface Field {
  rule: Rule;
  optional?: true;
}

const need = (rule: Rule): Field => ({ rule });
const may = (rule: Rule): Field => ({ rule, optional: true });
const TEXT: Rule = { is: 'text' };
const IDS: Rule = { is: 'ids' };
const FLAG: Rule = { is: 'flag' };
const NUMBER: Rule = { is: 'number' };
const count = (min: number): Rule => ({ is: 'whole', min });
const FILES: Rule = { is: 'list', of: { path: need(TEXT), text: need(TEXT) } };

type FieldsOf<R> = { [K in Exclude<keyof R, 'type'>]-?: Field };

/**
 * Every field of every request, by request type. The mapped type makes a field added to a
 * request without a rule here a compile error, so nothing reaches the engine unchecked.
 */
const REQUEST_FIELDS: { [T in EngineRequest['type']]: FieldsOf<Extract<EngineRequest, { type: T }>> } = {
  load: {
    modelDir: need(TEXT),
    backend: need({ is: 'oneOf', values: LOAD_BACKENDS }),
    threads: need(count(0)),
    weightFormat: need({ is: 'oneOf', values: LOAD_WEIGHT_FORMATS }),
    contextLength: may(count(1)),
    onnxCacheDir: may(TEXT),
    adapterDir: may(TEXT),
    kvCacheMemoryMB: may({ is: 'positive' }),
    kvCacheFormat: may({ is: 'oneOf', values: ['f32', 'f16'] }),
    idleReleaseSeconds: may({ is: 'atLeast', min: 0 }),
  },
  generate: {
    promptIds: may(IDS),
    prompt: may(TEXT),
    // The generator checks the values (at least 1, whole) and names the setting.
    maxNewTokens: need(NUMBER),
    sampling: may({ is: 'record', of: { temperature: may(NUMBER), topK: may(NUMBER), topP: may(NUMBER), repetitionPenalty: may(NUMBER), seed: may(NUMBER) } }),
    stopStrings: may({ is: 'texts' }),
    stopTokenIds: may(IDS),
    maxTimeMs: may(NUMBER),
  },
  forward: { ids: need(IDS), pos: need(count(0)), allLogits: may(FLAG), captureAttention: may(FLAG) },
  train: {
    modelDir: need(TEXT),
    outDir: need(TEXT),
    files: need(FILES),
    mode: need({ is: 'oneOf', values: ['lora', 'full'] }),
    loraRank: need(count(1)),
    maxMinutes: need({ is: 'positive' }),
    resume: need(FLAG),
    steps: may(count(1)),
    seqLen: may(count(2)),
    batchSize: may(count(1)),
    lr: may({ is: 'positive' }),
    seed: may(count(0)),
    maxEpochs: may({ is: 'positive' }),
    evalLines: may(count(0)),
    evalWindows: may(count(0)),
    threads: may(count(0)),
    yieldTo: may({ is: 'sharedBuffer' }),
    reportEverySeconds: may({ is: 'atLeast', min: 0 }),
  },
  inspect: {
    ids: may(IDS),
    text: may(TEXT),
    promptLength: may(count(0)),
    segments: may({ is: 'list', of: { textStart: need(count(0)), length: need(count(0)), docOffset: need(count(0)) } }),
    spans: may({ is: 'list', of: { text: need(TEXT), docOffset: need(count(0)) } }),
    encoding: may(TEXT),
    lensBudget: may({ is: 'atLeast', min: 0 }),
  },
  trainState: { outDir: need(TEXT) },
  checkAdapter: { adapterDir: need(TEXT), modelDir: need(TEXT) },
  countTokens: { modelDir: need(TEXT), texts: need({ is: 'texts' }) },
  exportTrainingData: { outDir: need(TEXT), files: need(FILES) },
  discoverModels: { contextLength: may(count(1)), limelightDir: may(TEXT), recent: may({ is: 'texts' }) },
  describeModel: { path: need(TEXT), contextLength: may(count(1)) },
  buildPrompt: {
    doc: need({ is: 'record', of: { path: need(TEXT), languageId: need(TEXT), text: need(TEXT), offset: need(count(0)) } }),
    budget: need({ is: 'record', of: { prefixTokens: need(count(0)), suffixTokens: need(count(0)), contextTokens: need(count(0)), maxPromptTokens: need(count(1)) } }),
    excerpts: need(FILES),
    resetAnchor: may(FLAG),
  },
  summaryPrompt: { path: need(TEXT), code: need(TEXT), maxPromptTokens: need(count(1)) },
  dispose: {},
};

/** Rules across fields, after each field passed its own. */
const REQUEST_CHECKS: Partial<Record<EngineRequest['type'], (r: Fields) => string | null>> = {
  generate: (r) => (r.promptIds === undefined && r.prompt === undefined ? 'generate request: give "promptIds" or "prompt".' : null),
};

type Fields = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function fail(where: string, field: string, v: unknown, want: string): never {
  throw new ProtocolError(`${where}: "${field}" is ${describe(v)}; expected ${want}. The extension and the engine are out of step: reinstall Limelight.`);
}

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkValue(where: string, field: string, v: unknown, rule: Rule): void {
  switch (rule.is) {
    case 'text':
      if (typeof v !== 'string') fail(where, field, v, 'text');
      return;
    case 'number':
      if (typeof v !== 'number') fail(where, field, v, 'a number');
      return;
    case 'whole':
      if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= rule.min)) fail(where, field, v, `a whole number >= ${rule.min}`);
      return;
    case 'positive':
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) fail(where, field, v, 'a number above 0');
      return;
    case 'atLeast':
      if (!(typeof v === 'number' && !Number.isNaN(v) && v >= rule.min)) fail(where, field, v, `a number >= ${rule.min}`);
      return;
    case 'flag':
      if (typeof v !== 'boolean') fail(where, field, v, 'true or false');
      return;
    case 'oneOf':
      if (typeof v !== 'string' || !rule.values.includes(v)) fail(where, field, v, `one of ${rule.values.join(', ')}`);
      return;
    case 'ids':
      checkIds(where, field, v);
      return;
    case 'texts':
      if (!Array.isArray(v) || v.length > MAX_REQUEST_IDS || !v.every((s) => typeof s === 'string')) fail(where, field, v, 'an array of text');
      return;
    case 'list':
      if (!Array.isArray(v) || v.length > MAX_REQUEST_IDS) fail(where, field, v, 'an array of objects');
      v.forEach((item: unknown, i) => {
        if (!isObject(item)) fail(where, `${field}[${i}]`, item, 'an object');
        checkFields(where, item, rule.of, `${field}[${i}].`);
      });
      return;
    case 'record':
      if (!isObject(v)) fail(where, field, v, 'an object');
      checkFields(where, v, rule.of, `${field}.`);
      return;
    case 'sharedBuffer':
      if (!(v instanceof SharedArrayBuffer && v.byteLength >= 4)) fail(where, field, v, "a BusySignal's SharedArrayBuffer");
      return;
  }
}

/** Token ids: whole numbers in [0, 2^31) (they travel as int32), at most MAX_REQUEST_IDS. */
function checkIds(where: string, field: string, v: unknown): void {
  if (!Array.isArray(v)) fail(where, field, v, 'an array of token ids');
  if (v.length > MAX_REQUEST_IDS) fail(where, field, v, `at most ${MAX_REQUEST_IDS} token ids`);
  for (let i = 0; i < v.length; i++) {
    const id: unknown = v[i];
    if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < 2 ** 31)) {
      throw new ProtocolError(`${where}: "${field}"[${i}] is ${describe(id)}; token ids are whole numbers from 0 up to the vocabulary size.`);
    }
  }
}

/** Each field by its rule; a field the table does not know is refused (the sides are out of step). */
function checkFields(where: string, r: Fields, fields: Record<string, Field>, prefix = ''): void {
  for (const [name, f] of Object.entries(fields)) {
    const v = r[name];
    if (v === undefined) {
      if (!f.optional) fail(where, prefix + name, v, 'a value (it is required)');
      continue;
    }
    checkValue(where, prefix + name, v, f.rule);
  }
  for (const name of Object.keys(r)) {
    if (prefix === '' && name === 'type') continue;
    if (!(name in fields)) throw new ProtocolError(`${where}: unknown field "${prefix}${name}". The extension and the engine are out of step: reinstall Limelight.`);
  }
}

function checkRequest(r: Fields): void {
  const type = r.type;
  if (typeof type !== 'string' || !Object.hasOwn(REQUEST_FIELDS, type)) throw new ProtocolError(`Unknown request type ${describe(type)}; the extension and the engine are out of step: reinstall Limelight.`);
  const where = `${type} request`;
  checkFields(where, r, REQUEST_FIELDS[type as EngineRequest['type']]);
  const cross = REQUEST_CHECKS[type as EngineRequest['type']]?.(r);
  if (cross) throw new ProtocolError(cross);
}

/** The id a reply to `msg` should carry: its own when it has a usable one, else -1 (no request waits on it). */
export function replyId(msg: unknown): number {
  const id = typeof msg === 'object' && msg !== null ? (msg as Fields).id : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : -1;
}

/**
 * Checks a message from the extension before the worker acts on it: the field types each
 * request needs (the engine then checks values against the model: vocabulary, context).
 * Throws a ProtocolError naming the field.
 */
export function parseToWorker(msg: unknown): ToWorker {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new ProtocolError(`The engine got ${describe(msg)} instead of a message object.`);
  const m = msg as Fields;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) fail('message', 'id', m.id, 'a whole number');
  if (m.kind === 'cancel') return m as unknown as ToWorker;
  if (m.kind !== 'request') fail('message', 'kind', m.kind, '"request" or "cancel"');
  const r = m.request;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('message', 'request', r, 'a request object');
  checkRequest(r as Fields);
  return m as unknown as ToWorker;
}
