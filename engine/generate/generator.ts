// Text generation on one backend, with the backend's KV cache reused across calls.
//
// The generator remembers which token ids the backend's KV cache holds (positions
// [0, cachedIds.length)). A new prompt that shares a prefix with them only runs its new
// tail through the model, which is what makes completion-as-you-type affordable: each
// keystroke's prompt mostly repeats the previous one.
//
// The generator must be the only user of its backend's KV cache: anything else that runs
// forward() on the same backend must call reset() before the generator is used again.
//
// With a prompt cache (promptCache.ts) and a backend that can copy its cache out and back, a
// prompt that shares more with an earlier one than with the live cache gets that one's keys
// and values back, and the live cache's prompt is kept before it is overwritten.
//
// Invariant: `cached` lists exactly the ids whose keys and values are in the backend's
// cache. It is shortened to the reused prefix before a forward pass (the backend
// overwrites positions from there) and extended only after the pass succeeds, so an
// exception or a cancellation never leaves it claiming entries the cache does not hold.
import { ContextOverflowError, type InferenceBackend } from '../runtime/backend';
import { yieldToEventLoop } from '../runtime/eventLoop';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { Sampler, type SamplingOptions } from './sampler';
import { MIN_PROMPT_REUSE, PromptCache, type PromptCacheStats } from './promptCache';
import { StopStringMatcher, checkStopRules, type StopReason } from './stops';

export interface GenerateOptions {
  /** New-token budget. If the prompt leaves less room in the context, it is lowered to what fits and `contextLimited` is set. */
  maxNewTokens: number;
  sampling?: Partial<SamplingOptions>;
  /** Ids that end generation; defaults to the model's eos ids. Pass [] to ignore them. */
  stopTokenIds?: readonly number[];
  /** Text that ends generation (needs `tokenizer`); the returned text stops just before it. */
  stopStrings?: readonly string[];
  /** Time budget for the whole call in ms (prefill included); checked between steps. Default: none. */
  maxTimeMs?: number;
  /** Cancels between forward passes: the call resolves with stopReason 'cancelled' and the text streamed so far. */
  signal?: AbortSignal;
  /** Called once per new token with the text it completes (held back while it may start a stop string). */
  onToken?: (id: number, textDelta: string) => void;
  /** Decodes new tokens into text (for `text`, `onToken` deltas and stop strings). */
  tokenizer?: Tokenizer;
}

export interface GenerateTimings {
  prompt_tokens: number;
  /** Prompt tokens whose keys and values were already in the cache. */
  reused_tokens: number;
  /** Prompt tokens run through the model (at least 1: the last prompt token's logits are needed). */
  prefilled_tokens: number;
  new_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  backend: string;
  /** With a backend that splits the phases (runtime/phaseSplit.ts): which engine read the prompt, and whether its KV cache moved. */
  prefill_engine?: string;
  /** The same for the new tokens. */
  decode_engine?: string;
}

export interface GenerateResult {
  /** The prompt ids followed by the new ids. */
  ids: number[];
  /** The new ids, a stop token included (its text is not part of `text`). */
  newIds: number[];
  /** Decoded new text, cut before a stop string ('' without a tokenizer). */
  text: string;
  stopReason: StopReason;
  /** maxNewTokens was lowered because the context could not hold more. */
  contextLimited: boolean;
  timings: GenerateTimings;
}

/** Prompts are prefilled in chunks this long, so a cancellation is seen between chunks. */
const PREFILL_CHUNK = 256;

export interface GeneratorOptions {
  /** Bytes for snapshots of earlier prompts (0 or absent: none kept; the backend must support snapshots). */
  promptCacheBytes?: number;
}

export class Generator {
  private readonly cached: number[] = [];
  private readonly promptCache: PromptCache | null;

  constructor(
    readonly backend: InferenceBackend,
    opts: GeneratorOptions = {},
  ) {
    const bytes = opts.promptCacheBytes ?? 0;
    this.promptCache = bytes > 0 && backend.saveCache !== undefined && backend.restoreCache !== undefined ? new PromptCache(bytes) : null;
  }

  /** The prompt cache's hits, misses and size, or null without one. */
  get promptCacheStats(): PromptCacheStats | null {
    return this.promptCache?.stats ?? null;
  }

  /** Ids whose keys and values the backend's cache holds, in position order. */
  get cachedIds(): readonly number[] {
    return this.cached;
  }

  /** Forgets the cached prefix and frees the backend's cache (it is allocated again on the next call). */
  reset(): void {
    this.cached.length = 0;
    this.backend.releaseCache();
  }

  /**
   * Makes the cache hold `ids` (reusing any cached prefix) and returns the logits (V) of the
   * last id. Throws ContextOverflowError when `ids` do not fit. A cancelled prefill leaves
   * the cache holding the chunks already done and throws the signal's reason.
   */
  async prefill(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    return (await this.fill(ids, signal)).logits;
  }

  async generate(promptIds: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    const started = performance.now();
    const config = this.backend.config;
    const stopTokenIds = opts.stopTokenIds ?? config.eosTokenIds;
    const stopStrings = opts.stopStrings ?? [];
    const maxTimeMs = opts.maxTimeMs ?? Infinity;
    checkStopRules({ stopTokenIds, stopStrings, maxNewTokens: opts.maxNewTokens, maxTimeMs });
    if (stopStrings.length > 0 && !opts.tokenizer) {
      throw new Error('Stop strings need a tokenizer to decode the new tokens; pass `tokenizer` or use stop token ids.');
    }
    const sampler = new Sampler(config.vocabSize, opts.sampling);
    const P = promptIds.length;
    // The last new token is never run through the model, so P + maxNew - 1 positions suffice.
    const room = this.backend.contextLength - P + 1;
    if (room < 1) throw new ContextOverflowError(P, this.backend.contextLength);
    const maxNew = Math.min(opts.maxNewTokens, room);

    const ids = [...promptIds];
    const newIds: number[] = [];
    const timings: GenerateTimings = {
      prompt_tokens: P,
      reused_tokens: 0,
      prefilled_tokens: 0,
      new_tokens: 0,
      prefill_ms: 0,
      decode_ms: 0,
      backend: this.backend.name,
    };
    const result = (stopReason: StopReason, text: string): GenerateResult => {
      timings.new_tokens = newIds.length;
      return { ids, newIds, text, stopReason, contextLimited: maxNew < opts.maxNewTokens, timings };
    };
    if (opts.signal?.aborted) return result('cancelled', '');

    let logits: Float32Array;
    this.backend.takeEngineUse?.(); // from here on, this request's
    try {
      const filled = await this.fill(promptIds, opts.signal);
      logits = filled.logits;
      timings.reused_tokens = filled.reused;
      timings.prefilled_tokens = P - filled.reused;
    } catch (err) {
      if (opts.signal?.aborted && err === opts.signal.reason) return result('cancelled', '');
      throw err;
    } finally {
      const used = this.backend.takeEngineUse?.();
      if (used !== undefined) timings.prefill_engine = used;
    }
    const decodeStart = performance.now();
    timings.prefill_ms = decodeStart - started;

    const stops = new Set(stopTokenIds);
    const decoder = opts.tokenizer?.streamDecoder();
    const matcher = new StopStringMatcher(stopStrings);
    let text = '';
    let stopReason: StopReason | null = null; // set once, then the loop ends
    const step = new Int32Array(1);
    for (;;) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) {
        stopReason = 'cancelled';
        break;
      }
      const id = sampler.sample(logits, ids);
      ids.push(id);
      newIds.push(id);
      let delta = '';
      if (stops.has(id)) stopReason = 'eos';
      else if (decoder) {
        delta = matcher.push(decoder.push(id));
        if (matcher.stopped) stopReason = 'stop-string';
      }
      if (stopReason === null && newIds.length >= maxNew) stopReason = 'max-tokens';
      if (stopReason === null && performance.now() - started >= maxTimeMs) stopReason = 'max-time';
      // Ending for any reason but a stop string releases the text held back for one.
      if (decoder && stopReason !== null && stopReason !== 'stop-string') delta += matcher.push(decoder.flush()) + matcher.finish();
      text += delta;
      opts.onToken?.(id, delta);
      if (stopReason === null && opts.signal?.aborted) stopReason = 'cancelled'; // aborted from onToken: skip the forward
      if (stopReason !== null) break;
      step[0] = id;
      const pos = this.cached.length; // == ids.length - 1: every id but this one is cached
      logits = (await this.backend.forward(step, pos)).logits;
      this.cached.push(id);
    }
    timings.decode_ms = performance.now() - decodeStart;
    const used = this.backend.takeEngineUse?.();
    if (used !== undefined) timings.decode_engine = used;
    return result(stopReason, text);
  }

  /** Prefills `ids` after the longest cached prefix; returns the last id's logits and how many ids were reused. */
  private async fill(ids: readonly number[], signal?: AbortSignal): Promise<{ logits: Float32Array; reused: number }> {
    const n = ids.length;
    if (n === 0) throw new Error('The prompt is empty: give at least one token id.');
    if (n > this.backend.contextLength) throw new ContextOverflowError(n, this.backend.contextLength);
    const V = this.backend.config.vocabSize;
    for (const id of ids) {
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`Token id ${id} is outside the model's vocabulary (0 to ${V - 1}). Check that the ids come from this model's tokenizer.`);
    }
    let common = 0;
    const limit = Math.min(n, this.cached.length);
    while (common < limit && this.cached[common] === ids[common]) common++;
    if (this.promptCache !== null) common = this.switchPrompt(ids, common, this.promptCache);
    // The last prompt token's logits are needed even when it is cached: run it again.
    const reused = Math.min(common, n - 1);
    let logits: Float32Array | null = null;
    for (let start = reused; start < n; start += PREFILL_CHUNK) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
      const end = Math.min(n, start + PREFILL_CHUNK);
      this.cached.length = start; // the backend overwrites positions from start on
      logits = (await this.backend.forward(Int32Array.from(ids.slice(start, end)), start)).logits;
      for (let i = start; i < end; i++) this.cached.push(ids[i]);
    }
    return { logits: logits as Float32Array, reused };
  }

  /**
   * Before a prompt that shares `common` ids with the live cache: keeps the live prompt when
   * more than MIN_PROMPT_REUSE of it would be overwritten, and puts back the cached prompt that
   * shares the most with `ids` when that beats the live cache. Returns the ids now shared.
   */
  private switchPrompt(ids: readonly number[], common: number, cache: PromptCache): number {
    const backend = this.backend;
    const hit = cache.take(ids, common);
    if (hit === null && this.cached.length - common < MIN_PROMPT_REUSE) return common;
    cache.put({ ids: this.cached.slice(), snapshot: backend.saveCache!(this.cached.length) });
    if (hit === null) return common;
    backend.restoreCache!(hit.prompt.snapshot);
    this.cached.length = 0;
    for (const id of hit.prompt.ids) this.cached.push(id);
    return Math.min(hit.common, ids.length);
  }
}
