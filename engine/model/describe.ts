// What a model is, read from its files without loading its weights (GGUF: the header;
// Hugging Face folders: config.json and the safetensors headers): for `limelight info`,
// Select Model and the memory check before a load.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openGguf } from '../io/ggufRead';
import { readCheckpointTensors } from '../io/checkpoint';
import type { WeightType } from '../formats/formats';
import type { ModelConfig } from './config';
import { familyOf } from './families';
import { readModelConfig } from './load';
import { kvBytesPerPosition } from './memory';
import { FIM_MIDDLE_TEXTS, FIM_PREFIX_TEXTS, FIM_SUFFIX_TEXTS } from '../tokenizer/vocabTokenizer';
import { STARTER_ENCODING } from '../tokenizer/promptFormats';
import { buildLayout } from './layout';

export interface ModelDescription {
  path: string;
  family: string;
  modelType: string;
  parameters: number;
  /** Weights per stored format, e.g. { Q4_K: 3.1e8, Q6_K: 1.2e8, F32: 1e5 }. */
  formats: Partial<Record<WeightType | 'other', number>>;
  /** Bytes the weights take in the file(s). */
  weightBytes: number;
  contextLength: number;
  vocabSize: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  /** The FIM layout, or null: completions need one. */
  fim: string | null;
  /** Whether the model carries a chat template (an instruct model). */
  chatTemplate: boolean;
  /** Bytes of the KV cache per position. */
  kvBytesPerPosition: number;
  /** Weights + KV cache at `atContext` positions. */
  memoryBytes: number;
  atContext: number;
}

function weightsOf(path: string, config: ModelConfig): { formats: ModelDescription['formats']; bytes: number } {
  const formats: ModelDescription['formats'] = {};
  let bytes = 0;
  const add = (t: WeightType | 'other', n: number, b: number): void => {
    formats[t] = (formats[t] ?? 0) + n;
    bytes += b;
  };
  if (statSync(path).isDirectory()) {
    const tensors = readCheckpointTensors(path);
    for (const m of familyOf(config).hfTensors(config, (n) => tensors.has(n))) {
      const t = tensors.get(m.name);
      if (t === undefined) continue;
      add(tensors.weightType(m.name) ?? 'other', t.info.numel, t.info.byteLength);
    }
    return { formats, bytes };
  }
  const file = openGguf(path);
  try {
    for (const t of file.tensors) add(t.type, t.elements, t.bytes);
  } finally {
    file.close();
  }
  return { formats, bytes };
}

/** The FIM markers found among `has`'s texts, as "<pre> <suf> <mid>", or null. */
function fimMarkers(has: (text: string) => boolean): string | null {
  const found = [FIM_PREFIX_TEXTS, FIM_SUFFIX_TEXTS, FIM_MIDDLE_TEXTS].map((texts) => texts.find(has));
  return found.every((t) => t !== undefined) ? found.join(' ') : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Whether the model has FIM markers and a chat template, read without building its tokenizer
 * (a 150k-token tokenizer.json takes a second to build; Select Model and `limelight models`
 * describe many models at once): the GGUF vocabulary's token strings, or the folder's
 * tokenizer files searched for the markers' texts. The model's FimTemplate (modelTokenizer.ts)
 * is what completions use; this is its description.
 */
function promptFacts(path: string, config: ModelConfig): { fim: string | null; chatTemplate: boolean } {
  if (config.encoding === STARTER_ENCODING) return { fim: `Limelight (${STARTER_ENCODING})`, chatTemplate: false };
  if (!statSync(path).isDirectory()) {
    const file = openGguf(path);
    try {
      const tokens = new Set(file.optStringArray('tokenizer.ggml.tokens') ?? []);
      return { fim: fimMarkers((t) => tokens.has(t)), chatTemplate: file.optString('tokenizer.chat_template') !== undefined };
    } finally {
      file.close();
    }
  }
  const tokenizerConfig = readText(join(path, 'tokenizer_config.json')) ?? '';
  const tokenizer = existsSync(join(path, 'tokenizer.json')) ? (readText(join(path, 'tokenizer.json')) ?? '') : '';
  const quoted = (t: string): string => JSON.stringify(t);
  return { fim: tokenizer === '' ? null : fimMarkers((t) => tokenizerConfig.includes(quoted(t)) || tokenizer.includes(quoted(t))), chatTemplate: /"chat_template"\s*:\s*("|\[)/.test(tokenizerConfig) };
}

/** Describes the model at `path`, with the memory it needs at `contextLength` positions (default: its own). */
export function describeModel(path: string, contextLength?: number): ModelDescription {
  const config = readModelConfig(path);
  const prompts = promptFacts(path, config);
  const weights = weightsOf(path, config);
  const atContext = Math.min(contextLength ?? config.maxPositions, config.maxPositions);
  const kv = kvBytesPerPosition(config);
  return {
    path,
    family: config.family,
    modelType: config.modelType,
    parameters: buildLayout(config).total,
    formats: weights.formats,
    weightBytes: weights.bytes,
    contextLength: config.maxPositions,
    vocabSize: config.vocabSize,
    layers: config.nLayer,
    hidden: config.hidden,
    heads: config.nHead,
    kvHeads: config.nKvHead,
    fim: prompts.fim,
    chatTemplate: prompts.chatTemplate,
    kvBytesPerPosition: kv,
    memoryBytes: weights.bytes + kv * atContext,
    atContext,
  };
}
