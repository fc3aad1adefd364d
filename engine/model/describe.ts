// What a model is, read from its files without loading its weights (GGUF: the header;
// Hugging Face folders: config.json and the safetensors headers): for `limelight info`,
// Select Model and the memory check before a load.
import { statSync } from 'node:fs';
import { openGguf } from '../io/ggufRead';
import { readCheckpointTensors } from '../io/checkpoint';
import type { WeightType } from '../formats/formats';
import type { ModelConfig } from './config';
import { familyOf } from './families';
import { readModelConfig } from './load';
import { kvBytesPerPosition } from './memory';
import { loadModelPrompts } from './modelTokenizer';
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

/** Describes the model at `path`, with the memory it needs at `contextLength` positions (default: its own). */
export function describeModel(path: string, contextLength?: number): ModelDescription {
  const config = readModelConfig(path);
  const prompts = loadModelPrompts(path, config);
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
    fim: prompts?.fim?.name ?? null,
    chatTemplate: prompts?.chatTemplate != null,
    kvBytesPerPosition: kv,
    memoryBytes: weights.bytes + kv * atContext,
    atContext,
  };
}
