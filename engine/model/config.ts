// Model configuration: one shape description for every decoder family the engine runs.
// A Hugging Face config.json is read into this form once (configFromHF); the rest of the
// engine looks only at these fields, never at model_type, so a new family (Qwen2, Mistral)
// is a new branch in configFromHF plus, at most, a new flag here.
//
// Letter legend used in shape comments across the engine (llm.c style):
//   B batch, T time (tokens), C hidden width, V vocabulary, L layers,
//   NH query heads, KVH key/value heads, HD head width, FF feed-forward width.

export type ModelFamily = 'gpt2' | 'llama';
export type NormKind = 'layernorm' | 'rmsnorm';
export type MlpKind = 'gelu_tanh' | 'swiglu';
export type PositionKind = 'learned' | 'rope';

export interface ModelConfig {
  /** Which tensor-name scheme and block structure the checkpoint uses. */
  family: ModelFamily;
  /** config.json's model_type, kept for messages and export. */
  modelType: string;
  vocabSize: number; // V
  /** Largest number of positions the model was trained for (n_positions / max_position_embeddings). */
  maxPositions: number;
  nLayer: number; // L
  nHead: number; // NH
  nKvHead: number; // KVH (== NH without grouped-query attention)
  headDim: number; // HD
  hidden: number; // C
  ffn: number; // FF
  norm: NormKind;
  normEps: number;
  mlp: MlpKind;
  positions: PositionKind;
  /** RoPE base (only for positions === 'rope'). */
  ropeTheta: number;
  /** Bias on the q/k/v projections (GPT-2, Qwen2). */
  qkvBias: boolean;
  /** Bias on the attention output projection (GPT-2). */
  attnOutBias: boolean;
  /** Bias on the MLP projections (GPT-2). */
  mlpBias: boolean;
  /** LayerNorm with a bias (GPT-2); RMSNorm has none. */
  normBias: boolean;
  /** The LM head reuses the token embedding matrix. */
  tiedEmbeddings: boolean;
  /** Sliding-window attention span (Mistral-style), or null for full causal attention. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  /** Token ids that end generation. */
  eosTokenIds: number[];
  /** gpt-tokenizer encoding name this model's ids belong to, when known. */
  encoding: string | null;
}

/** An error whose message says what was wrong and what to do about it. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

type Json = Record<string, unknown>;

const FIX = 'Fix config.json, or use the one that came with the checkpoint.';

/** A config value as JSON, cut short: a damaged file may hold anything. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function num(json: Json, keys: string[], what: string, fallback?: number): number {
  for (const k of keys) {
    const v = json[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ModelConfigError(`config.json: "${k}" must be a number (got ${shown(v)}). ${FIX}`);
    }
    return v;
  }
  if (fallback !== undefined) return fallback;
  throw new ModelConfigError(`config.json: missing ${what} (expected one of ${keys.map((k) => `"${k}"`).join(', ')}). ${FIX}`);
}

function positiveInt(value: number, key: string, max: number): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new ModelConfigError(`config.json: "${key}" must be a whole number from 1 to ${max} (got ${value}). ${FIX}`);
  }
  return value;
}

function idList(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

const LIMIT = { vocab: 1 << 20, positions: 1 << 20, layers: 512, heads: 1024, width: 1 << 16 };

export const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama'] as const;

/** Reads a Hugging Face config.json object into a ModelConfig, validating every field used. */
export function configFromHF(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelConfigError('config.json must hold a JSON object. Check that the model folder is a Hugging Face checkpoint.');
  }
  const j = json as Json;
  const modelType = j.model_type;
  if (typeof modelType !== 'string') {
    throw new ModelConfigError(`config.json has no "model_type" (got ${shown(modelType)}). Supported: ${SUPPORTED_MODEL_TYPES.join(', ')}. ${FIX}`);
  }
  const encoding = typeof j.limelight_encoding === 'string' ? j.limelight_encoding : null;
  if (modelType === 'gpt2') {
    const hidden = positiveInt(num(j, ['n_embd', 'hidden_size'], 'the hidden width'), 'n_embd', LIMIT.width);
    const nHead = positiveInt(num(j, ['n_head', 'num_attention_heads'], 'the head count'), 'n_head', LIMIT.heads);
    if (hidden % nHead !== 0) throw new ModelConfigError(`config.json: n_embd (${hidden}) must be divisible by n_head (${nHead}). ${FIX}`);
    const act = typeof j.activation_function === 'string' ? j.activation_function : 'gelu_new';
    if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(act)) {
      throw new ModelConfigError(`config.json: activation_function ${shown(act)} is not supported; Limelight runs the tanh form of GELU (gelu_new). Use a GPT-2 checkpoint trained with gelu_new.`);
    }
    const inner = j.n_inner;
    const eos = idList(j.eos_token_id);
    return {
      family: 'gpt2',
      modelType,
      vocabSize: positiveInt(num(j, ['vocab_size'], 'the vocabulary size'), 'vocab_size', LIMIT.vocab),
      maxPositions: positiveInt(num(j, ['n_positions', 'n_ctx', 'max_position_embeddings'], 'the context length'), 'n_positions', LIMIT.positions),
      nLayer: positiveInt(num(j, ['n_layer', 'num_hidden_layers'], 'the layer count'), 'n_layer', LIMIT.layers),
      nHead,
      nKvHead: nHead,
      headDim: hidden / nHead,
      hidden,
      ffn: typeof inner === 'number' ? positiveInt(inner, 'n_inner', LIMIT.width * 8) : 4 * hidden,
      norm: 'layernorm',
      normEps: num(j, ['layer_norm_epsilon'], 'the LayerNorm epsilon', 1e-5),
      mlp: 'gelu_tanh',
      positions: 'learned',
      ropeTheta: 0,
      qkvBias: true,
      attnOutBias: true,
      mlpBias: true,
      normBias: true,
      tiedEmbeddings: j.tie_word_embeddings !== false,
      slidingWindow: null,
      bosTokenId: idList(j.bos_token_id)[0] ?? null,
      eosTokenIds: eos,
      encoding: encoding ?? 'r50k_base',
    };
  }
  if (modelType === 'llama') {
    const hidden = positiveInt(num(j, ['hidden_size'], 'the hidden width'), 'hidden_size', LIMIT.width);
    const nHead = positiveInt(num(j, ['num_attention_heads'], 'the head count'), 'num_attention_heads', LIMIT.heads);
    const nKvHead = positiveInt(num(j, ['num_key_value_heads'], 'the key/value head count', nHead), 'num_key_value_heads', LIMIT.heads);
    if (nHead % nKvHead !== 0) {
      throw new ModelConfigError(`config.json: num_attention_heads (${nHead}) must be a multiple of num_key_value_heads (${nKvHead}). ${FIX}`);
    }
    const headDim = positiveInt(num(j, ['head_dim'], 'the head width', hidden / nHead), 'head_dim', LIMIT.width);
    if (headDim % 2 !== 0) throw new ModelConfigError(`config.json: head_dim (${headDim}) must be even for rotary embeddings. ${FIX}`);
    const act = typeof j.hidden_act === 'string' ? j.hidden_act : 'silu';
    if (act !== 'silu') throw new ModelConfigError(`config.json: hidden_act ${shown(act)} is not supported; Llama models use "silu". ${FIX}`);
    const rope = (typeof j.rope_parameters === 'object' && j.rope_parameters !== null ? j.rope_parameters : {}) as Json;
    const ropeType = rope.rope_type ?? (j.rope_scaling as Json | null | undefined)?.rope_type ?? 'default';
    if (ropeType !== 'default') {
      throw new ModelConfigError(`config.json: rope_type ${shown(ropeType)} is not supported yet; Limelight runs default rotary embeddings. Use a model without RoPE scaling.`);
    }
    const ropeTheta = num(rope, ['rope_theta'], 'rope_theta', num(j, ['rope_theta'], 'rope_theta', 10000));
    const attentionBias = j.attention_bias === true;
    return {
      family: 'llama',
      modelType,
      vocabSize: positiveInt(num(j, ['vocab_size'], 'the vocabulary size'), 'vocab_size', LIMIT.vocab),
      maxPositions: positiveInt(num(j, ['max_position_embeddings'], 'the context length'), 'max_position_embeddings', LIMIT.positions),
      nLayer: positiveInt(num(j, ['num_hidden_layers'], 'the layer count'), 'num_hidden_layers', LIMIT.layers),
      nHead,
      nKvHead,
      headDim,
      hidden,
      ffn: positiveInt(num(j, ['intermediate_size'], 'the MLP width'), 'intermediate_size', LIMIT.width * 8),
      norm: 'rmsnorm',
      normEps: num(j, ['rms_norm_eps'], 'the RMSNorm epsilon', 1e-6),
      mlp: 'swiglu',
      positions: 'rope',
      ropeTheta,
      qkvBias: attentionBias,
      attnOutBias: attentionBias,
      mlpBias: j.mlp_bias === true,
      normBias: false,
      tiedEmbeddings: j.tie_word_embeddings === true,
      slidingWindow: null,
      bosTokenId: idList(j.bos_token_id)[0] ?? null,
      eosTokenIds: idList(j.eos_token_id),
      encoding,
    };
  }
  throw new ModelConfigError(`config.json: model_type ${shown(modelType)} is not supported. Supported: ${SUPPORTED_MODEL_TYPES.join(', ')} (Hugging Face GPT-2 or Llama layout). Use a model of one of these families.`);
}

/** Width of the fused q|k|v projection output: (NH + 2 KVH) * HD. */
export function qkvWidth(c: ModelConfig): number {
  return (c.nHead + 2 * c.nKvHead) * c.headDim;
}

/** Width of the first MLP projection: FF for GELU, 2 FF (gate rows then up rows) for SwiGLU. */
export function fcWidth(c: ModelConfig): number {
  return c.mlp === 'swiglu' ? 2 * c.ffn : c.ffn;
}
