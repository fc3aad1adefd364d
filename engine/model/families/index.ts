// The model families the engine runs, and the lookups from a file's names to a family.
// Adding a family: a file beside this one (see docs/adding-a-model.md) and a row here.
import { ModelConfigError, type FamilyName, type ModelConfig } from '../config';
import { jsonValues, shown } from './configRead';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import { qwen2 } from './qwen2';
import { starcoder2 } from './starcoder2';
import type { GgufConfigValues, ModelFamily } from './types';

export const FAMILIES: readonly ModelFamily[] = [gpt2, llama, qwen2, starcoder2];

/** Every config.json model_type the engine reads. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = FAMILIES.flatMap((f) => f.hfModelTypes);
/** Every GGUF general.architecture the engine reads. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = FAMILIES.flatMap((f) => f.ggufArchitectures);

export function familyOf(c: ModelConfig | FamilyName): ModelFamily {
  const name = typeof c === 'string' ? c : c.family;
  const f = FAMILIES.find((x) => x.name === name);
  if (f === undefined) throw new ModelConfigError(`unknown model family ${shown(name)}; known: ${FAMILIES.map((x) => x.name).join(', ')}`);
  return f;
}

/** Reads a Hugging Face config.json object into a ModelConfig through its family. */
export function configFromHF(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelConfigError('config.json must hold a JSON object. Check that the model folder is a Hugging Face checkpoint.');
  }
  const values = jsonValues(json as Record<string, unknown>);
  const modelType = values.get('model_type');
  if (typeof modelType !== 'string') {
    throw new ModelConfigError(`config.json has no "model_type" (got ${shown(modelType)}). Supported: ${SUPPORTED_MODEL_TYPES.join(', ')}. ${values.fix}`);
  }
  const family = FAMILIES.find((f) => f.hfModelTypes.includes(modelType));
  if (family === undefined) {
    throw new ModelConfigError(`config.json: model_type ${shown(modelType)} is not supported. Supported: ${SUPPORTED_MODEL_TYPES.join(', ')}. Use a model of one of these families.`);
  }
  return family.configFromHF(values, modelType);
}

/** Reads a GGUF file's metadata into a ModelConfig through the family of its general.architecture. */
export function configFromGguf(values: GgufConfigValues): ModelConfig {
  const family = FAMILIES.find((f) => f.ggufArchitectures.includes(values.arch));
  if (family === undefined) {
    throw new ModelConfigError(`${values.source}: architecture ${shown(values.arch)} is not supported. Supported: ${SUPPORTED_ARCHITECTURES.join(', ')}. Use a GGUF file of one of these architectures.`);
  }
  return family.configFromGguf(values);
}

export type { ModelFamily, TensorMapping, GgufConfigValues } from './types';
