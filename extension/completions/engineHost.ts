// The engine worker as the extension holds it: one EngineClient, the model the settings name
// loaded into it (limelight.model.path, else the bundled starter model), reloaded when a
// setting that shapes it changes, and its state told to the status bar. A workspace
// fine-tune that fails to load falls back to its base model, a user model to the starter
// model, and the user is told why; a crashed worker is told once per crash streak. With the
// remote backend no local model is loaded (a server answers), until a feature that needs the
// local engine asks for it (useLocalModel: Inspect Attention).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as vscode from 'vscode';
import { BusySignal } from '../../engine/runtime/busySignal';
import { EngineClient } from '../../engine/worker/client';
import type { LoadBackend, LoadResult } from '../../engine/worker/protocol';
import type { Logger } from '../log';
import type { LimelightSettings } from '../settings';
import type { EngineStatus } from '../statusBar';

interface LoadPlan {
  modelDir: string;
  backend: LoadBackend;
  threads: number;
  weightFormat: LimelightSettings['weightFormat'];
  contextLength: number;
  kvCacheMemoryMB: number;
  kvCacheFormat: 'f16' | 'f32';
  idleReleaseSeconds: number;
  /** LoRA adapter merged at load (Fine-tune on Workspace), if any. */
  adapterDir?: string;
}

/** How the host speaks to the user: vscode.window in the extension, a recorder in tests. */
export interface HostNotices {
  /** A warning notification with buttons; resolves to the button chosen. */
  warn(message: string, ...actions: string[]): PromiseLike<string | undefined>;
  /** Opens the Settings editor at a setting. */
  openSettings(settingId: string): void;
}

const OPEN_SETTINGS = 'Open Settings';

/** Fine-tune on Workspace's result: a LoRA adapter merged into the base model, or a whole model loaded instead of it. */
export interface FineTuned {
  kind: 'lora' | 'full';
  dir: string;
}

export class EngineHost implements vscode.Disposable {
  /** Raised while a completion generates: a fine-tune in its own worker waits meanwhile. */
  readonly busy = new BusySignal();
  private client: EngineClient | null = null;
  private plan: string | null = null;
  private loadSeq = 0;
  private state: EngineStatus = { kind: 'not-loaded' };
  private info: LoadResult | null = null;
  private fineTuned: FineTuned | null = null;
  private settings: LimelightSettings | null = null;
  /** The local model was asked for while the backend is remote. */
  private localWanted = false;

  constructor(
    private readonly extensionPath: string,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    private readonly changed: () => void,
    private readonly notices: HostNotices,
  ) {}

  get status(): EngineStatus {
    return this.state;
  }

  /** The loaded model's facts, or null while none is ready. */
  get loaded(): LoadResult | null {
    return this.state.kind === 'ready' ? this.info : null;
  }

  get engineClient(): EngineClient | null {
    return this.client;
  }

  /** The starter model inside the installed extension. */
  starterDir(): string {
    return join(this.extensionPath, 'media', 'models', 'starter');
  }

  /** The folder of the model the settings name ('' when there is none). */
  modelDir(settings: LimelightSettings): string {
    return settings.modelPath.trim() !== '' ? settings.modelPath.trim() : existsSync(join(this.starterDir(), 'config.json')) ? this.starterDir() : '';
  }

  /** Uses the workspace's fine-tuned adapter or model from now on (null: the base model alone); reloads. */
  setFineTuned(t: FineTuned | null): void {
    this.fineTuned = t;
    if (this.settings) this.apply(this.settings);
  }

  /** Whether the settings send completions to a server (the local model then loads only on request). */
  get remote(): boolean {
    return this.settings?.backend === 'remote';
  }

  /** Loads the local model while the backend is remote, for the features that need it; until the backend changes. */
  useLocalModel(): void {
    this.localWanted = true;
    if (this.settings) this.apply(this.settings);
  }

  /** Loads the model the settings name, unless it is the one already loaded or loading. */
  apply(settings: LimelightSettings): void {
    this.settings = settings;
    if (settings.backend !== 'remote') this.localWanted = false;
    else if (!this.localWanted) {
      // A server answers: free the local model's memory, and load it again only when asked.
      if (this.plan !== 'remote') void this.shutdown().then(() => this.setState({ kind: 'not-loaded' }));
      this.plan = 'remote';
      return;
    }
    const modelDir = this.modelDir(settings);
    if (modelDir === '') {
      if (this.plan !== '') this.log.warn('No model to load: this build has no bundled starter model. Set limelight.model.path to a checkpoint folder (config.json + model.safetensors).');
      this.plan = '';
      this.setState({ kind: 'not-loaded' });
      return;
    }
    const t = this.fineTuned;
    const plan: LoadPlan = { modelDir: t?.kind === 'full' ? t.dir : modelDir, backend: settings.backend === 'remote' ? 'auto' : settings.backend, threads: settings.threads, weightFormat: settings.weightFormat, contextLength: settings.maxContextTokens, kvCacheMemoryMB: settings.kvCacheMemoryMB, kvCacheFormat: settings.kvCacheFormat, idleReleaseSeconds: settings.idleReleaseSeconds };
    if (t?.kind === 'lora') plan.adapterDir = t.dir;
    const key = JSON.stringify(plan);
    if (key === this.plan) return;
    this.plan = key;
    void this.load(plan, modelDir);
  }

  /** Loads `plan`; `baseDir` is the settings' model, which a broken workspace fine-tune falls back to. */
  private async load(plan: LoadPlan, baseDir: string): Promise<void> {
    const seq = ++this.loadSeq;
    let failure = await this.tryLoad(plan, seq);
    if (failure === null || seq !== this.loadSeq) return;
    if (plan.adapterDir !== undefined || plan.modelDir === this.fineTuned?.dir) {
      // The workspace's fine-tune is broken, not the user's model: fall back to that model.
      const tuned = `Limelight could not load this workspace's fine-tuned ${plan.adapterDir !== undefined ? 'adapter' : 'model'} at ${plan.adapterDir ?? plan.modelDir}: ${failure}`;
      const base: LoadPlan = { ...plan, modelDir: baseDir };
      delete base.adapterDir;
      failure = await this.tryLoad(base, seq);
      if (seq !== this.loadSeq) return;
      if (failure === null) {
        this.notify(`${tuned} Using the base model without it; run "Limelight: Revert to Base Model" to stop using the fine-tune, or fine-tune again.`, false);
        return;
      }
      this.log.warn(tuned);
      plan = base;
    }
    const starter = this.starterDir();
    if (plan.modelDir === starter) return;
    // The user's model is missing or broken: fall back to the starter model, without the
    // workspace adapter (it was trained on the user's model).
    const hasStarter = existsSync(join(starter, 'config.json'));
    const why = `Limelight could not load the model at ${plan.modelDir} (limelight.model.path): ${failure}`;
    if (!hasStarter) {
      this.notify(`${why} This build has no bundled starter model to fall back to, so completions are off until limelight.model.path names a model folder (config.json + model.safetensors).`);
      return;
    }
    const fallback: LoadPlan = { ...plan, modelDir: starter };
    delete fallback.adapterDir;
    if ((await this.tryLoad(fallback, seq)) === null && seq === this.loadSeq) {
      this.notify(`${why} Using the bundled starter model instead; fix or clear limelight.model.path to change it.`);
    } else if (seq === this.loadSeq) {
      this.notify(`${why} The bundled starter model did not load either, so completions are off; reinstalling the extension restores it.`);
    }
  }

  /** Loads `plan`; returns null once loaded (or when a newer load took over), else why it failed. */
  private async tryLoad(plan: LoadPlan, seq: number): Promise<string | null> {
    const name = `${plan.modelDir === this.starterDir() ? 'starter' : plan.modelDir === this.fineTuned?.dir ? 'workspace fine-tune' : basename(plan.modelDir)}${plan.adapterDir ? ' + workspace adapter' : ''}`;
    this.setState({ kind: 'loading', model: name });
    this.client ??= new EngineClient({
      onNotice: (m) => {
        this.log.warn(m);
        void this.notices.warn(m);
      },
    });
    const t0 = Date.now();
    try {
      const info = await this.client.load({ ...plan, weightFormat: plan.weightFormat });
      if (seq !== this.loadSeq) return null; // a newer load took over
      this.info = info;
      this.log.info(`Model ${plan.modelDir} loaded in ${Date.now() - t0} ms on ${info.reason}; context ${info.contextLength} tokens (${info.contextReason}), encoding ${info.encoding ?? 'unknown'}.`);
      this.setState({ kind: 'ready', model: name, backend: info.backend });
      if (info.memoryNote !== null) this.notify(`Limelight: ${info.memoryNote}`, false);
      return null;
    } catch (e) {
      if (seq !== this.loadSeq) return null;
      const message = (e as Error).message;
      this.log.error(`Loading the model from ${plan.modelDir} failed: ${message}`);
      this.setState({ kind: 'failed', message });
      return message;
    }
  }

  /** A warning with an "Open Settings" button that opens limelight.model.path. */
  /** A warning, logged too; with `settingsButton`, its button opens limelight.model.path. */
  private notify(message: string, settingsButton = true): void {
    this.log.warn(message);
    if (!settingsButton) {
      void this.notices.warn(message);
      return;
    }
    void Promise.resolve(this.notices.warn(message, OPEN_SETTINGS)).then((choice) => {
      if (choice === OPEN_SETTINGS) this.notices.openSettings('limelight.model.path');
    });
  }

  private setState(s: EngineStatus): void {
    this.state = s;
    this.changed();
  }

  dispose(): void {
    void this.shutdown();
  }

  /** Stops the worker and resolves once it has exited; safe to call more than once. */
  shutdown(): Promise<void> {
    this.loadSeq++;
    const client = this.client;
    this.client = null;
    return client ? client.dispose() : Promise.resolve();
  }
}
