// The typed messages between the extension (EngineClient) and the engine worker (main.ts).
// Every request carries an id; the worker answers with exactly one `result` or `error` for
// it, after any number of `token` messages (generate streams its text). `cancel` names the id
// of the request to stop. Errors cross as plain data, never as thrown objects.
import type { BackendSetting } from '../runtime/select';
import type { WeightFormat } from '../runtime/fastBackend';
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
  weightFormat: WeightFormat | null;
  threads: number;
  contextLength: number;
  vocabSize: number;
  encoding: string | null;
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
