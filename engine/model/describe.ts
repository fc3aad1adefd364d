// What a model is, read from its files without loading its weights (GGUF: the header;
// Hugging Face folders: config.json and the safetensors headers): for `limelight info`,
// Select Model and the memory check before a load.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openGguf } from '../io/ggufRead';
import { readCheckpointTensors } from '../io/hfCheckpoint';
import type { WeightType } from '../formats/formats';
import type { ModelConfig } from './config';
import { configFromGguf, familyOf } from './families';
import { ggufConfigValues } from './ggufModel';
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
 * What describeModel reads from a model's files. Whether the model has FIM markers and a chat
 * template is read without building its tokenizer (a 150k-token tokenizer.json takes a second
 * to build; Select Model and `limelight models` describe many models at once): the GGUF
 * vocabulary's token strings, or the folder's tokenizer files searched for the markers' texts.
 * The model's FimTemplate (modelTokenizer.ts) is what completions use; this is its description.
 */
interface Facts {
  config: ModelConfig;
  formats: ModelDescription['formats'];
  bytes: number;
  /** The FIM markers, or null. */
  fim: string | null;
  chatTemplate: boolean;
}

function addWeights(f: Facts, t: WeightType | 'other', n: number, b: number): void {
  f.formats[t] = (f.formats[t] ?? 0) + n;
  f.bytes += b;
}

/** The starter model's own layout, named by its encoding whatever its vocabulary holds. */
function starterFacts(f: Facts): Facts {
  return f.config.encoding === STARTER_ENCODING ? { ...f, fim: `Limelight (${STARTER_ENCODING})`, chatTemplate: false } : f;
}

/** A GGUF file's facts from one read of its header. */
function ggufFacts(path: string): Facts {
  const file = openGguf(path);
  try {
    const tokens = new Set(file.optStringArray('tokenizer.ggml.tokens') ?? []);
    const f: Facts = {
      config: configFromGguf(ggufConfigValues(file)),
      formats: {},
      bytes: 0,
      fim: fimMarkers((t) => tokens.has(t)),
      chatTemplate: file.optString('tokenizer.chat_template') !== undefined,
    };
    for (const t of file.tensors) addWeights(f, t.type, t.elements, t.bytes);
    return starterFacts(f);
  } finally {
    file.close();
  }
}

/** A checkpoint folder's facts: config.json, the safetensors headers, the tokenizer files' texts. */
function folderFacts(dir: string): Facts {
  const config = readModelConfig(dir);
  const tokenizerConfig = readText(join(dir, 'tokenizer_config.json')) ?? '';
  const tokenizer = existsSync(join(dir, 'tokenizer.json')) ? (readText(join(dir, 'tokenizer.json')) ?? '') : '';
  const quoted = (t: string): string => JSON.stringify(t);
  const f: Facts = {
    config,
    formats: {},
    bytes: 0,
    fim: tokenizer === '' ? null : fimMarkers((t) => tokenizerConfig.includes(quoted(t)) || tokenizer.includes(quoted(t))),
    chatTemplate: /"chat_template"\s*:\s*("|\[)/.test(tokenizerConfig),
  };
  const tensors = readCheckpointTensors(dir);
  for (const m of familyOf(config).hfTensors(config, (n) => tensors.has(n))) {
    const t = tensors.get(m.name);
    if (t !== undefined) addWeights(f, tensors.weightType(m.name) ?? 'other', t.info.numel, t.info.byteLength);
  }
  return starterFacts(f);
}

/** Describes the model at `path` (a .gguf file or a checkpoint folder), with the memory it needs at `contextLength` positions (default: its own). */
export function describeModel(path: string, contextLength?: number): ModelDescription {
  const f = statSync(path).isDirectory() ? folderFacts(path) : ggufFacts(path);
  const config = f.config;
  const atContext = Math.min(contextLength ?? config.maxPositions, config.maxPositions);
  const kv = kvBytesPerPosition(config);
  return {
    path,
    family: config.family,
    modelType: config.modelType,
    parameters: buildLayout(config).total,
    formats: f.formats,
    weightBytes: f.bytes,
    contextLength: config.maxPositions,
    vocabSize: config.vocabSize,
    layers: config.nLayer,
    hidden: config.hidden,
    heads: config.nHead,
    kvHeads: config.nKvHead,
    fim: f.fim,
    chatTemplate: f.chatTemplate,
    kvBytesPerPosition: kv,
    memoryBytes: f.bytes + kv * atContext,
    atContext,
  };
}
