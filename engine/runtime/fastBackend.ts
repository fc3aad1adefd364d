// The fast JS backend: the same forward pass as JsBackend (the reference), with the matrix
// products (GELU fused into the MLP's first), attention and norms in WebAssembly SIMD kernels
// split across a pool of threads.
// Weights are packed once at load into one shared memory, in f32, f16 or Q8_0; activations
// and the KV cache (layer, kv_head, position, head_dim) live there too, so no thread copies.
// Embeddings, RoPE and SwiGLU stay in TypeScript (O(T C) work, read in place).
import { qkvWidth, fcWidth, type ModelConfig } from '../model/config';
import type { Model } from '../model/model';
import { embeddingForward } from '../kernels/embedding';
import { swigluForward } from '../kernels/activations';
import { ropeForward, ropeTables } from '../kernels/rope';
import { attentionForward } from '../kernels/attention';
import { quantizeQ8Forward, packQ8Forward, Q8_BLOCK, Q8_PACK_ROWS } from '../kernels/quantize';
import { packF32Forward, F32_PACK_ROWS } from '../kernels/matmul';
import { f32ToF16 } from '../formats/half';
import { Arena, createSharedMemory, attentionScratchBytes, blockScratchBytes, f32Bits, MatmulMode } from '../kernels/wasm/kernels';
import { ComputePool, poolThreads } from './pool';
import { checkForwardInputs, type ForwardOptions, type ForwardResult, type InferenceBackend } from './backend';

export type WeightFormat = 'f32' | 'f16' | 'q8_0';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8_0'];

export interface FastBackendOptions {
  /** KV-cache capacity in positions; defaults to (and is capped by) the model's maxPositions. */
  contextLength?: number;
  /** Compute threads including the caller; 0 or absent = cores - 1 (at least 1). */
  threads?: number;
  /** How the matrices are held in memory (norms, biases and the embedding stay f32). */
  weightFormat?: WeightFormat;
  /** Most tokens run through the layers at once; longer prompts go in chunks of this size. */
  chunk?: number;
}

/** One linear layer packed in the shared memory: out (N, OC) = inp (N, C) . W^T + b. */
interface Linear {
  format: WeightFormat;
  /** f32 in packF32Forward's layout (every f32 weight whose width is a multiple of 4). */
  packed: boolean;
  w: number; // (OC, C) f32 or f16 bits; packed f32 (ceil(OC/4), C/4, 4, 4); Q8_0 int8 (ceil(OC/4), C/32, 4, 32) as packQ8Forward
  s: number; // Q8_0 scales (ceil(OC/4), C/32, 4), else 0
  bias: number; // (OC) f32, or 0
  C: number;
  OC: number;
}

/** A norm's weights in the shared memory (the kernel reads them there): byte offsets, bias 0 if none. */
interface NormWeights {
  w: number; // (C)
  b: number; // (C) or 0
}

interface LayerWeights {
  ln1: NormWeights;
  ln2: NormWeights;
  qkv: Linear;
  attnOut: Linear;
  fc: Linear;
  proj: Linear;
}

/** Byte offsets of the activation buffers, each for `rows` tokens. */
interface Acts {
  x: number; // (R, C) residual stream
  xn: number; // (R, C)
  qkv: number; // (R, QKV)
  att: number; // (R, NH HD)
  fc: number; // (R, FF or 2 FF)
  act: number; // (R, FF)
  xq: number; // (R, max width) int16 Q8_0 input
  xs: number; // (R, max width / 32)
  logits: number; // (LOGIT_ROWS, V)
  scratch: number; // (threads, attention scratch)
  wbuf: number; // (threads, 32, max width) packed weight blocks as row-major f32 for prefill, or 0
}

const LOGIT_ROWS = 8;

/**
 * Tokens from which a product with packed weights expands blocks of 32 rows to row-major f32
 * (matmul_q8_f32, matmul_f32p_blocks) for the f32 kernel's 4-row tiles, rather than streaming
 * the packed groups once per token (matmul_q8, matmul_f32p); for Q8_0 the tiles also beat the
 * integer dot, whose widened weights leave no registers for tiles.
 */
const TILED_ROWS = 4;

/**
 * Multiply-adds a thread must get before a job is split: waking a thread and waiting for it
 * costs microseconds (much more on a busy machine), so small products run on the caller alone.
 */
const MIN_MACS_PER_THREAD = 1 << 17;

/**
 * Attention's floor is lower: it follows a product, so the threads are still polling for the
 * next job and no one needs waking (12 heads x 64 at position 128 on 2 threads: 49 us a layer
 * on the caller alone, 30 us split by heads).
 */
const MIN_ATTENTION_MACS_PER_THREAD = 1 << 14;

function bytesPerWeight(format: WeightFormat): number {
  return format === 'f32' ? 4 : format === 'f16' ? 2 : 1;
}

export class FastBackend implements InferenceBackend {
  readonly name = 'js' as const;
  readonly config: ModelConfig;
  readonly contextLength: number;
  readonly weightFormat: WeightFormat;
  readonly threads: number;
  /** Bytes of weights the kernels stream per decoded token (the bandwidth bound's numerator). */
  readonly weightBytes: number;
  private readonly model: Model;
  private readonly pool: ComputePool;
  private readonly f32: Float32Array;
  private readonly layers: LayerWeights[];
  private readonly lnf: NormWeights;
  private readonly lmHead: Linear;
  private readonly acts: Acts;
  private readonly rows: number;
  private readonly kCache: number; // (L, KVH, ctx, HD)
  private readonly vCache: number; // (L, KVH, ctx, HD)
  private readonly rope: { cos: Float32Array; sin: Float32Array } | null;
  private readonly scores: Float32Array; // (ctx) for the reference attention when capturing
  private filled = 0;

  private constructor(model: Model, pool: ComputePool, plan: Plan) {
    this.model = model;
    this.config = model.config;
    this.pool = pool;
    this.threads = pool.threads;
    this.contextLength = plan.ctx;
    this.weightFormat = plan.format;
    this.rows = plan.rows;
    this.layers = plan.layers;
    this.lnf = plan.lnf;
    this.lmHead = plan.lmHead;
    this.acts = plan.acts;
    this.kCache = plan.kCache;
    this.vCache = plan.vCache;
    this.weightBytes = plan.weightBytes;
    this.f32 = new Float32Array(pool.memory.buffer);
    const c = model.config;
    this.rope = c.positions === 'rope' ? ropeTables(this.contextLength, c.headDim, c.ropeTheta, c.ropeScaling) : null;
    this.scores = new Float32Array(this.contextLength);
    packWeights(model, plan, pool.memory);
  }

  static async create(model: Model, opts: FastBackendOptions = {}): Promise<FastBackend> {
    const threads = poolThreads(opts.threads);
    const plan = planMemory(model.config, opts, threads);
    const memory = createSharedMemory(plan.bytes);
    const pool = await ComputePool.create(memory, threads);
    return new FastBackend(model, pool, plan);
  }

  releaseCache(): void {
    this.filled = 0;
  }

  dispose(): void {
    this.filled = 0;
    void this.pool.dispose();
  }

  async forward(tokens: Int32Array, pos: number, opts: ForwardOptions = {}): Promise<ForwardResult> {
    return this.forwardSync(tokens, pos, opts);
  }

  forwardSync(tokens: Int32Array, pos: number, opts: ForwardOptions = {}): ForwardResult {
    const c = this.config;
    const T = tokens.length;
    checkForwardInputs(tokens, pos, this.filled, this.contextLength, c.vocabSize);
    const V = c.vocabSize;
    const keys = pos + T;
    const logits = new Float32Array((opts.allLogits ? T : 1) * V);
    const attention = opts.captureAttention ? new Float32Array(c.nLayer * c.nHead * T * keys) : null;
    // The cache only counts positions whose keys are written; a failed chunk leaves it consistent.
    this.filled = Math.min(this.filled, pos);
    for (let t0 = 0; t0 < T; t0 += this.rows) {
      const t1 = Math.min(T, t0 + this.rows);
      this.layersForward(tokens.subarray(t0, t1), pos + t0, attention, t0, T, keys);
      this.filled = pos + t1;
      if (opts.allLogits) this.logitsForward(logits, t0, 0, t1 - t0);
      else if (t1 === T) this.logitsForward(logits, 0, t1 - t0 - 1, 1);
    }
    return attention ? { logits, attention } : { logits };
  }

  /** Runs tokens (Tc) at [pos, pos + Tc) through every layer, leaving lnf(x) in acts.xn. */
  private layersForward(tokens: Int32Array, pos: number, attention: Float32Array | null, t0: number, T: number, keys: number): void {
    const c = this.config;
    const Tc = tokens.length;
    const C = c.hidden;
    const QKV = qkvWidth(c);
    const HD = c.headDim;
    const f = this.f32;
    const a = this.acts;
    const view = (at: number, n: number): Float32Array => f.subarray(at / 4, at / 4 + n);
    const x = view(a.x, Tc * C);
    const qkv = view(a.qkv, Tc * QKV);
    const perLayer = c.nKvHead * this.contextLength * HD * 4;
    embeddingForward(x, tokens, this.model.views.wte, this.model.views.wpe, 1, tokens.length, this.config.hidden, pos);
    for (let l = 0; l < c.nLayer; l++) {
      const w = this.layers[l]!;
      const kL = this.kCache + l * perLayer;
      const vL = this.vCache + l * perLayer;
      // x = x + attn(norm1(x))
      this.norm(w.ln1, Tc);
      this.linear(a.qkv, a.xn, w.qkv, Tc, MatmulMode.STORE);
      if (this.rope) {
        ropeForward(qkv, this.rope.cos, this.rope.sin, pos, Tc, QKV, 0, c.nHead, HD);
        ropeForward(qkv, this.rope.cos, this.rope.sin, pos, Tc, QKV, c.nHead * HD, c.nKvHead, HD);
      }
      this.storeKV(kL, vL, a.qkv, pos, Tc);
      if (attention) {
        this.captureAttention(attention, l, kL, vL, pos, Tc, t0, T, keys);
      } else {
        const args = [a.att, a.qkv, kL, vL, a.scratch, pos, c.nHead, c.nKvHead, HD, this.contextLength, QKV, c.slidingWindow ?? 0];
        this.pool.run('attention', args, Tc * c.nHead, 1, Math.ceil(MIN_ATTENTION_MACS_PER_THREAD / (2 * (pos + Tc) * HD)));
      }
      this.linear(a.x, a.att, w.attnOut, Tc, MatmulMode.ACCUMULATE);
      // x = x + mlp(norm2(x))
      this.norm(w.ln2, Tc);
      if (c.mlp === 'swiglu') {
        this.linear(a.fc, a.xn, w.fc, Tc, MatmulMode.STORE);
        swigluForward(view(a.act, Tc * c.ffn), view(a.fc, Tc * 2 * c.ffn), Tc, c.ffn);
        this.linear(a.x, a.act, w.proj, Tc, MatmulMode.ACCUMULATE);
      } else {
        this.linear(a.fc, a.xn, w.fc, Tc, MatmulMode.GELU);
        this.linear(a.x, a.fc, w.proj, Tc, MatmulMode.ACCUMULATE);
      }
    }
    this.norm(this.lnf, Tc);
  }

  /** xn (Tc, C) = norm(x) with the model's kind of norm (the kernel, on the pool for a long chunk). */
  private norm(L: NormWeights, Tc: number): void {
    const c = this.config;
    const args = [this.acts.xn, this.acts.x, L.w, L.b, c.hidden, f32Bits(c.normEps), c.norm === 'rmsnorm' ? 1 : 0];
    this.pool.run('norm', args, Tc, 1, Math.ceil(MIN_MACS_PER_THREAD / c.hidden));
  }

  /** Logits of rows [r0, r0 + n) of the chunk's normalised states into out rows [o0, o0 + n). */
  private logitsForward(out: Float32Array, o0: number, r0: number, n: number): void {
    const V = this.config.vocabSize;
    const C = this.config.hidden;
    for (let r = 0; r < n; r += LOGIT_ROWS) {
      const m = Math.min(LOGIT_ROWS, n - r);
      this.linear(this.acts.logits, this.acts.xn + (r0 + r) * C * 4, this.lmHead, m, MatmulMode.STORE);
      out.set(this.f32.subarray(this.acts.logits / 4, this.acts.logits / 4 + m * V), (o0 + r) * V);
    }
  }

  /** out (N, OC) = inp (N, C) . W^T + b on the pool, in the layer's weight format, stored by `mode` (MatmulMode). */
  private linear(out: number, inp: number, L: Linear, N: number, mode: number): void {
    const minRows = Math.ceil(MIN_MACS_PER_THREAD / (N * L.C));
    if (L.format === 'f32' && L.packed) {
      if (N >= TILED_ROWS) this.pool.run('matmul_f32p_blocks', [out, inp, L.w, L.bias, this.acts.wbuf, N, L.C, L.OC, mode], L.OC, 32, minRows);
      else this.pool.run('matmul_f32p', [out, inp, L.w, L.bias, N, L.C, L.OC, mode], L.OC, F32_PACK_ROWS, minRows);
    } else if (L.format === 'f32') {
      this.pool.run('matmul_f32', [out, inp, L.w, L.bias, N, L.C, L.OC, mode], L.OC, 4, minRows);
    } else if (L.format === 'f16') {
      this.pool.run('matmul_f16', [out, inp, L.w, L.bias, N, L.C, L.OC, mode], L.OC, 2, minRows);
    } else {
      const { xq, xs, wbuf } = this.acts;
      if (N >= TILED_ROWS) {
        this.pool.run('matmul_q8_f32', [out, inp, L.w, L.s, L.bias, wbuf, N, L.C, L.OC, mode], L.OC, 32, minRows);
        return;
      }
      this.pool.run('quantize_q8', [xq, xs, inp, N, L.C], N, 1, Math.ceil(MIN_MACS_PER_THREAD / L.C));
      this.pool.run('matmul_q8', [out, xq, xs, L.w, L.s, L.bias, N, L.C, L.OC, mode], L.OC, Q8_PACK_ROWS, minRows);
    }
  }

  private captureAttention(attention: Float32Array, l: number, kL: number, vL: number, pos: number, Tc: number, t0: number, T: number, keys: number): void {
    const c = this.config;
    const NH = c.nHead;
    const chunkKeys = pos + Tc;
    const probs = new Float32Array(NH * Tc * chunkKeys);
    const f = this.f32;
    const kvLen = c.nKvHead * this.contextLength * c.headDim;
    attentionForward(
      f.subarray(this.acts.att / 4, this.acts.att / 4 + Tc * NH * c.headDim), probs, f.subarray(this.acts.qkv / 4),
      f.subarray(kL / 4, kL / 4 + kvLen), f.subarray(vL / 4, vL / 4 + kvLen), this.scores,
      pos, Tc, NH, c.nKvHead, c.headDim, this.contextLength, qkvWidth(c), c.slidingWindow,
    );
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < Tc; t++) {
        const dst = ((l * NH + h) * T + t0 + t) * keys;
        attention.set(probs.subarray((h * Tc + t) * chunkKeys, (h * Tc + t + 1) * chunkKeys), dst);
      }
    }
  }



  /** Copies the new keys and values (already rotated) at byte offset qkv into the cache at positions [pos, pos + T). */
  private storeKV(kL: number, vL: number, qkv: number, pos: number, T: number): void {
    const c = this.config;
    const HD = c.headDim;
    const QKV = qkvWidth(c);
    const kCol = qkv / 4 + c.nHead * HD;
    const vCol = kCol + c.nKvHead * HD;
    // copyWithin: no view per head and position (decoding copies 2 x nKvHead x nLayer rows a token).
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < c.nKvHead; h++) {
        const dst = (h * this.contextLength + pos + t) * HD;
        const src = t * QKV + h * HD;
        this.f32.copyWithin(kL / 4 + dst, src + kCol, src + kCol + HD);
        this.f32.copyWithin(vL / 4 + dst, src + vCol, src + vCol + HD);
      }
    }
  }

}

/** Where everything goes in the shared memory, decided before the memory is made. */
interface Plan {
  bytes: number;
  ctx: number;
  rows: number;
  format: WeightFormat;
  layers: LayerWeights[];
  lnf: NormWeights;
  lmHead: Linear;
  acts: Acts;
  kCache: number;
  vCache: number;
  weightBytes: number;
}

function planMemory(c: ModelConfig, opts: FastBackendOptions, threads: number): Plan {
  const format = opts.weightFormat ?? 'f32';
  if (!WEIGHT_FORMATS.includes(format)) throw new RangeError(`Unknown weight format "${String(format)}"; use one of ${WEIGHT_FORMATS.join(', ')}.`);
  const ctx = Math.max(1, Math.min(c.maxPositions, opts.contextLength ?? c.maxPositions));
  const rows = Math.max(1, Math.min(ctx, opts.chunk ?? 256));
  const arena = new Arena();
  let weightBytes = 0;
  const linear = (OC: number, C: number, hasBias: boolean): Linear => {
    // Q8_0 blocks run along the input width; a width that is not a multiple of 32 stays f32.
    const fmt: WeightFormat = format === 'q8_0' && C % Q8_BLOCK !== 0 ? 'f32' : format;
    const packed = fmt === 'f32' && C % 4 === 0;
    // Packed layouts hold whole groups of 4 rows (the last one zero-filled).
    const group = fmt === 'q8_0' ? Q8_PACK_ROWS : packed ? F32_PACK_ROWS : 1;
    const rows = Math.ceil(OC / group) * group;
    const wBytes = rows * C * bytesPerWeight(fmt);
    const sBytes = fmt === 'q8_0' ? (rows * C * 4) / Q8_BLOCK : 0;
    weightBytes += wBytes + sBytes;
    return { format: fmt, packed, w: arena.alloc(wBytes), s: sBytes ? arena.alloc(sBytes) : 0, bias: hasBias ? arena.alloc(OC * 4) : 0, C, OC };
  };
  const QKV = qkvWidth(c);
  const FCW = fcWidth(c);
  const attnW = c.nHead * c.headDim;
  // RMSNorm has no bias; a LayerNorm without one gets zeros.
  const norm = (): NormWeights => ({ w: arena.alloc(c.hidden * 4), b: c.norm === 'layernorm' ? arena.alloc(c.hidden * 4) : 0 });
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    layers.push({
      ln1: norm(),
      ln2: norm(),
      qkv: linear(QKV, c.hidden, c.qkvBias),
      attnOut: linear(c.hidden, attnW, c.attnOutBias),
      fc: linear(FCW, c.hidden, c.mlpBias),
      proj: linear(c.hidden, c.ffn, c.mlpBias),
    });
  }
  const lnf = norm();
  const lmHead = linear(c.vocabSize, c.hidden, false);
  const kvBytes = c.nLayer * c.nKvHead * ctx * c.headDim * 4;
  const kCache = arena.alloc(kvBytes);
  const vCache = arena.alloc(kvBytes);
  const maxIn = Math.max(c.hidden, attnW, c.ffn);
  const acts: Acts = {
    x: arena.alloc(rows * c.hidden * 4),
    xn: arena.alloc(rows * c.hidden * 4),
    qkv: arena.alloc(rows * QKV * 4),
    att: arena.alloc(rows * attnW * 4),
    fc: arena.alloc(rows * FCW * 4),
    act: arena.alloc(rows * c.ffn * 4),
    xq: arena.alloc(rows * maxIn * 2),
    xs: arena.alloc(Math.ceil((rows * maxIn) / Q8_BLOCK) * 4),
    logits: arena.alloc(LOGIT_ROWS * c.vocabSize * 4),
    scratch: arena.alloc(threads * attentionScratchBytes(c.headDim)),
    wbuf: format === 'f16' ? 0 : arena.alloc(threads * blockScratchBytes(maxIn)),
  };
  return { bytes: arena.size, ctx, rows, format, layers, lnf, lmHead, acts, kCache, vCache, weightBytes };
}

/** Copies (and converts) the model's weights into their planned places. */
function packWeights(model: Model, plan: Plan, memory: WebAssembly.Memory): void {
  const buf = memory.buffer as unknown as ArrayBuffer;
  const put = (L: Linear, w: Float32Array, b: Float32Array | null): void => {
    const n = L.OC * L.C;
    if (L.packed) packF32Forward(new Float32Array(buf, L.w, Math.ceil(L.OC / F32_PACK_ROWS) * F32_PACK_ROWS * L.C), w, L.OC, L.C);
    else if (L.format === 'f32') new Float32Array(buf, L.w, n).set(w);
    else if (L.format === 'f16') f32ToF16(new Uint16Array(buf, L.w, n), w);
    else {
      const padded = Math.ceil(L.OC / Q8_PACK_ROWS) * Q8_PACK_ROWS * L.C;
      putQ8(new Int8Array(buf, L.w, padded), new Float32Array(buf, L.s, padded / Q8_BLOCK), w, L.OC, L.C);
    }
    if (b !== null && L.bias) new Float32Array(buf, L.bias, L.OC).set(b);
  };
  const putNorm = (L: NormWeights, w: Float32Array, b: Float32Array | null): void => {
    new Float32Array(buf, L.w, w.length).set(w);
    if (b !== null && L.b) new Float32Array(buf, L.b, b.length).set(b);
  };
  const v = model.views;
  putNorm(plan.lnf, v.lnfw, v.lnfb);
  for (let l = 0; l < plan.layers.length; l++) {
    const p = v.layers[l]!;
    const w = plan.layers[l]!;
    putNorm(w.ln1, p.ln1w, p.ln1b);
    putNorm(w.ln2, p.ln2w, p.ln2b);
    put(w.qkv, p.qkvw, p.qkvb);
    put(w.attnOut, p.attnOutW, p.attnOutB);
    put(w.fc, p.fcw, p.fcb);
    put(w.proj, p.projw, p.projb);
  }
  put(plan.lmHead, v.lmHead, null);
}

/** Quantizes w (OC, C) to Q8_0 into the packed layout, 4 rows at a time (no full-size copy). */
function putQ8(wp: Int8Array, sp: Float32Array, w: Float32Array, OC: number, C: number): void {
  const G = Q8_PACK_ROWS;
  const q = new Int8Array(G * C);
  const s = new Float32Array((G * C) / Q8_BLOCK);
  for (let o = 0; o < OC; o += G) {
    const rows = Math.min(G, OC - o);
    quantizeQ8Forward(q, s, w.subarray(o * C, (o + rows) * C), rows, C);
    packQ8Forward(wp.subarray(o * C, (o + G) * C), sp.subarray((o * C) / Q8_BLOCK, ((o + G) * C) / Q8_BLOCK), q, s, rows, C);
  }
}

export function createFastBackend(model: Model, opts?: FastBackendOptions): Promise<FastBackend> {
  return FastBackend.create(model, opts);
}
