// GGUF export of GPT-2-family models (the llama.cpp / Ollama file format, documented in ggml's
// docs/gguf.md): metadata under the "gpt2" architecture keys, the byte-level BPE vocabulary with
// its merges, and tensors in F32, F16 or Q8_0 (blocks of 32 int8 values after one f16 scale,
// 34 bytes). Tensor dims are written innermost first (ggml's ne), so an (out, in) row-major
// weight is ne = [in, out] with its bytes unchanged. The file itself is written by writeGguf.
import { existsSync } from 'node:fs';
import type { Model } from '../model/model';
import { f32ToF16, f32BitsToF16Bits } from '../formats/half';
import { quantizeQ8Forward, Q8_BLOCK } from '../kernels/quantize';
import { getTokenizer, type Tokenizer } from '../tokenizer/tokenizer';
import { writeGguf, type GgufTensorOut } from './ggufWrite';
import type { GgufValue } from './ggufTypes';

export type GgufWeightType = 'F32' | 'F16' | 'Q8_0';

interface TensorIn {
  name: string;
  ne: number[]; // innermost first
  type: GgufWeightType;
  data: Float32Array;
}

/** The tensor's bytes in its format. */
function encodeTensor(t: TensorIn): Uint8Array {
  const n = t.data.length;
  if (t.type === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, n * 4);
  if (t.type === 'F16') {
    const h = new Uint16Array(n);
    f32ToF16(h, t.data);
    return new Uint8Array(h.buffer);
  }
  const q = new Int8Array(n);
  const s = new Float32Array(n / Q8_BLOCK);
  quantizeQ8Forward(q, s, t.data, n / Q8_BLOCK, Q8_BLOCK);
  const out = Buffer.alloc((n / Q8_BLOCK) * 34);
  const bits = new Uint32Array(s.buffer);
  for (let b = 0; b < s.length; b++) {
    out.writeUInt16LE(f32BitsToF16Bits(bits[b]!), b * 34);
    Buffer.from(q.buffer, b * Q8_BLOCK, Q8_BLOCK).copy(out, b * 34 + 2);
  }
  return out;
}

/** GPT-2's byte -> printable character map (bytes_to_unicode), used for token and merge strings. */
function byteChars(): string[] {
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return map;
}

/**
 * The vocabulary as GGUF strings with types, and the BPE merges: a token's merge is the last
 * step of running BPE on its own bytes with the merges ranked before it.
 */
function vocabulary(tok: Tokenizer, V: number): { tokens: string[]; types: number[]; merges: string[] } {
  const chars = byteChars();
  const show = (b: Uint8Array): string => Array.from(b, (x) => chars[x]).join('');
  const tokens: string[] = [];
  const types: number[] = [];
  const rank = new Map<string, number>();
  for (let id = 0; id < V; id++) {
    if (id >= tok.vocabSize) {
      tokens.push(`[PAD${id}]`);
      types.push(3); // control
    } else if (tok.isSpecial(id)) {
      tokens.push(new TextDecoder().decode(tok.tokenBytes(id)));
      types.push(3);
    } else {
      const s = show(tok.tokenBytes(id));
      tokens.push(s);
      types.push(1); // normal
      rank.set(s, id);
    }
  }
  const merges: string[] = [];
  for (let id = 0; id < Math.min(V, tok.vocabSize); id++) {
    if (types[id] !== 1 || tokens[id]!.length < 2) continue;
    const parts = Array.from(tokens[id]!);
    while (parts.length > 2) {
      let best = -1;
      let bestRank = id;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rank.get(parts[i]! + parts[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best]! + parts[best + 1]!);
    }
    if (parts.length === 2) merges.push(`${parts[0]} ${parts[1]}`);
  }
  return { tokens, types, merges };
}

export interface GgufExportOptions {
  /** Matrices' type (norms, biases and position embeddings stay F32). */
  weightType: GgufWeightType;
  name?: string;
}

/** Writes a GPT-2-family model as GGUF at `path` (temp file + rename; never over an existing file). */
export function writeGgufModel(path: string, model: Model, opts: GgufExportOptions): void {
  const c = model.config;
  if (c.family !== 'gpt2') throw new Error(`GGUF export supports GPT-2 models so far; this one is ${c.modelType}.`);
  if (existsSync(path)) throw new Error(`${path} already exists; choose another output path (Limelight never overwrites a file).`);
  const tok = getTokenizer(c.encoding ?? 'r50k_base');
  const v = model.views;
  const mat = (name: string, data: Float32Array, rows: number, cols: number): TensorIn => ({
    name,
    ne: [cols, rows],
    type: opts.weightType === 'Q8_0' && cols % Q8_BLOCK !== 0 ? 'F16' : opts.weightType,
    data,
  });
  const vec = (name: string, data: Float32Array): TensorIn => ({ name, ne: [data.length], type: 'F32', data });
  const C = c.hidden;
  const tensors: TensorIn[] = [mat('token_embd.weight', v.wte, c.vocabSize, C), { name: 'position_embd.weight', ne: [C, c.maxPositions], type: 'F32', data: v.wpe! }];
  v.layers.forEach((p, l) => {
    const b = `blk.${l}.`;
    tensors.push(
      vec(b + 'attn_norm.weight', p.ln1w), vec(b + 'attn_norm.bias', p.ln1b!),
      mat(b + 'attn_qkv.weight', p.qkvw, 3 * C, C), vec(b + 'attn_qkv.bias', p.qkvb!),
      mat(b + 'attn_output.weight', p.attnOutW, C, C), vec(b + 'attn_output.bias', p.attnOutB!),
      vec(b + 'ffn_norm.weight', p.ln2w), vec(b + 'ffn_norm.bias', p.ln2b!),
      mat(b + 'ffn_up.weight', p.fcw, c.ffn, C), vec(b + 'ffn_up.bias', p.fcb!),
      mat(b + 'ffn_down.weight', p.projw, C, c.ffn), vec(b + 'ffn_down.bias', p.projb!),
    );
  });
  tensors.push(vec('output_norm.weight', v.lnfw), vec('output_norm.bias', v.lnfb!));
  if (v.lmHead !== v.wte) tensors.push(mat('output.weight', v.lmHead, c.vocabSize, C));

  const voc = vocabulary(tok, c.vocabSize);
  const eos = c.eosTokenIds[0] ?? tok.special.eot;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const str = (value: string): GgufValue => ({ type: 'string', value });
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', str('gpt2')],
    ['general.name', str(opts.name ?? 'limelight')],
    ['general.alignment', u32(32)],
    ['general.file_type', u32({ F32: 0, F16: 1, Q8_0: 7 }[opts.weightType])],
    ['gpt2.context_length', u32(c.maxPositions)],
    ['gpt2.embedding_length', u32(C)],
    ['gpt2.feed_forward_length', u32(c.ffn)],
    ['gpt2.block_count', u32(c.nLayer)],
    ['gpt2.attention.head_count', u32(c.nHead)],
    ['gpt2.attention.layer_norm_epsilon', { type: 'f32', value: c.normEps }],
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str('gpt-2')],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: voc.tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: voc.types }],
    ['tokenizer.ggml.merges', { type: 'array', of: 'string', value: voc.merges }],
    ['tokenizer.ggml.bos_token_id', u32(c.bosTokenId ?? eos)],
    ['tokenizer.ggml.eos_token_id', u32(eos)],
  ];
  // Each tensor is encoded when the writer reaches it, so only one encoded copy is held at a time.
  const out: GgufTensorOut[] = tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type, data: () => encodeTensor(t) }));
  writeGguf(path, { metadata, tensors: out, alignment: 32 });
}
