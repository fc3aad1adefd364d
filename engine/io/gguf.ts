// GGUF v3 writer (the llama.cpp / Ollama file format, documented in ggml's docs/gguf.md) for
// GPT-2-family models: metadata under the "gpt2" architecture keys, the byte-level BPE
// vocabulary with its merges, and tensors in F32, F16 or Q8_0 (blocks of 32 int8 values
// after one f16 scale, 34 bytes). Tensor dims are written innermost first (ggml's ne), so an
// (out, in) row-major weight is ne = [in, out] with its bytes unchanged.
import { existsSync } from 'node:fs';
import { writeAll, writeAtomic } from './atomicFile';
import type { Model } from '../model/model';
import { f32ToF16, f32BitsToF16Bits } from '../formats/half';
import { quantizeQ8Forward, Q8_BLOCK } from '../kernels/quantize';
import { getTokenizer, type Tokenizer } from '../tokenizer/tokenizer';

export type GgufWeightType = 'F32' | 'F16' | 'Q8_0';

const GGML_TYPE: Record<GgufWeightType, number> = { F32: 0, F16: 1, Q8_0: 8 };
const ALIGN = 32;

const enum V {
  U32 = 4,
  I32 = 5,
  F32 = 6,
  STRING = 8,
  ARRAY = 9,
}

type MetaValue =
  | { t: V.U32; v: number }
  | { t: V.I32; v: number }
  | { t: V.F32; v: number }
  | { t: V.STRING; v: string } | { t: V.ARRAY; of: V.STRING; v: string[] } | { t: V.ARRAY; of: V.I32; v: number[] };

interface TensorOut {
  name: string;
  ne: number[]; // innermost first
  type: GgufWeightType;
  data: Float32Array;
}

/** Growable little-endian byte buffer for the header. */
class Bytes {
  private buf = Buffer.alloc(1 << 20);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function tensorBytes(t: TensorOut): number {
  const n = t.data.length;
  return t.type === 'F32' ? n * 4 : t.type === 'F16' ? n * 2 : (n / Q8_BLOCK) * 34;
}

function encodeTensor(t: TensorOut): Buffer {
  const n = t.data.length;
  if (t.type === 'F32') return Buffer.from(t.data.buffer, t.data.byteOffset, n * 4);
  if (t.type === 'F16') {
    const h = new Uint16Array(n);
    f32ToF16(h, t.data);
    return Buffer.from(h.buffer);
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
  const mat = (name: string, data: Float32Array, rows: number, cols: number): TensorOut => ({
    name,
    ne: [cols, rows],
    type: opts.weightType === 'Q8_0' && cols % Q8_BLOCK !== 0 ? 'F16' : opts.weightType,
    data,
  });
  const vec = (name: string, data: Float32Array): TensorOut => ({ name, ne: [data.length], type: 'F32', data });
  const C = c.hidden;
  const tensors: TensorOut[] = [mat('token_embd.weight', v.wte, c.vocabSize, C), { name: 'position_embd.weight', ne: [C, c.maxPositions], type: 'F32', data: v.wpe! }];
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
  const meta: Array<[string, MetaValue]> = [
    ['general.architecture', { t: V.STRING, v: 'gpt2' }],
    ['general.name', { t: V.STRING, v: opts.name ?? 'limelight' }],
    ['general.alignment', { t: V.U32, v: ALIGN }],
    ['general.file_type', { t: V.U32, v: { F32: 0, F16: 1, Q8_0: 7 }[opts.weightType] }],
    ['gpt2.context_length', { t: V.U32, v: c.maxPositions }],
    ['gpt2.embedding_length', { t: V.U32, v: C }],
    ['gpt2.feed_forward_length', { t: V.U32, v: c.ffn }],
    ['gpt2.block_count', { t: V.U32, v: c.nLayer }],
    ['gpt2.attention.head_count', { t: V.U32, v: c.nHead }],
    ['gpt2.attention.layer_norm_epsilon', { t: V.F32, v: c.normEps }],
    ['tokenizer.ggml.model', { t: V.STRING, v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: V.STRING, v: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { t: V.ARRAY, of: V.STRING, v: voc.tokens }],
    ['tokenizer.ggml.token_type', { t: V.ARRAY, of: V.I32, v: voc.types }],
    ['tokenizer.ggml.merges', { t: V.ARRAY, of: V.STRING, v: voc.merges }],
    ['tokenizer.ggml.bos_token_id', { t: V.U32, v: c.bosTokenId ?? eos }],
    ['tokenizer.ggml.eos_token_id', { t: V.U32, v: eos }],
  ];

  const h = new Bytes();
  h.u32(0x46554747); // "GGUF"
  h.u32(3);
  h.u64(tensors.length);
  h.u64(meta.length);
  for (const [key, m] of meta) {
    h.str(key);
    h.u32(m.t);
    if (m.t === V.STRING) h.str(m.v);
    else if (m.t === V.U32) h.u32(m.v);
    else if (m.t === V.I32) h.i32(m.v);
    else if (m.t === V.F32) h.f32(m.v);
    else {
      h.u32(m.of);
      h.u64(m.v.length);
      for (const x of m.v) {
        if (typeof x === 'string') h.str(x);
        else h.i32(x);
      }
    }
  }
  let offset = 0;
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.ne.length);
    for (const d of t.ne) h.u64(d);
    h.u32(GGML_TYPE[t.type]);
    h.u64(offset);
    offset += Math.ceil(tensorBytes(t) / ALIGN) * ALIGN;
  }
  h.pad(ALIGN);

  writeAtomic(path, (fd) => {
    writeAll(fd, h.bytes());
    const zeros = Buffer.alloc(ALIGN);
    for (const t of tensors) {
      const data = encodeTensor(t);
      writeAll(fd, data);
      const pad = (ALIGN - (data.length % ALIGN)) % ALIGN;
      if (pad) writeAll(fd, zeros.subarray(0, pad));
    }
  });
}
