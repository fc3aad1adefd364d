// The typed messages between the extension (EngineClient) and the engine worker (main.ts).
// Every request carries an id; the worker answers with exactly one `result` or `error` for
// it, after any number of `token` messages (generate streams its text). `cancel` names the id
// of the request to stop. Errors cross as plain data, never as thrown objects.
import { BACKEND_SETTINGS, type BackendSetting } from '../runtime/select';
import { WEIGHT_FORMATS, type WeightFormat } from '../runtime/fastBackend';
import type { SamplingOptions } from '../generate/sampler';
import type { GenerateTimings } from '../generate/generator';
import type { StopReason } from '../generate/stops';
import type { TrainProgress, WorkspaceTrainOptions, WorkspaceTrainResult } from '../finetune/workspaceFineTune';
import type { InspectRequest as InspectOptions } from '../inspect/inspect';
import type { InspectionWire } from '../inspect/wire';

export interface LoadRequest {
  type: 'load';
  /** A Hugging Face checkpoint folder (config.json + safetensors). */
  modelDir: string;
  backend: BackendSetting;
  /** Compute threads (0 = cores - 1). */
  threads: number;
  /** How the js backend holds the weights ('auto': f32 below 1 GiB of weights, else q8_0). */
  weightFormat: WeightFormat | 'auto';
  /** KV-cache capacity in positions (capped by the model). */
  contextLength?: number;
  /** Where ONNX exports of the model are cached for the ort backends (default: the user's cache folder). */
  onnxCacheDir?: string;
  /** A PEFT LoRA adapter folder merged into the weights at load (Fine-tune on Workspace's result). */
  adapterDir?: string;
  /** Most memory the KV cache may take, in MiB: the context is cut to the positions that fit. */
  kvCacheMemoryMB?: number;
  /** Idle seconds after which the KV cache (and the js backend's kernel memory) is freed; 0 or absent = never. */
  idleReleaseSeconds?: number;
}

export interface GenerateRequest {
  type: 'generate';
  /** Token ids of the prompt; or `prompt`, encoded with the model's tokenizer. */
  promptIds?: number[];
  prompt?: string;
  maxNewTokens: number;
  sampling?: Partial<SamplingOptions>;
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

/** Fine-tune on Workspace; streams `progress` messages; a cancel keeps the latest checkpoint. */
export interface TrainRequest extends WorkspaceTrainOptions {
  type: 'train';
}

/** Attention inspector data for ids or text, computed on the loaded model's own weights. */
export interface InspectRequest extends InspectOptions {
  type: 'inspect';
}

export interface DisposeRequest {
  type: 'dispose';
}

export type EngineRequest = LoadRequest | GenerateRequest | ForwardRequest | TrainRequest | InspectRequest | DisposeRequest;

export interface LoadResult {
  modelDir: string;
  backend: string;
  /** Why this backend runs the model (fallbacks included). */
  reason: string;
  /** The format the matrices are held in ('mixed' when a file's formats differ by tensor), null for onnxruntime. */
  weightFormat: WeightFormat | 'mixed' | null;
  threads: number;
  contextLength: number;
  /** Why the context holds contextLength positions (the setting, the model, or the KV-cache memory cap). */
  contextReason: string;
  /** Bytes of KV cache per position (keys and values of every layer, f32). */
  kvBytesPerPosition: number;
  vocabSize: number;
  /** The gpt-tokenizer encoding of Limelight's own models (their prompt layouts), else null. */
  encoding: string | null;
  /** The model's fill-in-the-middle layout, or null: completions are off for a model without one. */
  fim: string | null;
  /** Whether the model carries a chat template (an instruct model). */
  chatTemplate: boolean;
}

export interface GenerateResultMessage {
  ids: number[];
  newIds: number[];
  text: string;
  stopReason: StopReason;
  contextLimited: boolean;
  timings: GenerateTimings;
}

export interface ForwardResultMessage {
  logits: Float32Array;
  attention?: Float32Array;
}

export interface ResultOf {
  load: LoadResult;
  generate: GenerateResultMessage;
  forward: ForwardResultMessage;
  train: WorkspaceTrainResult;
  inspect: InspectionWire;
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

/** The most ids one request may carry: far above any context, low enough to check quickly. */
export const MAX_REQUEST_IDS = 1 << 20;

const LOAD_WEIGHT_FORMATS: readonly string[] = [...WEIGHT_FORMATS, 'auto'];

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

function checkString(where: string, r: Fields, field: string, optional: boolean): void {
  const v = r[field];
  if (v === undefined && optional) return;
  if (typeof v !== 'string') fail(where, field, v, optional ? 'text or nothing' : 'text');
}

function checkNumber(where: string, r: Fields, field: string, optional: boolean, integer: boolean, min: number): void {
  const v = r[field];
  if (v === undefined && optional) return;
  const ok = typeof v === 'number' && (integer ? Number.isSafeInteger(v) : !Number.isNaN(v)) && v >= min;
  if (!ok) fail(where, field, v, `${integer ? 'a whole number' : 'a number'} >= ${min}`);
}

function checkBoolean(where: string, r: Fields, field: string): void {
  const v = r[field];
  if (v !== undefined && typeof v !== 'boolean') fail(where, field, v, 'true, false or nothing');
}

function checkOneOf(where: string, r: Fields, field: string, allowed: readonly string[]): void {
  const v = r[field];
  if (typeof v !== 'string' || !allowed.includes(v)) fail(where, field, v, `one of ${allowed.join(', ')}`);
}

/** Token ids: an array of whole numbers in [0, 2^31) (they travel as int32), no longer than MAX_REQUEST_IDS. */
function checkIds(where: string, r: Fields, field: string, optional: boolean): void {
  const v = r[field];
  if (v === undefined && optional) return;
  if (!Array.isArray(v)) fail(where, field, v, 'an array of token ids');
  if (v.length > MAX_REQUEST_IDS) fail(where, field, v, `at most ${MAX_REQUEST_IDS} token ids`);
  for (let i = 0; i < v.length; i++) {
    const id: unknown = v[i];
    if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < 2 ** 31)) {
      throw new ProtocolError(`${where}: "${field}"[${i}] is ${describe(id)}; token ids are whole numbers from 0 up to the vocabulary size.`);
    }
  }
}

function checkStrings(where: string, r: Fields, field: string): void {
  const v = r[field];
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length > MAX_REQUEST_IDS || !v.every((s) => typeof s === 'string')) fail(where, field, v, 'an array of text');
}

function checkObject(where: string, r: Fields, field: string): void {
  const v = r[field];
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) fail(where, field, v, 'an object or nothing');
}

function checkRequest(r: Fields): void {
  const where = `${String(r.type)} request`;
  switch (r.type) {
    case 'load':
      checkString(where, r, 'modelDir', false);
      checkOneOf(where, r, 'backend', BACKEND_SETTINGS);
      checkNumber(where, r, 'threads', false, true, 0);
      checkOneOf(where, r, 'weightFormat', LOAD_WEIGHT_FORMATS);
      checkNumber(where, r, 'contextLength', true, true, 1);
      checkString(where, r, 'onnxCacheDir', true);
      checkString(where, r, 'adapterDir', true);
      checkNumber(where, r, 'kvCacheMemoryMB', true, false, Number.MIN_VALUE);
      checkNumber(where, r, 'idleReleaseSeconds', true, false, 0);
      return;
    case 'generate':
      checkIds(where, r, 'promptIds', true);
      checkString(where, r, 'prompt', true);
      if (r.promptIds === undefined && r.prompt === undefined) throw new ProtocolError('generate request: give "promptIds" or "prompt".');
      if (typeof r.maxNewTokens !== 'number') fail(where, 'maxNewTokens', r.maxNewTokens, 'a number');
      checkObject(where, r, 'sampling');
      checkStrings(where, r, 'stopStrings');
      checkIds(where, r, 'stopTokenIds', true);
      if (r.maxTimeMs !== undefined && typeof r.maxTimeMs !== 'number') fail(where, 'maxTimeMs', r.maxTimeMs, 'a number or nothing');
      return;
    case 'forward':
      checkIds(where, r, 'ids', false);
      checkNumber(where, r, 'pos', false, true, 0);
      checkBoolean(where, r, 'allLogits');
      checkBoolean(where, r, 'captureAttention');
      return;
    case 'inspect':
      checkIds(where, r, 'ids', true);
      checkString(where, r, 'text', true);
      checkString(where, r, 'encoding', true);
      if (r.segments !== undefined && !Array.isArray(r.segments)) fail(where, 'segments', r.segments, 'an array or nothing');
      if (r.spans !== undefined && !Array.isArray(r.spans)) fail(where, 'spans', r.spans, 'an array or nothing');
      return;
    case 'train':
      checkString(where, r, 'modelDir', false);
      checkString(where, r, 'outDir', false);
      if (!Array.isArray(r.files)) fail(where, 'files', r.files, 'an array of files');
      checkOneOf(where, r, 'mode', ['lora', 'full']);
      if (r.yieldTo !== undefined && !(r.yieldTo instanceof SharedArrayBuffer && r.yieldTo.byteLength >= 4)) fail(where, 'yieldTo', r.yieldTo, "a BusySignal's SharedArrayBuffer or nothing");
      return;
    case 'dispose':
      return;
    default:
      throw new ProtocolError(`Unknown request type ${describe(r.type)}; the extension and the engine are out of step: reinstall Limelight.`);
  }
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
