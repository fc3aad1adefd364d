// One training forward and backward pass over a (B, T) batch, for both families, llm.c style:
// every activation the backward pass needs is preallocated once per (B, T) in Activations,
// each block reads like the maths (x = x + attn(norm1(x)); x = x + mlp(norm2(x))) and the
// backward pass walks the same steps in reverse, accumulating into a gradient buffer that
// shares the parameter layout (tied embeddings: the LM head's gradient lands on wte).
//
// Memory: with `recompute`, only each block's input is kept; the block's internals live in
// one shared set of buffers and are recomputed during the backward pass (one extra forward).
// The LM head and the cross-entropy run over chunks of rows, so the (B T, V) logits never
// exist at once.
//
// LoRA: adapters add scale * B . A . dropout(x) to their linear layer's output; with a Lora
// given, the base weights are frozen (no gradient is computed for them) and the adapter
// gradients go to `loraGrads`.
import { qkvWidth, fcWidth, type ModelConfig } from '../model/config';
import type { Model } from '../model/model';
import { paramViews, type LayerParams, type ParamViews } from '../model/layout';
import { rmsnormBackward, rmsnormForward } from '../kernels/norms';
import { swigluBackward, swigluForward } from '../kernels/activations';
import { ropeBackward, ropeForward, ropeTables } from '../kernels/rope';
import { embeddingBackward, embeddingForward } from '../kernels/embedding';
import { IGNORE_INDEX } from '../kernels/crossEntropy';
import { dropoutBackward, dropoutForward } from '../kernels/dropout';
import { adapterA, adapterB, type Lora, type LoraAdapter, type LinearSlot } from './lora';
import { REFERENCE_KERNELS, type TrainKernels } from './kernelTable';

/** Rows of the LM head computed at once by default: bounds the logits buffer to LOGIT_ROWS * V floats. */
const LOGIT_ROWS = 64;

/** A (B, T) batch: targets[b, t] is the token to predict after tokens[b, t], or IGNORE_INDEX. */
export interface TrainBatch {
  B: number;
  T: number;
  tokens: Int32Array; // (B, T)
  targets: Int32Array; // (B, T)
}

/** One block's internals. */
interface BlockActs {
  ln1: Float32Array; // (BT, C)
  ln1Mean: Float32Array; // (BT)
  ln1Rstd: Float32Array; // (BT)
  qkv: Float32Array; // (BT, QKV) after RoPE
  probs: Float32Array; // (B, NH, T, T)
  atty: Float32Array; // (BT, NH HD)
  res2: Float32Array; // (BT, C) residual after attention
  ln2: Float32Array; // (BT, C)
  ln2Mean: Float32Array; // (BT)
  ln2Rstd: Float32Array; // (BT)
  fch: Float32Array; // (BT, FF or 2 FF) before the activation
  fchAct: Float32Array; // (BT, FF)
  loraU: Float32Array[]; // per adapter of the layer: (BT, r)
}

export interface Activations {
  B: number;
  T: number;
  recompute: boolean;
  /** The adapters these activations have room for (null: none). */
  lora: Lora | null;
  residuals: Float32Array[]; // (L + 1) x (BT, C): block inputs, then the last block's output
  blocks: BlockActs[]; // L, or 1 shared when recomputing
  lnf: Float32Array; // (BT, C)
  lnfMean: Float32Array; // (BT)
  lnfRstd: Float32Array; // (BT)
  losses: Float32Array; // (BT) per-token loss, 0 where ignored
  logits: Float32Array; // (logit rows, V), also their gradient in place
  rope: { cos: Float32Array; sin: Float32Array } | null;
  // Gradient scratch, shared by every layer.
  dresidual: Float32Array; // (BT, C)
  dln: Float32Array; // (BT, C)
  dqkv: Float32Array; // (BT, QKV)
  datty: Float32Array; // (BT, NH HD)
  dfch: Float32Array; // (BT, FF or 2 FF)
  dfchAct: Float32Array; // (BT, FF)
  dscores: Float32Array; // (T)
  // LoRA scratch.
  xDrop: Float32Array; // (BT, max in) dropout(x)
  dxDrop: Float32Array; // (BT, max in)
  du: Float32Array; // (BT, r)
  /** Bytes held by all of the above. */
  bytes: number;
}

export interface ActivationOptions {
  /** Keep only block inputs and recompute each block in the backward pass. */
  recompute?: boolean;
  /** Adapters that will be trained with these activations. */
  lora?: Lora | null;
  /**
   * Rows of the LM head per chunk (default LOGIT_ROWS). More rows cost rows * V floats but let
   * a TrainPool stage the head's weight fewer times per pass.
   */
  logitRows?: number;
  /** Allocates each buffer (zeroed), e.g. TrainPool.alloc; default new Float32Array. The logits scratch is always a plain array. */
  alloc?: (n: number) => Float32Array;
}

export function createActivations(config: ModelConfig, B: number, T: number, opts: ActivationOptions = {}): Activations {
  const c = config;
  const N = B * T;
  const C = c.hidden;
  const QKV = qkvWidth(c);
  const FCW = fcWidth(c);
  const ATT = c.nHead * c.headDim;
  const lora = opts.lora ?? null;
  const recompute = opts.recompute === true;
  let bytes = 0;
  const alloc = opts.alloc ?? ((n: number): Float32Array => new Float32Array(n));
  const f = (n: number, plain = false): Float32Array => {
    bytes += 4 * n;
    return plain ? new Float32Array(n) : alloc(n);
  };
  const block = (layer: number): BlockActs => ({
    ln1: f(N * C),
    ln1Mean: f(N),
    ln1Rstd: f(N),
    qkv: f(N * QKV),
    probs: f(B * c.nHead * T * T),
    atty: f(N * ATT),
    res2: f(N * C),
    ln2: f(N * C),
    ln2Mean: f(N),
    ln2Rstd: f(N),
    fch: f(N * FCW),
    fchAct: f(N * c.ffn),
    // With recomputation the one shared block serves every layer, so it needs room for the
    // adapters of whichever layer has the most.
    loraU: lora ? Array.from({ length: recompute ? Math.max(...lora.byLayer.map((a) => a.length)) : lora.byLayer[layer]!.length }, () => f(N * lora.options.rank)) : [],
  });
  const maxIn = lora && lora.options.dropout > 0 ? Math.max(0, ...lora.adapters.map((a) => a.inDim)) : 0;
  const acts: Activations = {
    B,
    T,
    recompute,
    lora,
    residuals: Array.from({ length: c.nLayer + 1 }, () => f(N * C)),
    blocks: Array.from({ length: recompute ? 1 : c.nLayer }, (_, l) => block(l)),
    lnf: f(N * C),
    lnfMean: f(N),
    lnfRstd: f(N),
    losses: f(N),
    // A TrainPool keeps the logits in its own region; this scratch serves the reference kernels.
    logits: f(Math.min(Math.max(1, Math.floor(opts.logitRows ?? LOGIT_ROWS)), N) * c.vocabSize, true),
    rope: c.positions === 'rope' ? ropeTables(T, c.headDim, c.ropeTheta, c.ropeScaling) : null,
    dresidual: f(N * C),
    dln: f(N * C),
    dqkv: f(N * QKV),
    datty: f(N * ATT),
    dfch: f(N * FCW),
    dfchAct: f(N * c.ffn),
    dscores: f(T),
    xDrop: f(N * maxIn),
    dxDrop: f(N * maxIn),
    du: f(lora ? N * lora.options.rank : 0),
    bytes: 0,
  };
  acts.bytes = bytes;
  return acts;
}

export interface LossAndGradsOptions {
  /** Adapters to train; the base weights are then frozen. */
  lora?: Lora | null;
  /** Where the adapter gradients accumulate (same layout as lora.params). */
  loraGrads?: Float32Array | null;
  /**
   * Gradient of the objective with respect to each token's loss. Default 1 / (non-ignored
   * tokens in this batch): the mean. Gradient accumulation passes 1 / (tokens of all micro-batches).
   */
  dloss?: number;
  /** Seeds LoRA dropout masks; change it every step. */
  dropoutSeed?: number;
  /** Where the linear layers' products and attention run (default: the TypeScript reference kernels). */
  kernels?: TrainKernels;
}

export class TrainInputError extends Error {
  override name = 'TrainInputError';
}

/** Number of targets that count towards the loss. */
export function countTargets(targets: Int32Array): number {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) n++;
  return n;
}

function checkBatch(c: ModelConfig, batch: TrainBatch, acts: Activations): void {
  const { B, T, tokens, targets } = batch;
  if (B !== acts.B || T !== acts.T) throw new TrainInputError(`The batch is (${B}, ${T}) but the activations were made for (${acts.B}, ${acts.T}); create activations for this shape.`);
  if (tokens.length !== B * T || targets.length !== B * T) throw new TrainInputError(`tokens and targets must each hold B * T = ${B * T} ids (got ${tokens.length} and ${targets.length}).`);
  if (T > c.maxPositions) throw new TrainInputError(`Sequences of ${T} tokens are longer than the model's context (${c.maxPositions}); lower the sequence length.`);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i]!;
    if (!(id >= 0 && id < c.vocabSize)) throw new TrainInputError(`Token id ${id} at position ${i} is outside the vocabulary (0..${c.vocabSize - 1}); was the data tokenized for another model?`);
    const tg = targets[i]!;
    if (tg !== IGNORE_INDEX && !(tg >= 0 && tg < c.vocabSize)) throw new TrainInputError(`Target id ${tg} at position ${i} is outside the vocabulary (0..${c.vocabSize - 1}) and is not the ignore index ${IGNORE_INDEX}.`);
  }
}

/**
 * Mean cross-entropy of the batch (over non-ignored targets). When `grads` (parameter
 * layout) or `opts.loraGrads` is given, also runs the backward pass, accumulating (+=) the
 * gradient of dloss * sum(token losses): zero the buffers first unless accumulating.
 */
export function lossAndGrads(model: Model, batch: TrainBatch, acts: Activations, grads: Float32Array | null, opts: LossAndGradsOptions = {}): number {
  const c = model.config;
  checkBatch(c, batch, acts);
  const lora = opts.lora ?? null;
  if (acts.lora !== lora) throw new TrainInputError('These activations were created for other LoRA adapters (or none); create them with the Lora being trained.');
  if (lora?.merged) throw new TrainInputError('The LoRA adapter is merged into the weights; unmerge it before training it.');
  const loraGrads = lora ? (opts.loraGrads ?? null) : null;
  const count = countTargets(batch.targets);
  const run = new Pass(model, batch, acts, lora, opts.dropoutSeed ?? 0, opts.kernels ?? REFERENCE_KERNELS);
  run.embed();
  for (let l = 0; l < c.nLayer; l++) run.blockForward(l);
  const backward = grads !== null || loraGrads !== null;
  const dloss = opts.dloss ?? (count > 0 ? 1 / count : 0);
  const g = grads !== null ? paramViews(model.layout, grads) : null;
  const total = run.headForward(backward ? dloss : null, g?.lmHead ?? null);
  if (backward) {
    run.headBackward(g);
    for (let l = c.nLayer - 1; l >= 0; l--) {
      if (acts.recompute && l < c.nLayer - 1) run.blockForward(l);
      run.blockBackward(l, g, loraGrads);
    }
    if (g !== null) embeddingBackward(g.wte, g.wpe, acts.dresidual, batch.tokens, batch.B, batch.T, c.hidden);
  }
  return count > 0 ? total / count : 0;
}

/** The state of one forward/backward pass; methods are the steps of lossAndGrads. */
class Pass {
  private readonly c: ModelConfig;
  private readonly v: ParamViews;
  private readonly N: number;

  constructor(
    model: Model,
    private readonly batch: TrainBatch,
    private readonly a: Activations,
    private readonly lora: Lora | null,
    private readonly dropoutSeed: number,
    private readonly k: TrainKernels,
  ) {
    this.c = model.config;
    this.v = model.views;
    this.N = batch.B * batch.T;
  }

  private block(l: number): BlockActs {
    return this.a.blocks[this.a.recompute ? 0 : l]!;
  }

  embed(): void {
    const { B, T, tokens } = this.batch;
    embeddingForward(this.a.residuals[0]!, tokens, this.v.wte, this.v.wpe, B, T, this.c.hidden);
  }

  private norm(out: Float32Array, mean: Float32Array, rstd: Float32Array, inp: Float32Array, w: Float32Array, b: Float32Array | null): void {
    const c = this.c;
    if (c.norm === 'layernorm') this.k.layernormForward(out, mean, rstd, inp, w, b, this.N, c.hidden, c.normEps);
    else rmsnormForward(out, rstd, inp, w, this.N, c.hidden, c.normEps);
  }

  private normBackward(dinp: Float32Array, dw: Float32Array | null, db: Float32Array | null, dout: Float32Array, inp: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array): void {
    const c = this.c;
    if (c.norm === 'layernorm') this.k.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, this.N, c.hidden);
    else rmsnormBackward(dinp, dw, dout, inp, w, rstd, this.N, c.hidden);
  }

  /** out (N, OC) = inp (N, IC) . W^T + b, plus this layer's adapters on that slot. */
  private linear(l: number, slot: LinearSlot, out: Float32Array, inp: Float32Array, w: Float32Array, b: Float32Array | null, IC: number, OC: number): void {
    this.k.matmulForward(out, inp, w, b, this.N, IC, OC);
    if (this.lora === null) return;
    const adapters = this.lora.byLayer[l]!;
    for (let i = 0; i < adapters.length; i++) {
      const ad = adapters[i]!;
      if (ad.slot !== slot) continue;
      const x = this.dropped(ad, l, i, inp);
      const u = this.block(l).loraU[i]!;
      this.k.matmulForward(u, x, adapterA(this.lora, this.lora.params, ad), null, this.N, IC, this.lora.options.rank);
      this.k.loraUpForward(out, u, adapterB(this.lora, this.lora.params, ad), this.lora.scale, this.N, this.lora.options.rank, ad.rows, OC, ad.rowOffset);
    }
  }

  private maskSeed(l: number, i: number): number {
    return (Math.imul(this.dropoutSeed, 0x9e3779b1) ^ Math.imul(l * 64 + i + 1, 0x85ebca6b)) >>> 0;
  }

  /** The adapter's input after dropout (the input itself when dropout is off). */
  private dropped(ad: LoraAdapter, l: number, i: number, inp: Float32Array): Float32Array {
    const p = this.lora!.options.dropout;
    if (p === 0) return inp;
    const x = this.a.xDrop.subarray(0, this.N * ad.inDim);
    dropoutForward(x, inp, p, this.maskSeed(l, i), this.N * ad.inDim);
    return x;
  }

  /**
   * Backward of `linear`: base weight gradients (when not frozen) and the input gradient
   * (when dinp is given) accumulate, and so do the adapters' gradients.
   */
  private linearBackward(l: number, slot: LinearSlot, dinp: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, dout: Float32Array, inp: Float32Array, w: Float32Array, IC: number, OC: number, loraGrads: Float32Array | null): void {
    this.k.matmulBackward(dinp, dw, db, dout, inp, w, this.N, IC, OC);
    if (this.lora === null) return;
    const lora = this.lora;
    const r = lora.options.rank;
    const adapters = lora.byLayer[l]!;
    for (let i = 0; i < adapters.length; i++) {
      const ad = adapters[i]!;
      if (ad.slot !== slot) continue;
      const du = this.a.du.fill(0);
      const B = adapterB(lora, lora.params, ad);
      this.k.loraUpBackward(du, loraGrads ? adapterB(lora, loraGrads, ad) : null, dout, this.block(l).loraU[i]!, B, lora.scale, this.N, r, ad.rows, OC, ad.rowOffset);
      const x = this.dropped(ad, l, i, inp);
      const A = adapterA(lora, lora.params, ad);
      const dA = loraGrads ? adapterA(lora, loraGrads, ad) : null;
      if (lora.options.dropout === 0 || dinp === null) {
        this.k.matmulBackward(dinp, dA, null, du, x, A, this.N, IC, r);
      } else {
        const dx = this.a.dxDrop.subarray(0, this.N * IC).fill(0);
        this.k.matmulBackward(dx, dA, null, du, x, A, this.N, IC, r);
        dropoutBackward(dinp, dx, lora.options.dropout, this.maskSeed(l, i), this.N * IC);
      }
    }
  }

  private rope(buf: Float32Array, backward: boolean): void {
    const { cos, sin } = this.a.rope!;
    const c = this.c;
    const { B, T } = this.batch;
    const QKV = qkvWidth(c);
    const apply = backward ? ropeBackward : ropeForward;
    for (let b = 0; b < B; b++) {
      const rows = buf.subarray(b * T * QKV, (b + 1) * T * QKV);
      apply(rows, cos, sin, 0, T, QKV, 0, c.nHead, c.headDim);
      apply(rows, cos, sin, 0, T, QKV, c.nHead * c.headDim, c.nKvHead, c.headDim);
    }
  }

  blockForward(l: number): void {
    const c = this.c;
    const { B, T } = this.batch;
    const C = c.hidden;
    const ATT = c.nHead * c.headDim;
    const p = this.v.layers[l]!;
    const a = this.block(l);
    const x = this.a.residuals[l]!;
    const out = this.a.residuals[l + 1]!;
    // x = x + attn(norm1(x))
    this.norm(a.ln1, a.ln1Mean, a.ln1Rstd, x, p.ln1w, p.ln1b);
    this.linear(l, 'qkv', a.qkv, a.ln1, p.qkvw, p.qkvb, C, qkvWidth(c));
    if (this.a.rope !== null) this.rope(a.qkv, false);
    this.k.attentionTrainForward(a.atty, a.probs, a.qkv, B, T, c.nHead, c.nKvHead, c.headDim, c.slidingWindow);
    this.linear(l, 'attnOut', a.res2, a.atty, p.attnOutW, p.attnOutB, ATT, C);
    addInPlace(a.res2, x, this.N * C);
    // x = x + mlp(norm2(x))
    this.norm(a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, p.ln2w, p.ln2b);
    this.linear(l, 'fc', a.fch, a.ln2, p.fcw, p.fcb, C, fcWidth(c));
    if (c.mlp === 'swiglu') swigluForward(a.fchAct, a.fch, this.N, c.ffn);
    else this.k.geluForward(a.fchAct, a.fch, this.N * c.ffn);
    this.linear(l, 'proj', out, a.fchAct, p.projw, p.projb, c.ffn, C);
    addInPlace(out, a.res2, this.N * C);
  }

  /** Final norm, LM head and cross-entropy by chunks of rows; with dloss, leaves d lnf in a.dln. Returns the summed loss. */
  headForward(dloss: number | null, dlmHead: Float32Array | null): number {
    const c = this.c;
    const a = this.a;
    const C = c.hidden;
    const V = c.vocabSize;
    const L = c.nLayer;
    this.norm(a.lnf, a.lnfMean, a.lnfRstd, a.residuals[L]!, this.v.lnfw, this.v.lnfb);
    if (dloss !== null) a.dln.fill(0);
    let total = 0;
    const chunk = a.logits.length / V;
    for (let r0 = 0; r0 < this.N; r0 += chunk) {
      const rows = Math.min(chunk, this.N - r0);
      const logits = a.logits.subarray(0, rows * V);
      const x = a.lnf.subarray(r0 * C, (r0 + rows) * C);
      const targets = this.batch.targets.subarray(r0, r0 + rows);
      const losses = a.losses.subarray(r0, r0 + rows);
      const dx = dloss !== null ? a.dln.subarray(r0 * C, (r0 + rows) * C) : null;
      total += this.k.lmHead(losses, dx, dloss !== null ? dlmHead : null, x, this.v.lmHead, targets, dloss, logits, rows, C, V, r0 === 0);
    }
    return total;
  }

  /** Backward of the final norm into a.dresidual (d of the last block's output). */
  headBackward(g: ParamViews | null): void {
    const a = this.a;
    const L = this.c.nLayer;
    a.dresidual.fill(0);
    this.normBackward(a.dresidual, g?.lnfw ?? null, g?.lnfb ?? null, a.dln, a.residuals[L]!, this.v.lnfw, a.lnfMean, a.lnfRstd);
  }

  blockBackward(l: number, g: ParamViews | null, loraGrads: Float32Array | null): void {
    const c = this.c;
    const { B, T } = this.batch;
    const C = c.hidden;
    const ATT = c.nHead * c.headDim;
    const p = this.v.layers[l]!;
    const gp: LayerParams | null = g?.layers[l] ?? null;
    const a = this.block(l);
    const s = this.a;
    const dres = s.dresidual; // d out, then d res2, then d x
    // MLP
    s.dfchAct.fill(0);
    this.linearBackward(l, 'proj', s.dfchAct, gp?.projw ?? null, gp?.projb ?? null, dres, a.fchAct, p.projw, c.ffn, C, loraGrads);
    s.dfch.fill(0);
    if (c.mlp === 'swiglu') swigluBackward(s.dfch, s.dfchAct, a.fch, this.N, c.ffn);
    else this.k.geluBackward(s.dfch, s.dfchAct, a.fch, this.N * c.ffn);
    s.dln.fill(0);
    this.linearBackward(l, 'fc', s.dln, gp?.fcw ?? null, gp?.fcb ?? null, s.dfch, a.ln2, p.fcw, C, fcWidth(c), loraGrads);
    this.normBackward(dres, gp?.ln2w ?? null, gp?.ln2b ?? null, s.dln, a.res2, p.ln2w, a.ln2Mean, a.ln2Rstd);
    // Attention
    s.datty.fill(0);
    this.linearBackward(l, 'attnOut', s.datty, gp?.attnOutW ?? null, gp?.attnOutB ?? null, dres, a.atty, p.attnOutW, ATT, C, loraGrads);
    s.dqkv.fill(0);
    this.k.attentionTrainBackward(s.dqkv, s.dscores, s.datty, a.qkv, a.probs, B, T, c.nHead, c.nKvHead, c.headDim, c.slidingWindow);
    if (s.rope !== null) this.rope(s.dqkv, true);
    // The first block's input gradient only feeds the embeddings: skip it when they are frozen.
    const needInput = g !== null || l > 0;
    if (needInput) s.dln.fill(0);
    this.linearBackward(l, 'qkv', needInput ? s.dln : null, gp?.qkvw ?? null, gp?.qkvb ?? null, s.dqkv, a.ln1, p.qkvw, C, qkvWidth(c), loraGrads);
    if (needInput) this.normBackward(dres, gp?.ln1w ?? null, gp?.ln1b ?? null, s.dln, s.residuals[l]!, p.ln1w, a.ln1Mean, a.ln1Rstd);
  }
}

function addInPlace(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! + y[i]!;
}
