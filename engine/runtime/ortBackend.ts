// The ONNX Runtime backend (ort-cpu, ort-webgpu): the model exported to an ONNX decoder graph
// (onnx/export.ts) and run by onnxruntime-node, behind the same InferenceBackend interface as
// the JS backend, so sampling, prefix reuse and cancellation work unchanged.
//
// The KV cache lives between steps in one of two ways:
//   delta    (CPU) one buffer per layer and kind, owned here and fed as past_key_values.*;
//            GroupQueryAttention reads its first pos rows, and only the T rows it adds come
//            back (new.* outputs), written into the buffer at [pos, pos + T). onnxruntime-node
//            copies every fetched output into a fresh array, so fetching the whole present.*
//            (or binding it onto the past buffer) would copy the cache on every token.
//   chained  (WebGPU) each step's present.* outputs stay on the GPU ('gpu-buffer') and are fed
//            back as the next step's past_key_values.*. A prefix reuse (pos below the cached
//            length) recomputes the kept prefix from its tokens: onnxruntime-node cannot read a
//            GPU tensor back (Tensor.getData aborts the process, seen with 1.30 on an H100/H200),
//            and a GPU prefill of 1,000 tokens takes about a decode step's time anyway.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Model } from '../model/model';
import type { ModelConfig } from '../model/config';
import { exportOnnx, kvNames, type OnnxWeightFormat } from '../onnx/export';
import { exportCached, DATA_FILE, type CachedExport } from '../onnx/cache';
import { checkForwardInputs, type ForwardOptions, type ForwardResult, type InferenceBackend } from './backend';
import type { KvLayers, KvRowStore } from './kvRows';

export type OrtDevice = 'cpu' | 'webgpu';
export type KvMode = 'delta' | 'chained';

export interface OrtBackendOptions {
  device?: OrtDevice;
  /** Intra-op threads; 0 or absent = CPU cores minus one (at least 1). */
  threads?: number;
  /** KV-cache capacity in positions; defaults to (and is capped by) the model's maxPositions. */
  contextLength?: number;
  weightFormat?: OnnxWeightFormat;
  /** Folder of cached exports (onnx/cache.ts); null or absent = export in memory each time. */
  cacheDir?: string | null;
  /** How the KV cache is kept between steps; defaults to delta on CPU, chained on WebGPU. */
  kvMode?: KvMode;
  /** Growth step of the delta-mode KV buffers, in positions (default 128). */
  kvGrowth?: number;
  /**
   * Let idle intra-op threads spin-wait (onnxruntime's default). Off by default: beside the editor,
   * language servers and builds, a spinning thread that loses its core stalls every parallel
   * kernel of a decode step (measured here under load: 2x slower decode with spinning).
   */
  spin?: boolean;
}

/** Where the graph came from and what it cost, for the log and the status. */
export interface OrtLoadInfo {
  device: OrtDevice;
  threads: number;
  spin: boolean;
  weightFormat: OnnxWeightFormat;
  kvMode: KvMode;
  kvGrowth: number;
  /** The cache entry used, or null for an in-memory export. */
  cache: CachedExport | null;
  exportMs: number;
  sessionMs: number;
}

interface KvPair {
  key: ort.Tensor;
  value: ort.Tensor;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class OrtBackend implements InferenceBackend, KvRowStore {
  readonly name: 'ort-cpu' | 'ort-webgpu';
  readonly config: ModelConfig;
  readonly contextLength: number;
  readonly info: OrtLoadInfo;
  private readonly session: ort.InferenceSession;
  private kv: KvPair[] | null = null;
  /** Positions [0, filled) of the cache hold valid keys and values. */
  private filled = 0;
  /** The token at each cached position (chained mode recomputes a reused prefix from them). */
  private readonly history: Int32Array;
  private readonly logitsToKeep = [new ort.Tensor('int64', BigInt64Array.of(0n), []), new ort.Tensor('int64', BigInt64Array.of(1n), [])] as const;

  private constructor(config: ModelConfig, session: ort.InferenceSession, contextLength: number, info: OrtLoadInfo) {
    this.config = config;
    this.session = session;
    this.contextLength = contextLength;
    this.info = info;
    this.name = info.device === 'webgpu' ? 'ort-webgpu' : 'ort-cpu';
    this.history = new Int32Array(contextLength);
  }

  static async create(model: Model, opts: OrtBackendOptions = {}): Promise<OrtBackend> {
    const c = model.config;
    const device = opts.device ?? 'cpu';
    const weightFormat = opts.weightFormat ?? 'f32';
    const threads = opts.threads && opts.threads > 0 ? Math.floor(opts.threads) : defaultThreads();
    const kvMode = opts.kvMode ?? (device === 'cpu' ? 'delta' : 'chained');
    const contextLength = Math.max(1, Math.min(c.maxPositions, opts.contextLength ?? c.maxPositions));
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [device],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: opts.spin ? '1' : '0' } } },
    };
    if (device === 'webgpu' && kvMode === 'chained') {
      const location: Record<string, ort.Tensor.DataLocation> = {};
      for (let l = 0; l < c.nLayer; l++) {
        const n = kvNames(l);
        location[n.presentKey] = 'gpu-buffer';
        location[n.presentValue] = 'gpu-buffer';
      }
      sessionOptions.preferredOutputLocation = location;
    }
    const t0 = performance.now();
    let cache: CachedExport | null = null;
    let source: string | Uint8Array;
    if (opts.cacheDir) {
      cache = exportCached(model, opts.cacheDir, weightFormat);
      source = cache.modelPath;
    } else {
      const encoded = exportOnnx(model, { weightFormat, dataFile: DATA_FILE });
      source = encoded.model;
      if (encoded.dataBytes > 0) sessionOptions.externalData = [{ path: DATA_FILE, data: concat(encoded.data, encoded.dataBytes) }];
    }
    const t1 = performance.now();
    let session: ort.InferenceSession;
    try {
      session = typeof source === 'string' ? await ort.InferenceSession.create(source, sessionOptions) : await ort.InferenceSession.create(source, sessionOptions);
    } catch (e) {
      throw new Error(`onnxruntime could not load the exported model on ${device} (${(e as Error).message.split('\n')[0]}). Set limelight.backend to "js" to run without onnxruntime.`);
    }
    const kvGrowth = Math.max(1, Math.floor(opts.kvGrowth ?? 128));
    const info: OrtLoadInfo = { device, threads, spin: opts.spin === true, weightFormat, kvMode, kvGrowth, cache, exportMs: t1 - t0, sessionMs: performance.now() - t1 };
    return new OrtBackend(c, session, contextLength, info);
  }

  releaseCache(): void {
    if (this.kv && this.info.kvMode === 'chained') for (const p of this.kv) disposeKv(p);
    this.kv = null;
    this.filled = 0;
  }

  dispose(): void {
    this.releaseCache();
    void this.session.release();
  }

  /** captureAttention is not supported: the result then has no `attention` (the inspector runs on js). */
  async forward(tokens: Int32Array, pos: number, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const c = this.config;
    const T = tokens.length;
    checkForwardInputs(tokens, pos, this.filled, this.contextLength, c.vocabSize);
    const ids = new BigInt64Array(T);
    for (let t = 0; t < T; t++) ids[t] = BigInt(tokens[t]!);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + T).fill(1n), [1, pos + T]),
      logits_to_keep: this.logitsToKeep[opts.allLogits ? 0 : 1],
    };
    // Whatever happens below, positions from pos on may be overwritten.
    this.filled = Math.min(this.filled, pos);
    const delta = this.info.kvMode === 'delta';
    const kv = delta ? this.ownCache(pos + T) : await this.chainedPast(pos);
    const fetches: Record<string, null> = { logits: null };
    for (let l = 0; l < c.nLayer; l++) {
      const n = kvNames(l);
      feeds[n.pastKey] = kv[l]!.key;
      feeds[n.pastValue] = kv[l]!.value;
      if (delta) {
        fetches[n.newKey] = null;
        fetches[n.newValue] = null;
      } else {
        fetches[n.presentKey] = null;
        fetches[n.presentValue] = null;
      }
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, fetches);
    } catch (e) {
      throw new Error(`onnxruntime failed on ${T} tokens at position ${pos} (${(e as Error).message.split('\n')[0]}). Set limelight.backend to "js" if this keeps happening.`);
    }
    if (delta) {
      for (let l = 0; l < c.nLayer; l++) {
        const n = kvNames(l);
        this.storeRows(kv[l]!.key, out[n.newKey] as ort.Tensor, pos, T);
        this.storeRows(kv[l]!.value, out[n.newValue] as ort.Tensor, pos, T);
      }
    } else {
      const next: KvPair[] = [];
      for (let l = 0; l < c.nLayer; l++) {
        const n = kvNames(l);
        next.push({ key: out[n.presentKey] as ort.Tensor, value: out[n.presentValue] as ort.Tensor });
      }
      for (const p of kv) disposeKv(p);
      this.kv = next;
    }
    this.filled = pos + T;
    this.history.set(tokens, pos);
    return { logits: (out.logits as ort.Tensor).data as Float32Array };
  }

  get cachedPositions(): number {
    return this.filled;
  }

  /** The delta-mode buffers, per layer (KVH, capacity, HD) f32, grown to hold `positions`, for runtime/phaseSplit.ts to copy rows in and out. */
  kvLayers(positions: number): KvLayers {
    this.needDelta('kvLayers');
    if (positions > this.contextLength) throw new RangeError(`kvLayers: ${positions} positions do not fit the ${this.contextLength}-position cache`);
    const kv = this.ownCache(Math.max(1, positions));
    return { keys: kv.map((p) => p.key.data as Float32Array), values: kv.map((p) => p.value.data as Float32Array), stride: kv[0]!.key.dims[2]! };
  }

  setCachedPositions(n: number): void {
    this.needDelta('setCachedPositions');
    const capacity = this.kv ? this.kv[0]!.key.dims[2]! : 0;
    if (!(Number.isInteger(n) && n >= 0 && n <= capacity)) throw new RangeError(`setCachedPositions: ${n} is not a position count of the ${capacity}-position buffers`);
    this.filled = n;
  }

  private needDelta(what: string): void {
    if (this.info.kvMode !== 'delta') throw new Error(`${what}: the chained (WebGPU) cache stays on the GPU; only the delta-mode cache can be read and written`);
  }

  private kvDims(length: number): number[] {
    return [1, this.config.nKvHead, length, this.config.headDim];
  }

  /** Copies the T new rows (1, KVH, T, HD) into the cache buffer (1, KVH, capacity, HD) at [pos, pos + T). */
  private storeRows(cache: ort.Tensor, rows: ort.Tensor, pos: number, T: number): void {
    const { nKvHead: KVH, headDim: HD } = this.config;
    const capacity = cache.dims[2]!;
    const dst = cache.data as Float32Array;
    const src = rows.data as Float32Array;
    for (let h = 0; h < KVH; h++) dst.set(src.subarray(h * T * HD, (h + 1) * T * HD), (h * capacity + pos) * HD);
  }

  /**
   * The delta-mode buffers, grown to hold `needed` positions. GroupQueryAttention builds a
   * present as long as the past it is given on every step, so the buffers grow in steps of
   * info.kvGrowth positions rather than being made contextLength long at once: that work stays
   * proportional to the tokens in use, and a regrowth (copying the valid prefix) happens once per
   * kvGrowth tokens.
   */
  private ownCache(needed: number): KvPair[] {
    const c = this.config;
    const capacity = this.kv ? this.kv[0]!.key.dims[2]! : 0;
    if (this.kv && capacity >= needed) return this.kv;
    const grown = Math.min(this.contextLength, Math.ceil(needed / this.info.kvGrowth) * this.info.kvGrowth);
    const HD = c.headDim;
    const regrow = (old: ort.Tensor | undefined): ort.Tensor => {
      const data = new Float32Array(c.nKvHead * grown * HD); // (1, KVH, grown, HD)
      if (old) {
        const src = old.data as Float32Array; // (1, KVH, capacity, HD)
        for (let h = 0; h < c.nKvHead; h++) data.set(src.subarray(h * capacity * HD, (h * capacity + this.filled) * HD), h * grown * HD);
      }
      return new ort.Tensor('float32', data, this.kvDims(grown));
    };
    this.kv = Array.from({ length: c.nLayer }, (_, l) => ({ key: regrow(this.kv?.[l]!.key), value: regrow(this.kv?.[l]!.value) }));
    return this.kv;
  }

  /** The past for a step at `pos`: exactly pos positions long (a longer cache's first pos positions recomputed). */
  private async chainedPast(pos: number): Promise<KvPair[]> {
    const length = this.kv ? this.kv[0]!.key.dims[2]! : 0;
    if (this.kv && length === pos) return this.kv;
    if (this.kv) for (const p of this.kv) disposeKv(p);
    this.kv = null;
    if (pos > 0) {
      await this.forward(this.history.slice(0, pos), 0);
      return this.kv!;
    }
    const empty = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(0), this.kvDims(0));
    this.kv = Array.from({ length: this.config.nLayer }, () => ({ key: empty(), value: empty() }));
    return this.kv;
  }
}

function disposeKv(p: KvPair): void {
  if (p.key.location === 'gpu-buffer') p.key.dispose();
  if (p.value.location === 'gpu-buffer') p.value.dispose();
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of pieces) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

export function createOrtBackend(model: Model, opts?: OrtBackendOptions): Promise<OrtBackend> {
  return OrtBackend.create(model, opts);
}
