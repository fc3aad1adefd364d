// The fast JS backend: the same forward pass as ReferenceBackend (the reference), with the matrix
// products (GELU fused into the MLP's first), attention and norms in WebAssembly SIMD kernels
// split across a pool of threads.
// Weights are packed once at load into one shared memory, in f32, f16, Q8_0 or (under 'auto')
// the file's own Q4_0, Q5_0 and K-quant blocks (packWeights.ts); activations
// and the KV cache (layer, kv_head, position, head_dim), f32 or f16, live there too, so no thread copies.
// Embeddings, RoPE and SwiGLU stay in TypeScript (O(T C) work, read in place).
import { qkvWidth, fcWidth, type ModelConfig } from '../model/config';
import type { Model, WeightPart } from '../model/model';
import { ropeForward, ropeTables } from '../kernels/rope';
import { attentionForward } from '../kernels/attention';
import { Q8_BLOCK, Q8_PACK_ROWS } from '../kernels/quantize';
import { F32_PACK_ROWS } from '../kernels/matmul';
import { dequantizeRows } from '../formats/formats';
import { f16ToF32, f32BitsToF16Bits } from '../formats/half';
import { Arena, createSharedMemory, attentionParts, attentionScratchBytes, blockScratchBytes, f32Bits, MatmulMode } from '../kernels/wasm/kernels';
import { ComputePool, inferenceKernels, poolThreads } from './pool';
import { restoreCacheOf, saveCacheOf, type CacheView, type KvSnapshot } from './kvSnapshot';
import type { KvLayers, KvRowStore } from './kvRows';
import { checkForwardInputs, type ForwardOptions, type ForwardResult, type InferenceBackend } from './backend';
import { isKQuant, isQ45, packSegment, planLinear, vectorAsF32, Q45_TYPE, WEIGHT_FORMATS, type KernelFormat, type Linear, type PackStage, type Segment, type WeightFormat } from './packWeights';
import { Q4K_WINDOW, Q6K_WINDOW, Q8K_SUMS, QK } from '../kernels/quantK';
import { Q45 } from '../kernels/quant45';

export { WEIGHT_FORMATS, type KernelFormat, type WeightFormat } from './packWeights';

export interface FastBackendOptions {
  /** KV-cache capacity in positions; defaults to (and is capped by) the model's maxPositions. */
  contextLength?: number;
  /** Compute threads including the caller; 0 or absent = cores - 1 (at least 1). */
  threads?: number;
  /** How the matrices are held in memory ('auto': as near the file's formats as the kernels allow); norms and biases are f32. */
  weightFormat?: WeightFormat | 'auto';
  /** Most tokens run through the layers at once; longer prompts go in chunks of this size. */
  chunk?: number;
  /** false runs the portable kernels even where the engine has relaxed SIMD (kernels.ts). */
  relaxedSimd?: boolean;
  /**
   * The KV cache's precision: 'f16' halves its memory and what attention streams per key (keys
   * and values rounded to f16 as they are stored; beyond +-65504 they become infinite); 'f32' by default.
   */
  kvCache?: KvCacheFormat;
}

export const KV_CACHE_FORMATS = ['f32', 'f16'] as const;
export type KvCacheFormat = (typeof KV_CACHE_FORMATS)[number];

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
  segOut: number; // (R, max segment rows) one segment's output, before it is placed in its columns
  act: number; // (R, FF) in fc's region (planMemory)
  xq: number; // (R, max width) int16 Q8_0 or Q8_K input, or quantize_q8_7's bytes (ceil(R/4) 4 max width <= 2 R max width for R >= 3), or quantize_q8_i8's
  xs: number; // (R, max width / 32) f32 Q8_0 scales, or (R, max width / 256) Q8_K scales
  xb: number; // (R, max width / 256, 16) int16 Q8_K input sums, or (R, max width / 32) int32 Q8_0 block sums (quantize_q8_i8): as many bytes
  xm: number; // (R, max width / 32) f32 7-bit input's block sums times their scales (quantize_q8_7)
  logits: number; // (LOGIT_ROWS, V) in fc's region
  scratch: number; // (threads, attention scratch)
  wbuf: number; // (threads, 32, max width) packed weight blocks as row-major f32 for prefill, or 0
}

const LOGIT_ROWS = 8;

/** The unit touch_pages works in (one WebAssembly page), and the least a thread is worth waking for (4 MiB). */
const TOUCH_UNIT = 65536;
const MIN_TOUCH_UNITS_PER_THREAD = 64;

/** The staging area a Q8_0 file's matrices are read into before the threads pack them, and the least share of a pack worth a thread. */
const STAGING_BYTES = 4 << 20;
const MIN_PACK_GROUPS_PER_THREAD = 16;

/**
 * FastBackend.quantized's marks for xq/xs holding quantize_q8's layout, or quantize_q8_7's (the
 * Q8_K ones are their window widths, 16 and 64).
 */
const Q8_0_LAYOUT = 1;
const Q8_7_LAYOUT = 2;
/** xq/xs/xb holding quantize_q8_i8's layout (Q8_0's values as int8 in order, with block sums). */
const Q8_0_I8_LAYOUT = 3;

/**
 * Tokens from which a product with packed weights expands blocks of 32 rows to row-major f32
 * (matmul_q8_f32, matmul_f32p_blocks) for the f32 kernel's 4-row tiles, rather than streaming
 * the packed groups once per token (matmul_q8, matmul_f32p); for Q8_0 the tiles also beat the
 * integer dot, whose widened weights leave no registers for tiles.
 */
const TILED_ROWS = 4;

/**
 * The same threshold for the K-quants, whose expansion to f32 costs more and whose integer
 * products keep up with the tiles longer. Measured (1 thread, 1536 -> 1024, microseconds for
 * N = 4 / 8 / 16 tokens): Q4_K integer 287 / 584 / 1208 against tiles 610 / 887 / 1465 (equal
 * near 64); Q6_K 554 / 1126 / 2305 against 841 / 1129 / 1706. Q5_K's integer products sit
 * between the two (more work per weight than Q4_K, its expansion as dear).
 */
const K_TILED_ROWS = { q4_k: 16, q5_k: 16, q6_k: 8 } as const;

/**
 * With relaxed SIMD, the tokens from which the tiles beat the decode kernels, which stream the
 * packed weights once per token: the int8 tiles (matmul_*_i8tiles, bands re-laid per call) for
 * Q8_0, Q4_0, Q5_0, Q4_K and Q6_K, the f32 tiles for Q5_K. Measured (1 thread, 1536 -> 1536, microseconds,
 * decode against tiles): Q8_0 for N = 6 / 8 / 12 tokens 585 / 791 / 1105 against 652 / 673 /
 * 832; the K-quants' int8 decode kernels for N = 16 / 24 / 32: Q4_K 1177 / 1770 / 2394 against
 * 1392 / 1878 / 2344, Q5_K 2071 / 3064 / 4259 against 2365 / 3131 / 3913, Q6_K 1971 / 2929 /
 * 4012 against 2103 / 2620 / 3141. Q4_0 and Q5_0 (1 thread, 896 -> 4864, load 3): Q4_0 for N = 16
 * / 20 / 24 2182 / 2707 / 3243 against 2347 / 2644 / 3065, Q5_0 for N = 5 / 6 / 8 1134 / 1367 /
 * 1808 against 1381 / 1367 / 1376.
 */
const RELAXED_TILED_ROWS = { q8_0: 8, q4_0: 20, q5_0: 7, q4_k: 32, q5_k: 24, q6_k: 20 } as const;

/**
 * matmul_qk_f32's kind and the decode kernel of each K-quant format, and its relaxed-SIMD twin
 * on the int8 input (quantize_q8k_i8; same results bit for bit).
 */
const K_KERNELS = {
  q4_k: { kind: 0, op: 'matmul_q4k', i8op: 'matmul_q4k_i8', window: Q4K_WINDOW },
  q5_k: { kind: 2, op: 'matmul_q5k', i8op: 'matmul_q5k_i8', window: Q4K_WINDOW },
  q6_k: { kind: 1, op: 'matmul_q6k', i8op: 'matmul_q6k_i8', window: Q6K_WINDOW },
} as const;

/** Added to a Q8_K window in FastBackend.quantized when xq holds quantize_q8k_i8's bytes. */
const Q8K_I8_LAYOUT = 256;

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

export class FastBackend implements InferenceBackend, KvRowStore {
  readonly name = 'js' as const;
  readonly config: ModelConfig;
  readonly contextLength: number;
  /** The formats the matrices run in (several when the file mixes them). */
  readonly weightFormats: readonly KernelFormat[];
  readonly threads: number;
  readonly kvCache: KvCacheFormat;
  /** Whether the kernels are the relaxed-SIMD build (Q8_0, Q4_0, Q5_0, Q4_K and Q6_K prefill then run the int8 tiles, Q4_0, Q5_0 and K-quant decode the int8 dots). */
  readonly relaxedSimd: boolean;
  /** Bytes of weights the kernels stream per decoded token (the bandwidth bound's numerator). */
  readonly weightBytes: number;
  /** Bytes of its shared memory (weights as packed, KV cache, one chunk's activations), all resident once loaded. */
  readonly memoryBytes: number;
  private readonly pool: ComputePool;
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array; // the same memory, for f32 bits
  private readonly u16: Uint16Array; // the same memory, for an f16 cache
  private readonly layers: LayerWeights[];
  private readonly lnf: NormWeights;
  private readonly lmHead: Linear;
  private readonly acts: Acts;
  private readonly rows: number;
  private readonly kCache: number; // (L, KVH, ctx, HD) f32 or f16
  private readonly vCache: number; // (L, KVH, ctx, HD) f32 or f16
  private readonly rope: { cos: Float32Array; sin: Float32Array } | null;
  private readonly scores: Float32Array; // (ctx) for the reference attention when capturing
  private readonly wte: readonly WeightPart[]; // (V, C) in the file's formats: rows are looked up, not multiplied
  private readonly wpe: Float32Array | null; // (maxPositions, C)
  private filled = 0;
  /**
   * The input layout xq/xs/xb hold for the layer being multiplied (0: none, Q8_0_LAYOUT, or a
   * Q8_K window, plus Q8K_I8_LAYOUT for int8 values); a layer's segments share its input, so
   * each layout is quantized once.
   */
  private quantized = 0;

  private constructor(model: Model, pool: ComputePool, plan: Plan) {
    this.config = model.config;
    this.pool = pool;
    this.threads = pool.threads;
    this.relaxedSimd = pool.has('matmul_q8_i8tiles');
    this.contextLength = plan.ctx;
    this.weightFormats = plan.formats;
    this.rows = plan.rows;
    this.layers = plan.layers;
    this.lnf = plan.lnf;
    this.lmHead = plan.lmHead;
    this.acts = plan.acts;
    this.kCache = plan.kCache;
    this.vCache = plan.vCache;
    this.weightBytes = plan.weightBytes;
    this.memoryBytes = plan.bytes;
    this.f32 = new Float32Array(pool.memory.buffer);
    this.u32 = new Uint32Array(pool.memory.buffer);
    this.u16 = new Uint16Array(pool.memory.buffer);
    this.kvCache = plan.kvCache;
    const c = model.config;
    this.rope = c.positions === 'rope' ? ropeTables(this.contextLength, c.headDim, c.ropeTheta, c.ropeScaling) : null;
    this.scores = new Float32Array(this.contextLength);
    // A file's embedding rows are read as tokens need them (one row each); others are read once here.
    this.wte = model.parts('wte').map((p) => (p.readRows !== undefined ? p : { type: p.type, rows: p.rows, cols: p.cols, data: p.data }));
    this.wpe = c.positions === 'learned' ? vectorAsF32(model.parts('wpe'), c.maxPositions * c.hidden) : null;
    // Fresh memory faults in page by page on first write, several microseconds a page on a VM:
    // the threads take those faults together, so the packing below writes to present pages.
    pool.run('touch_pages', [0], Math.ceil(plan.bytes / TOUCH_UNIT), 1, MIN_TOUCH_UNITS_PER_THREAD);
    const stage: PackStage = {
      at: plan.staging,
      bytes: STAGING_BYTES,
      packQ8_0: (dst, src, rows, nb) => pool.run('pack_q8_0', [dst, src, rows, nb], Math.ceil(rows / Q8_PACK_ROWS), 1, MIN_PACK_GROUPS_PER_THREAD),
    };
    packWeights(model, plan, pool.memory, stage);
  }

  /** The one settable format every matrix runs in, or 'mixed' (several formats, or the file's own Q4_0, Q5_0 or K-quant blocks: see weightFormats). */
  get weightFormat(): WeightFormat | 'mixed' {
    const only = this.weightFormats.length === 1 ? this.weightFormats[0]! : 'mixed';
    return only === 'mixed' || isKQuant(only) || isQ45(only) ? 'mixed' : only;
  }

  static async create(model: Model, opts: FastBackendOptions = {}): Promise<FastBackend> {
    const threads = poolThreads(opts.threads);
    const plan = planMemory(model, opts, threads);
    const memory = createSharedMemory(plan.bytes);
    const pool = await ComputePool.create(memory, threads, inferenceKernels(opts.relaxedSimd ?? true));
    try {
      return new FastBackend(model, pool, plan);
    } catch (e) {
      // Packing failed (a model file changed or vanished): the threads go with the memory.
      void pool.dispose();
      throw e;
    }
  }

  releaseCache(): void {
    this.filled = 0;
  }

  dispose(): void {
    this.filled = 0;
    void this.pool.dispose();
  }

  saveCache(n: number): KvSnapshot {
    return saveCacheOf(this.cacheView(), n, this.filled);
  }

  restoreCache(s: KvSnapshot): void {
    this.filled = restoreCacheOf(this.cacheView(), s);
  }

  get cachedPositions(): number {
    return this.filled;
  }

  /** The KV cache in place, per layer (KVH, ctx, HD) f32 or f16 bits, for runtime/phaseSplit.ts to copy rows in and out. */
  kvLayers(positions: number): KvLayers {
    if (positions > this.contextLength) throw new RangeError(`kvLayers: ${positions} positions do not fit the ${this.contextLength}-position cache`);
    const c = this.config;
    const n = c.nKvHead * this.contextLength * c.headDim;
    const buffer = this.pool.memory.buffer;
    const layer = (base: number, l: number): Float32Array | Uint16Array => (this.kvCache === 'f16' ? new Uint16Array(buffer, base + l * n * 2, n) : new Float32Array(buffer, base + l * n * 4, n));
    const layers = Array.from({ length: c.nLayer }, (_, l) => l);
    return { keys: layers.map((l) => layer(this.kCache, l)), values: layers.map((l) => layer(this.vCache, l)), stride: this.contextLength };
  }

  setCachedPositions(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.contextLength)) throw new RangeError(`setCachedPositions: ${n} is not a position count of the ${this.contextLength}-position cache`);
    this.filled = n;
  }

  private cacheView(): CacheView {
    const c = this.config;
    const elementBytes = this.kvCache === 'f16' ? 2 : 4;
    const rows = c.nLayer * c.nKvHead;
    const bytes = rows * this.contextLength * c.headDim * elementBytes;
    const buffer = this.pool.memory.buffer;
    return { keys: new Uint8Array(buffer, this.kCache, bytes), values: new Uint8Array(buffer, this.vCache, bytes), rows, ctx: this.contextLength, headDim: c.headDim, elementBytes };
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
    const perLayer = c.nKvHead * this.contextLength * HD * (this.kvCache === 'f16' ? 2 : 4);
    this.embed(x, tokens, pos);
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
        const G = c.nHead / c.nKvHead;
        const parts = attentionParts(Tc * c.nKvHead, G, this.pool.threads);
        const args = [a.att, a.qkv, kL, vL, a.scratch, pos, c.nHead, c.nKvHead, HD, this.contextLength, QKV, c.slidingWindow ?? 0, this.kvCache === 'f16' ? 1 : 0, parts];
        const itemMacs = 2 * (pos + Tc) * HD * Math.ceil(G / parts);
        this.pool.run('attention', args, Tc * c.nKvHead * parts, 1, Math.ceil(MIN_ATTENTION_MACS_PER_THREAD / itemMacs));
      }
      this.linear(a.x, a.att, w.attnOut, Tc, MatmulMode.ACCUMULATE);
      // x = x + mlp(norm2(x))
      this.norm(w.ln2, Tc);
      if (c.mlp === 'swiglu') {
        this.linear(a.fc, a.xn, w.fc, Tc, MatmulMode.STORE);
        // In place over fc (planMemory), so in row order on this thread alone: row t's output lands on rows already read.
        this.pool.run('swiglu', [a.act, a.fc, c.ffn], Tc, 1, Tc);
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

  /**
   * out (N, OC) = inp (N, C) . W^T + b on the pool, stored by `mode` (MatmulMode). A layer of
   * several segments runs each on its own rows: straight into its columns for one input row,
   * else into segOut and then copied into its columns (only stored layers have several).
   */
  private linear(out: number, inp: number, L: Linear, N: number, mode: number): void {
    this.quantized = 0;
    if (L.segments.length === 1) {
      this.segment(out, inp, L.segments[0]!, L.bias, N, L.C, mode);
      return;
    }
    if (N > 1 && mode !== MatmulMode.STORE) throw new Error('FastBackend: a layer of several segments can only be stored');
    const f = this.f32;
    for (const seg of L.segments) {
      const bias = L.bias ? L.bias + seg.o0 * 4 : 0;
      if (N === 1) {
        this.segment(out + seg.o0 * 4, inp, seg, bias, 1, L.C, mode);
        continue;
      }
      this.segment(this.acts.segOut, inp, seg, bias, N, L.C, MatmulMode.STORE);
      const src = this.acts.segOut / 4;
      for (let n = 0; n < N; n++) f.copyWithin(out / 4 + n * L.OC + seg.o0, src + n * seg.rows, src + (n + 1) * seg.rows);
    }
  }

  /** out (N, rows) = inp (N, C) . W_seg^T + bias on the pool, in the segment's format. */
  private segment(out: number, inp: number, S: Segment, bias: number, N: number, C: number, mode: number): void {
    const OC = S.rows;
    const minRows = Math.ceil(MIN_MACS_PER_THREAD / (N * C));
    if (S.format === 'f32' && S.packed) {
      if (N >= TILED_ROWS) this.pool.run('matmul_f32p_blocks', [out, inp, S.w, bias, this.acts.wbuf, N, C, OC, mode], OC, 32, minRows);
      else this.pool.run('matmul_f32p', [out, inp, S.w, bias, N, C, OC, mode], OC, F32_PACK_ROWS, minRows);
    } else if (S.format === 'f32') {
      this.pool.run('matmul_f32', [out, inp, S.w, bias, N, C, OC, mode], OC, 4, minRows);
    } else if (S.format === 'f16') {
      this.pool.run('matmul_f16', [out, inp, S.w, bias, N, C, OC, mode], OC, 2, minRows);
    } else if (isQ45(S.format)) {
      const kind = Q45[Q45_TYPE[S.format]].kind;
      const { xq, xs, xb, wbuf } = this.acts;
      if (this.relaxedSimd && N >= RELAXED_TILED_ROWS[S.format]) {
        this.quantize7(inp, N, C);
        this.pool.run('matmul_q45_i8tiles', [out, xq, xs, S.w, S.s, bias, wbuf, N, C, OC, mode, kind], OC, 32, minRows);
      } else if (!this.relaxedSimd && N >= TILED_ROWS) {
        this.pool.run('matmul_q45_f32', [out, inp, S.w, S.s, bias, wbuf, N, C, OC, mode, kind], OC, 32, minRows);
      } else if (this.relaxedSimd) {
        if (this.quantized !== Q8_0_I8_LAYOUT) this.pool.run('quantize_q8_i8', [xq, xs, xb, inp, N, C], N, 1, Math.ceil(MIN_MACS_PER_THREAD / C));
        this.quantized = Q8_0_I8_LAYOUT;
        this.pool.run('matmul_q45_i8', [out, xq, xs, xb, S.w, S.s, bias, N, C, OC, mode, kind], OC, Q8_PACK_ROWS, minRows);
      } else {
        if (this.quantized !== Q8_0_LAYOUT) this.pool.run('quantize_q8', [xq, xs, inp, N, C], N, 1, Math.ceil(MIN_MACS_PER_THREAD / C));
        this.quantized = Q8_0_LAYOUT;
        this.pool.run('matmul_q45', [out, xq, xs, S.w, S.s, bias, N, C, OC, mode, kind], OC, Q8_PACK_ROWS, minRows);
      }
    } else if (isKQuant(S.format)) {
      // Prefill: blocks of rows expanded to f32 for the tiles; decode: Q8_K integer products.
      const k = K_KERNELS[S.format];
      const { xq, xs, xb, xm, wbuf } = this.acts;
      const tiled = N >= (this.relaxedSimd ? RELAXED_TILED_ROWS : K_TILED_ROWS)[S.format];
      if (S.format === 'q4_k' && tiled && this.relaxedSimd) {
        this.quantize7(inp, N, C);
        this.pool.run('matmul_q4k_i8tiles', [out, xq, xs, xm, S.w, S.s, bias, wbuf, N, C, OC, mode], OC, 32, minRows);
        return;
      }
      if (S.format === 'q6_k' && tiled && this.relaxedSimd) {
        this.quantize7(inp, N, C);
        this.pool.run('matmul_q6k_i8tiles', [out, xq, xs, S.w, S.s, bias, wbuf, N, C, OC, mode], OC, 32, minRows);
        return;
      }
      if (tiled) {
        this.pool.run('matmul_qk_f32', [out, inp, S.w, S.s, bias, wbuf, N, C, OC, mode, k.kind], OC, 32, minRows);
        return;
      }
      const layout = this.relaxedSimd ? k.window + Q8K_I8_LAYOUT : k.window;
      const quantize = this.relaxedSimd ? 'quantize_q8k_i8' : 'quantize_q8k';
      if (this.quantized !== layout) this.pool.run(quantize, [xq, xs, xb, inp, N, C, k.window], N, 1, Math.ceil(MIN_MACS_PER_THREAD / C));
      this.quantized = layout;
      this.pool.run(this.relaxedSimd ? k.i8op : k.op, [out, xq, xs, xb, S.w, S.s, bias, N, C, OC, mode], OC, 4, minRows);
    } else {
      const { xq, xs, wbuf } = this.acts;
      if (N >= RELAXED_TILED_ROWS.q8_0 && this.relaxedSimd) {
        this.quantize7(inp, N, C);
        this.pool.run('matmul_q8_i8tiles', [out, xq, xs, S.w, S.s, bias, wbuf, N, C, OC, mode], OC, 32, minRows);
        return;
      }
      // With relaxed SIMD the integer decode kernel beats the f32 tiles up to where the int8 tiles take over.
      if (N >= TILED_ROWS && !this.relaxedSimd) {
        this.pool.run('matmul_q8_f32', [out, inp, S.w, S.s, bias, wbuf, N, C, OC, mode], OC, 32, minRows);
        return;
      }
      if (this.quantized !== Q8_0_LAYOUT) this.pool.run('quantize_q8', [xq, xs, inp, N, C], N, 1, Math.ceil(MIN_MACS_PER_THREAD / C));
      this.quantized = Q8_0_LAYOUT;
      this.pool.run('matmul_q8', [out, xq, xs, S.w, S.s, bias, N, C, OC, mode], OC, Q8_PACK_ROWS, minRows);
    }
  }

  /** The 7-bit input of the int8 tiles (quantize_q8_7, block sums included), once per layer input. */
  private quantize7(inp: number, N: number, C: number): void {
    const { xq, xs, xm } = this.acts;
    if (this.quantized !== Q8_7_LAYOUT) this.pool.run('quantize_q8_7', [xq, xs, xm, inp, N, C], N, 1, Math.ceil(MIN_MACS_PER_THREAD / C));
    this.quantized = Q8_7_LAYOUT;
  }

  /** x (T, C) = the tokens' embedding rows (from the file's format) + learned positions. */
  private embed(x: Float32Array, tokens: Int32Array, pos: number): void {
    const C = this.config.hidden;
    for (let t = 0; t < tokens.length; t++) {
      const row = x.subarray(t * C, (t + 1) * C);
      let id = tokens[t]!;
      for (const p of this.wte) {
        if (id < p.rows) {
          if (p.readRows !== undefined) dequantizeRows(p.type, p.readRows(id, 1), 0, 1, C, row);
          else dequantizeRows(p.type, p.data, id, 1, C, row);
          break;
        }
        id -= p.rows;
      }
    }
    const wpe = this.wpe;
    if (wpe === null) return;
    for (let t = 0; t < tokens.length; t++) {
      const at = (pos + t) * C;
      for (let i = 0; i < C; i++) x[t * C + i]! += wpe[at + i]!;
    }
  }

  private captureAttention(attention: Float32Array, l: number, kL: number, vL: number, pos: number, Tc: number, t0: number, T: number, keys: number): void {
    const c = this.config;
    const NH = c.nHead;
    const chunkKeys = pos + Tc;
    const probs = new Float32Array(NH * Tc * chunkKeys);
    const f = this.f32;
    const kvLen = c.nKvHead * this.contextLength * c.headDim;
    const cached = (at: number): Float32Array => {
      if (this.kvCache === 'f32') return f.subarray(at / 4, at / 4 + kvLen);
      const wide = new Float32Array(kvLen);
      f16ToF32(wide, this.u16.subarray(at / 2, at / 2 + kvLen));
      return wide;
    };
    attentionForward(
      f.subarray(this.acts.att / 4, this.acts.att / 4 + Tc * NH * c.headDim), probs, f.subarray(this.acts.qkv / 4),
      cached(kL), cached(vL), this.scores,
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
    const u16 = this.u16;
    const u32 = this.u32;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < c.nKvHead; h++) {
        const dst = (h * this.contextLength + pos + t) * HD;
        const src = t * QKV + h * HD;
        if (this.kvCache === 'f32') {
          this.f32.copyWithin(kL / 4 + dst, src + kCol, src + kCol + HD);
          this.f32.copyWithin(vL / 4 + dst, src + vCol, src + vCol + HD);
          continue;
        }
        for (let i = 0; i < HD; i++) {
          u16[kL / 2 + dst + i] = f32BitsToF16Bits(u32[src + kCol + i]!);
          u16[vL / 2 + dst + i] = f32BitsToF16Bits(u32[src + vCol + i]!);
        }
      }
    }
  }

}

/** Where everything goes in the shared memory, decided before the memory is made. */
interface Plan {
  bytes: number;
  ctx: number;
  rows: number;
  formats: KernelFormat[];
  layers: LayerWeights[];
  lnf: NormWeights;
  lmHead: Linear;
  acts: Acts;
  kCache: number;
  vCache: number;
  kvCache: KvCacheFormat;
  /** STAGING_BYTES for reading matrices before they are packed. */
  staging: number;
  weightBytes: number;
}

function planMemory(model: Model, opts: FastBackendOptions, threads: number): Plan {
  const c = model.config;
  const format = opts.weightFormat ?? 'f32';
  if (format !== 'auto' && !WEIGHT_FORMATS.includes(format)) throw new RangeError(`Unknown weight format "${String(format)}"; use one of auto, ${WEIGHT_FORMATS.join(', ')}.`);
  const ctx = Math.max(1, Math.min(c.maxPositions, opts.contextLength ?? c.maxPositions));
  const rows = Math.max(1, Math.min(ctx, opts.chunk ?? 256));
  const arena = new Arena();
  let weightBytes = 0;
  const linear = (name: string, OC: number, C: number, bias: string | null): Linear => {
    const planned = planLinear(arena, model.parts(name), format, C, OC, bias !== null && model.layout.byName.has(bias));
    weightBytes += planned.bytes;
    return planned.linear;
  };
  const QKV = qkvWidth(c);
  const FCW = fcWidth(c);
  const attnW = c.nHead * c.headDim;
  // RMSNorm has no bias; a LayerNorm without one gets zeros.
  const norm = (): NormWeights => ({ w: arena.alloc(c.hidden * 4), b: c.norm === 'layernorm' ? arena.alloc(c.hidden * 4) : 0 });
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    layers.push({
      ln1: norm(),
      ln2: norm(),
      qkv: linear(p + 'qkv.w', QKV, c.hidden, p + 'qkv.b'),
      attnOut: linear(p + 'attn_out.w', c.hidden, attnW, p + 'attn_out.b'),
      fc: linear(p + 'fc.w', FCW, c.hidden, p + 'fc.b'),
      proj: linear(p + 'proj.w', c.hidden, c.ffn, p + 'proj.b'),
    });
  }
  const lnf = norm();
  const lmHead = linear(c.tiedEmbeddings ? 'wte' : 'lm_head', c.vocabSize, c.hidden, null);
  const kvCache = opts.kvCache ?? 'f32';
  if (!KV_CACHE_FORMATS.includes(kvCache)) throw new RangeError(`Unknown KV cache format "${String(kvCache)}"; use one of ${KV_CACHE_FORMATS.join(', ')}.`);
  const kvBytes = c.nLayer * c.nKvHead * ctx * c.headDim * (kvCache === 'f16' ? 2 : 4);
  const kCache = arena.alloc(kvBytes);
  const vCache = arena.alloc(kvBytes);
  const maxIn = Math.max(c.hidden, attnW, c.ffn);
  const all = [...layers.flatMap((l) => [l.qkv, l.attnOut, l.fc, l.proj]), lmHead];
  const formats = [...new Set(all.flatMap((L) => L.segments.map((s) => s.format)))];
  const segRows = Math.max(...all.filter((L) => L.segments.length > 1).flatMap((L) => L.segments.map((s) => s.rows)), 0);
  // One region, never needed by two at once: the MLP's fc, its gated product written over it
  // (the swiglu kernel, run in row order on one thread, writes each row over rows it has read),
  // the logits (taken from xn after the layers) and the staging area (only while packing,
  // before any forward).
  const mlp = arena.alloc(Math.max(rows * FCW * 4, LOGIT_ROWS * c.vocabSize * 4, STAGING_BYTES));
  const acts: Acts = {
    x: arena.alloc(rows * c.hidden * 4),
    xn: arena.alloc(rows * c.hidden * 4),
    qkv: arena.alloc(rows * QKV * 4),
    att: arena.alloc(rows * attnW * 4),
    fc: mlp,
    segOut: segRows > 0 ? arena.alloc(rows * segRows * 4) : 0,
    act: mlp,
    xq: arena.alloc(rows * maxIn * 2),
    xs: arena.alloc(Math.ceil((rows * maxIn) / Q8_BLOCK) * 4),
    xb: arena.alloc(Math.ceil((rows * maxIn) / QK) * Q8K_SUMS * 2),
    xm: arena.alloc(Math.ceil((rows * maxIn) / Q8_BLOCK) * 4),
    logits: mlp,
    scratch: arena.alloc(threads * attentionScratchBytes(c.headDim, c.nHead / c.nKvHead)),
    wbuf: formats.some((f) => f !== 'f16') ? arena.alloc(threads * blockScratchBytes(maxIn)) : 0,
  };
  return { bytes: arena.size, ctx, rows, formats, layers, lnf, lmHead, acts, kCache, vCache, kvCache, staging: mlp, weightBytes };
}

/** Copies (and converts) the model's weights into their planned places. */
function packWeights(model: Model, plan: Plan, memory: WebAssembly.Memory, stage: PackStage): void {
  const buf = memory.buffer as unknown as ArrayBuffer;
  const c = model.config;
  const vector = (at: number, name: string, n: number): void => {
    if (at !== 0 && model.layout.byName.has(name)) new Float32Array(buf, at, n).set(vectorAsF32(model.parts(name), n));
  };
  const put = (L: Linear, bias: string | null): void => {
    for (const seg of L.segments) packSegment(buf, seg, L.C, stage);
    if (bias !== null) vector(L.bias, bias, L.OC);
  };
  const putNorm = (L: NormWeights, name: string): void => {
    vector(L.w, `${name}.w`, c.hidden);
    vector(L.b, `${name}.b`, c.hidden);
  };
  putNorm(plan.lnf, 'lnf');
  for (let l = 0; l < plan.layers.length; l++) {
    const w = plan.layers[l]!;
    const p = `h.${l}.`;
    putNorm(w.ln1, p + 'ln1');
    putNorm(w.ln2, p + 'ln2');
    put(w.qkv, p + 'qkv.b');
    put(w.attnOut, p + 'attn_out.b');
    put(w.fc, p + 'fc.b');
    put(w.proj, p + 'proj.b');
  }
  put(plan.lmHead, null);
}

export function createFastBackend(model: Model, opts?: FastBackendOptions): Promise<FastBackend> {
  return FastBackend.create(model, opts);
}
