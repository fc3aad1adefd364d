// Parameter layout: every parameter of a model lives in ONE Float32Array, at offsets fixed
// here (llm.c style). The same layout describes gradients and AdamW moments, so the
// optimizer is a loop over one buffer and a backward pass writes through the same views.
//
// Linear weights are stored (out, in), row-major: y[o] = sum_i W[o, i] x[i] walks memory in
// order. GPT-2's Conv1D weights (stored (in, out)) are transposed at load (see io/hfNames.ts).
// q, k and v are one fused matrix (q rows, then k rows, then v rows) and SwiGLU's gate and up
// are one fused matrix (gate rows, then up rows), so each is a single matmul.
import { type ModelConfig, qkvWidth, fcWidth } from './config';

export interface TensorSpec {
  name: string;
  shape: number[];
  size: number;
  offset: number;
}

export interface ParamLayout {
  specs: TensorSpec[];
  byName: Map<string, TensorSpec>;
  /** Total floats. */
  total: number;
}

/** Internal parameter names, in layout order, with their shapes. */
function paramShapes(c: ModelConfig): Array<[string, number[]]> {
  const C = c.hidden;
  const shapes: Array<[string, number[]]> = [['wte', [c.vocabSize, C]]];
  if (c.positions === 'learned') shapes.push(['wpe', [c.maxPositions, C]]);
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    shapes.push([p + 'ln1.w', [C]]);
    if (c.normBias) shapes.push([p + 'ln1.b', [C]]);
    shapes.push([p + 'qkv.w', [qkvWidth(c), C]]);
    if (c.qkvBias) shapes.push([p + 'qkv.b', [qkvWidth(c)]]);
    shapes.push([p + 'attn_out.w', [C, c.nHead * c.headDim]]);
    if (c.attnOutBias) shapes.push([p + 'attn_out.b', [C]]);
    shapes.push([p + 'ln2.w', [C]]);
    if (c.normBias) shapes.push([p + 'ln2.b', [C]]);
    shapes.push([p + 'fc.w', [fcWidth(c), C]]);
    if (c.mlpBias) shapes.push([p + 'fc.b', [fcWidth(c)]]);
    shapes.push([p + 'proj.w', [C, c.ffn]]);
    if (c.mlpBias) shapes.push([p + 'proj.b', [C]]);
  }
  shapes.push(['lnf.w', [C]]);
  if (c.normBias) shapes.push(['lnf.b', [C]]);
  if (!c.tiedEmbeddings) shapes.push(['lm_head', [c.vocabSize, C]]);
  return shapes;
}

export function buildLayout(c: ModelConfig): ParamLayout {
  const specs: TensorSpec[] = [];
  let offset = 0;
  for (const [name, shape] of paramShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, size, offset });
    offset += size;
  }
  return { specs, byName: new Map(specs.map((s) => [s.name, s])), total: offset };
}

export interface LayerParams {
  ln1w: Float32Array; // (C)
  ln1b: Float32Array | null; // (C)
  qkvw: Float32Array; // ((NH + 2 KVH) HD, C)
  qkvb: Float32Array | null; // ((NH + 2 KVH) HD)
  attnOutW: Float32Array; // (C, NH HD)
  attnOutB: Float32Array | null; // (C)
  ln2w: Float32Array; // (C)
  ln2b: Float32Array | null; // (C)
  fcw: Float32Array; // (FF or 2 FF, C)
  fcb: Float32Array | null; // (FF or 2 FF)
  projw: Float32Array; // (C, FF)
  projb: Float32Array | null; // (C)
}

export interface ParamViews {
  wte: Float32Array; // (V, C)
  wpe: Float32Array | null; // (maxPositions, C)
  layers: LayerParams[];
  lnfw: Float32Array; // (C)
  lnfb: Float32Array | null; // (C)
  /** (V, C): the same view as wte when embeddings are tied, so tied gradients add up in one place. */
  lmHead: Float32Array;
}

/** Typed views of `buffer` (parameters, gradients or optimizer moments) for the layout. */
export function paramViews(layout: ParamLayout, buffer: Float32Array): ParamViews {
  if (buffer.length !== layout.total) throw new Error(`paramViews: buffer holds ${buffer.length} floats, the layout needs ${layout.total}`);
  const view = (name: string): Float32Array => {
    const s = layout.byName.get(name);
    if (!s) throw new Error(`paramViews: no parameter ${name} in this layout`);
    return buffer.subarray(s.offset, s.offset + s.size);
  };
  const maybe = (name: string): Float32Array | null => (layout.byName.has(name) ? view(name) : null);
  const layers: LayerParams[] = [];
  for (let l = 0; layout.byName.has(`h.${l}.ln1.w`); l++) {
    const p = `h.${l}.`;
    layers.push({
      ln1w: view(p + 'ln1.w'),
      ln1b: maybe(p + 'ln1.b'),
      qkvw: view(p + 'qkv.w'),
      qkvb: maybe(p + 'qkv.b'),
      attnOutW: view(p + 'attn_out.w'),
      attnOutB: maybe(p + 'attn_out.b'),
      ln2w: view(p + 'ln2.w'),
      ln2b: maybe(p + 'ln2.b'),
      fcw: view(p + 'fc.w'),
      fcb: maybe(p + 'fc.b'),
      projw: view(p + 'proj.w'),
      projb: maybe(p + 'proj.b'),
    });
  }
  const wte = view('wte');
  return { wte, wpe: maybe('wpe'), layers, lnfw: view('lnf.w'), lnfb: maybe('lnf.b'), lmHead: maybe('lm_head') ?? wte };
}
