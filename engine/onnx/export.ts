// Exports a Model (weights as they are in memory, so fine-tuned or LoRA-merged models export
// too) to an ONNX decoder graph for onnxruntime, GPT-2 and Llama families alike:
//
//   inputs   input_ids (1, T) int64, attention_mask (1, P + T) int64 (all ones: its length is the
//            total sequence length), logits_to_keep () int64 (0 = every position, k = the last k),
//            past_key_values.N.key/value (1, KVH, S, HD) float32
//   outputs  logits (1, K, V), present.N.key/value (1, KVH, max(S, P + T), HD),
//            new.N.key/value (1, KVH, T, HD): present[:, :, P:P + T], the rows written this step
//
// Attention is onnxruntime's com.microsoft GroupQueryAttention on the fused q|k|v projection,
// with rotary embeddings inside it for Llama. GQA reads the first P entries of the past and
// writes the new keys at [P, P + T), where P comes from attention_mask, so a past buffer longer
// than P (a cache truncated for prefix reuse, or a buffer with room to grow) is used as is. The
// new.* outputs let a caller that keeps its own cache fetch T rows instead of the whole present. Residual adds are fused into Skip(Simplified)LayerNormalization.
//
// Weights are read from the model's stored parts one tensor at a time, when the external data is
// written (no whole-model float32 copy): a quantized file's matrices become MatMulNBits on the
// same integers and scales (onnx/nbits.ts), a quantized embedding GatherBlockQuantized on the
// same blocks, which a tied head multiplies by; float matrices are float32, or 8-bit blocks of
// 32 under the 'q8_0' option. A fused matrix whose parts differ in format (q|k|v of a Q4_K_M
// file) is one product per run of parts in one format, concatenated.
import { type ModelConfig, qkvWidth, fcWidth } from '../model/config';
import { FAMILIES } from '../model/families';
import type { Model, WeightPart } from '../model/model';
import { dequantize } from '../formats/formats';
import { ropeTables } from '../kernels/rope';
import { GraphBuilder, type EncodedModel, type LazyBytes, type StreamedModel } from './graph';
import { nbitsBytes, nbitsLayout, OFFSET_BLOCK, toNBits, type NBitsLayout, type NBitsWeights } from './nbits';
import { DataType } from './schema';

/** Bumped whenever the exported graph changes, so cached exports are rebuilt. */
export const EXPORTER_VERSION = 4;

/** How float linear weights are stored: float32, or 8-bit blocks of 32 with a float scale (MatMulNBits). A quantized file's blocks are kept as they are under both. */
export type OnnxWeightFormat = 'f32' | 'q8_0';

export const Q8_BLOCK = 32;

export interface ExportOptions {
  weightFormat?: OnnxWeightFormat;
  /** Name of the external data blob the graph refers to (a file beside the .onnx). */
  dataFile?: string;
  /** MatMulNBits' accuracy_level (default 4, int8 activations). */
  accuracyLevel?: AccuracyLevel;
}

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/** Names of the KV inputs/outputs of layer l. */
export function kvNames(l: number): { pastKey: string; pastValue: string; presentKey: string; presentValue: string; newKey: string; newValue: string } {
  return {
    pastKey: `past_key_values.${l}.key`,
    pastValue: `past_key_values.${l}.value`,
    presentKey: `present.${l}.key`,
    presentValue: `present.${l}.value`,
    newKey: `new.${l}.key`,
    newValue: `new.${l}.value`,
  };
}

/** Throws an OnnxExportError saying what the exporter cannot express for this config. */
export function checkExportable(c: ModelConfig): void {
  const problems: string[] = [];
  if (!FAMILIES.some((f) => f.name === c.family && f.exports.onnx)) {
    problems.push(`the ${String(c.family)} family has no ONNX graph yet; families with one: ${FAMILIES.filter((f) => f.exports.onnx).map((f) => f.name).join(', ')}`);
  }
  const positive = { vocabSize: c.vocabSize, maxPositions: c.maxPositions, nLayer: c.nLayer, nHead: c.nHead, nKvHead: c.nKvHead, headDim: c.headDim, hidden: c.hidden, ffn: c.ffn };
  for (const [k, v] of Object.entries(positive)) if (!Number.isInteger(v) || v <= 0) problems.push(`${k} must be a positive whole number (got ${v})`);
  if (c.nKvHead > 0 && c.nHead % c.nKvHead !== 0) problems.push(`nHead (${c.nHead}) must be a multiple of nKvHead (${c.nKvHead})`);
  if (c.positions === 'rope' && c.headDim % 2 !== 0) problems.push(`headDim (${c.headDim}) must be even for rotary embeddings`);
  if (c.slidingWindow !== null && c.slidingWindow < c.maxPositions) problems.push('sliding-window attention is not exported yet; use the js backend');
  if ((c.norm === 'layernorm') !== c.normBias) problems.push(`norm "${c.norm}" with normBias=${c.normBias} is not a layout the exporter knows`);
  if (!(c.normEps > 0)) problems.push(`normEps must be positive (got ${c.normEps})`);
  if (problems.length > 0) throw new OnnxExportError(`Cannot export this model to ONNX: ${problems.join('; ')}. Use the js backend for it.`);
}

/** (out, in) row-major -> (in, out) row-major, the layout ONNX MatMul expects for B. */
function transpose(w: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(out * inp); // (in, out)
  for (let o = 0; o < out; o++) {
    const row = o * inp;
    for (let i = 0; i < inp; i++) t[i * out + o] = w[row + i]!;
  }
  return t;
}

/**
 * Quantizes (N, K) row-major weights into MatMulNBits' 8-bit layout: B (N, K/32, 32) uint8 with
 * the implicit zero point 128, scales (N * K/32) = max|w| / 127 per block.
 */
export function quantizeQ8(w: Float32Array, N: number, K: number): { q: Uint8Array; scales: Float32Array } {
  const blocks = K / Q8_BLOCK;
  const q = new Uint8Array(N * K);
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const base = n * K + b * Q8_BLOCK;
      let amax = 0;
      for (let i = 0; i < Q8_BLOCK; i++) amax = Math.max(amax, Math.abs(w[base + i]!));
      const scale = amax / 127;
      const inv = scale > 0 ? 1 / scale : 0;
      scales[n * blocks + b] = scale;
      for (let i = 0; i < Q8_BLOCK; i++) q[base + i] = Math.round(w[base + i]! * inv) + 128;
    }
  }
  return { q, scales };
}

/**
 * MatMulNBits' default accuracy_level 4: activations quantized to int8 per block, int32
 * accumulation (as llama.cpp and the js backend's 8-bit kernels compute). Level 0 computes in
 * float32, exactly the file's weights times the activations, but onnxruntime's CPU kernel has
 * no packed float path for 8-bit weights and dequantizes B on every call: for checks, not use.
 */
export type AccuracyLevel = 0 | 4;

/**
 * fn's result, made on first use and dropped after `uses` reads: a tensor converted into several
 * initializers (codes, scales, offsets) is converted once, and not kept once they are written.
 */
function shared<T>(uses: number, fn: () => T): () => T {
  let value: T | null = null;
  let left = uses;
  return () => {
    value ??= fn();
    const v = value;
    if (--left === 0) {
      value = null;
      left = uses;
    }
    return v;
  };
}

function lazy(byteLength: number, read: () => Float32Array | Uint8Array): LazyBytes {
  return {
    byteLength,
    read: () => {
      const a = read();
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    },
  };
}

/** Consecutive parts of a parameter that run as one product: the same MatMulNBits layout, or float (layout null). */
interface PartGroup {
  layout: NBitsLayout | null;
  parts: WeightPart[];
  rows: number;
}

function sameLayout(a: NBitsLayout | null, b: NBitsLayout | null): boolean {
  return a === b || (a !== null && b !== null && a.bits === b.bits && a.block === b.block && a.offsets === b.offsets);
}

function groupParts(parts: readonly WeightPart[]): PartGroup[] {
  const groups: PartGroup[] = [];
  for (const p of parts) {
    const layout = nbitsLayout(p.type);
    const last = groups.at(-1);
    if (last && sameLayout(last.layout, layout)) {
      last.parts.push(p);
      last.rows += p.rows;
    } else {
      groups.push({ layout, parts: [p], rows: p.rows });
    }
  }
  return groups;
}

/** The parts' weights in float32, rows in order (a view of an aligned F32 part). (rows, cols) */
function floatRows(parts: readonly WeightPart[], cols: number): Float32Array {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  if (parts.length === 1 && parts[0]!.type === 'F32') {
    const d = parts[0]!.data;
    if (d.byteOffset % 4 === 0) return new Float32Array(d.buffer, d.byteOffset, rows * cols);
  }
  const out = new Float32Array(rows * cols);
  let at = 0;
  for (const p of parts) {
    const n = p.rows * p.cols;
    dequantize(p.type, p.data, out.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** A group's MatMulNBits weights, converted part by part from the file's blocks. */
function nbitsOf(group: PartGroup, cols: number): NBitsWeights {
  const layout = group.layout!;
  const n = group.rows * cols;
  const out: NBitsWeights = { b: new Uint8Array(nbitsBytes(layout, group.rows, cols)), scales: new Float32Array(n / layout.block), offsets: layout.offsets ? new Float32Array(n / OFFSET_BLOCK) : null };
  let at = 0;
  for (const p of group.parts) {
    toNBits(p.type, p.data, out, at);
    at += p.rows * p.cols;
  }
  return out;
}

/** The embedding held as MatMulNBits blocks, which a tied head multiplies by. */
interface EmbeddingBlocks {
  layout: NBitsLayout;
  b: string;
  scales: string;
  offsets: string | null;
}

class DecoderExporter {
  readonly g = new GraphBuilder();
  private readonly c: ModelConfig;
  /** blockSums(x) of each value a product with offsets reads: (T, K/32). */
  private readonly sums = new Map<string, string>();
  private embedding: EmbeddingBlocks | string | null = null;

  constructor(
    private readonly model: Model,
    private readonly format: OnnxWeightFormat,
    private readonly accuracy: AccuracyLevel,
  ) {
    this.c = model.config;
  }

  /** A float32 parameter (norms, biases) as an initializer. */
  private vec(name: string, param: string): string {
    const parts = this.model.parts(param);
    return this.g.initializer(name, DataType.FLOAT, [parts.reduce((n, p) => n + p.rows * p.cols, 0)], floatRows(parts, parts[0]!.cols));
  }

  /** y = x W^T (+ b) for the weight `param` stored (out, in); x is (1, T, in). */
  private linear(name: string, x: string, param: string, bias: string | null, out: number, inp: number): string {
    const groups = groupParts(this.model.parts(param));
    const ys = groups.map((group, i) => this.product(groups.length === 1 ? name : `${name}.${i}`, x, group, inp));
    const y = ys.length === 1 ? ys[0]! : this.g.op('Concat', ys, { axis: -1 });
    if (groups.reduce((n, gr) => n + gr.rows, 0) !== out) throw new OnnxExportError(`${param} holds ${groups.reduce((n, gr) => n + gr.rows, 0)} rows, the config needs ${out}`);
    return bias ? this.g.op('Add', [y, this.vec(`${name}.bias`, bias)]) : y;
  }

  /** x . W^T for one group of rows: MatMulNBits from the file's blocks, 8-bit blocks of float weights under 'q8_0', else float32. */
  private product(name: string, x: string, group: PartGroup, K: number): string {
    const g = this.g;
    const N = group.rows;
    if (group.layout) {
      const layout = group.layout;
      const weights = shared(layout.offsets ? 3 : 2, () => nbitsOf(group, K));
      const b = g.initializer(`${name}.nbits`, DataType.UINT8, [N, K / layout.block, (layout.block * layout.bits) / 8], lazy(nbitsBytes(layout, N, K), () => weights().b));
      const offsets = layout.offsets ? g.initializer(`${name}.offsets`, DataType.FLOAT, [N, K / OFFSET_BLOCK], lazy((N * K * 4) / OFFSET_BLOCK, () => weights().offsets!)) : null;
      return this.nbitsProduct(x, b, this.scales(`${name}.scales`, N, K, layout, weights), offsets, layout, N, K);
    }
    if (this.format === 'q8_0' && K % Q8_BLOCK === 0) {
      const q = shared(2, () => quantizeQ8(floatRows(group.parts, K), N, K));
      const qb = g.initializer(`${name}.q8`, DataType.UINT8, [N, K / Q8_BLOCK, Q8_BLOCK], lazy(N * K, () => q().q));
      const sc = g.initializer(`${name}.scales`, DataType.FLOAT, [(N * K) / Q8_BLOCK], lazy((N * K * 4) / Q8_BLOCK, () => q().scales));
      return g.op('MatMulNBits', [x, qb, sc], { K, N, bits: 8, block_size: Q8_BLOCK, accuracy_level: this.accuracy }, 'com.microsoft');
    }
    return g.op('MatMul', [x, g.initializer(`${name}.weight_t`, DataType.FLOAT, [K, N], lazy(K * N * 4, () => transpose(floatRows(group.parts, K), N, K)))]);
  }

  private scales(name: string, N: number, K: number, layout: NBitsLayout, weights: () => NBitsWeights): string {
    return this.g.initializer(name, DataType.FLOAT, [(N * K) / layout.block], lazy((N * K * 4) / layout.block, () => weights().scales));
  }

  /** MatMulNBits(x) (+ blockSums(x) . offsets^T): (1, T, N). */
  private nbitsProduct(x: string, b: string, scales: string, offsets: string | null, layout: NBitsLayout, N: number, K: number): string {
    const g = this.g;
    const y = g.op('MatMulNBits', [x, b, scales], { K, N, bits: layout.bits, block_size: layout.block, accuracy_level: this.accuracy }, 'com.microsoft');
    if (offsets === null) return y;
    let sums = this.sums.get(x);
    if (sums === undefined) {
      sums = g.op('ReduceSum', [g.op('Reshape', [x, g.int64([-1, K / OFFSET_BLOCK, OFFSET_BLOCK])]), g.int64([-1])], { keepdims: 0 }); // (T, K/32)
      this.sums.set(x, sums);
    }
    return g.op('Add', [y, g.op('Gemm', [sums, offsets], { transB: 1 })]); // (1, T, N) + (T, N)
  }

  /** x = wte[ids]: GatherBlockQuantized on the file's blocks (shared with a tied head), else a float32 Gather. (1, T, C) */
  private embed(): string {
    const g = this.g;
    const c = this.c;
    const C = c.hidden;
    const V = c.vocabSize;
    const groups = groupParts(this.model.parts('wte'));
    const layout = groups.length === 1 ? groups[0]!.layout : null;
    if (layout === null) {
      const wte = g.initializer('wte', DataType.FLOAT, [V, C], lazy(V * C * 4, () => floatRows(this.model.parts('wte'), C)));
      this.embedding = wte;
      return g.op('Gather', [wte, 'input_ids'], { axis: 0 });
    }
    const weights = shared(2 + (c.tiedEmbeddings ? 1 : 0) + (layout.offsets ? 1 : 0), () => nbitsOf(groups[0]!, C));
    const nb = C / layout.block;
    const b = g.initializer('wte.nbits', DataType.UINT8, [V, nb, (layout.block * layout.bits) / 8], lazy(nbitsBytes(layout, V, C), () => weights().b));
    const gatherScales = g.initializer('wte.gather_scales', DataType.FLOAT, [V, nb, 1], lazy((V * C * 4) / layout.block, () => weights().scales));
    let x = g.op('GatherBlockQuantized', [b, 'input_ids', gatherScales], { bits: layout.bits, block_size: layout.block, gather_axis: 0, quantize_axis: 2 }, 'com.microsoft'); // (1, T, C/block, block)
    let offsets: string | null = null;
    if (layout.offsets) {
      offsets = g.initializer('wte.offsets', DataType.FLOAT, [V, C / OFFSET_BLOCK], lazy((V * C * 4) / OFFSET_BLOCK, () => weights().offsets!));
      x = g.op('Add', [x, g.op('Unsqueeze', [g.op('Gather', [offsets, 'input_ids'], { axis: 0 }), g.int64([-1])])]); // + (1, T, C/32, 1)
    }
    // The head's scales are written next, so the converted embedding is not held through the whole export.
    if (c.tiedEmbeddings) this.embedding = { layout, b, offsets, scales: this.scales('lm_head.scales', V, C, layout, weights) };
    return g.op('Reshape', [x, g.int64([0, 0, C])]);
  }

  /** logits (1, K, V) of the kept positions (1, K, C). */
  private head(kept: string): void {
    const g = this.g;
    const c = this.c;
    const C = c.hidden;
    const V = c.vocabSize;
    if (c.tiedEmbeddings && this.embedding !== null && typeof this.embedding !== 'string') {
      const e = this.embedding;
      g.node('Identity', [this.nbitsProduct(kept, e.b, e.scales, e.offsets, e.layout, V, C)], ['logits']);
      return;
    }
    const param = c.tiedEmbeddings ? 'wte' : 'lm_head';
    const float = groupParts(this.model.parts(param)).every((group) => group.layout === null);
    if (!float || (this.format === 'q8_0' && C % Q8_BLOCK === 0)) {
      // The head is the largest matrix: in blocks too (as llama.cpp's Q8_0 does).
      g.node('Identity', [this.linear('lm_head', kept, param, null, V, C)], ['logits']);
      return;
    }
    // (K, C) x head^T with transB, so a tied head shares the wte initializer instead of a transposed copy.
    const head = c.tiedEmbeddings && typeof this.embedding === 'string' ? this.embedding : g.initializer('lm_head', DataType.FLOAT, [V, C], lazy(V * C * 4, () => floatRows(this.model.parts(param), C)));
    const logits2d = g.op('Gemm', [g.op('Reshape', [kept, g.int64([-1, C])]), head], { transB: 1 });
    g.node('Unsqueeze', [logits2d, g.int64([0])], ['logits']);
  }

  /** Plain norm of x (first layer only: later norms are fused with the residual add). */
  private norm(name: string, x: string, prefix: string): string {
    const eps = { float: this.c.normEps };
    if (this.c.norm === 'layernorm') {
      return this.g.op('LayerNormalization', [x, this.vec(`${name}.weight`, `${prefix}.w`), this.vec(`${name}.bias`, `${prefix}.b`)], { axis: -1, epsilon: eps });
    }
    return this.g.op('SimplifiedLayerNormalization', [x, this.vec(`${name}.weight`, `${prefix}.w`)], { axis: -1, epsilon: eps });
  }

  /** norm(x + skip), also returning the sum (the new residual stream); `prefix` names the norm's parameters. */
  private skipNorm(name: string, x: string, skip: string, prefix: string): { normed: string; sum: string } {
    const eps = { float: this.c.normEps };
    const normed = this.g.fresh(`${name}_out`);
    const sum = this.g.fresh(`${name}_sum`);
    if (this.c.norm === 'layernorm') {
      this.g.node('SkipLayerNormalization', [x, skip, this.vec(`${name}.weight`, `${prefix}.w`), this.vec(`${name}.bias`, `${prefix}.b`)], [normed, '', '', sum], { epsilon: eps }, 'com.microsoft');
    } else {
      this.g.node('SkipSimplifiedLayerNormalization', [x, skip, this.vec(`${name}.weight`, `${prefix}.w`)], [normed, '', '', sum], { epsilon: eps }, 'com.microsoft');
    }
    return { normed, sum };
  }

  private rotaryCaches(): [string, string] {
    const c = this.c;
    const { cos, sin } = ropeTables(c.maxPositions, c.headDim, c.ropeTheta, c.ropeScaling); // (maxPositions, HD/2)
    const dims = [c.maxPositions, c.headDim / 2];
    return [this.g.initializer('rotary.cos', DataType.FLOAT, dims, cos), this.g.initializer('rotary.sin', DataType.FLOAT, dims, sin)];
  }

  build(): GraphBuilder {
    const c = this.c;
    const g = this.g;
    const C = c.hidden;
    g.input('input_ids', DataType.INT64, [1, 'sequence_length']);
    g.input('attention_mask', DataType.INT64, [1, 'total_sequence_length']);
    g.input('logits_to_keep', DataType.INT64, []);
    for (let l = 0; l < c.nLayer; l++) {
      const n = kvNames(l);
      g.input(n.pastKey, DataType.FLOAT, [1, c.nKvHead, 'past_sequence_length', c.headDim]);
      g.input(n.pastValue, DataType.FLOAT, [1, c.nKvHead, 'past_sequence_length', c.headDim]);
    }

    // Lengths: total = P + T from the mask, T from the ids.
    const total = g.op('Shape', ['attention_mask'], { start: 1, end: 2 }); // (1) int64
    const seqlensK = g.op('Cast', [g.op('Sub', [total, g.int64([1])])], { to: DataType.INT32 }); // (1) int32
    const totalScalar = g.op('Cast', [g.op('Squeeze', [total, g.int64([0])])], { to: DataType.INT32 }); // () int32
    const pastLen = g.op('Sub', [total, g.op('Shape', ['input_ids'], { start: 1, end: 2 })]); // (1) int64: P

    // x = wte[ids] (+ wpe[P .. P + T))
    let x = this.embed(); // (1, T, C)
    if (c.positions === 'learned') {
      const positions = g.op('Range', [g.op('Squeeze', [pastLen, g.int64([0])]), g.op('Squeeze', [total, g.int64([0])]), g.int64([1], true)]); // (T)
      const wpe = g.initializer('wpe', DataType.FLOAT, [c.maxPositions, C], lazy(c.maxPositions * C * 4, () => floatRows(this.model.parts('wpe'), C)));
      x = g.op('Add', [x, g.op('Gather', [wpe, positions], { axis: 0 })]);
    }
    const rotary = c.positions === 'rope' ? this.rotaryCaches() : null;

    let normed = this.norm('h.0.ln1', x, 'h.0.ln1');
    for (let l = 0; l < c.nLayer; l++) {
      const p = `h.${l}`;
      // x = x + attn(norm1(x))
      const qkv = this.linear(`${p}.qkv`, normed, `${p}.qkv.w`, c.qkvBias ? `${p}.qkv.b` : null, qkvWidth(c), C); // (1, T, (NH + 2 KVH) HD)
      const n = kvNames(l);
      const attIn = [qkv, '', '', n.pastKey, n.pastValue, seqlensK, totalScalar];
      if (rotary) attIn.push(...rotary);
      const [att] = g.node('GroupQueryAttention', attIn, [g.fresh(`h${l}_att`), n.presentKey, n.presentValue], {
        num_heads: c.nHead,
        kv_num_heads: c.nKvHead,
        do_rotary: rotary ? 1 : 0,
        rotary_interleaved: 0,
      }, 'com.microsoft');
      g.node('Slice', [n.presentKey, pastLen, total, g.int64([2])], [n.newKey]);
      g.node('Slice', [n.presentValue, pastLen, total, g.int64([2])], [n.newValue]);
      const attOut = this.linear(`${p}.attn_out`, att!, `${p}.attn_out.w`, c.attnOutBias ? `${p}.attn_out.b` : null, C, c.nHead * c.headDim);
      const s2 = this.skipNorm(`${p}.ln2`, attOut, x, `${p}.ln2`);
      x = s2.sum;
      // x = x + mlp(norm2(x)), fused with the next norm (the next layer's norm1, or the final norm)
      const mlpOut = this.mlp(p, s2.normed);
      const s1 = l + 1 < c.nLayer ? this.skipNorm(`h.${l + 1}.ln1`, mlpOut, x, `h.${l + 1}.ln1`) : this.skipNorm('lnf', mlpOut, x, 'lnf');
      x = s1.sum;
      normed = s1.normed;
    }

    // Logits of the last `logits_to_keep` positions (all when 0).
    const start = g.op('Neg', [g.op('Unsqueeze', ['logits_to_keep', g.int64([0])])]);
    this.head(g.op('Slice', [normed, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])])); // (1, K, C)

    g.output('logits', DataType.FLOAT, [1, 'logits_length', c.vocabSize]);
    for (let l = 0; l < c.nLayer; l++) {
      const n = kvNames(l);
      g.output(n.presentKey, DataType.FLOAT, [1, c.nKvHead, 'present_sequence_length', c.headDim]);
      g.output(n.presentValue, DataType.FLOAT, [1, c.nKvHead, 'present_sequence_length', c.headDim]);
    }
    for (let l = 0; l < c.nLayer; l++) {
      const n = kvNames(l);
      g.output(n.newKey, DataType.FLOAT, [1, c.nKvHead, 'sequence_length', c.headDim]);
      g.output(n.newValue, DataType.FLOAT, [1, c.nKvHead, 'sequence_length', c.headDim]);
    }
    return g;
  }

  private mlp(p: string, x: string): string {
    const c = this.c;
    if (c.mlp === 'gelu_tanh') {
      // FastGelu is the tanh form of GELU, with the fc bias folded in.
      const fc = this.linear(`${p}.fc`, x, `${p}.fc.w`, null, c.ffn, c.hidden);
      const act = c.mlpBias ? this.g.op('FastGelu', [fc, this.vec(`${p}.fc.bias`, `${p}.fc.b`)], {}, 'com.microsoft') : this.g.op('FastGelu', [fc], {}, 'com.microsoft');
      return this.linear(`${p}.proj`, act, `${p}.proj.w`, c.mlpBias ? `${p}.proj.b` : null, c.hidden, c.ffn);
    }
    // SwiGLU: silu(gate) * up, gate rows then up rows in one fused projection.
    const fc = this.linear(`${p}.fc`, x, `${p}.fc.w`, c.mlpBias ? `${p}.fc.b` : null, fcWidth(c), c.hidden); // (1, T, 2 FF)
    const [gate, up] = this.g.node('Split', [fc, this.g.int64([c.ffn, c.ffn])], 2, { axis: -1 });
    const silu = this.g.op('Mul', [gate!, this.g.op('Sigmoid', [gate!])]);
    const act = this.g.op('Mul', [silu, up!]);
    return this.linear(`${p}.proj`, act, `${p}.proj.w`, c.mlpBias ? `${p}.proj.b` : null, c.hidden, c.ffn);
  }
}

/** Builds and encodes the decoder graph of `model`, with every weight in memory (for a session made from bytes). */
export function exportOnnx(model: Model, opts: ExportOptions = {}): EncodedModel {
  const streamed = exportOnnxStreamed(model, opts);
  return { model: streamed.model, data: streamed.data.map((piece) => piece()), dataBytes: streamed.dataBytes };
}

/** Builds and encodes the decoder graph of `model`; its weights are converted tensor by tensor as the data pieces are called (onnx/cache.ts writes them so). */
export function exportOnnxStreamed(model: Model, opts: ExportOptions = {}): StreamedModel {
  checkExportable(model.config);
  const format = opts.weightFormat ?? 'f32';
  const g = new DecoderExporter(model, format, opts.accuracyLevel ?? 4).build();
  return g.encode(`limelight-${model.config.modelType}`, opts.dataFile ?? 'model.onnx.data', {
    'limelight.exporter_version': String(EXPORTER_VERSION),
    'limelight.weight_format': format,
    'limelight.config': JSON.stringify(model.config),
  });
}

