// Options shared by the commands that run a model: which folder (--model, defaulting to the
// bundled starter model) and which backend (--backend).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../model/load';
import type { Model } from '../model/model';
import type { InferenceBackend } from '../runtime/backend';
import { createJsBackend } from '../runtime/jsBackend';
import { UsageError, type OptionSpec, type ParsedArgs } from './args';

/** The starter model's place in the extension package, relative to dist/cli.js. */
export const STARTER_MODEL_DIR = join(__dirname, '..', 'media', 'models', 'starter');

type BackendFactory = (model: Model, contextLength: number | undefined) => InferenceBackend;

/** Backends the CLI can run, by --backend name; 'auto' takes the first. */
const BACKENDS: ReadonlyArray<[string, BackendFactory]> = [['js', (model, contextLength) => createJsBackend(model, { contextLength })]];

export const MODEL_OPTIONS: readonly OptionSpec[] = [
  { name: 'model', kind: 'string', value: 'DIR', help: 'Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' },
  { name: 'backend', kind: 'string', value: 'NAME', help: `inference backend: auto, ${BACKENDS.map(([n]) => n).join(', ')} (default auto)` },
];

export function modelDir(args: ParsedArgs): string {
  const dir = args.string('model');
  if (dir !== undefined) return dir;
  if (existsSync(join(STARTER_MODEL_DIR, 'config.json'))) return STARTER_MODEL_DIR;
  throw new UsageError(`no --model given, and this build has no bundled starter model (looked in ${STARTER_MODEL_DIR}). Pass --model DIR, a Hugging Face checkpoint folder.`);
}

export function openModel(args: ParsedArgs): Model {
  return loadModel(modelDir(args));
}

export function openBackend(args: ParsedArgs, model: Model, contextLength?: number): InferenceBackend {
  const name = args.string('backend') ?? 'auto';
  const entry = name === 'auto' ? BACKENDS[0] : BACKENDS.find(([n]) => n === name);
  if (!entry) throw new UsageError(`unknown backend "${name}". Available: auto, ${BACKENDS.map(([n]) => n).join(', ')}.`);
  return entry[1](model, contextLength);
}
