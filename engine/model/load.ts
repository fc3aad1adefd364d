// Loading a Hugging Face checkpoint folder: config.json + model.safetensors (or shards).
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelConfigError, type ModelConfig } from './config';
import { configFromHF, familyOf } from './families';
import { modelFromTensors } from './fromTensors';
import type { Model } from './model';
import { readCheckpointTensors } from '../io/checkpoint';

/** Reads and validates `dir/config.json`. */
export function readModelConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    if (!statSync(dir).isDirectory()) throw new ModelConfigError(`${dir} is a file; the model path must be a checkpoint folder (config.json + model.safetensors).`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ModelConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    throw new ModelConfigError(`${path} ${what}. Choose a Hugging Face checkpoint folder holding config.json and model.safetensors as the model path.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(`${path} is not valid JSON (${(e as Error).message}). Restore it from the original checkpoint.`);
  }
  try {
    return configFromHF(json);
  } catch (e) {
    if (e instanceof ModelConfigError) throw new ModelConfigError(`${dir}: ${e.message}`);
    throw e;
  }
}

/** Loads a checkpoint folder into one float32 parameter buffer. */
export function loadModel(dir: string): Model {
  const abs = resolve(dir);
  const config = readModelConfig(abs);
  const tensors = readCheckpointTensors(abs);
  return modelFromTensors(config, tensors, familyOf(config).hfTensors(config, (name) => tensors.has(name)), abs);
}
