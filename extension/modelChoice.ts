// What "Limelight: Select Model..." decides before it touches limelight.model.path: whether a
// path the user picked is a model Limelight can load (a safe local .gguf file, or a folder with a
// config.json the engine accepts and weights beside it), a one-line description of it for the
// picker, and the short list of recently chosen models. No vscode import: the unit tests run it
// on real files and folders. The model's headers are read by the engine worker (`describe`:
// EngineClient.describeModel); here only the path is checked.
import type { FoundModelWire as FoundModel, ModelDescriptionWire } from '../engine/worker/protocol';
import { checkFolder, GGUF_MODEL_FILE } from './folderPath';

export type ModelFolderCheck = { ok: true; path: string; description: string; completes: boolean } | { ok: false; problem: string };

/** The most models the picker remembers. */
export const RECENT_MODELS = 5;

/** Checks that `raw` names a model the engine can load (a .gguf file or a checkpoint folder), without loading its weights; `describe` reads its headers (in the engine worker). */
export async function checkModelFolder(raw: string, describe: (path: string) => Promise<ModelDescriptionWire>): Promise<ModelFolderCheck> {
  const found = checkFolder(raw, 'The model', undefined, GGUF_MODEL_FILE);
  if (!found.ok) return found;
  const path = found.path;
  let d: ModelDescriptionWire;
  try {
    d = await describe(path);
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  const completes = d.fim !== null;
  const formats = Object.keys(d.formats).join('/');
  const description = `${d.family} (${d.modelType}), ${(d.parameters / 1e6).toFixed(d.parameters < 1e8 ? 1 : 0)}M parameters, ${formats}, ${d.contextLength} positions${completes ? '' : ' (summaries and inspection only: no fill-in-the-middle tokens for completions)'}`;
  return { ok: true, path, description, completes };
}

/** `recent` with `path` moved to the front, without duplicates, at most RECENT_MODELS long. */
export function rememberModel(recent: readonly string[], path: string): string[] {
  return [path, ...recent.filter((p) => p !== path)].slice(0, RECENT_MODELS);
}

/** How Select Model shows a model found on the machine (engine/model/discover.ts): its facts, or why it cannot be used. */
export function foundModelText(m: FoundModel): { label: string; description: string; detail: string } {
  if (m.error !== undefined) {
    return { label: `$(warning) ${m.name}`, description: `${m.source}: cannot be used`, detail: m.error.length > 300 ? `${m.error.slice(0, 300)}…` : m.error };
  }
  const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);
  const facts = [
    m.family,
    m.parameters !== undefined ? `${(m.parameters / 1e6).toFixed(m.parameters < 1e8 ? 1 : 0)}M` : undefined,
    m.format,
    m.fim === true ? 'completions' : 'no FIM: summaries only',
    m.instruct === true ? 'instruct' : undefined,
    m.memoryBytes !== undefined ? `needs ${gib(m.memoryBytes)}${m.fits === false ? ', more than this machine has' : ''}` : undefined,
  ].filter((x): x is string => x !== undefined);
  return { label: `$(${m.fim === true ? 'sparkle' : 'file-binary'}) ${m.name}`, description: `${m.source} · ${facts.join(' · ')}`, detail: m.path };
}
