// Model configuration: one shape description for every decoder family the engine runs.
// Each family (model/families/) reads its config.json or GGUF metadata into this form once;
// the rest of the engine looks only at these fields, never at the family, so a new family is
// a new file under families/ plus, at most, a new flag here.
//
// Letter legend used in shape comments across the engine (llm.c style):
//   B batch, T time (tokens), C hidden width, V vocabulary, L layers,
//   NH query heads, KVH key/value heads, HD head width, FF feed-forward width.

import type { RopeScaling } from '../kernels/rope';

export type FamilyName = 'gpt2' | 'llama' | 'qwen2' | 'starcoder2';
export type NormKind = 'layernorm' | 'rmsnorm';
export type MlpKind = 'gelu_tanh' | 'swiglu';
export type PositionKind = 'learned' | 'rope';

export interface ModelConfig {
  /** The family (model/families/) that read the checkpoint: its tensor names, LoRA targets and exports. */
  family: FamilyName;
  /** config.json's model_type or GGUF's general.architecture, kept for messages and export. */
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
  /** RoPE frequency scaling for contexts beyond the pretraining length, or null. */
  ropeScaling: RopeScaling | null;
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

/** Width of the fused q|k|v projection output: (NH + 2 KVH) * HD. */
export function qkvWidth(c: ModelConfig): number {
  return (c.nHead + 2 * c.nKvHead) * c.headDim;
}

/** Width of the first MLP projection: FF for GELU, 2 FF (gate rows then up rows) for SwiGLU. */
export function fcWidth(c: ModelConfig): number {
  return c.mlp === 'swiglu' ? 2 * c.ffn : c.ffn;
}
