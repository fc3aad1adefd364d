// limelight.downloadModel and limelight.setHuggingFaceToken: get a model from a Hugging Face hub,
// only when the user asks. A short curated list or any OWNER/REPO (then one of its files); into
// the Hugging Face cache (shared with other tools, found by Select Model) or a chosen folder; a
// cancellable progress notification with bytes, speed and time left; at the end "Use this
// model" (as Select Model sets it). The network code is its own bundle, loaded here on demand
// (engine/download/load.ts); its requests go through node's http/https, which VS Code patches
// to honour http.proxy, http.proxyStrictSSL and the system's certificates. The token lives in
// SecretStorage, the hub address in the user's settings only.
import * as vscode from 'vscode';
import { loadDownloader, type Downloader, type DownloadResult } from '../../engine/download/load';
import { modelStores } from '../../engine/model/modelStores';
import { CURATED_MODELS, curatedText, progressText, repoChoices, userEndpoint } from '../downloadChoice';
import { useModelPath } from './selectModel';

export const TOKEN_SECRET = 'limelight.huggingFaceToken';

interface Target {
  repo: string;
  file?: string;
}

/** Whether a transfer is under way (one at a time; the pickers and the messages after it do not count). */
let transferring = false;

/** The two commands, registered into context.subscriptions. */
export function registerDownload(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('limelight.setHuggingFaceToken', () => setToken(context)),
    vscode.commands.registerCommand('limelight.downloadModel', (given?: Target & { to?: string }) => downloadModel(context, given)),
  );
}

async function setToken(context: vscode.ExtensionContext): Promise<void> {
  const had = (await context.secrets.get(TOKEN_SECRET)) !== undefined;
  const token = await vscode.window.showInputBox({
    title: 'Limelight: Hugging Face token',
    prompt: `For gated or private models: a read token from huggingface.co/settings/tokens. Kept in VS Code's secret storage, never in settings.${had ? ' Leave empty to remove the stored one.' : ''}`,
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() !== '' && !/^[\x21-\x7e]+$/.test(v.trim()) ? 'A token has no spaces or accented characters: paste it again from huggingface.co/settings/tokens.' : undefined),
  });
  if (token === undefined) return;
  if (token.trim() === '') {
    if (had) {
      await context.secrets.delete(TOKEN_SECRET);
      void vscode.window.showInformationMessage('Limelight: the Hugging Face token was removed.');
    }
    return;
  }
  await context.secrets.store(TOKEN_SECRET, token.trim());
  void vscode.window.showInformationMessage('Limelight: the Hugging Face token is stored in VS Code\'s secret storage.');
}

function endpoint(): string | undefined {
  return userEndpoint(vscode.workspace.getConfiguration('limelight').inspect<string>('download.endpoint'));
}

/** Which model: a curated one, or a repo and one of its files. */
async function pickTarget(dl: () => Downloader, token: string | undefined): Promise<Target | undefined> {
  type Item = vscode.QuickPickItem & { target?: Target; other?: boolean };
  const items: Item[] = [
    { label: 'Code models for completions', kind: vscode.QuickPickItemKind.Separator },
    ...CURATED_MODELS.map((m): Item => ({ ...curatedText(m), target: { repo: m.repo, file: m.file } })),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(search) Another Hugging Face repo…', detail: 'OWNER/NAME: a GGUF file of it, or its safetensors checkpoint', other: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Limelight: download a model', placeHolder: 'Downloaded from the Hugging Face hub only now, when you pick one', matchOnDetail: true });
  if (picked === undefined) return undefined;
  if (!picked.other) return picked.target;
  const repo = await vscode.window.showInputBox({
    title: 'Limelight: Hugging Face repo',
    prompt: 'The repo as on its page, OWNER/NAME',
    placeHolder: 'e.g. lmstudio-community/Qwen2.5-Coder-0.5B-GGUF',
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        dl().checkRepoId(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (repo === undefined) return undefined;
  const files = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Limelight: listing ${repo.trim()}…` }, () =>
    dl().listRepoFiles({ repo: repo.trim(), endpoint: endpoint(), token }),
  );
  const choices = repoChoices(files);
  if (choices.length === 0) {
    void vscode.window.showErrorMessage(`Limelight: ${repo.trim()} has no .gguf file and no safetensors checkpoint (config.json with model.safetensors), which is what Limelight reads.`);
    return undefined;
  }
  const file = await vscode.window.showQuickPick(choices, { title: `Limelight: what to download from ${repo.trim()}`, placeHolder: 'Smaller GGUF files are more quantized (Q4_K_M is about half of Q8_0, a little less accurate)' });
  return file === undefined ? undefined : { repo: repo.trim(), ...(file.file !== undefined ? { file: file.file } : {}) };
}

/** Where to: the Hugging Face cache (undefined) or a folder; null when the user backed out. */
async function pickFolder(cacheDir: string): Promise<string | undefined | null> {
  const items: Array<vscode.QuickPickItem & { folder: boolean }> = [
    { label: '$(database) The Hugging Face cache', description: 'shared with other tools', detail: cacheDir, folder: false },
    { label: '$(folder-opened) Choose a folder…', folder: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Limelight: save the model into' });
  if (picked === undefined) return null;
  if (!picked.folder) return undefined;
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Save Here', title: 'Limelight: folder for the model' });
  return uris?.[0]?.fsPath ?? null;
}

async function downloadModel(context: vscode.ExtensionContext, given: (Target & { to?: string }) | undefined): Promise<void> {
  if (transferring) {
    void vscode.window.showInformationMessage('Limelight: a download is already running; its progress is in the notifications.');
    return;
  }
  let downloader: Downloader | undefined;
  const dl = (): Downloader => (downloader ??= loadDownloader());
  let token = await context.secrets.get(TOKEN_SECRET);
  const cacheDir = modelStores().find((s) => s.source === 'huggingface')!.dir;
  let target: Target | undefined;
  let to: string | undefined | null;
  try {
    target = given?.repo !== undefined ? given : await pickTarget(dl, token);
    if (target === undefined) return;
    to = given?.repo !== undefined ? given.to : await pickFolder(cacheDir);
    if (to === null) return;
  } catch (e) {
    if (await failed(e, false) === 'token') await setToken(context);
    return;
  }
  const { repo, file } = target;
  const folder = to;
  const what = file ?? repo;
  const run = async (): Promise<DownloadResult> =>
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Limelight: downloading ${what}`, cancellable: true }, (progress, cancel) => {
      const abort = new AbortController();
      cancel.onCancellationRequested(() => abort.abort());
      let shown = 0;
      return dl().downloadModel({
        repo,
        ...(file !== undefined ? { file } : {}),
        ...(folder !== undefined ? { to: folder } : {}),
        endpoint: endpoint(),
        ...(token !== undefined ? { token } : {}),
        cacheDir,
        signal: abort.signal,
        onProgress: (p) => {
          const pct = p.total > 0 ? (100 * p.bytes) / p.total : 0;
          progress.report({ message: progressText(p), increment: Math.max(0, pct - shown) });
          shown = Math.max(shown, pct);
        },
      });
    });
  let result: DownloadResult;
  // A retry or a resume after cancelling continues from the partial file; a new token is used at once.
  for (;;) {
    if (transferring) {
      void vscode.window.showInformationMessage('Limelight: a download is already running; try again when it ends.');
      return;
    }
    transferring = true;
    try {
      result = await run();
      break;
    } catch (e) {
      transferring = false;
      const next = await failed(e, true);
      if (next === 'token') {
        await setToken(context);
        const fresh = await context.secrets.get(TOKEN_SECRET);
        if (fresh === undefined || fresh === token) return;
        token = fresh;
      } else if (next !== 'again') return;
    } finally {
      transferring = false;
    }
  }
  const choice = await vscode.window.showInformationMessage(`Limelight: downloaded ${what} (checked against the hub's SHA-256) to ${result.path}.`, 'Use this model');
  if (choice === 'Use this model') await useModelPath(context, result.path);
}

/** Shows a failure with what can be done next: set a token, retry or resume (from the partial file), or nothing. */
async function failed(e: unknown, canRetry: boolean): Promise<'token' | 'again' | undefined> {
  const kind = (e as { kind?: unknown }).kind;
  const message = e instanceof Error ? e.message : String(e);
  if (kind === 'cancelled') {
    return (await vscode.window.showInformationMessage(`Limelight: ${message}`, ...(canRetry ? ['Resume'] : []))) === 'Resume' ? 'again' : undefined;
  }
  const retry = canRetry && (e as { resumable?: unknown }).resumable === true;
  const c = await vscode.window.showErrorMessage(`Limelight: ${message}`, ...(kind === 'auth' ? ['Set Hugging Face Token'] : []), ...(retry ? ['Retry'] : []));
  return c === 'Set Hugging Face Token' ? 'token' : c === 'Retry' ? 'again' : undefined;
}
