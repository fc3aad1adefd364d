// Hugging Face tensor names <-> the engine's parameter layout, both ways.
// One HF tensor maps to a block of rows of one internal parameter (fused q|k|v and gate|up
// are several HF tensors side by side), possibly transposed (GPT-2's Conv1D stores (in, out)).
import { type ModelConfig } from '../model/config';

export interface HFTensorMapping {
  /** Name in the checkpoint, e.g. transformer.h.0.attn.c_attn.weight. */
  hfName: string;
  /** Shape as stored in the checkpoint. */
  hfShape: number[];
  /** Internal parameter name (model/layout.ts). */
  param: string;
  /** First row of the internal (out, in) parameter that this tensor fills. */
  rowOffset: number;
  /** The checkpoint stores (in, out): transpose into (out, in). */
  transpose: boolean;
  /** PEFT module name this tensor belongs to (for LoRA targets), e.g. c_attn, q_proj. */
  module: string;
}

function gpt2Mappings(c: ModelConfig, prefix: string): HFTensorMapping[] {
  const C = c.hidden;
  const m: HFTensorMapping[] = [];
  const add = (hf: string, hfShape: number[], param: string, transpose = false): void => {
    const parts = hf.split('.');
    m.push({ hfName: prefix + hf, hfShape, param, rowOffset: 0, transpose, module: parts[parts.length - 2] ?? '' });
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
  if (!c.tiedEmbeddings) m.push({ hfName: 'lm_head.weight', hfShape: [c.vocabSize, C], param: 'lm_head', rowOffset: 0, transpose: false, module: 'lm_head' });
  return m;
}

function llamaMappings(c: ModelConfig): HFTensorMapping[] {
  const C = c.hidden;
  const q = c.nHead * c.headDim;
  const kv = c.nKvHead * c.headDim;
  const m: HFTensorMapping[] = [];
  const add = (hf: string, hfShape: number[], param: string, rowOffset = 0): void => {
    const parts = hf.split('.');
    const module = parts[parts.length - 2] ?? '';
    m.push({ hfName: hf, hfShape, param, rowOffset, transpose: false, module });
  };
  add('model.embed_tokens.weight', [c.vocabSize, C], 'wte');
  for (let l = 0; l < c.nLayer; l++) {
    const h = `model.layers.${l}.`;
    const p = `h.${l}.`;
    add(h + 'input_layernorm.weight', [C], p + 'ln1.w');
    add(h + 'self_attn.q_proj.weight', [q, C], p + 'qkv.w', 0);
    add(h + 'self_attn.k_proj.weight', [kv, C], p + 'qkv.w', q);
    add(h + 'self_attn.v_proj.weight', [kv, C], p + 'qkv.w', q + kv);
    if (c.qkvBias) {
      add(h + 'self_attn.q_proj.bias', [q], p + 'qkv.b', 0);
      add(h + 'self_attn.k_proj.bias', [kv], p + 'qkv.b', q);
      add(h + 'self_attn.v_proj.bias', [kv], p + 'qkv.b', q + kv);
    }
    add(h + 'self_attn.o_proj.weight', [C, q], p + 'attn_out.w');
    if (c.attnOutBias) add(h + 'self_attn.o_proj.bias', [C], p + 'attn_out.b');
    add(h + 'post_attention_layernorm.weight', [C], p + 'ln2.w');
    add(h + 'mlp.gate_proj.weight', [c.ffn, C], p + 'fc.w', 0);
    add(h + 'mlp.up_proj.weight', [c.ffn, C], p + 'fc.w', c.ffn);
    add(h + 'mlp.down_proj.weight', [C, c.ffn], p + 'proj.w');
    if (c.mlpBias) {
      add(h + 'mlp.gate_proj.bias', [c.ffn], p + 'fc.b', 0);
      add(h + 'mlp.up_proj.bias', [c.ffn], p + 'fc.b', c.ffn);
      add(h + 'mlp.down_proj.bias', [C], p + 'proj.b');
    }
  }
  add('model.norm.weight', [C], 'lnf.w');
  if (!c.tiedEmbeddings) add('lm_head.weight', [c.vocabSize, C], 'lm_head');
  return m;
}

/**
 * Every tensor a checkpoint of this config holds, in HF naming. `gpt2Prefix` is "transformer."
 * for GPT2LMHeadModel checkpoints (the default, also what we write) and "" for bare GPT2Model ones.
 */
export function hfMappings(c: ModelConfig, gpt2Prefix = 'transformer.'): HFTensorMapping[] {
  return c.family === 'gpt2' ? gpt2Mappings(c, gpt2Prefix) : llamaMappings(c);
}

/**
 * Copies one HF tensor (data in checkpoint layout) into the internal parameter `dst`
 * ((rows, in) row-major), at the mapping's row offset, transposing when the checkpoint
 * stores (in, out).
 */
export function copyHFIntoParam(map: HFTensorMapping, src: Float32Array, dst: Float32Array): void {
  if (!map.transpose) {
    const inner = map.hfShape.length === 2 ? map.hfShape[1]! : 1;
    dst.set(src, map.rowOffset * inner);
    return;
  }
  const [rows, cols] = map.hfShape as [number, number]; // stored (in, out) = (rows, cols)
  const base = map.rowOffset * rows;
  for (let i = 0; i < rows; i++) {
    for (let o = 0; o < cols; o++) dst[base + o * rows + i] = src[i * cols + o]!;
  }
}

/** The inverse of copyHFIntoParam: reads the HF tensor (checkpoint layout) out of an internal parameter. */
export function copyParamIntoHF(map: HFTensorMapping, param: Float32Array, out: Float32Array): void {
  const size = map.hfShape.reduce((a, b) => a * b, 1);
  if (!map.transpose) {
    const inner = map.hfShape.length === 2 ? map.hfShape[1]! : 1;
    out.set(param.subarray(map.rowOffset * inner, map.rowOffset * inner + size));
    return;
  }
  const [rows, cols] = map.hfShape as [number, number];
  const base = map.rowOffset * rows;
  for (let i = 0; i < rows; i++) {
    for (let o = 0; o < cols; o++) out[i * cols + o] = param[base + o * rows + i]!;
  }
}
