// Fine-tune on Workspace in the editor: pick the files (trusted workspaces only), show what
// will be used and skipped, train in a worker of its own (completions keep running on the
// current model) under a cancellable progress notification mirrored in the status bar, then
// report the held-out gain and use the result from then on: LoRA adapters merged into the
// base model, or (limelight.fineTune.method "full") a whole fine-tuned model loaded instead of
// it. Also: Revert to Base Model, Export Adapter (a PEFT adapter, or a Hugging Face checkpoint
// for a full fine-tune), Import Adapter and Export Training Data.
import * as vscode from 'vscode';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineClient, EngineError } from '../../engine/worker/client';
import type { TrainProgress, TrainRequest, TrainResult, TrainStateResult } from '../../engine/worker/protocol';
import { selectWorkspaceFiles, type WorkspaceSelection } from '../../engine/workspace/workspaceFiles';
import type { EngineHost } from '../completions/engineHost';
import type { Logger } from '../log';
import type { LimelightSettings } from '../settings';
import { checkFolder } from '../folderPath';
import { AdapterStore } from './adapterStore';
import { chosenRun, confirmActions, methodNote, SHOW_SKIPPED } from './method';
import { skippedMarkdown, summarizeSelection, summaryDetail, summaryHeadline, type SelectionSummary } from './summary';

export interface FineTuneDeps {
  host: EngineHost;
  log: Logger;
  settings: () => LimelightSettings;
}

const UNTRUSTED = 'Limelight: Fine-tune on Workspace is disabled in Restricted Mode. Training reads every file of the workspace and runs for minutes; trust the workspace first (Manage Workspace Trust) if you know where its files come from.';

/** The folder the user picked as its real path, or null (nothing picked, or told what is wrong with it). */
function pickedFolder(picked: vscode.Uri[] | undefined): string | null {
  const first = picked?.at(0);
  if (first === undefined) return null;
  const c = checkFolder(first.fsPath, 'The chosen folder');
  if (!c.ok) {
    void vscode.window.showErrorMessage(`Limelight: ${c.problem}`);
    return null;
  }
  return c.path;
}

function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '…';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function progressLine(p: TrainProgress): string {
  switch (p.phase) {
    case 'preparing':
      return 'Preparing the data…';
    case 'evaluating-before':
      return 'Measuring the base model on held-out files…';
    case 'training':
      return `Step ${p.step}/${p.steps} · loss ${p.loss?.toFixed(3) ?? '…'} · ${p.tokensPerSecond ? Math.round(p.tokensPerSecond) : '…'} tok/s · ETA ${duration(p.etaSeconds)}`;
    case 'saving':
      return `Saving the checkpoint (step ${p.step})…`;
    case 'evaluating-after':
      return 'Measuring the fine-tuned model on held-out files…';
  }
}

function excludeGlobs(folder: vscode.WorkspaceFolder, settings: LimelightSettings): string[] {
  const filesExclude = vscode.workspace.getConfiguration('files', folder.uri).get<Record<string, unknown>>('exclude') ?? {};
  return [...settings.fineTune.exclude, ...Object.entries(filesExclude).filter(([, on]) => on === true).map(([g]) => g)];
}

async function selectFiles(settings: LimelightSettings): Promise<WorkspaceSelection | null> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('Limelight: open a folder first; fine-tuning learns from the files of the workspace.');
    return null;
  }
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Limelight: scanning the workspace' }, () =>
    selectWorkspaceFiles(
      folders.map((f) => ({ name: f.name, path: f.uri.fsPath })),
      { include: settings.fineTune.include, exclude: folders.flatMap((f) => excludeGlobs(f, settings)) },
    ),
  );
}

/**
 * Shows what the run will use (files, tokens, languages, skips) and asks how to run it: with the
 * settings' method or the other, or resuming `saved` (a cancelled run on this base model).
 * Resume chosen where the cancel was reported (`resume`) needs no second confirmation.
 */
async function confirmRun(sel: WorkspaceSelection, summary: SelectionSummary, settings: LimelightSettings, saved: TrainStateResult | null, resume: boolean): Promise<{ resume: boolean; mode: 'lora' | 'full' } | null> {
  const canResume = saved !== null;
  const actions = confirmActions(settings.fineTune.method, canResume);
  const detail = [
    summaryDetail(summary, settings.fineTune.maxMinutes),
    methodNote(settings.fineTune.method),
    ...(saved !== null ? [`A cancelled ${saved.mode === 'lora' ? 'LoRA' : 'full'} fine-tune stopped at step ${saved.step} of ${saved.steps}.`] : []),
  ].join('\n\n');
  let run: ReturnType<typeof chosenRun> = resume && canResume ? { resume: true } : null;
  while (run === null) {
    const choice = await vscode.window.showInformationMessage(summaryHeadline(summary), { modal: true, detail }, ...actions);
    if (choice !== SHOW_SKIPPED) {
      run = chosenRun(choice, settings.fineTune.method, canResume);
      if (run === null) return null;
      break;
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: skippedMarkdown(sel) });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
  // A resumed run keeps the method it was started with (the checkpoint says which).
  return run.resume ? { resume: true, mode: saved!.mode } : { resume: false, mode: run.mode };
}

/** The fine-tune commands of one workspace: its adapter store, the run in progress, the status bar item. */
class FineTuneCommands {
  readonly status = vscode.window.createStatusBarItem('limelight.fineTune', vscode.StatusBarAlignment.Right, 99);
  readonly store: AdapterStore | null;
  /** The run in progress, to cancel. */
  running: AbortController | null = null;
  private readonly host: EngineHost;
  private readonly log: Logger;
  private readonly settings: () => LimelightSettings;

  constructor(context: vscode.ExtensionContext, deps: FineTuneDeps) {
    this.host = deps.host;
    this.log = deps.log;
    this.settings = deps.settings;
    const storage = context.storageUri?.fsPath ?? null;
    this.store = storage ? new AdapterStore(storage) : null;
    this.status.name = 'Limelight Fine-tune';
  }

  private baseModel(): string {
    return this.host.modelDir(this.settings());
  }

  /** The stored adapter or model is used whenever its base model is the one set. */
  applyStored(): void {
    const base = this.baseModel();
    this.host.setFineTuned(this.store && base !== '' ? this.store.tunedFor(base) : null);
  }

  private async showReport(path: string): Promise<void> {
    await vscode.commands.executeCommand('markdown.showPreviewToSide', vscode.Uri.file(path)).then(undefined, async () => {
      await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    });
  }

  async train(resume: boolean): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED);
      return;
    }
    if (this.running) {
      void vscode.window.showInformationMessage('Limelight: a fine-tuning run is already in progress (see the status bar).');
      return;
    }
    if (!this.store) return;
    const settings = this.settings();
    const base = this.baseModel();
    if (base === '') {
      void vscode.window.showWarningMessage('Limelight: no model to fine-tune. Set limelight.model.path to a checkpoint folder (config.json + model.safetensors).');
      return;
    }
    const sel = await selectFiles(settings);
    if (!sel) return;
    if (sel.files.length < 2) {
      void vscode.window.showWarningMessage(`Limelight: only ${sel.files.length} workspace file can be used for fine-tuning; it needs at least 2 (one is held out). Check limelight.fineTune.include.`);
      return;
    }
    // The run gets a worker of its own: the saved state, the token count (the model's tokenizer)
    // and the training all read files and compute there, never on the extension host's thread.
    // A crash fails the request in flight, and this client lives for one run: the catch below is
    // the one notification (with Resume), the client's own notice goes to the this.log.
    const trainer = new EngineClient({ onNotice: (m) => this.log.warn(m) });
    try {
      await this.runOnWorker(trainer, sel, settings, base, resume);
    } finally {
      void trainer.dispose();
    }
  }

  /** The run on its worker: confirm what will be used, train with progress, keep the result. */
  private async runOnWorker(trainer: EngineClient, sel: WorkspaceSelection, settings: LimelightSettings, base: string, resume: boolean): Promise<void> {
    const store = this.store;
    if (!store) return;
    let saved: TrainStateResult | null;
    let tokens: number;
    try {
      saved = await trainer.trainState(store.runDir).catch(() => null);
      tokens = (await trainer.countTokens(base, sel.files.map((f) => f.text))).reduce((a, b) => a + b, 0);
    } catch (e) {
      void vscode.window.showErrorMessage(`Limelight: fine-tuning cannot start: ${(e as Error).message}`);
      return;
    }
    const summary = summarizeSelection(sel, tokens);
    const run = await confirmRun(sel, summary, settings, saved !== null && resolve(saved.baseModel) === resolve(base) ? saved : null, resume);
    if (run === null) return;
    const { resume: doResume, mode } = run;
    if (!doResume) rmSync(store.runDir, { recursive: true, force: true });
    this.log.info(`Fine-tune (${mode}): ${summary.files} files, ${summary.tokens} tokens, ${sel.skipped.length} skipped; ${doResume ? 'resuming' : 'starting'} in ${store.runDir}.`);

    const outcome = await this.trainWithProgress(trainer, { modelDir: base, outDir: store.runDir, files: sel.files.map((f) => ({ path: f.path, text: f.text })), mode, loraRank: settings.fineTune.loraRank, maxMinutes: settings.fineTune.maxMinutes, resume: doResume, threads: settings.threads, yieldTo: this.host.busy.buffer });
    if (outcome === 'crashed') {
      const again = await vscode.window.showWarningMessage('Limelight: fine-tuning stopped because the engine crashed (see the Limelight log); the last checkpoint is kept.', 'Resume');
      if (again === 'Resume') await this.train(true);
      return;
    }
    const result = outcome;
    if (!result) return;
    this.log.info(`Fine-tune ${result.status} at step ${result.step}/${result.steps}: held-out loss ${result.before.loss.toFixed(4)} -> ${result.after?.loss.toFixed(4) ?? 'n/a'}.`);
    if (result.status === 'cancelled') {
      const again = await vscode.window.showInformationMessage(`Limelight: fine-tuning cancelled at step ${result.step} of ${result.steps}; the checkpoint is kept.`, 'Resume');
      if (again === 'Resume') await this.train(true);
      return;
    }
    await this.keepResult(store, result, base);
  }

  /** Trains under a cancellable progress notification mirrored in the status bar; null when it failed (and said so), 'crashed' when the engine crashed. */
  private async trainWithProgress(trainer: EngineClient, request: Omit<TrainRequest, 'type'>): Promise<TrainResult | null | 'crashed'> {
    const ac = new AbortController();
    this.running = ac;
    this.status.text = '$(beaker~spin) Fine-tune: starting';
    this.status.tooltip = 'Limelight is fine-tuning on this workspace. Click to cancel.';
    this.status.command = 'limelight.cancelFineTune';
    this.status.show();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Limelight: fine-tuning on the workspace', cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => ac.abort());
          let lastPct = 0;
          return trainer.train(
            request,
            {
              signal: ac.signal,
              onProgress: (p) => {
                const line = progressLine(p);
                const pct = p.phase === 'training' && p.steps > 0 ? Math.round((100 * p.step) / p.steps) : lastPct;
                progress.report({ message: line, increment: pct - lastPct });
                lastPct = pct;
                this.status.text = `$(beaker~spin) ${p.phase === 'training' ? `Fine-tune ${p.step}/${p.steps} · loss ${p.loss?.toFixed(2) ?? '…'}` : 'Fine-tune: ' + p.phase.replace('-', ' ')}`;
                this.log.debug(`Fine-tune: ${line}`);
              },
            },
          );
        },
      );
    } catch (e) {
      const message = (e as Error).message;
      this.log.error(`Fine-tune failed: ${message}`);
      if (e instanceof EngineError && e.name === 'EngineCrashed') return 'crashed';
      void vscode.window.showErrorMessage(`Limelight: fine-tuning failed: ${message}`);
      return null;
    } finally {
      this.running = null;
      this.status.hide();
    }
  }

  /** Installs the result in the store, uses it from now on and shows the report. */
  private async keepResult(store: AdapterStore, result: TrainResult, base: string): Promise<void> {
    let dir: string;
    try {
      dir = store.install(store.runDir, { baseModel: resolve(base), created: new Date().toISOString(), source: 'fine-tune', kind: result.mode });
    } catch (e) {
      this.log.error(`Fine-tune: keeping the result failed: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Limelight: the fine-tuned ${result.mode === 'full' ? 'model' : 'adapter'} could not be kept: ${(e as Error).message}`);
      return;
    }
    // The run's checkpoints (for a full fine-tune, the model again with its optimizer state:
    // about 4 times its size) serve no purpose once the result is in use.
    rmSync(store.runDir, { recursive: true, force: true });
    this.host.setFineTuned({ kind: result.mode, dir });
    const a = result.after!;
    void vscode.window.showInformationMessage(
      `Limelight: fine-tuned. Held-out loss ${result.before.loss.toFixed(3)} → ${a.loss.toFixed(3)}, line edit similarity ${result.before.editSimilarity.toFixed(2)} → ${a.editSimilarity.toFixed(2)}. The ${result.mode === 'full' ? 'fine-tuned model' : 'adapter'} is in use; "Revert to Base Model" removes it.`,
    );
    await this.showReport(join(dir, 'report.md'));
  }

  /** Runs `job` on a worker of its own, ended when the job is done. */
  private async onWorker<T>(job: (c: EngineClient) => Promise<T>): Promise<T> {
    const c = new EngineClient({ onNotice: (m) => this.log.warn(m) });
    try {
      return await job(c);
    } finally {
      void c.dispose();
    }
  }

  private needStore(): AdapterStore | null {
    if (!this.store) void vscode.window.showInformationMessage('Limelight: open a folder first; adapters are kept per workspace.');
    return this.store;
  }


  /** Revert to Base Model: the workspace fine-tune goes; the base model is used again. */
  revertToBaseModel(): void {
    const s = this.needStore();
    if (!s) return;
    const had = s.remove();
    this.host.setFineTuned(null);
    void vscode.window.showInformationMessage(had ? 'Limelight: the workspace fine-tune is removed; the base model is in use.' : 'Limelight: the base model is already in use (no workspace fine-tune).');
  }

  /** Export Adapter: the PEFT adapter (or, for a full fine-tune, a Hugging Face checkpoint) into a folder the user picks. */
  async exportAdapter(): Promise<void> {
    const s = this.needStore();
    if (!s) return;
    const meta = s.meta();
    if (!meta) {
      void vscode.window.showInformationMessage('Limelight: there is no workspace adapter or fine-tuned model to export; run Fine-tune on Workspace first.');
      return;
    }
    const full = meta.kind === 'full';
    const title = full ? 'Export the fine-tuned model (Hugging Face checkpoint) into this folder' : 'Export the adapter (PEFT format) into this folder';
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title, openLabel: 'Export Here' });
    const folder = pickedFolder(picked);
    if (folder === null) return;
    try {
      const files = s.exportTo(folder);
      const how = full ? 'Load it in Python with transformers.AutoModelForCausalLM.from_pretrained(folder), or set limelight.model.path to it.' : 'Load it in Python with peft.PeftModel.from_pretrained(base, folder).';
      void vscode.window.showInformationMessage(`Limelight: ${full ? 'fine-tuned model' : 'adapter'} exported (${files.length} files) to ${folder}. ${how}`);
    } catch (e) {
      void vscode.window.showErrorMessage(`Limelight: ${(e as Error).message}`);
    }
  }

  /** Import Adapter: a PEFT LoRA adapter checked against the base model, then used. */
  async importAdapter(): Promise<void> {
    const s = this.needStore();
    const base = this.baseModel();
    if (!s) return;
    if (base === '') {
      void vscode.window.showWarningMessage('Limelight: set limelight.model.path to the base model the adapter was trained for, then import it.');
      return;
    }
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)', openLabel: 'Import' });
    const folder = pickedFolder(picked);
    if (folder === null) return;
    try {
      // Checks the adapter against the base model's shapes before anything is installed.
      await this.onWorker((c) => c.checkAdapter(folder, base));
      this.host.setFineTuned({ kind: 'lora', dir: s.install(folder, { baseModel: resolve(base), created: new Date().toISOString(), source: 'import', kind: 'lora' }) });
      void vscode.window.showInformationMessage('Limelight: adapter imported and in use; "Revert to Base Model" removes it.');
    } catch (e) {
      void vscode.window.showErrorMessage(`Limelight: the adapter cannot be imported: ${(e as Error).message}`);
    }
  }

  /** Export Training Data: the selected files as JSONL for fine-tuning elsewhere. */
  async exportTrainingData(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED);
      return;
    }
    const sel = await selectFiles(this.settings());
    if (!sel) return;
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Export the training data (JSONL, Hugging Face datasets layout) into this folder', openLabel: 'Export Here' });
    const folder = pickedFolder(picked);
    if (folder === null) return;
    try {
      const out = await this.onWorker((c) => c.exportTrainingData({ outDir: folder, files: sel.files.map((f) => ({ path: f.path, text: f.text })) }));
      const open = await vscode.window.showInformationMessage(`Limelight: ${out.train} training and ${out.test} held-out files exported to ${out.dir}.`, 'Open README');
      if (open) await this.showReport(join(out.dir, 'README.md'));
    } catch (e) {
      void vscode.window.showErrorMessage(`Limelight: ${(e as Error).message}`);
    }
  }
}

export function registerFineTune(context: vscode.ExtensionContext, deps: FineTuneDeps): void {
  const ft = new FineTuneCommands(context, deps);
  context.subscriptions.push(
    ft.status,
    { dispose: () => ft.running?.abort() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('limelight.model.path')) ft.applyStored();
    }),
    vscode.commands.registerCommand('limelight.fineTuneWorkspace', () => ft.train(false)),
    vscode.commands.registerCommand('limelight.cancelFineTune', () => ft.running?.abort()),
    vscode.commands.registerCommand('limelight.revertToBaseModel', () => ft.revertToBaseModel()),
    vscode.commands.registerCommand('limelight.exportAdapter', () => ft.exportAdapter()),
    vscode.commands.registerCommand('limelight.importAdapter', () => ft.importAdapter()),
    vscode.commands.registerCommand('limelight.exportTrainingData', () => ft.exportTrainingData()),
  );
  if (ft.store && existsSync(ft.store.adapterDir)) ft.applyStored();
}
