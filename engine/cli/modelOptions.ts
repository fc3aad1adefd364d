// Options shared by the commands that run a model: which folder (--model, defaulting to the
// bundled starter model) and which backend (--backend).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../model/load';
import type { Model } from '../model/model';
import type { InferenceBackend } from '../runtime/backend';
import { BACKEND_SETTINGS, selectBackend, type BackendSetting } from '../runtime/select';
import { UsageError, type OptionSpec, type ParsedArgs } from './args';

/** The starter model's place in the extension package, relative to dist/cli.js. */
export const STARTER_MODEL_DIR = join(__dirname, '..', 'media', 'models', 'starter');

/** --model and --backend, with the backend used when --backend is not given. */
export function modelOptions(defaultBackend: BackendSetting): OptionSpec[] {
  return [
    { name: 'model', kind: 'string', value: 'DIR', help: 'Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' },
    { name: 'backend', kind: 'string', value: 'NAME', help: `inference backend: ${BACKEND_SETTINGS.join(', ')} (default ${defaultBackend})` },
  ];
}
/** --model and --backend (default auto), for commands that run whichever backend serves best. */
export const MODEL_OPTIONS: readonly OptionSpec[] = modelOptions('auto');

export function modelDir(args: ParsedArgs): string {
  const dir = args.string('model');
  if (dir !== undefined) return dir;
  if (existsSync(join(STARTER_MODEL_DIR, 'config.json'))) return STARTER_MODEL_DIR;
  throw new UsageError(`no --model given, and this build has no bundled starter model (looked in ${STARTER_MODEL_DIR}). Pass --model DIR, a Hugging Face checkpoint folder.`);
}

export function openModel(args: ParsedArgs): Model {
  return loadModel(modelDir(args));
}

/**
 * The backend named by --backend, through the same selection as the extension: one that
 * cannot start falls back to the next, and a note on stderr says so (the JSON and the
 * forward file name the backend that actually ran).
 */
export async function openBackend(args: ParsedArgs, model: Model, defaultBackend: BackendSetting, contextLength?: number): Promise<InferenceBackend> {
  const setting = args.string('backend') ?? defaultBackend;
  if (!(BACKEND_SETTINGS as readonly string[]).includes(setting)) {
    throw new UsageError(`unknown backend "${setting}". Available: ${BACKEND_SETTINGS.join(', ')}.`);
  }
  const choice = await selectBackend(model, { setting: setting as BackendSetting, contextLength });
  if (setting !== 'auto' && choice.name !== setting) process.stderr.write(`note: running on ${choice.reason}\n`);
  return choice.backend;
}
