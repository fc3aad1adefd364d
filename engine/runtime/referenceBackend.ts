// The reference backend: the model's forward pass in plain TypeScript on the engine's own
// kernels, with a preallocated KV cache (layer, kv_head, position, head_dim). The tests, the
// inspector and training's evaluation run it; the editor's engine is the fast backend (js).
// A block reads like the maths:
//   x = x + attn(norm1(x));  x = x + mlp(norm2(x))
import { qkvWidth, fcWidth, type ModelConfig } from '../model/config';
import type { Model } from '../model/model';
import type { LayerParams } from '../model/layout';
import { matmulForward } from '../kernels/matmul';
import { normForward } from '../kernels/norms';
import { embeddingForward } from '../kernels/embedding';
import { geluForward, swigluForward } from '../kernels/activations';
import { ropeForward, ropeTables } from '../kernels/rope';
import { attentionForward } from '../kernels/attention';
import { restoreCacheOf, saveCacheOf, type CacheView, type KvSnapshot } from './kvSnapshot';
import { checkForwardInputs, type ForwardOptions, type ForwardResult, type InferenceBackend } from './backend';

export interface ReferenceBackendOptions {
  /** KV-cache capacity in positions; defaults to (and is capped by) the model's maxPositions. */
  contextLength?: number;
}

export interface ReferenceForwardOptions extends ForwardOptions {
  /** Also return the residual stream: (L + 1, T, C), entry L after the final norm (as transformers' hidden_states). */
  captureHidden?: boolean;
}

export interface ReferenceForwardResult extends ForwardResult {
  hidden?: Float32Array;
}

/** Activation buffers for up to `rows` tokens at once; grown on demand, reused across calls. */
interface Scratch {
  rows: number;
  x: Float32Array; // (T, C) residual stream
  xn: Float32Array; // (T, C) normalised
  qkv: Float32Array; // (T, QKV)
  att: Float32Array; // (T, NH HD)
  tmp: Float32Array; // (T, C)
  fc: Float32Array; // (T, FF or 2 FF)
  act: Float32Array; // (T, FF)
}

export class ReferenceBackend implements InferenceBackend {
  readonly name = 'reference' as const;
  readonly config: ModelConfig;
  readonly contextLength: number;
  private readonly model: Model;
  private readonly rope: { cos: Float32Array; sin: Float32Array } | null;
  private kCache: Float32Array | null = null; // (L, KVH, ctx, HD)
  private vCache: Float32Array | null = null; // (L, KVH, ctx, HD)
  /** Positions [0, filled) of the cache hold valid keys and values. */
  private filled = 0;
  private scratch: Scratch | null = null;
  private readonly scores: Float32Array; // (ctx)

  constructor(model: Model, opts: ReferenceBackendOptions = {}) {
    this.model = model;
    this.config = model.config;
    const c = model.config;
    this.contextLength = Math.max(1, Math.min(c.maxPositions, opts.contextLength ?? c.maxPositions));
    this.rope = c.positions === 'rope' ? ropeTables(this.contextLength, c.headDim, c.ropeTheta, c.ropeScaling) : null;
    this.scores = new Float32Array(this.contextLength);
  }

  releaseCache(): void {
    this.kCache = null;
    this.vCache = null;
    this.scratch = null;
    this.filled = 0;
  }

  dispose(): void {
    this.releaseCache();
  }

  saveCache(n: number): KvSnapshot {
    return saveCacheOf(this.cacheView(), n, this.filled);
  }

  restoreCache(s: KvSnapshot): void {
    this.filled = restoreCacheOf(this.cacheView(), s);
  }

  private cacheView(): CacheView {
    const { kCache, vCache } = this.ensureCache();
    const c = this.config;
    const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return { keys: bytes(kCache), values: bytes(vCache), rows: c.nLayer * c.nKvHead, ctx: this.contextLength, headDim: c.headDim, elementBytes: 4 };
  }

  async forward(tokens: Int32Array, pos: number, opts: ReferenceForwardOptions = {}): Promise<ReferenceForwardResult> {
    return this.forwardSync(tokens, pos, opts);
  }

  forwardSync(tokens: Int32Array, pos: number, opts: ReferenceForwardOptions = {}): ReferenceForwardResult {
    const c = this.config;
    const T = tokens.length;
    checkForwardInputs(tokens, pos, this.filled, this.contextLength, c.vocabSize);
    const s = this.ensureScratch(T);
    const C = c.hidden;
    const L = c.nLayer;
    const QKV = qkvWidth(c);
    const FCW = fcWidth(c);
    const v = this.model.views;
    const { kCache, vCache } = this.ensureCache();
    const perLayer = c.nKvHead * this.contextLength * c.headDim;
    const keys = pos + T;
    const probs = opts.captureAttention ? new Float32Array(L * c.nHead * T * keys) : null;
    const hidden = opts.captureHidden ? new Float32Array((L + 1) * T * C) : null;

    embeddingForward(s.x, tokens, this.model.views.wte, this.model.views.wpe, 1, tokens.length, this.config.hidden, pos);
    hidden?.set(s.x.subarray(0, T * C), 0);
    for (let l = 0; l < L; l++) {
      const p = v.layers[l]!;
      const kL = kCache.subarray(l * perLayer, (l + 1) * perLayer);
      const vL = vCache.subarray(l * perLayer, (l + 1) * perLayer);
      // x = x + attn(norm1(x))
      normForward(this.config.norm, s.xn, s.x, p.ln1w, p.ln1b, T, this.config.hidden, this.config.normEps);
      matmulForward(s.qkv, s.xn, p.qkvw, p.qkvb, T, C, QKV);
      if (this.rope) {
        ropeForward(s.qkv, this.rope.cos, this.rope.sin, pos, T, QKV, 0, c.nHead, c.headDim);
        ropeForward(s.qkv, this.rope.cos, this.rope.sin, pos, T, QKV, c.nHead * c.headDim, c.nKvHead, c.headDim);
      }
      this.storeKV(kL, vL, s.qkv, pos, T);
      const layerProbs = probs ? probs.subarray(l * c.nHead * T * keys, (l + 1) * c.nHead * T * keys) : null;
      attentionForward(s.att, layerProbs, s.qkv, kL, vL, this.scores, pos, T, c.nHead, c.nKvHead, c.headDim, this.contextLength, QKV, c.slidingWindow);
      matmulForward(s.tmp, s.att, p.attnOutW, p.attnOutB, T, c.nHead * c.headDim, C);
      addInPlace(s.x, s.tmp, T * C);
      // x = x + mlp(norm2(x))
      normForward(this.config.norm, s.xn, s.x, p.ln2w, p.ln2b, T, this.config.hidden, this.config.normEps);
      this.mlp(s, p, T, FCW);
      addInPlace(s.x, s.tmp, T * C);
      if (hidden && l < L - 1) hidden.set(s.x.subarray(0, T * C), (l + 1) * T * C);
    }
    this.filled = pos + T;
    normForward(this.config.norm, s.xn, s.x, v.lnfw, v.lnfb, T, this.config.hidden, this.config.normEps);
    hidden?.set(s.xn.subarray(0, T * C), L * T * C);
    const first = opts.allLogits ? 0 : T - 1;
    const rows = T - first;
    const logits = new Float32Array(rows * c.vocabSize);
    matmulForward(logits, s.xn.subarray(first * C, T * C), v.lmHead, null, rows, C, c.vocabSize);
    const result: ReferenceForwardResult = { logits };
    if (probs) result.attention = probs;
    if (hidden) result.hidden = hidden;
    return result;
  }



  /** Leaves mlp(xn) in s.tmp. */
  private mlp(s: Scratch, p: LayerParams, T: number, FCW: number): void {
    const c = this.config;
    matmulForward(s.fc, s.xn, p.fcw, p.fcb, T, c.hidden, FCW);
    if (c.mlp === 'swiglu') swigluForward(s.act, s.fc, T, c.ffn);
    else geluForward(s.act, s.fc, T * c.ffn);
    matmulForward(s.tmp, s.act, p.projw, p.projb, T, c.ffn, c.hidden);
  }

  /** Copies the new keys and values (already rotated) into the cache at positions [pos, pos + T). */
  private storeKV(kL: Float32Array, vL: Float32Array, qkv: Float32Array, pos: number, T: number): void {
    const c = this.config;
    const HD = c.headDim;
    const QKV = qkvWidth(c);
    const kCol = c.nHead * HD;
    const vCol = kCol + c.nKvHead * HD;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < c.nKvHead; h++) {
        const dst = (h * this.contextLength + pos + t) * HD;
        const src = t * QKV + h * HD;
        kL.set(qkv.subarray(src + kCol, src + kCol + HD), dst);
        vL.set(qkv.subarray(src + vCol, src + vCol + HD), dst);
      }
    }
  }

  private ensureCache(): { kCache: Float32Array; vCache: Float32Array } {
    if (!this.kCache || !this.vCache) {
      const c = this.config;
      const size = c.nLayer * c.nKvHead * this.contextLength * c.headDim;
      this.kCache = new Float32Array(size);
      this.vCache = new Float32Array(size);
      this.filled = 0;
    }
    return { kCache: this.kCache, vCache: this.vCache };
  }

  private ensureScratch(T: number): Scratch {
    if (this.scratch && this.scratch.rows >= T) return this.scratch;
    const c = this.config;
    const rows = Math.max(T, this.scratch?.rows ?? 0);
    this.scratch = {
      rows,
      x: new Float32Array(rows * c.hidden),
      xn: new Float32Array(rows * c.hidden),
      qkv: new Float32Array(rows * qkvWidth(c)),
      att: new Float32Array(rows * c.nHead * c.headDim),
      tmp: new Float32Array(rows * c.hidden),
      fc: new Float32Array(rows * fcWidth(c)),
      act: new Float32Array(rows * c.ffn),
    };
    return this.scratch;
  }
}

function addInPlace(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! + y[i]!;
}

export function createReferenceBackend(model: Model, opts?: ReferenceBackendOptions): ReferenceBackend {
  return new ReferenceBackend(model, opts);
}
