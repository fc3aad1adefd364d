// The engine worker as the extension holds it: one EngineClient, the model the settings name
// loaded into it (limelight.model.path, else the bundled starter model), reloaded when a
// setting that shapes it changes, and its state told to the status bar.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as vscode from 'vscode';
import { EngineClient } from '../../engine/worker/client';
import type { LoadResult } from '../../engine/worker/protocol';
import type { Logger } from '../log';
import type { LimelightSettings } from '../settings';
import type { EngineStatus } from '../statusBar';

interface LoadPlan {
  modelDir: string;
  backend: LimelightSettings['backend'];
  threads: number;
  weightFormat: LimelightSettings['weightFormat'];
  contextLength: number;
  /** LoRA adapter merged at load (Fine-tune on Workspace), if any. */
  adapterDir?: string;
}

export class EngineHost implements vscode.Disposable {
  private client: EngineClient | null = null;
  private plan: string | null = null;
  private loadSeq = 0;
  private state: EngineStatus = { kind: 'not-loaded' };
  private info: LoadResult | null = null;
  private adapterDir: string | null = null;
  private settings: LimelightSettings | null = null;

  constructor(
    private readonly extensionPath: string,
    private readonly log: Logger,
    private readonly changed: () => void,
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

  /** Merges a LoRA adapter into the model from now on (null: the base model alone); reloads. */
  setAdapter(dir: string | null): void {
    this.adapterDir = dir;
    if (this.settings) this.apply(this.settings);
  }

  /** Loads the model the settings name, unless it is the one already loaded or loading. */
  apply(settings: LimelightSettings): void {
    this.settings = settings;
    const modelDir = this.modelDir(settings);
    if (modelDir === '') {
      if (this.plan !== '') this.log.warn('No model to load: this build has no bundled starter model. Set limelight.model.path to a checkpoint folder (config.json + model.safetensors).');
      this.plan = '';
      this.setState({ kind: 'not-loaded' });
      return;
    }
    const plan: LoadPlan = { modelDir, backend: settings.backend, threads: settings.threads, weightFormat: settings.weightFormat, contextLength: settings.maxContextTokens };
    if (this.adapterDir !== null) plan.adapterDir = this.adapterDir;
    const key = JSON.stringify(plan);
    if (key === this.plan) return;
    this.plan = key;
    void this.load(plan);
  }

  private async load(plan: LoadPlan): Promise<void> {
    const seq = ++this.loadSeq;
    const name = `${plan.modelDir === this.starterDir() ? 'starter' : basename(plan.modelDir)}${plan.adapterDir ? ' + workspace adapter' : ''}`;
    this.setState({ kind: 'loading', model: name });
    this.client ??= new EngineClient({ onNotice: (m) => this.log.warn(m) });
    const t0 = Date.now();
    try {
      const info = await this.client.load({ ...plan, weightFormat: plan.weightFormat });
      if (seq !== this.loadSeq) return; // a newer load took over
      this.info = info;
      this.log.info(`Model ${plan.modelDir} loaded in ${Date.now() - t0} ms on ${info.reason}; context ${info.contextLength} tokens, encoding ${info.encoding ?? 'unknown'}.`);
      this.setState({ kind: 'ready', model: name, backend: info.backend });
    } catch (e) {
      if (seq !== this.loadSeq) return;
      const message = (e as Error).message;
      this.log.error(`Loading the model from ${plan.modelDir} failed: ${message}`);
      this.setState({ kind: 'failed', message });
    }
  }

  private setState(s: EngineStatus): void {
    this.state = s;
    this.changed();
  }

  dispose(): void {
    this.loadSeq++;
    void this.client?.dispose();
    this.client = null;
  }
}
