// Options shared by the commands that run a model: which model (--model: a .gguf file or a
// checkpoint folder, defaulting to the bundled starter model), which backend (--backend), how
// many threads (--threads) and how the weights are held (--weight-format), with the same
// defaults and meanings as the extension's settings.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../model/load';
import type { Model } from '../model/model';
import type { InferenceBackend } from '../runtime/backend';
import { autoWeightFormat, BACKEND_SETTINGS, selectBackend, type BackendSetting } from '../runtime/select';
import { WEIGHT_FORMATS, type WeightFormat } from '../runtime/fastBackend';
import { UsageError, type OptionSpec, type ParsedArgs } from './args';

/** The starter model's place in the extension package, relative to dist/cli.js. */
export const STARTER_MODEL_DIR = join(__dirname, '..', 'media', 'models', 'starter');

export const MODEL_PATH_OPTION: OptionSpec = { name: 'model', kind: 'string', value: 'PATH', help: 'a .gguf file or a Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' };

/** --model, --backend, --threads and --weight-format, with the backend used when --backend is not given. */
export function modelOptions(defaultBackend: BackendSetting): OptionSpec[] {
  return [
    MODEL_PATH_OPTION,
    { name: 'backend', kind: 'string', value: 'NAME', help: `inference backend: ${BACKEND_SETTINGS.join(', ')} (default ${defaultBackend})` },
    { name: 'threads', kind: 'int', value: 'N', help: 'compute threads (js) or intra-op threads (onnxruntime); 0 = CPU cores minus one (default 0, as limelight.threads)' },
    { name: 'weight-format', kind: 'string', value: 'F', help: `how matrices are held: auto (as near the file's formats as the kernels allow; large float checkpoints as q8_0), ${WEIGHT_FORMATS.join(', ')} (default auto, as limelight.weightFormat)` },
  ];
}
/** --model and --backend (default auto), for commands that run whichever backend serves best. */
export const MODEL_OPTIONS: readonly OptionSpec[] = modelOptions('auto');

export function modelDir(args: ParsedArgs): string {
  const dir = args.string('model');
  if (dir !== undefined) return dir;
  if (existsSync(join(STARTER_MODEL_DIR, 'config.json'))) return STARTER_MODEL_DIR;
  throw new UsageError(`no --model given, and this build has no bundled starter model (looked in ${STARTER_MODEL_DIR}). Pass --model PATH, a .gguf file or a Hugging Face checkpoint folder.`);
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
  const threads = args.int('threads', 0);
  if (threads < 0) throw new UsageError('--threads must be 0 (CPU cores minus one) or more.');
  const format = args.string('weight-format') ?? 'auto';
  if (format !== 'auto' && !(WEIGHT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--weight-format must be auto or one of ${WEIGHT_FORMATS.join(', ')} (got "${format}").`);
  const weightFormat = format === 'auto' ? autoWeightFormat(model) : (format as WeightFormat);
  const choice = await selectBackend(model, { setting: setting as BackendSetting, contextLength, threads, weightFormat });
  if (setting !== 'auto' && choice.name !== setting) process.stderr.write(`note: running on ${choice.reason}\n`);
  return choice.backend;
}
