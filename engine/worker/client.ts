// EngineClient: the extension's one handle on the engine. It spawns the engine worker, sends
// typed requests with ids, resolves each with its result (streaming generate tokens to a
// callback), cancels through AbortSignal, and restarts a crashed worker with back-off,
// reloading the last model and telling the user once per crash streak.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildPromptRequest, DiscoverModelsRequest, EngineRequest, ExportTrainingDataRequest, ForwardRequest, FromWorker, GenerateRequest, InspectRequest, LoadRequest, ResultOf, SummaryPromptRequest, ToWorker, TrainProgress, TrainRequest } from './protocol';

export interface EngineClientOptions {
  /** The worker script; default: worker.js beside this bundle (dist/), else main.js (transpiled tests). */
  workerPath?: string;
  /**
   * Called with a message for the user once per crash streak: at the first crash, and again
   * only after the worker had stayed up long enough to reset the back-off.
   */
  onNotice?: (message: string) => void;
  /** First restart delay in ms, doubled per consecutive crash up to 30 s. */
  restartDelayMs?: number;
  /** A worker that stays up this long ends the crash streak (default 60 s). */
  stableMs?: number;
}

/** The request failed inside the engine; `name` is the engine-side error's name. */
export class EngineError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onToken?: (tokenId: number, text: string) => void;
  onProgress?: (progress: TrainProgress) => void;
}

const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that stays up this long resets the back-off and the notice. */
const STABLE_MS = 60_000;

function defaultWorkerPath(): string {
  const bundled = join(__dirname, 'worker.js');
  return existsSync(bundled) ? bundled : join(__dirname, 'main.js');
}

export class EngineClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private crashes = 0;
  private noticeGiven = false;
  private reloadNoticeGiven = false;
  private disposed = false;
  private lastLoad: LoadRequest | null = null;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly workerPath: string;

  constructor(private readonly opts: EngineClientOptions = {}) {
    this.workerPath = opts.workerPath ?? defaultWorkerPath();
    this.start();
  }

  load(req: Omit<LoadRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['load']> {
    const full: LoadRequest = { type: 'load', ...req };
    this.lastLoad = full;
    return this.request(full, signal) as Promise<ResultOf['load']>;
  }

  generate(req: Omit<GenerateRequest, 'type'>, opts: { signal?: AbortSignal; onToken?: (tokenId: number, text: string) => void } = {}): Promise<ResultOf['generate']> {
    return this.request({ type: 'generate', ...req }, opts.signal, opts.onToken) as Promise<ResultOf['generate']>;
  }

  forward(req: Omit<ForwardRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['forward']> {
    return this.request({ type: 'forward', ...req }, signal) as Promise<ResultOf['forward']>;
  }

  /** Fine-tune on Workspace in this worker (use a client of its own so completions keep running). */
  train(req: Omit<TrainRequest, 'type'>, opts: { signal?: AbortSignal; onProgress?: (progress: TrainProgress) => void } = {}): Promise<ResultOf['train']> {
    return this.request({ type: 'train', ...req }, opts.signal, undefined, opts.onProgress) as Promise<ResultOf['train']>;
  }

  /** Attention, rollout, logit lens and position data for the inspector. */
  inspect(req: Omit<InspectRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['inspect']> {
    return this.request({ type: 'inspect', ...req }, signal) as Promise<ResultOf['inspect']>;
  }

  /** A fine-tune run's saved state in outDir (null: none); a damaged one rejects with the reason. */
  trainState(outDir: string, signal?: AbortSignal): Promise<ResultOf['trainState']> {
    return this.request({ type: 'trainState', outDir }, signal) as Promise<ResultOf['trainState']>;
  }

  /** Resolves when the PEFT adapter in adapterDir fits the model at modelDir, else rejects saying why. */
  checkAdapter(adapterDir: string, modelDir: string, signal?: AbortSignal): Promise<ResultOf['checkAdapter']> {
    return this.request({ type: 'checkAdapter', adapterDir, modelDir }, signal) as Promise<ResultOf['checkAdapter']>;
  }

  /** Tokens each text takes with the tokenizer of the model at modelDir. */
  countTokens(modelDir: string, texts: string[], signal?: AbortSignal): Promise<ResultOf['countTokens']> {
    return this.request({ type: 'countTokens', modelDir, texts }, signal) as Promise<ResultOf['countTokens']>;
  }

  /** The workspace's training data as JSONL in a new folder under outDir. */
  exportTrainingData(req: Omit<ExportTrainingDataRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['exportTrainingData']> {
    return this.request({ type: 'exportTrainingData', ...req }, signal) as Promise<ResultOf['exportTrainingData']>;
  }

  /** The models already on this machine, from their headers. */
  discoverModels(req: Omit<DiscoverModelsRequest, 'type'> = {}, signal?: AbortSignal): Promise<ResultOf['discoverModels']> {
    return this.request({ type: 'discoverModels', ...req }, signal) as Promise<ResultOf['discoverModels']>;
  }

  /** A model's facts from its headers; rejects with what is wrong with it. */
  describeModel(path: string, contextLength?: number, signal?: AbortSignal): Promise<ResultOf['describeModel']> {
    return this.request(contextLength === undefined ? { type: 'describeModel', path } : { type: 'describeModel', path, contextLength }, signal) as Promise<ResultOf['describeModel']>;
  }

  /** The loaded model's completion prompt for a cursor (see WorkerPrompter). */
  buildPrompt(req: Omit<BuildPromptRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['buildPrompt']> {
    return this.request({ type: 'buildPrompt', ...req }, signal) as Promise<ResultOf['buildPrompt']>;
  }

  /** The loaded model's Summarize Selection prompt for `code`. */
  summaryPrompt(req: Omit<SummaryPromptRequest, 'type'>, signal?: AbortSignal): Promise<ResultOf['summaryPrompt']> {
    return this.request({ type: 'summaryPrompt', ...req }, signal) as Promise<ResultOf['summaryPrompt']>;
  }

  /** Frees the model and stops the worker; pending requests fail. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.failAll(new Error('The engine was shut down.'));
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private request(request: EngineRequest, signal?: AbortSignal, onToken?: (tokenId: number, text: string) => void, onProgress?: (progress: TrainProgress) => void): Promise<unknown> {
    if (this.disposed) return Promise.reject(new Error('The engine was shut down; create a new EngineClient.'));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('cancelled'));
    if (!this.worker) return Promise.reject(new EngineError('EngineRestarting', 'The engine is restarting after a crash; try again in a moment.'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.post({ kind: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
        onToken,
        onProgress,
      });
      this.post({ kind: 'request', id, request });
    });
  }

  private post(msg: ToWorker): void {
    // A cancel that arrives after a crash has nothing left to stop.
    this.worker?.postMessage(msg);
  }

  private start(): void {
    const w = new Worker(this.workerPath);
    this.worker = w;
    this.startedAt = Date.now();
    w.on('message', (msg: FromWorker) => this.onMessage(msg));
    w.on('error', (err) => this.onCrash(w, `the engine failed: ${err.message}`));
    w.on('exit', (code) => this.onCrash(w, `the engine exited with code ${code}`));
    if (this.lastLoad) {
      const reload: LoadRequest = this.lastLoad;
      this.request(reload).catch((e: Error) => {
        // Another crash during the reload is told by the crash notice.
        if (this.reloadNoticeGiven || (e instanceof EngineError && e.name === 'EngineCrashed')) return;
        this.reloadNoticeGiven = true;
        this.opts.onNotice?.(`Limelight could not reload the model after a restart: ${e.message}`);
      });
    }
  }

  private onMessage(msg: FromWorker): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.kind === 'token') {
      p.onToken?.(msg.tokenId, msg.text);
      return;
    }
    if (msg.kind === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.kind === 'result') p.resolve(msg.result);
    else p.reject(new EngineError(msg.error.name, msg.error.message));
  }

  private onCrash(w: Worker, why: string): void {
    if (this.worker !== w || this.disposed) return;
    this.worker = null;
    void w.terminate();
    this.failAll(new EngineError('EngineCrashed', `${why}; it is being restarted. Try again in a moment.`));
    if (Date.now() - this.startedAt > (this.opts.stableMs ?? STABLE_MS)) {
      this.crashes = 0;
      this.noticeGiven = false;
      this.reloadNoticeGiven = false;
    }
    const delay = Math.min(MAX_RESTART_DELAY_MS, (this.opts.restartDelayMs ?? 500) * 2 ** this.crashes);
    this.crashes++;
    if (!this.noticeGiven) {
      this.noticeGiven = true;
      this.opts.onNotice?.(`The Limelight engine stopped (${why}) and is being restarted. Completions resume once the model is reloaded.`);
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.disposed) this.start();
    }, delay);
    this.restartTimer.unref();
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
