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
import { type ModelConfig, qkvWidth, fcWidth } from '../model/config';
import { FAMILIES } from '../model/families';
import type { Model } from '../model/model';
import type { LayerParams } from '../model/layout';
import { ropeTables } from '../kernels/rope';
import { GraphBuilder, type EncodedModel } from './graph';
import { DataType } from './schema';

/** Bumped whenever the exported graph changes, so cached exports are rebuilt. */
export const EXPORTER_VERSION = 3;

/** How linear weights are stored: float32, or 8-bit blocks of 32 with a float scale (MatMulNBits). */
export type OnnxWeightFormat = 'f32' | 'q8_0';

export const Q8_BLOCK = 32;

export interface ExportOptions {
  weightFormat?: OnnxWeightFormat;
  /** Name of the external data blob the graph refers to (a file beside the .onnx). */
  dataFile?: string;
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

class DecoderExporter {
  readonly g = new GraphBuilder();
  private readonly c: ModelConfig;
  private readonly format: OnnxWeightFormat;

  constructor(private readonly model: Model, format: OnnxWeightFormat) {
    this.c = model.config;
    this.format = format;
  }

  /** y = x W^T (+ b) for a weight stored (out, in); x is (1, T, in). */
  private linear(name: string, x: string, w: Float32Array, b: Float32Array | null, out: number, inp: number): string {
    let y: string;
    if (this.format === 'q8_0' && inp % Q8_BLOCK === 0) {
      const { q, scales } = quantizeQ8(w, out, inp);
      const qb = this.g.initializer(`${name}.q8`, DataType.UINT8, [out, inp / Q8_BLOCK, Q8_BLOCK], q);
      const sc = this.g.initializer(`${name}.scales`, DataType.FLOAT, [out * (inp / Q8_BLOCK)], scales);
      y = this.g.op('MatMulNBits', [x, qb, sc], { K: inp, N: out, bits: 8, block_size: Q8_BLOCK, accuracy_level: 4 }, 'com.microsoft');
    } else {
      y = this.g.op('MatMul', [x, this.g.initializer(`${name}.weight_t`, DataType.FLOAT, [inp, out], transpose(w, out, inp))]);
    }
    return b ? this.g.op('Add', [y, this.vec(`${name}.bias`, b)]) : y;
  }

  private vec(name: string, v: Float32Array): string {
    return this.g.initializer(name, DataType.FLOAT, [v.length], v);
  }

  /** Plain norm of x (first layer only: later norms are fused with the residual add). */
  private norm(name: string, x: string, w: Float32Array, b: Float32Array | null): string {
    const eps = { float: this.c.normEps };
    if (this.c.norm === 'layernorm') {
      return this.g.op('LayerNormalization', [x, this.vec(`${name}.weight`, w), this.vec(`${name}.bias`, b!)], { axis: -1, epsilon: eps });
    }
    return this.g.op('SimplifiedLayerNormalization', [x, this.vec(`${name}.weight`, w)], { axis: -1, epsilon: eps });
  }

  /** norm(x + skip (+ bias)), also returning the sum (the new residual stream). */
  private skipNorm(name: string, x: string, skip: string, w: Float32Array, b: Float32Array | null): { normed: string; sum: string } {
    const eps = { float: this.c.normEps };
    const normed = this.g.fresh(`${name}_out`);
    const sum = this.g.fresh(`${name}_sum`);
    if (this.c.norm === 'layernorm') {
      this.g.node('SkipLayerNormalization', [x, skip, this.vec(`${name}.weight`, w), this.vec(`${name}.bias`, b!)], [normed, '', '', sum], { epsilon: eps }, 'com.microsoft');
    } else {
      this.g.node('SkipSimplifiedLayerNormalization', [x, skip, this.vec(`${name}.weight`, w)], [normed, '', '', sum], { epsilon: eps }, 'com.microsoft');
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
    const v = this.model.views;
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
    const wte = g.initializer('wte', DataType.FLOAT, [c.vocabSize, C], v.wte);
    let x = g.op('Gather', [wte, 'input_ids'], { axis: 0 }); // (1, T, C)
    if (c.positions === 'learned') {
      const positions = g.op('Range', [g.op('Squeeze', [pastLen, g.int64([0])]), g.op('Squeeze', [total, g.int64([0])]), g.int64([1], true)]); // (T)
      x = g.op('Add', [x, g.op('Gather', [g.initializer('wpe', DataType.FLOAT, [c.maxPositions, C], v.wpe!), positions], { axis: 0 })]);
    }
    const rotary = c.positions === 'rope' ? this.rotaryCaches() : null;

    let normed = this.norm('h.0.ln1', x, v.layers[0]!.ln1w, v.layers[0]!.ln1b);
    for (let l = 0; l < c.nLayer; l++) {
      const p = v.layers[l]!;
      const nextNorm = l + 1 < c.nLayer ? v.layers[l + 1]! : null;
      // x = x + attn(norm1(x))
      const qkv = this.linear(`h.${l}.qkv`, normed, p.qkvw, p.qkvb, qkvWidth(c), C); // (1, T, (NH + 2 KVH) HD)
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
      const attOut = this.linear(`h.${l}.attn_out`, att!, p.attnOutW, p.attnOutB, C, c.nHead * c.headDim);
      const s2 = this.skipNorm(`h.${l}.ln2`, attOut, x, p.ln2w, p.ln2b);
      x = s2.sum;
      // x = x + mlp(norm2(x)), fused with the next norm (the next layer's norm1, or the final norm)
      const mlpOut = this.mlp(`h.${l}`, s2.normed, p);
      const s1 = nextNorm ? this.skipNorm(`h.${l + 1}.ln1`, mlpOut, x, nextNorm.ln1w, nextNorm.ln1b) : this.skipNorm('lnf', mlpOut, x, v.lnfw, v.lnfb);
      x = s1.sum;
      normed = s1.normed;
    }

    // Logits of the last `logits_to_keep` positions (all when 0).
    const start = g.op('Neg', [g.op('Unsqueeze', ['logits_to_keep', g.int64([0])])]);
    const kept = g.op('Slice', [normed, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]); // (1, K, C)
    if (this.format === 'q8_0' && C % Q8_BLOCK === 0) {
      // The head is the largest matrix: quantized too (as llama.cpp's Q8_0 does); wte stays f32 for the lookup.
      g.node('Identity', [this.linear('lm_head', kept, v.lmHead, null, c.vocabSize, C)], ['logits']);
    } else {
      // (K, C) x head^T with transB, so a tied head shares the wte initializer instead of a transposed copy.
      const head = v.lmHead === v.wte ? wte : g.initializer('lm_head', DataType.FLOAT, [c.vocabSize, C], v.lmHead);
      const logits2d = g.op('Gemm', [g.op('Reshape', [kept, g.int64([-1, C])]), head], { transB: 1 });
      g.node('Unsqueeze', [logits2d, g.int64([0])], ['logits']);
    }

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

  private mlp(name: string, x: string, p: LayerParams): string {
    const c = this.c;
    if (c.mlp === 'gelu_tanh') {
      // FastGelu is the tanh form of GELU, with the fc bias folded in.
      const fc = this.linear(`${name}.fc`, x, p.fcw, null, c.ffn, c.hidden);
      const act = p.fcb ? this.g.op('FastGelu', [fc, this.vec(`${name}.fc.bias`, p.fcb)], {}, 'com.microsoft') : this.g.op('FastGelu', [fc], {}, 'com.microsoft');
      return this.linear(`${name}.proj`, act, p.projw, p.projb, c.hidden, c.ffn);
    }
    // SwiGLU: silu(gate) * up, gate rows then up rows in one fused projection.
    const fc = this.linear(`${name}.fc`, x, p.fcw, p.fcb, fcWidth(c), c.hidden); // (1, T, 2 FF)
    const [gate, up] = this.g.node('Split', [fc, this.g.int64([c.ffn, c.ffn])], 2, { axis: -1 });
    const silu = this.g.op('Mul', [gate!, this.g.op('Sigmoid', [gate!])]);
    const act = this.g.op('Mul', [silu, up!]);
    return this.linear(`${name}.proj`, act, p.projw, p.projb, c.hidden, c.ffn);
  }
}

/** Builds and encodes the decoder graph of `model`. */
export function exportOnnx(model: Model, opts: ExportOptions = {}): EncodedModel {
  checkExportable(model.config);
  const format = opts.weightFormat ?? 'f32';
  const g = new DecoderExporter(model, format).build();
  return g.encode(`limelight-${model.config.modelType}`, opts.dataFile ?? 'model.onnx.data', {
    'limelight.exporter_version': String(EXPORTER_VERSION),
    'limelight.weight_format': format,
    'limelight.config': JSON.stringify(model.config),
  });
}

