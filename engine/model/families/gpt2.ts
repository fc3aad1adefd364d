// GPT-2 (and Limelight's starter model): learned positions, LayerNorm with bias, GELU MLP,
// fused c_attn. Hugging Face stores its Conv1D weights (in, out), so they are transposed at
// load; GGUF stores every matrix (out, in).
import { type ModelConfig, ModelConfigError } from '../config';
import { LIMIT, idList, num, positiveInt, shown, str, type ConfigValues } from './configRead';
import type { GgufValue } from '../../io/ggufTypes';
import type { GgufConfigValues, ModelFamily, TensorMapping } from './types';

function config(v: ConfigValues, modelType: string, keys: { hidden: string[]; heads: string[]; layers: string[]; positions: string[]; ffn: string[]; eps: string[]; vocab: string[] }, vocabFallback?: number): Omit<ModelConfig, 'tiedEmbeddings' | 'bosTokenId' | 'eosTokenIds' | 'encoding'> {
  const hidden = positiveInt(v, num(v, keys.hidden, 'the hidden width'), keys.hidden[0]!, LIMIT.width);
  const nHead = positiveInt(v, num(v, keys.heads, 'the head count'), keys.heads[0]!, LIMIT.heads);
  if (hidden % nHead !== 0) throw new ModelConfigError(`${v.source}: the hidden width (${hidden}) must be divisible by the head count (${nHead}). ${v.fix}`);
  return {
    family: 'gpt2',
    modelType,
    vocabSize: positiveInt(v, num(v, keys.vocab, 'the vocabulary size', vocabFallback), keys.vocab[0]!, LIMIT.vocab),
    maxPositions: positiveInt(v, num(v, keys.positions, 'the context length'), keys.positions[0]!, LIMIT.positions),
    nLayer: positiveInt(v, num(v, keys.layers, 'the layer count'), keys.layers[0]!, LIMIT.layers),
    nHead,
    nKvHead: nHead,
    headDim: hidden / nHead,
    hidden,
    ffn: positiveInt(v, num(v, keys.ffn, 'the MLP width', 4 * hidden), keys.ffn[0]!, LIMIT.width * 8),
    norm: 'layernorm',
    normEps: num(v, keys.eps, 'the LayerNorm epsilon', 1e-5),
    mlp: 'gelu_tanh',
    positions: 'learned',
    ropeTheta: 0,
    ropeScaling: null,
    qkvBias: true,
    attnOutBias: true,
    mlpBias: true,
    normBias: true,
    slidingWindow: null,
  };
}

function configFromHF(v: ConfigValues, modelType: string): ModelConfig {
  const act = str(v, 'activation_function') ?? 'gelu_new';
  if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(act)) {
    throw new ModelConfigError(`config.json: activation_function ${shown(act)} is not supported; Limelight runs the tanh form of GELU (gelu_new). Use a GPT-2 checkpoint trained with gelu_new.`);
  }
  return {
    ...config(v, modelType, {
      hidden: ['n_embd', 'hidden_size'],
      heads: ['n_head', 'num_attention_heads'],
      layers: ['n_layer', 'num_hidden_layers'],
      positions: ['n_positions', 'n_ctx', 'max_position_embeddings'],
      ffn: ['n_inner'],
      eps: ['layer_norm_epsilon'],
      vocab: ['vocab_size'],
    }),
    tiedEmbeddings: v.get('tie_word_embeddings') !== false,
    bosTokenId: idList(v.get('bos_token_id'))[0] ?? null,
    eosTokenIds: idList(v.get('eos_token_id')),
    encoding: str(v, 'limelight_encoding') ?? 'r50k_base',
  };
}

function configFromGguf(v: GgufConfigValues): ModelConfig {
  const a = v.arch;
  const embd = v.tensorShape('token_embd.weight');
  return {
    ...config(v, a, {
      hidden: [`${a}.embedding_length`],
      heads: [`${a}.attention.head_count`],
      layers: [`${a}.block_count`],
      positions: [`${a}.context_length`],
      ffn: [`${a}.feed_forward_length`],
      eps: [`${a}.attention.layer_norm_epsilon`],
      vocab: [`${a}.vocab_size`],
    }, embd?.[0]),
    tiedEmbeddings: v.tensorShape('output.weight') === undefined,
    bosTokenId: idList(v.get('tokenizer.ggml.bos_token_id'))[0] ?? null,
    eosTokenIds: idList(v.get('tokenizer.ggml.eos_token_id')),
    encoding: str(v, 'limelight.encoding') ?? null,
  };
}

/** GPT2LMHeadModel checkpoints name tensors "transformer.h.0..."; a bare GPT2Model "h.0...". */
function hfTensors(c: ModelConfig, has?: (name: string) => boolean): TensorMapping[] {
  const prefix = has !== undefined && !has('transformer.wte.weight') && has('wte.weight') ? '' : 'transformer.';
  const C = c.hidden;
  const m: TensorMapping[] = [];
  const add = (hf: string, shape: number[], param: string, transpose = false): void => {
    const parts = hf.split('.');
    m.push({ name: prefix + hf, shape, param, rowOffset: 0, transpose, unpermuteHeads: 0, module: parts[parts.length - 2] ?? '' });
  };
  add('wte.weight', [c.vocabSize, C], 'wte');
  add('wpe.weight', [c.maxPositions, C], 'wpe');
  for (let l = 0; l < c.nLayer; l++) {
    const h = `h.${l}.`;
    add(h + 'ln_1.weight', [C], h + 'ln1.w');
    add(h + 'ln_1.bias', [C], h + 'ln1.b');
    add(h + 'attn.c_attn.weight', [C, 3 * C], h + 'qkv.w', true);
    add(h + 'attn.c_attn.bias', [3 * C], h + 'qkv.b');
    add(h + 'attn.c_proj.weight', [C, C], h + 'attn_out.w', true);
    add(h + 'attn.c_proj.bias', [C], h + 'attn_out.b');
    add(h + 'ln_2.weight', [C], h + 'ln2.w');
    add(h + 'ln_2.bias', [C], h + 'ln2.b');
    add(h + 'mlp.c_fc.weight', [C, c.ffn], h + 'fc.w', true);
    add(h + 'mlp.c_fc.bias', [c.ffn], h + 'fc.b');
    add(h + 'mlp.c_proj.weight', [c.ffn, C], h + 'proj.w', true);
    add(h + 'mlp.c_proj.bias', [C], h + 'proj.b');
  }
  add('ln_f.weight', [C], 'lnf.w');
  add('ln_f.bias', [C], 'lnf.b');
  if (!c.tiedEmbeddings) m.push({ name: 'lm_head.weight', shape: [c.vocabSize, C], param: 'lm_head', rowOffset: 0, transpose: false, unpermuteHeads: 0, module: 'lm_head' });
  return m;
}

function ggufTensors(c: ModelConfig): TensorMapping[] {
  const C = c.hidden;
  const m: TensorMapping[] = [];
  const add = (name: string, shape: number[], param: string, module = ''): void => {
    m.push({ name, shape, param, rowOffset: 0, transpose: false, unpermuteHeads: 0, module });
  };
  add('token_embd.weight', [c.vocabSize, C], 'wte');
  add('position_embd.weight', [c.maxPositions, C], 'wpe');
  for (let l = 0; l < c.nLayer; l++) {
    const b = `blk.${l}.`;
    const h = `h.${l}.`;
    add(b + 'attn_norm.weight', [C], h + 'ln1.w');
    add(b + 'attn_norm.bias', [C], h + 'ln1.b');
    add(b + 'attn_qkv.weight', [3 * C, C], h + 'qkv.w', 'c_attn');
    add(b + 'attn_qkv.bias', [3 * C], h + 'qkv.b', 'c_attn');
    add(b + 'attn_output.weight', [C, C], h + 'attn_out.w', 'c_proj');
    add(b + 'attn_output.bias', [C], h + 'attn_out.b', 'c_proj');
    add(b + 'ffn_norm.weight', [C], h + 'ln2.w');
    add(b + 'ffn_norm.bias', [C], h + 'ln2.b');
    add(b + 'ffn_up.weight', [c.ffn, C], h + 'fc.w', 'c_fc');
    add(b + 'ffn_up.bias', [c.ffn], h + 'fc.b', 'c_fc');
    add(b + 'ffn_down.weight', [C, c.ffn], h + 'proj.w', 'c_proj');
    add(b + 'ffn_down.bias', [C], h + 'proj.b', 'c_proj');
  }
  add('output_norm.weight', [C], 'lnf.w');
  add('output_norm.bias', [C], 'lnf.b');
  if (!c.tiedEmbeddings) add('output.weight', [c.vocabSize, C], 'lm_head', 'lm_head');
  return m;
}

function ggufMetadata(c: ModelConfig): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  return [
    ['general.architecture', { type: 'string', value: 'gpt2' }],
    ['gpt2.context_length', u32(c.maxPositions)],
    ['gpt2.embedding_length', u32(c.hidden)],
    ['gpt2.feed_forward_length', u32(c.ffn)],
    ['gpt2.block_count', u32(c.nLayer)],
    ['gpt2.attention.head_count', u32(c.nHead)],
    ['gpt2.attention.layer_norm_epsilon', { type: 'f32', value: c.normEps }],
    // Limelight's own models name the encoding whose prompt layout they were trained on.
    ...(c.encoding !== null ? ([['limelight.encoding', { type: 'string', value: c.encoding }]] as Array<[string, GgufValue]>) : []),
  ];
}

export const gpt2: ModelFamily = {
  name: 'gpt2',
  hfModelTypes: ['gpt2'],
  ggufArchitectures: ['gpt2'],
  configFromHF,
  configFromGguf,
  hfTensors,
  ggufTensors,
  ggufMetadata,
  loraTargets: ['c_attn'],
  exports: { onnx: true, gguf: true },
};
