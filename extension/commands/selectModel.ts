// limelight.selectModel: a picker of the models found on this machine (Hugging Face cache, Ollama,
// LM Studio, llama.cpp; engine/model/discover.ts) with their facts, the bundled starter model, the
// models chosen recently, "Download a model..." and "Choose a checkpoint folder...". The choice is checked before it is saved (a folder the engine
// can read, weights present) and goes into the user's limelight.model.path; the engine host
// reloads on that setting's change, so nothing else happens here.
import * as vscode from 'vscode';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../../engine/worker/client';
import type { FoundModelWire as FoundModel } from '../../engine/worker/protocol';
import { checkModelFolder, foundModelText, rememberModel } from '../modelChoice';

const RECENT_KEY = 'limelight.recentModels';

interface ModelItem extends vscode.QuickPickItem {
  pick: () => Promise<void>;
}

export async function selectModel(context: vscode.ExtensionContext, starterDir: string): Promise<void> {
  const config = vscode.workspace.getConfiguration('limelight');
  const current = (config.get<string>('model.path') ?? '').trim();
  const recent = context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => typeof p === 'string');
  const hasStarter = existsSync(join(starterDir, 'config.json'));

  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  // Model headers are read in an engine worker of its own, so a large cache never stalls the editor.
  const reader = new EngineClient();
  const foundItems = async (): Promise<{ first: ModelItem[]; last: ModelItem[] }> => {
    let found: FoundModel[];
    try {
      found = await reader.discoverModels({ contextLength: config.get<number>('maxContextTokens'), limelightDir: join(context.globalStorageUri.fsPath, 'models') });
    } catch {
      found = [];
    }
    if (found.length === 0) return { first: [], last: [] };
    const item = (m: FoundModel): ModelItem => {
      const t = foundModelText(m);
      const isCurrent = current !== '' && real(m.path) === real(current);
      return { ...t, description: isCurrent ? `current · ${t.description}` : t.description, pick: () => (m.error !== undefined ? showProblem(m) : useFolder(m.path)) };
    };
    const separator = (label: string): ModelItem => ({ label, kind: vscode.QuickPickItemKind.Separator, pick: async () => {} });
    // Usable models first (those with FIM tokens, which complete code, ahead); broken ones after
    // the pickers, so a large cache never pushes the pickers out of sight.
    const usable = found.filter((m) => m.error === undefined).sort((a, b) => Number(b.fim === true) - Number(a.fim === true));
    const broken = found.filter((m) => m.error !== undefined);
    return {
      first: usable.length === 0 ? [] : [separator('On this machine'), ...usable.map(item), separator('Other models')],
      last: broken.length === 0 ? [] : [separator('Found, but cannot be used'), ...broken.map(item)],
    };
  };
  const fixed: ModelItem[] = [
    {
      label: '$(cloud-download) Download a model…',
      detail: 'From Hugging Face, only when you ask: Qwen2.5-Coder GGUF files that run well on a laptop, or any repo',
      pick: async () => {
        await vscode.commands.executeCommand('limelight.downloadModel');
      },
    },
    {
      label: '$(package) Bundled starter model',
      description: current === '' ? 'current' : undefined,
      detail: hasStarter ? 'Trained for code completion with Limelight\'s prompts' : 'Not included in this build yet: choose a checkpoint folder meanwhile',
      pick: () => (hasStarter ? use('', 'the bundled starter model') : explainNoStarter()),
    },
    ...recent.map(
      (p): ModelItem => ({
        label: `$(history) ${p}`,
        description: p === current ? 'current' : undefined,
        pick: () => useFolder(p),
      }),
    ),
    { label: '$(file-binary) Choose a GGUF file…', detail: 'A .gguf model from llama.cpp, Ollama or LM Studio (Qwen2.5-Coder, DeepSeek-Coder, StarCoder2, CodeLlama, Llama 3)', pick: chooseFile },
    { label: '$(folder-opened) Choose a checkpoint folder…', detail: 'A Hugging Face folder: config.json, model.safetensors and tokenizer.json (GPT-2, Llama, Qwen2, StarCoder2)', pick: chooseFolder },
  ];
  // The picker opens at once and shows it is busy while the worker reads the headers.
  const items = foundItems().then((f) => [...f.first, ...fixed, ...f.last]);
  try {
    const picked = await vscode.window.showQuickPick(items, { title: 'Limelight: model', placeHolder: 'Which model runs completions, summaries and inspection' });
    await picked?.pick();
  } finally {
    void reader.dispose();
  }

  async function showProblem(m: FoundModel): Promise<void> {
    await vscode.window.showErrorMessage(`Limelight: ${m.name} (${m.source}) cannot be used: ${m.error ?? ''}`);
  }

  async function chooseFile(): Promise<void> {
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: false, canSelectFiles: true, canSelectMany: false, filters: { 'GGUF models': ['gguf'] }, openLabel: 'Use This Model', title: 'Limelight: GGUF model file' });
    if (uris?.[0]) await useFolder(uris[0].fsPath);
  }

  async function chooseFolder(): Promise<void> {
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use This Model', title: 'Limelight: checkpoint folder' });
    if (uris?.[0]) await useFolder(uris[0].fsPath);
  }

  function useFolder(raw: string): Promise<void> {
    return useModelPath(context, raw, reader);
  }
}

/**
 * Checks `raw` and makes it the model in the user's settings, remembered in the recent list
 * (Select Model, Download Model's "Use this model"). `reader` reads the model's headers; without
 * one, a worker is started for the check.
 */
export async function useModelPath(context: vscode.ExtensionContext, raw: string, reader?: EngineClient): Promise<void> {
  const recent = context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => typeof p === 'string');
  const own = reader ?? new EngineClient();
  let check;
  try {
    check = await checkModelFolder(raw, (path) => own.describeModel(path));
  } finally {
    if (own !== reader) void own.dispose();
  }
  if (!check.ok) {
    // A remembered folder that went away or broke leaves the list.
    await context.globalState.update(RECENT_KEY, recent.filter((p) => p !== raw));
    void vscode.window.showErrorMessage(`Limelight: ${check.problem}`);
    return;
  }
  await context.globalState.update(RECENT_KEY, rememberModel(recent, check.path));
  await use(check.path, `${check.path} (${check.description})`);
}

/** path '' means the starter model: the user setting is removed rather than set to ''. */
async function use(path: string, what: string): Promise<void> {
  const config = vscode.workspace.getConfiguration('limelight');
  await config.update('model.path', path === '' ? undefined : path, vscode.ConfigurationTarget.Global);
  const inspected = config.inspect<string>('model.path');
  const override = inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
  if (override !== undefined && override.trim() !== path) {
    void vscode.window.showWarningMessage(`Limelight: your user settings now name ${what}, but this workspace's settings set limelight.model.path to ${JSON.stringify(override)}, which wins here. Remove it from the workspace settings to use your choice.`);
    return;
  }
  void vscode.window.showInformationMessage(`Limelight: loading ${what}.`);
}

async function explainNoStarter(): Promise<void> {
  await vscode.window.showInformationMessage(
    'Limelight: this build has no bundled starter model yet. Choose a model you have: a .gguf file (llama.cpp, Ollama, LM Studio) or a Hugging Face checkpoint folder; completions need a code model with fill-in-the-middle tokens (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama).',
  );
}
