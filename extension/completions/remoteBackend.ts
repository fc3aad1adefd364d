// The remote backend as the extension holds it: the RemoteClient the user's settings describe
// (limelight.remote.*, read from user settings only) with the key from VS Code's SecretStorage,
// rebuilt when either changes; its state for the status bar, where a failing server is shown
// once per streak of errors (the status bar turns red and says why; no pop-ups, one log line);
// and "Limelight: Set Remote API Key". The key is only ever in the client's bearer header. The
// client's network code is loaded (engine/remote/load.ts) only once the remote backend is chosen.
import * as vscode from 'vscode';
import { loadRemoteClient, type RemoteClient } from '../../engine/remote/load';
import type { Logger } from '../log';
import type { LimelightSettings } from '../settings';
import type { EngineStatus } from '../statusBar';

/** The SecretStorage entry of the key. */
export const REMOTE_KEY_SECRET = 'limelight.remote.apiKey';

export class RemoteBackend implements vscode.Disposable {
  private key = '';
  private client: RemoteClient | null = null;
  private problem: string | null = null;
  private lastError: string | null = null;
  private settings: LimelightSettings | null = null;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    private readonly changed: () => void,
  ) {
    this.subscription = secrets.onDidChange((e) => {
      if (e.key === REMOTE_KEY_SECRET) void this.loadKey();
    });
  }

  /** Reads the stored key (once at activation, and when it changes). */
  async loadKey(): Promise<void> {
    const key = (await this.secrets.get(REMOTE_KEY_SECRET)) ?? '';
    if (key === this.key) return;
    this.key = key;
    this.log.info(key !== '' ? 'The remote API key from SecretStorage is sent with every request from now on.' : 'No remote API key is stored: requests go without one.');
    if (this.settings) this.apply(this.settings);
  }

  /** Whether the settings choose the remote backend. */
  get active(): boolean {
    return this.settings?.backend === 'remote';
  }

  /** The client, or null when the backend is not remote or its settings are unusable (status says why). */
  get current(): RemoteClient | null {
    return this.client;
  }

  apply(settings: LimelightSettings): void {
    this.settings = settings;
    const r = settings.remote;
    const before = this.client?.description ?? null;
    this.client = null;
    this.problem = null;
    if (settings.backend === 'remote') {
      if (r.endpoint === '') this.problem = 'limelight.remote.endpoint is not set or not accepted (see the Limelight log)';
      else {
        try {
          this.client = new (loadRemoteClient().RemoteClient)({ endpoint: new URL(r.endpoint), api: r.api, model: r.model, fimTemplate: r.fimTemplate, apiKey: this.key, timeoutMs: r.timeoutMs });
        } catch (e) {
          this.problem = (e as Error).message;
        }
      }
    }
    const now = this.client?.description ?? null;
    if (now !== before) {
      this.lastError = null;
      if (now !== null) this.log.info(`Completions and summaries are sent to ${now}${this.key !== '' ? ', with the API key from SecretStorage' : ''}.`);
      else if (this.problem !== null) this.log.warn(`The remote backend is off: ${this.problem}.`);
    }
    this.changed();
  }

  /** What the status bar shows for the remote backend. */
  status(): EngineStatus {
    if (this.client === null) return { kind: 'failed', message: this.problem ?? 'the remote backend is not configured' };
    return { kind: 'remote', server: this.client.description, error: this.lastError };
  }

  /** A request failed: the first failure of a streak is logged and shown in the status bar. */
  failed(message: string): void {
    if (this.lastError !== null) return;
    this.lastError = message;
    this.log.warn(`The remote server failed: ${message} (further failures are not logged until a request succeeds).`);
    vscode.window.setStatusBarMessage(`$(warning) Limelight: the remote server failed (${message.length > 120 ? `${message.slice(0, 117)}...` : message})`, 8000);
    this.changed();
  }

  /** A request succeeded: the streak of failures is over. */
  succeeded(): void {
    if (this.lastError === null) return;
    this.lastError = null;
    this.log.info('The remote server answers again.');
    this.changed();
  }

  /** "Limelight: Set Remote API Key": stored in SecretStorage; an empty entry removes it. */
  async promptForKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'Limelight: Remote API Key',
      prompt: 'The key of your inference server, sent as a bearer token and kept in VS Code\'s secret storage. Leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    if (key.trim() === '') {
      await this.secrets.delete(REMOTE_KEY_SECRET);
      void vscode.window.setStatusBarMessage('Limelight: remote API key removed.', 4000);
    } else {
      await this.secrets.store(REMOTE_KEY_SECRET, key.trim());
      void vscode.window.setStatusBarMessage('Limelight: remote API key stored.', 4000);
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
