// Loading a model from the path a user gives: a GGUF file (llama.cpp, Ollama, LM Studio), or a
// Hugging Face checkpoint folder (config.json + model.safetensors, or shards with their index).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelConfigError, type ModelConfig } from './config';
import { configFromGguf, configFromHF, familyOf } from './families';
import { modelFromTensors } from './fromTensors';
import type { Model } from './model';
import { readCheckpointTensors } from '../io/hfCheckpoint';
import { openGguf, type GgufFile } from '../io/ggufRead';
import { ggufConfigValues, ggufTensorSource } from './ggufModel';
import { isGgufFile, isGgufPath } from '../io/ggufMagic';

const WHAT_A_MODEL_IS = 'Choose a .gguf file or a Hugging Face checkpoint folder (config.json and model.safetensors) as the model path.';

/** Whether the path is a folder; a clear error when it is missing, unreadable, or a file that is not GGUF. */
function isFolder(path: string): boolean {
  let folder: boolean;
  try {
    folder = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelConfigError(`${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`}. ${WHAT_A_MODEL_IS}`);
  }
  if (!folder && !isGgufFile(path)) throw new ModelConfigError(`${path} is a file but not a .gguf file. ${WHAT_A_MODEL_IS}`);
  return folder;
}

function withGguf<T>(path: string, use: (file: GgufFile) => T): T {
  const file = openGguf(path);
  try {
    return use(file);
  } finally {
    file.close();
  }
}

/** Reads and validates a checkpoint folder's config.json. */
function readFolderConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const ggufs = code === 'ENOENT' ? safeList(dir).filter(isGgufPath) : [];
    if (ggufs.length > 0) throw new ModelConfigError(`${dir} holds ${ggufs.join(', ')} but no config.json: choose the .gguf file itself as the model path.`);
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    throw new ModelConfigError(`${path} ${what}. ${WHAT_A_MODEL_IS}`);
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

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The model's config from a .gguf file's metadata or a folder's config.json, without reading weights. */
export function readModelConfig(path: string): ModelConfig {
  const abs = resolve(path);
  if (isFolder(abs)) return readFolderConfig(abs);
  return withGguf(abs, (file) => configFromGguf(ggufConfigValues(file)));
}

/** Loads a model; its matrices stay in the file's formats (see model.ts). */
export function loadModel(path: string): Model {
  const abs = resolve(path);
  if (isFolder(abs)) {
    const config = readFolderConfig(abs);
    const tensors = readCheckpointTensors(abs);
    return modelFromTensors(config, tensors, familyOf(config).hfTensors(config, (name) => tensors.has(name)), abs);
  }
  return withGguf(abs, (file) => {
    const config = configFromGguf(ggufConfigValues(file));
    return modelFromTensors(config, ggufTensorSource(file), familyOf(config).ggufTensors(config), abs);
  });
}

