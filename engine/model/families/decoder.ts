// The shared recipe of the Llama-like families (llama, qwen2, starcoder2): rotary positions,
// grouped-query attention, separate q/k/v projections, an MLP that is either gated (SwiGLU:
// gate, up, down) or plain (GELU: c_fc, c_proj). A family file states its own choices
// (norm, biases, MLP, its config keys) and builds its config and tensor tables from here.
import type { RopeScaling } from '../../kernels/rope';
import { type FamilyName, type ModelConfig, type MlpKind, type NormKind, ModelConfigError } from '../config';
import { LIMIT, idList, num, positiveInt, shown, str, type ConfigValues } from './configRead';
import type { GgufValue } from '../../io/ggufTypes';
import type { GgufConfigValues, TensorMapping } from './types';

/** What a family fixes about its blocks; the rest comes from the config. */
export interface DecoderShape {
  family: FamilyName;
  norm: NormKind;
  mlp: MlpKind;
  /** llama.cpp's converter interleaved the Q/K rows (the llama architecture in GGUF). */
  ggufPermutesQK: boolean;
}

export interface DecoderFlags {
  qkvBias: boolean;
  attnOutBias: boolean;
  mlpBias: boolean;
  tiedEmbeddings: boolean;
  slidingWindow: number | null;
}

/** Reads transformers' rope_parameters (v5) or rope_scaling (v4); only the scalings the engine runs pass. */
function ropeFromHF(v: ConfigValues): { theta: number; scaling: RopeScaling | null } {
  const params = v.get('rope_parameters');
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  const legacy = v.get('rope_scaling');
  const s = (typeof legacy === 'object' && legacy !== null ? legacy : p) as Record<string, unknown>;
  const theta = num({ ...v, get: (k) => p[k] }, ['rope_theta'], 'rope_theta', num(v, ['rope_theta'], 'rope_theta', 10000));
  const type = s.rope_type ?? s.type ?? 'default';
  const sv: ConfigValues = { source: v.source, fix: v.fix, get: (k) => s[k] };
  if (type === 'default') return { theta, scaling: null };
  if (type === 'linear') return { theta, scaling: { kind: 'linear', factor: num(sv, ['factor'], 'rope scaling factor') } };
  if (type === 'llama3') {
    return {
      theta,
      scaling: {
        kind: 'llama3',
        factor: num(sv, ['factor'], 'rope scaling factor'),
        lowFreqFactor: num(sv, ['low_freq_factor'], 'low_freq_factor'),
        highFreqFactor: num(sv, ['high_freq_factor'], 'high_freq_factor'),
        originalMaxPositions: num(sv, ['original_max_position_embeddings'], 'original_max_position_embeddings'),
      },
    };
  }
  throw new ModelConfigError(`${v.source}: rope scaling ${shown(type)} is not supported; Limelight runs default, linear and llama3 rotary scaling. Use a model without ${shown(type)} scaling.`);
}

/** config.json of a Llama-like family. `flags` are the family's own reading of its bias and window keys. */
export function decoderConfigFromHF(v: ConfigValues, modelType: string, shape: DecoderShape, flags: DecoderFlags, epsKeys: string[]): ModelConfig {
  const hidden = positiveInt(v, num(v, ['hidden_size'], 'the hidden width'), 'hidden_size', LIMIT.width);
  const nHead = positiveInt(v, num(v, ['num_attention_heads'], 'the head count'), 'num_attention_heads', LIMIT.heads);
  const nKvHead = positiveInt(v, num(v, ['num_key_value_heads'], 'the key/value head count', nHead), 'num_key_value_heads', LIMIT.heads);
  const headDim = positiveInt(v, num(v, ['head_dim'], 'the head width', hidden / nHead), 'head_dim', LIMIT.width);
  const act = str(v, 'hidden_act') ?? (shape.mlp === 'swiglu' ? 'silu' : 'gelu_pytorch_tanh');
  const acts = shape.mlp === 'swiglu' ? ['silu'] : ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast'];
  if (!acts.includes(act)) throw new ModelConfigError(`config.json: hidden_act ${shown(act)} is not supported for ${modelType}; Limelight runs ${acts.join(' or ')}. ${v.fix}`);
  const rope = ropeFromHF(v);
  return checked(v, {
    family: shape.family,
    modelType,
    vocabSize: positiveInt(v, num(v, ['vocab_size'], 'the vocabulary size'), 'vocab_size', LIMIT.vocab),
    maxPositions: positiveInt(v, num(v, ['max_position_embeddings'], 'the context length'), 'max_position_embeddings', LIMIT.positions),
    nLayer: positiveInt(v, num(v, ['num_hidden_layers'], 'the layer count'), 'num_hidden_layers', LIMIT.layers),
    nHead,
    nKvHead,
    headDim,
    hidden,
    ffn: positiveInt(v, num(v, ['intermediate_size'], 'the MLP width'), 'intermediate_size', LIMIT.width * 8),
    norm: shape.norm,
    normEps: num(v, epsKeys, 'the norm epsilon', 1e-6),
    mlp: shape.mlp,
    positions: 'rope',
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    normBias: shape.norm === 'layernorm',
    ...flags,
    bosTokenId: idList(v.get('bos_token_id'))[0] ?? null,
    eosTokenIds: idList(v.get('eos_token_id')),
    encoding: str(v, 'limelight_encoding') ?? null,
  });
}

function ropeFromGguf(v: GgufConfigValues, headDim: number): RopeScaling | null {
  const a = v.arch;
  if (v.tensorShape('rope_freqs.weight') !== undefined) {
    const f = v.readFloat32('rope_freqs.weight');
    if (f.length !== headDim / 2) throw new ModelConfigError(`${v.source}: rope_freqs.weight holds ${f.length} factors; the head width ${headDim} needs ${headDim / 2}. ${v.fix}`);
    return { kind: 'freq_factors', factors: Array.from(f) };
  }
  const type = str(v, `${a}.rope.scaling.type`) ?? 'none';
  if (type === 'none') return null;
  if (type === 'linear') {
    const factor = num(v, [`${a}.rope.scaling.factor`], 'the rope scaling factor', 1);
    return factor === 1 ? null : { kind: 'linear', factor };
  }
  throw new ModelConfigError(`${v.source}: rope scaling ${shown(type)} is not supported; Limelight runs default, linear and llama3 rotary scaling. ${v.fix}`);
}

/** GGUF metadata of a Llama-like family; biases and tied embeddings are read from which tensors exist. */
export function decoderConfigFromGguf(v: GgufConfigValues, shape: DecoderShape): ModelConfig {
  const a = v.arch;
  const hidden = positiveInt(v, num(v, [`${a}.embedding_length`], 'the hidden width'), `${a}.embedding_length`, LIMIT.width);
  const nHead = positiveInt(v, num(v, [`${a}.attention.head_count`], 'the head count'), `${a}.attention.head_count`, LIMIT.heads);
  const nKvHead = positiveInt(v, num(v, [`${a}.attention.head_count_kv`], 'the key/value head count', nHead), `${a}.attention.head_count_kv`, LIMIT.heads);
  const headDim = positiveInt(v, num(v, [`${a}.attention.key_length`], 'the head width', hidden / nHead), `${a}.attention.key_length`, LIMIT.width);
  const ropeDims = num(v, [`${a}.rope.dimension_count`], 'the rotary width', headDim);
  if (ropeDims !== headDim) throw new ModelConfigError(`${v.source}: ${a}.rope.dimension_count is ${ropeDims} but heads are ${headDim} wide; Limelight rotates whole heads only. ${v.fix}`);
  const embd = v.tensorShape('token_embd.weight');
  const has = (name: string): boolean => v.tensorShape(name) !== undefined;
  const window = num(v, [`${a}.attention.sliding_window`], 'the sliding window', 0);
  return checked(v, {
    family: shape.family,
    modelType: a,
    vocabSize: positiveInt(v, num(v, [`${a}.vocab_size`], 'the vocabulary size', embd?.[0]), `${a}.vocab_size`, LIMIT.vocab),
    maxPositions: positiveInt(v, num(v, [`${a}.context_length`], 'the context length'), `${a}.context_length`, LIMIT.positions),
    nLayer: positiveInt(v, num(v, [`${a}.block_count`], 'the layer count'), `${a}.block_count`, LIMIT.layers),
    nHead,
    nKvHead,
    headDim,
    hidden,
    ffn: positiveInt(v, num(v, [`${a}.feed_forward_length`], 'the MLP width'), `${a}.feed_forward_length`, LIMIT.width * 8),
    norm: shape.norm,
    normEps: num(v, [`${a}.attention.layer_norm_rms_epsilon`, `${a}.attention.layer_norm_epsilon`], 'the norm epsilon', 1e-6),
    mlp: shape.mlp,
    positions: 'rope',
    ropeTheta: num(v, [`${a}.rope.freq_base`], 'the rope base', 10000),
    ropeScaling: ropeFromGguf(v, headDim),
    qkvBias: has('blk.0.attn_q.bias'),
    attnOutBias: has('blk.0.attn_output.bias'),
    mlpBias: has('blk.0.ffn_down.bias'),
    normBias: shape.norm === 'layernorm',
    tiedEmbeddings: !has('output.weight'),
    slidingWindow: window > 0 ? window : null,
    bosTokenId: idList(v.get('tokenizer.ggml.bos_token_id'))[0] ?? null,
    eosTokenIds: idList(v.get('tokenizer.ggml.eos_token_id')),
    encoding: null,
  });
}

function checked(v: ConfigValues, c: ModelConfig): ModelConfig {
  if (c.nHead % c.nKvHead !== 0) throw new ModelConfigError(`${v.source}: the head count (${c.nHead}) must be a multiple of the key/value head count (${c.nKvHead}). ${v.fix}`);
  if (c.headDim % 2 !== 0) throw new ModelConfigError(`${v.source}: the head width (${c.headDim}) must be even for rotary embeddings. ${v.fix}`);
  if (c.slidingWindow !== null && (!Number.isInteger(c.slidingWindow) || c.slidingWindow < 1)) throw new ModelConfigError(`${v.source}: the sliding window must be a whole number of positions (got ${c.slidingWindow}). ${v.fix}`);
  return c;
}

/** One tensor of a block, named in both files. */
interface BlockTensor {
  hf: string;
  gguf: string;
  shape: number[];
  param: string;
  rowOffset: number;
  /** Heads whose Q/K rows llama.cpp interleaved (when the family's GGUF permutes). */
  heads: number;
}

function blockTensors(c: ModelConfig, mlpNames: 'gated' | 'plain'): { tensors: BlockTensor[]; perLayer: number } {
  const C = c.hidden;
  const q = c.nHead * c.headDim;
  const kv = c.nKvHead * c.headDim;
  const t: BlockTensor[] = [];
  const add = (hf: string, gguf: string, shape: number[], param: string, rowOffset = 0, heads = 0): void => {
    t.push({ hf, gguf, shape, param, rowOffset, heads });
  };
  add('input_layernorm.weight', 'attn_norm.weight', [C], 'ln1.w');
  if (c.normBias) add('input_layernorm.bias', 'attn_norm.bias', [C], 'ln1.b');
  add('self_attn.q_proj.weight', 'attn_q.weight', [q, C], 'qkv.w', 0, c.nHead);
  add('self_attn.k_proj.weight', 'attn_k.weight', [kv, C], 'qkv.w', q, c.nKvHead);
  add('self_attn.v_proj.weight', 'attn_v.weight', [kv, C], 'qkv.w', q + kv);
  if (c.qkvBias) {
    add('self_attn.q_proj.bias', 'attn_q.bias', [q], 'qkv.b', 0, c.nHead);
    add('self_attn.k_proj.bias', 'attn_k.bias', [kv], 'qkv.b', q, c.nKvHead);
    add('self_attn.v_proj.bias', 'attn_v.bias', [kv], 'qkv.b', q + kv);
  }
  add('self_attn.o_proj.weight', 'attn_output.weight', [C, q], 'attn_out.w');
  if (c.attnOutBias) add('self_attn.o_proj.bias', 'attn_output.bias', [C], 'attn_out.b');
  add('post_attention_layernorm.weight', 'ffn_norm.weight', [C], 'ln2.w');
  if (c.normBias) add('post_attention_layernorm.bias', 'ffn_norm.bias', [C], 'ln2.b');
  if (mlpNames === 'gated') {
    add('mlp.gate_proj.weight', 'ffn_gate.weight', [c.ffn, C], 'fc.w', 0);
    add('mlp.up_proj.weight', 'ffn_up.weight', [c.ffn, C], 'fc.w', c.ffn);
    add('mlp.down_proj.weight', 'ffn_down.weight', [C, c.ffn], 'proj.w');
    if (c.mlpBias) {
      add('mlp.gate_proj.bias', 'ffn_gate.bias', [c.ffn], 'fc.b', 0);
      add('mlp.up_proj.bias', 'ffn_up.bias', [c.ffn], 'fc.b', c.ffn);
      add('mlp.down_proj.bias', 'ffn_down.bias', [C], 'proj.b');
    }
  } else {
    add('mlp.c_fc.weight', 'ffn_up.weight', [c.ffn, C], 'fc.w');
    if (c.mlpBias) add('mlp.c_fc.bias', 'ffn_up.bias', [c.ffn], 'fc.b');
    add('mlp.c_proj.weight', 'ffn_down.weight', [C, c.ffn], 'proj.w');
    if (c.mlpBias) add('mlp.c_proj.bias', 'ffn_down.bias', [C], 'proj.b');
  }
  return { tensors: t, perLayer: t.length };
}

/** The PEFT module name of a Hugging Face tensor name: the part before .weight / .bias. */
function moduleOf(hfName: string): string {
  const parts = hfName.split('.');
  return parts[parts.length - 2] ?? '';
}

export function decoderTensors(c: ModelConfig, shape: DecoderShape, naming: 'hf' | 'gguf'): TensorMapping[] {
  const C = c.hidden;
  const hf = naming === 'hf';
  const m: TensorMapping[] = [];
  const add = (name: string, shp: number[], param: string, module: string, rowOffset = 0, unpermuteHeads = 0): void => {
    m.push({ name, shape: shp, param, rowOffset, transpose: false, unpermuteHeads, module });
  };
  add(hf ? 'model.embed_tokens.weight' : 'token_embd.weight', [c.vocabSize, C], 'wte', 'embed_tokens');
  const { tensors } = blockTensors(c, shape.mlp === 'swiglu' ? 'gated' : 'plain');
  for (let l = 0; l < c.nLayer; l++) {
    for (const t of tensors) {
      const name = hf ? `model.layers.${l}.${t.hf}` : `blk.${l}.${t.gguf}`;
      add(name, t.shape, `h.${l}.${t.param}`, moduleOf(t.hf), t.rowOffset, !hf && shape.ggufPermutesQK ? t.heads : 0);
    }
  }
  add(hf ? 'model.norm.weight' : 'output_norm.weight', [C], 'lnf.w', 'norm');
  if (c.normBias) add(hf ? 'model.norm.bias' : 'output_norm.bias', [C], 'lnf.b', 'norm');
  if (!c.tiedEmbeddings) add(hf ? 'lm_head.weight' : 'output.weight', [c.vocabSize, C], 'lm_head', 'lm_head');
  return m;
}

/**
 * GGUF metadata of a Llama-like config under its architecture's keys (llama.cpp's names).
 * llama3 scaling is not a key: it travels as the rope_freqs.weight tensor (see ropeFreqFactors).
 */
export function decoderGgufMetadata(c: ModelConfig, arch: string): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const m: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: arch }],
    [`${arch}.context_length`, u32(c.maxPositions)],
    [`${arch}.embedding_length`, u32(c.hidden)],
    [`${arch}.feed_forward_length`, u32(c.ffn)],
    [`${arch}.block_count`, u32(c.nLayer)],
    [`${arch}.attention.head_count`, u32(c.nHead)],
    [`${arch}.attention.head_count_kv`, u32(c.nKvHead)],
    [`${arch}.attention.key_length`, u32(c.headDim)],
    [`${arch}.attention.value_length`, u32(c.headDim)],
    [`${arch}.rope.dimension_count`, u32(c.headDim)],
    [`${arch}.rope.freq_base`, f32(c.ropeTheta)],
    [c.norm === 'rmsnorm' ? `${arch}.attention.layer_norm_rms_epsilon` : `${arch}.attention.layer_norm_epsilon`, f32(c.normEps)],
  ];
  if (c.ropeScaling?.kind === 'linear') m.push([`${arch}.rope.scaling.type`, { type: 'string', value: 'linear' }], [`${arch}.rope.scaling.factor`, f32(c.ropeScaling.factor)]);
  if (c.slidingWindow !== null) m.push([`${arch}.attention.sliding_window`, u32(c.slidingWindow)]);
  return m;
}
