// Which engine takes which phase under limelight.backend 'auto' (runtime/phaseSplit.ts): a
// forward call of at least `prefillFrom` tokens runs on the prefill engine, a shorter one (a
// decode step, a short prompt tail) on the decode engine. Decided by timing both engines on
// this machine once, at the first load of a model: a prefill of a short, a middling and a long
// prompt each (onnxruntime's time includes moving its new KV rows into the js cache, as the
// split does) and a few decode steps; the prefill engine takes over where, between two of these
// lengths, it last starts to win (the times interpolated linearly). The
// plan is cached as a small JSON file beside the ONNX exports, keyed by the model's export key,
// the machine (CPU model, cores, threads) and the engines' versions and settings, so a later
// load reads it instead of measuring again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeAdvice, writeFileAtomic } from '../io/atomicFile';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from '../kernels/wasm/kernelsWasm';
import type { FastBackend } from './fastBackend';
import type { OrtBackend } from './ortBackend';
import { copyKvRows } from './kvRows';

export type SplitEngine = 'js' | 'ort-cpu';

/** Bumped when the measurement or the plan's meaning changes: older cached plans are measured again. */
export const PHASE_PLAN_VERSION = 2;

export interface PhaseTimings {
  /** The prompt lengths timed from an empty cache, increasing. */
  tokens: number[];
  /** Best of the repeats, ms, for each length. */
  jsMs: number[];
  /** onnxruntime's prefill plus moving its rows into the js cache, ms. */
  ortMs: number[];
  /** One decode step after the long prompt, ms (best of the steps). */
  jsDecodeMs: number;
  ortDecodeMs: number;
}

export interface PhasePlan {
  /** The engine of calls of prefillFrom tokens or more. */
  prefill: SplitEngine;
  prefillFrom: number;
  /** The engine of shorter calls (decode steps). */
  decode: SplitEngine;
  measured: PhaseTimings;
}

export interface PhasePlanResult {
  plan: PhasePlan;
  /** Where the plan came from: measured now (and cached when it could be), or read from the cache. */
  source: 'measured' | 'cached';
  /** The cache file, or null without a cache folder. */
  file: string | null;
  /** Why a measured plan could not be cached, if so. */
  note?: string;
}

/** How many times each prompt length is timed (the least is kept: a busy machine only adds time). */
const REPEATS = 2;
const DECODE_STEPS = 3;
/** onnxruntime decodes only when its step takes less than this share of the js backend's. */
const ORT_DECODE_SHARE = 0.9;

/** The prompt lengths to time: 8, 64 and 256 tokens, less where the context is short. */
export function planLengths(contextLength: number): number[] {
  const long = Math.max(8, Math.min(256, Math.floor(contextLength / 2)));
  const mid = Math.max(4, Math.min(64, Math.floor(long / 4)));
  return [Math.max(2, Math.min(8, Math.floor(mid / 4))), mid, long];
}

/**
 * The plan from the timings: the engine faster at the longest prompt prefills, the one faster
 * at a decode step decodes, and the prefill engine takes every call from the length where it
 * last starts to win: between the last length where it loses (a decode step, one token, at the
 * least) and the next, where the difference of the two times, interpolated, crosses zero.
 */
export function planFrom(m: PhaseTimings): PhasePlan {
  // Decode stays on js unless onnxruntime is clearly faster: a js cache needs no copy for a snapshot (the prompt cache across files).
  const decode: SplitEngine = m.ortDecodeMs < ORT_DECODE_SHARE * m.jsDecodeMs ? 'ort-cpu' : 'js';
  const last = m.tokens.length - 1;
  const prefill: SplitEngine = m.ortMs[last]! < m.jsMs[last]! ? 'ort-cpu' : 'js';
  if (prefill === decode) return { prefill, prefillFrom: 1, decode, measured: m };
  const [p, d] = prefill === 'ort-cpu' ? [m.ortMs, m.jsMs] : [m.jsMs, m.ortMs];
  // (tokens, prefill engine's ms - decode engine's ms): not negative at one token, negative at the last length.
  const gaps: [number, number][] = [[1, Math.abs(m.ortDecodeMs - m.jsDecodeMs)], ...m.tokens.map((T, i): [number, number] => [T, p[i]! - d[i]!])];
  let i = last;
  while (gaps[i]![1] < 0) i--;
  const [t0, g0] = gaps[i]!;
  const [t1, g1] = gaps[i + 1]!;
  const crossing = t0 + ((t1 - t0) * g0) / (g0 - g1);
  return { prefill, prefillFrom: Math.max(2, Math.ceil(crossing)), decode, measured: m };
}

/** Words for the status and the log: "ort-cpu prefill from 96 tokens, js decode". */
export function describePlan(plan: PhasePlan): string {
  if (plan.prefill === plan.decode) return `${plan.decode} prefill and decode`;
  return `${plan.prefill} prefill from ${plan.prefillFrom} tokens, ${plan.decode} decode`;
}

/** What identifies a plan: the model's export, the engines as set up (their versions: onnxruntime's, a hash of the WASM kernels), and the machine. */
export function planKey(js: FastBackend, ortBackend: OrtBackend): Record<string, unknown> {
  const kernels = createHash('sha256').update(js.relaxedSimd ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64).digest('hex').slice(0, 16);
  return {
    version: PHASE_PLAN_VERSION,
    model: ortBackend.info.cache?.key ?? null,
    js: { kernels, weightFormats: js.weightFormats, kvCache: js.kvCache, relaxedSimd: js.relaxedSimd, threads: js.threads },
    ort: { version: ort.env.versions.common, weightFormat: ortBackend.info.weightFormat, threads: ortBackend.info.threads },
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), platform: platform(), arch: arch() },
  };
}

interface PlanFile {
  key: Record<string, unknown>;
  plan: PhasePlan;
}

function isEngine(x: unknown): x is SplitEngine {
  return x === 'js' || x === 'ort-cpu';
}

function isTimes(x: unknown, n: number): x is number[] {
  return Array.isArray(x) && x.length === n && x.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** The plan a cache file holds for `key`, or null (no file, another key, not a plan). */
function readPlan(file: string, key: Record<string, unknown>): PhasePlan | null {
  if (!existsSync(file)) return null;
  let parsed: Partial<PlanFile> | null;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PlanFile> | null;
  } catch {
    return null;
  }
  const p = parsed?.plan as Partial<PhasePlan> | undefined;
  if (JSON.stringify(parsed?.key) !== JSON.stringify(key) || p === undefined) return null;
  const m = p.measured as Partial<PhaseTimings> | undefined;
  const n = Array.isArray(m?.tokens) ? m.tokens.length : 0;
  const ok = isEngine(p.prefill) && isEngine(p.decode) && Number.isInteger(p.prefillFrom) && p.prefillFrom! >= 1 && n > 0 && isTimes(m!.tokens, n) && isTimes(m!.jsMs, n) && isTimes(m!.ortMs, n) && typeof m!.jsDecodeMs === 'number' && typeof m!.ortDecodeMs === 'number';
  return ok ? (p as PhasePlan) : null;
}

/** The cache file of a key in `cacheDir`. */
export function planFile(cacheDir: string, key: Record<string, unknown>): string {
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  return join(cacheDir, 'phase-plans', `${hash}.json`);
}

/**
 * The plan for these two engines: read from `cacheDir` when a plan for the same model, engines
 * and machine is there, else measured now (both caches are released after) and written there
 * atomically. A cache that cannot be written costs a note, not the load.
 */
export async function phasePlan(js: FastBackend, ortBackend: OrtBackend, cacheDir: string | null): Promise<PhasePlanResult> {
  const key = planKey(js, ortBackend);
  // Without a cache folder, or with an in-memory export (no model key), the plan is measured on every load.
  const file = cacheDir !== null && key.model !== null ? planFile(cacheDir, key) : null;
  const cached = file !== null ? readPlan(file, key) : null;
  if (cached !== null) return { plan: cached, source: 'cached', file };
  const plan = planFrom(await measurePhases(js, ortBackend));
  if (file === null) return { plan, source: 'measured', file };
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ key, plan } satisfies PlanFile, null, 1) + '\n');
    return { plan, source: 'measured', file };
  } catch (e) {
    return { plan, source: 'measured', file, note: `the measured plan could not be cached in ${file} (${writeAdvice(e)})` };
  }
}

/** Times both engines (see the top of this file); leaves both caches empty. */
export async function measurePhases(js: FastBackend, ortBackend: OrtBackend): Promise<PhaseTimings> {
  const c = js.config;
  const tokens = planLengths(Math.min(js.contextLength, ortBackend.contextLength) - DECODE_STEPS);
  // A fixed spread of ids: the timing of a dense forward pass does not depend on which.
  const long = tokens.at(-1)!;
  const ids = Int32Array.from({ length: long + DECODE_STEPS }, (_, i) => (i * 7919 + 13) % c.vocabSize);
  const time = async (run: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await run();
    return performance.now() - t;
  };
  const jsMs = tokens.map(() => Infinity);
  const ortMs = tokens.map(() => Infinity);
  try {
    await js.forward(ids.subarray(0, 8), 0);
    await ortBackend.forward(ids.subarray(0, 8), 0);
    for (let r = 0; r < REPEATS; r++) {
      for (let i = 0; i < tokens.length; i++) {
        const n = tokens[i]!;
        jsMs[i] = Math.min(jsMs[i]!, await time(() => js.forward(ids.subarray(0, n), 0)));
        js.setCachedPositions(0);
        ortMs[i] = Math.min(
          ortMs[i]!,
          await time(async () => {
            await ortBackend.forward(ids.subarray(0, n), 0);
            copyKvRows(js, ortBackend, 0, n, c.nKvHead, c.headDim);
          }),
        );
      }
    }
    const decodeMs = async (be: FastBackend | OrtBackend): Promise<number> => {
      let best = Infinity;
      for (let s = 0; s < DECODE_STEPS; s++) best = Math.min(best, await time(() => be.forward(ids.subarray(long + s, long + s + 1), long + s)));
      return best;
    };
    // Both caches hold the long prompt here (the js one by the copy).
    const jsDecodeMs = await decodeMs(js);
    const ortDecodeMs = await decodeMs(ortBackend);
    return { tokens, jsMs, ortMs, jsDecodeMs, ortDecodeMs };
  } finally {
    js.releaseCache();
    ortBackend.releaseCache();
  }
}
