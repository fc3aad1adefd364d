// What "Limelight: Select Model..." decides before it touches limelight.model.path: whether a
// folder the user picked is a checkpoint Limelight can load (a safe local folder, a config.json
// the engine accepts, weights beside it), a one-line description of it for the picker, and the
// short list of recently chosen models. No vscode import: the unit tests run it on real folders.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readModelConfig } from '../engine/model/load';
import { checkFolder } from './folderPath';

export type ModelFolderCheck = { ok: true; path: string; description: string; completes: boolean } | { ok: false; problem: string };

/** The most models the picker remembers. */
export const RECENT_MODELS = 5;

/** Checks that `raw` names a checkpoint folder the engine can load, without loading its weights. */
export function checkModelFolder(raw: string): ModelFolderCheck {
  const folder = checkFolder(raw, 'The model folder');
  if (!folder.ok) return folder;
  const dir = folder.path;
  let config;
  try {
    config = readModelConfig(dir);
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  if (!existsSync(join(dir, 'model.safetensors')) && !existsSync(join(dir, 'model.safetensors.index.json'))) {
    return { ok: false, problem: `${dir} has a config.json but no model.safetensors (or model.safetensors.index.json with its shards). Choose the folder that holds the checkpoint's weights, in safetensors format.` };
  }
  const completes = config.encoding === 'p50k_edit';
  const description = `${config.modelType}, ${config.nLayer} layers, ${config.hidden} wide, ${config.maxPositions} positions${completes ? '' : ' (summaries and inspection only: completions need a p50k_edit model)'}`;
  return { ok: true, path: dir, description, completes };
}

/** `recent` with `path` moved to the front, without duplicates, at most RECENT_MODELS long. */
export function rememberModel(recent: readonly string[], path: string): string[] {
  return [path, ...recent.filter((p) => p !== path)].slice(0, RECENT_MODELS);
}
