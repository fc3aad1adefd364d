// limelight.backend 'auto' on the CPU: each phase on the engine that runs it fastest here.
// onnxruntime (native MLAS kernels) reads a long prompt faster; the js backend (WASM kernels
// on the thread pool) decodes a token with less overhead per call. PhaseSplitBackend holds
// both on the same model and sends each forward call to one of them by its length
// (runtime/phasePlan.ts measures from what length, once per model and machine).
//
// Each engine keeps its own KV cache. Invariant: each engine's cachedPositions is a prefix of
// the sequence (the keys and values of positions [0, cachedPositions)), and the longer of the
// two is the whole sequence. Before an engine runs at `pos`, rows it lacks below pos are
// copied from the other (kvRows.ts, converting f32 <-> f16); after, the other forgets what
// lies at pos and beyond. A prefill on the prefill engine is copied into the decode engine's
// cache at once, so the KV cache moves across once per prompt, counted in the prefill's time.
// Snapshots (the prompt cache across files) go through the js cache.
import type { Model } from '../model/model';
import type { ModelConfig } from '../model/config';
import { FastBackend, type FastBackendOptions } from './fastBackend';
import { OrtBackend, type OrtBackendOptions } from './ortBackend';
import { copyKvRows, type KvRowStore } from './kvRows';
import { describePlan, phasePlan, type PhasePlan, type PhasePlanResult, type SplitEngine } from './phasePlan';
import type { KvSnapshot } from './kvSnapshot';
import { checkForwardInputs, type ForwardOptions, type ForwardResult, type InferenceBackend } from './backend';

/** What one engine did since the last takeEngineUse. */
interface EngineUse {
  calls: number;
  tokens: number;
  /** Positions copied into this engine's cache from the other, and the time it took. */
  movedIn: number;
  moveMs: number;
}

export class PhaseSplitBackend implements InferenceBackend {
  readonly name = 'ort-cpu+js' as const;
  readonly config: ModelConfig;
  readonly contextLength: number;
  private use: Record<SplitEngine, EngineUse> = { js: noUse(), 'ort-cpu': noUse() };

  constructor(
    readonly js: FastBackend,
    readonly ort: OrtBackend,
    readonly plan: PhasePlan,
  ) {
    if (js.contextLength !== ort.contextLength) throw new Error(`PhaseSplitBackend: the js cache holds ${js.contextLength} positions and onnxruntime's ${ort.contextLength}; create both with the same contextLength`);
    this.config = js.config;
    this.contextLength = js.contextLength;
  }

  /** Positions the sequence has (the longer of the two caches' prefixes). */
  get cachedPositions(): number {
    return Math.max(this.js.cachedPositions, this.ort.cachedPositions);
  }

  /** The engine a call of T tokens runs on (attention capture is the js backend's alone). */
  engineFor(T: number, opts: ForwardOptions = {}): SplitEngine {
    if (opts.captureAttention) return 'js';
    return T >= this.plan.prefillFrom ? this.plan.prefill : this.plan.decode;
  }

  async forward(tokens: Int32Array, pos: number, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const T = tokens.length;
    checkForwardInputs(tokens, pos, this.cachedPositions, this.contextLength, this.config.vocabSize);
    const engine = this.engineFor(T, opts);
    const other: SplitEngine = engine === 'js' ? 'ort-cpu' : 'js';
    this.sync(engine, pos);
    const store = this.store(other);
    store.setCachedPositions(Math.min(store.cachedPositions, pos));
    const out = await (engine === 'js' ? this.js : this.ort).forward(tokens, pos, opts);
    const u = this.use[engine];
    u.calls++;
    u.tokens += T;
    // A prompt read by the prefill engine goes to the decode engine now, once, as part of the prefill.
    if (engine !== this.plan.decode) this.sync(this.plan.decode, pos + T);
    return out;
  }

  /** Copies into `engine`'s cache the positions below `upTo` it lacks. */
  private sync(engine: SplitEngine, upTo: number): void {
    const dst = this.store(engine);
    const from = dst.cachedPositions;
    if (from >= upTo) return;
    const t = performance.now();
    copyKvRows(dst, this.store(engine === 'js' ? 'ort-cpu' : 'js'), from, upTo, this.config.nKvHead, this.config.headDim);
    this.use[engine].movedIn += upTo - from;
    this.use[engine].moveMs += performance.now() - t;
  }

  private store(engine: SplitEngine): KvRowStore {
    return engine === 'js' ? this.js : this.ort;
  }

  /**
   * Which engine ran what since the last call (the generator asks after the prefill and after
   * the decode), e.g. "ort-cpu (512 tokens; KV cache moved to js: 512 positions in 9 ms)"; the
   * count starts again.
   */
  takeEngineUse(): string {
    const parts: string[] = [];
    for (const engine of ['ort-cpu', 'js'] as const) {
      const u = this.use[engine];
      if (u.calls > 0) parts.push(`${engine} (${u.tokens} token${u.tokens === 1 ? '' : 's'})`);
    }
    for (const engine of ['ort-cpu', 'js'] as const) {
      const u = this.use[engine];
      if (u.movedIn > 0) parts.push(`KV cache moved to ${engine}: ${u.movedIn} positions in ${Math.round(u.moveMs)} ms`);
    }
    this.use = { js: noUse(), 'ort-cpu': noUse() };
    return parts.join('; ');
  }

  saveCache(n: number): KvSnapshot {
    if (n <= this.cachedPositions) this.sync('js', n);
    return this.js.saveCache(n);
  }

  restoreCache(s: KvSnapshot): void {
    this.js.restoreCache(s);
    this.ort.setCachedPositions(0);
  }

  releaseCache(): void {
    this.js.releaseCache();
    this.ort.releaseCache();
  }

  dispose(): void {
    this.js.dispose();
    this.ort.dispose();
  }
}

function noUse(): EngineUse {
  return { calls: 0, tokens: 0, movedIn: 0, moveMs: 0 };
}

export interface PhaseSplitOptions {
  js: FastBackendOptions;
  ort: Omit<OrtBackendOptions, 'device' | 'kvMode'>;
  /** The ONNX export cache folder; the plan is cached beside the exports (null: measured on every load). */
  cacheDir: string | null;
}

export interface PhaseSplitChoice {
  /** The split, or the js backend alone when it measured faster in both phases (onnxruntime is then released). */
  backend: PhaseSplitBackend | FastBackend;
  planned: PhasePlanResult;
  /** For the status: "ort-cpu prefill from 3 tokens, js decode (measured now: 8 tokens in 42 ms on ort-cpu, 95 ms on js; ...)". */
  description: string;
}

/** Creates both engines on `model`, plans the phases (cached per model and machine) and returns the split. */
export async function createPhaseSplit(model: Model, opts: PhaseSplitOptions): Promise<PhaseSplitChoice> {
  const js = await FastBackend.create(model, opts.js);
  let ortBackend: OrtBackend | null = null;
  try {
    ortBackend = await OrtBackend.create(model, { ...opts.ort, contextLength: js.contextLength, device: 'cpu', kvMode: 'delta', cacheDir: opts.cacheDir });
    // A session that loads but cannot run fails here, also when the plan comes from the cache and measures nothing.
    await ortBackend.forward(Int32Array.of(0), 0);
    ortBackend.releaseCache();
    const planned = await phasePlan(js, ortBackend, opts.cacheDir);
    const { plan } = planned;
    const how = planned.source === 'cached' ? 'as measured at an earlier load' : 'measured now';
    const m = plan.measured;
    const at = (i: number): string => `${m.tokens[i]} tokens in ${Math.round(m.ortMs[i]!)} ms on ort-cpu, ${Math.round(m.jsMs[i]!)} ms on js`;
    const measured = `${how}: ${at(0)}; ${at(m.tokens.length - 1)}; a decode step in ${m.ortDecodeMs.toFixed(1)} ms on ort-cpu, ${m.jsDecodeMs.toFixed(1)} ms on js`;
    const description = `${describePlan(plan)} (${measured}${planned.note ? `; ${planned.note}` : ''})`;
    if (plan.prefill === 'js' && plan.decode === 'js') {
      ortBackend.dispose();
      return { backend: js, planned, description };
    }
    return { backend: new PhaseSplitBackend(js, ortBackend, plan), planned, description };
  } catch (e) {
    ortBackend?.dispose();
    js.dispose();
    throw e;
  }
}
