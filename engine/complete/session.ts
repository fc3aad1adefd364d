// The completion pipeline below the editor: a cursor in a document in, a suggestion (or
// the reason there is none) out. The VS Code provider, the latency benchmark and the tests
// all drive this same class, so what the benchmark measures is what the user gets.
//
// Per request: typing-through cache -> policy (ask or not, one line or a block) -> debounce
// (the keystroke's tokens are prefilled meanwhile) -> wait for the generation in flight to
// end -> prompt -> generation, streamed through the block-end rule -> post-processing. A newer request aborts the older one at whatever step
// it is in, so at most one generation runs and a keystroke preempts it within one decode step.
import type { GenerateTimings } from '../generate/generator';
import type { StopReason } from '../generate/stops';
import type { ContextRing } from './contextRing';
import { AdaptiveDebounce, sleep } from './debounce';
import { blockEnd, cursorContext, decideMode, MAX_FOLLOWING_CHARS, postProcess, type CompletionMode, type Trigger } from './policy';
import type { BuiltPrompt, CompletionDocument, Prompter } from './prompt';
import { TypingCache } from './typingCache';
import type { FimParts } from '../tokenizer/fimTemplates';

/**
 * One generation the session asks of its engine: the prompt, as ids for a local model and as
 * its text parts for a server that builds the prompt itself (a remote backend), and the rules
 * that end the answer.
 */
export interface GenerationRequest {
  promptIds: number[];
  /** The file's path, prefix, suffix and other files' excerpts the ids were built from. */
  parts: FimParts;
  maxNewTokens: number;
  /** End of text and the FIM markers: the model ends a middle with one of them. */
  stopTokenIds: number[];
  stopStrings: string[];
  maxTimeMs: number;
}

export interface GenerationResult {
  text: string;
  /** The generated token ids (what the attention inspector replays). */
  newIds: number[];
  stopReason: StopReason;
  timings: GenerateTimings;
}

/**
 * Runs one generation; `onText` receives the text as it streams. Aborting `signal` ends the
 * generation within one decode step with stopReason 'cancelled' and the text so far.
 */
export interface CompletionEngine {
  generate(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult>;
  /**
   * False where a prompt run ahead of time leaves nothing behind on this side (a remote
   * server): the session then sends no prefill-only requests during the debounce wait or on
   * a cursor jump, which would only double the server's load. Absent: true.
   */
  readonly keepsPromptCache?: boolean;
}

export type Outcome = 'shown' | 'typed-through' | 'empty' | 'duplicate' | 'cancelled' | 'debounced' | 'timed-out' | 'error' | 'skipped';

export interface CompletionRecord {
  id: number;
  trigger: Trigger;
  path: string;
  outcome: Outcome;
  /** The suggestion (shown or typed through), else ''. */
  text: string;
  /** Why: the skip or drop reason, the error, or how generation stopped. */
  reason: string;
  mode: CompletionMode | null;
  prompt: BuiltPrompt | null;
  /** The model's text before post-processing. */
  raw: string;
  /** Token ids the model generated (before post-processing), [] without a generation. */
  newIds: number[];
  stopReason: StopReason | null;
  timings: GenerateTimings | null;
  /** Wait applied before asking the engine. */
  debounceMs: number;
  /** Request to result, debounce included (keystroke to suggestion). */
  latencyMs: number;
  /** Prompt sent to engine answered (prefill and decode), or 0 without a generation. */
  engineMs: number;
}

export interface CompletionOptions {
  prefixTokens: number;
  suffixTokens: number;
  contextTokens: number;
  /** Most new tokens of a multi-line suggestion. */
  maxNewTokens: number;
  /** Most new tokens of a single-line suggestion (capped by maxNewTokens). */
  singleLineMaxTokens: number;
  /** Debounce setting; the wait adapts below it to the measured latency when adaptiveDebounce. */
  debounceMs: number;
  adaptiveDebounce: boolean;
  /** Multi-line suggestions where a block begins; false: one line everywhere. */
  multiLine: boolean;
  /** Text after the cursor (closers aside) longer than this gets no automatic request. */
  maxFollowingChars: number;
  /** Positions the engine's context holds (prompt plus completion). */
  contextLength: number;
  /** Time budget of a single-line suggestion, keystroke to answer (debounce included). */
  singleLineMaxMs: number;
  /** Time budget of a multi-line suggestion, keystroke to answer. */
  multiLineMaxMs: number;
}

export const DEFAULT_COMPLETION_OPTIONS: CompletionOptions = {
  prefixTokens: 768,
  suffixTokens: 256,
  contextTokens: 256,
  maxNewTokens: 64,
  singleLineMaxTokens: 32,
  debounceMs: 150,
  adaptiveDebounce: true,
  multiLine: true,
  maxFollowingChars: MAX_FOLLOWING_CHARS,
  contextLength: 1024,
  singleLineMaxMs: 350,
  multiLineMaxMs: 800,
};

/** What the engine answered, and whether the answer was cut where its block ends. */
interface Answer {
  result: GenerationResult;
  blockDone: boolean;
}

/** A request's record before anything happened to it. */
function newRecord(id: number, path: string, trigger: Trigger): CompletionRecord {
  return { id, trigger, path, outcome: 'skipped', text: '', reason: '', mode: null, prompt: null, raw: '', newIds: [], stopReason: null, timings: null, debounceMs: 0, latencyMs: 0, engineMs: 0 };
}

/** The engine gets at least this long, however much of the time budget the wait took. */
const MIN_ENGINE_MS = 50;
/** Characters after the cursor compared by the typing-through cache. */
const SUFFIX_KEY_CHARS = 256;

export class CompletionSession {
  readonly cache = new TypingCache();
  readonly debounce: AdaptiveDebounce;
  private readonly stopTokenIds: number[];
  private options: CompletionOptions;
  private seq = 0;
  private newest: AbortController | null = null;
  /** complete() calls not yet answered. */
  private requests = 0;
  /** A generation (or prefill) is running in the engine. */
  private engineBusy = false;
  private running: Promise<void> = Promise.resolve();
  private readonly listeners: ((r: CompletionRecord) => void)[] = [];
  private lastRecord: CompletionRecord | null = null;

  /** `prompter` builds the prompts where the model's tokenizer is (PromptBuilder here, WorkerPrompter in the engine worker). */
  constructor(
    private readonly prompter: Prompter,
    private readonly engine: CompletionEngine,
    options: Partial<CompletionOptions> = {},
    private readonly ring?: ContextRing,
  ) {
    this.options = { ...DEFAULT_COMPLETION_OPTIONS, ...options };
    this.stopTokenIds = [...prompter.stopTokenIds];
    this.debounce = new AdaptiveDebounce(this.options.debounceMs, this.options.adaptiveDebounce);
  }

  /** Settings changed: applies from the next request on. */
  setOptions(options: Partial<CompletionOptions>): void {
    this.options = { ...this.options, ...options };
    this.debounce.setBase(this.options.debounceMs, this.options.adaptiveDebounce);
    this.prompter.resetAnchor();
    this.cache.clear();
  }

  /** The most recent request that reached a result other than 'skipped'. */
  get last(): CompletionRecord | null {
    return this.lastRecord;
  }

  onRecord(listener: (r: CompletionRecord) => void): { dispose(): void } {
    this.listeners.push(listener);
    return { dispose: () => this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1) };
  }

  /** Ends whatever request is pending or running (for example when the user turns completions off). */
  cancelPending(): void {
    this.newest?.abort();
  }

  async complete(doc: CompletionDocument, trigger: Trigger, signal?: AbortSignal): Promise<CompletionRecord> {
    this.requests++;
    try {
      return await this.request(doc, trigger, signal);
    } finally {
      this.requests--;
    }
  }

  private async request(doc: CompletionDocument, trigger: Trigger, signal?: AbortSignal): Promise<CompletionRecord> {
    const started = performance.now();
    this.newest?.abort();
    const mine = new AbortController();
    this.newest = mine;
    const sig = signal ? AbortSignal.any([mine.signal, signal]) : mine.signal;
    const record = newRecord(++this.seq, doc.path, trigger);
    const finish = (outcome: Outcome, reason = '', text = ''): CompletionRecord => {
      record.outcome = outcome;
      record.reason = reason;
      record.text = text;
      record.latencyMs = performance.now() - started;
      if (outcome !== 'skipped') this.lastRecord = record;
      for (const l of [...this.listeners]) l(record);
      return record;
    };

    const offset = Math.max(0, Math.min(doc.offset, doc.text.length));
    const key = { path: doc.path, prefix: doc.text.slice(0, offset), suffix: doc.text.slice(offset, offset + SUFFIX_KEY_CHARS) };
    const rest = this.cache.lookup(key);
    if (rest !== null) return finish('typed-through', 'the user is typing the suggestion shown before', rest);

    const ctx = cursorContext(doc.text, offset);
    const decision = decideMode(ctx, trigger, this.options);
    if ('skip' in decision) return finish('skipped', decision.skip);
    record.mode = decision.mode;

    const late = await this.waitForTurn(record, { ...doc, offset }, trigger, sig);
    if (late !== null) return finish('debounced', late);

    let prompt: BuiltPrompt;
    try {
      prompt = await this.buildPrompt({ ...doc, offset });
    } catch (e) {
      if (sig.aborted) return finish('cancelled', 'a newer request came while the prompt was being built');
      return finish('error', `building the prompt failed: ${(e as Error).message}`);
    }
    if (sig.aborted) return finish('cancelled', 'a newer request came while the prompt was being built');
    record.prompt = prompt;

    // The time budget counts from the keystroke: debounce and waiting eat into it.
    const single = decision.mode === 'single-line';
    const budgetMs = single ? this.options.singleLineMaxMs : this.options.multiLineMaxMs;
    let answer: Answer;
    try {
      answer = await this.answer(prompt, decision.mode, decision.minIndent, sig, Math.max(MIN_ENGINE_MS, budgetMs - (performance.now() - started)), record);
    } catch (e) {
      return finish('error', (e as Error).message);
    }
    const { result, blockDone } = answer;
    if (result.stopReason === 'cancelled' && !blockDone) return finish('cancelled', 'a newer request preempted the generation');
    this.debounce.observe(record.engineMs);

    const verdict = postProcess(record.raw, ctx, decision.mode, decision.minIndent);
    if ('drop' in verdict) {
      if (verdict.drop === 'empty' && result.stopReason === 'max-time') return finish('timed-out', `no text within the ${budgetMs} ms budget`);
      return finish(verdict.drop, verdict.drop === 'empty' ? `the model wrote nothing usable (${record.stopReason})` : 'the suggestion repeats the code after the cursor');
    }
    this.cache.put(key, verdict.text);
    return finish('shown', blockDone ? 'end of block' : result.stopReason, verdict.text);
  }

  /**
   * Waits for this request's turn: the debounce (an automatic request), while the keystroke's own
   * tokens are prefilled ahead, then the generation in flight. Returns why the request lost its
   * turn to a newer one, or null.
   */
  private async waitForTurn(record: CompletionRecord, doc: CompletionDocument, trigger: Trigger, sig: AbortSignal): Promise<string | null> {
    if (trigger === 'auto') {
      record.debounceMs = this.debounce.delayMs();
      // The keystroke's own tokens are prefilled during the wait (once the engine is free),
      // so typing keeps the cache current and the answer after a pause is mostly decoding.
      if (record.debounceMs > 0 && this.engine.keepsPromptCache !== false) {
        void this.running.then(() => {
          if (!sig.aborted && !this.engineBusy) return this.prefillOnly(doc, sig);
        });
      }
      if (!(await sleep(record.debounceMs, sig))) return 'a newer request came during the debounce wait';
    }
    // At most one generation in flight: the abort above ends the previous one within a step.
    await this.running;
    return sig.aborted ? 'a newer request came while the previous generation was ending' : null;
  }

  /**
   * Runs the prompt through the engine; a multi-line answer is cut where its block ends (the
   * generation is stopped there). Fills the record's engine facts: timings, ids, raw text.
   */
  private async answer(prompt: BuiltPrompt, mode: CompletionMode, minIndent: number, sig: AbortSignal, maxTimeMs: number, record: CompletionRecord): Promise<Answer> {
    const single = mode === 'single-line';
    let streamed = '';
    let blockDone = false;
    const stopper = new AbortController();
    const onText = (delta: string): void => {
      streamed += delta;
      if (!single && !blockDone && blockEnd(streamed, minIndent) >= 0) {
        blockDone = true;
        stopper.abort();
      }
    };
    const engineStart = performance.now();
    let result: GenerationResult;
    try {
      result = await this.run(
        { promptIds: prompt.ids, parts: promptParts(prompt), maxNewTokens: this.maxNewTokens(mode), stopTokenIds: this.stopTokenIds, stopStrings: single ? ['\n'] : ['\n\n\n'], maxTimeMs },
        AbortSignal.any([sig, stopper.signal]),
        onText,
      );
    } finally {
      record.engineMs = performance.now() - engineStart;
    }
    record.timings = result.timings;
    record.newIds = result.newIds;
    record.raw = blockDone ? streamed : result.text;
    record.stopReason = blockDone ? 'stop-string' : result.stopReason;
    return { result, blockDone };
  }

  /**
   * Prefills the prompt for a cursor the user is about to type at (a file just opened or
   * focused), so that the first keystroke there prefills only its own tokens. Any request
   * preempts it; it does nothing while a request is pending (that request is the user's).
   */
  async warm(doc: CompletionDocument): Promise<void> {
    if (this.requests > 0 || this.engine.keepsPromptCache === false) return;
    this.newest?.abort();
    const mine = new AbortController();
    this.newest = mine;
    await this.running;
    if (mine.signal.aborted) return;
    const offset = Math.max(0, Math.min(doc.offset, doc.text.length));
    const decision = decideMode(cursorContext(doc.text, offset), 'invoke', this.options);
    if ('skip' in decision) return;
    await this.prefillOnly({ ...doc, offset }, mine.signal);
  }

  /** Runs the prompt for `doc` through the engine without keeping an answer (one token). */
  private async prefillOnly(doc: CompletionDocument, signal: AbortSignal): Promise<void> {
    let prompt: BuiltPrompt;
    try {
      prompt = await this.buildPrompt(doc);
    } catch {
      return; // the request at this place reports it
    }
    // A newer request may have come while the prompt was built: it runs instead.
    if (signal.aborted) return;
    await this.run({ promptIds: prompt.ids, parts: promptParts(prompt), maxNewTokens: 1, stopTokenIds: this.stopTokenIds, stopStrings: [], maxTimeMs: Infinity }, signal, () => {}).catch(() => undefined);
  }

  private maxNewTokens(mode: CompletionMode): number {
    return mode === 'single-line' ? Math.min(this.options.singleLineMaxTokens, this.options.maxNewTokens) : this.options.maxNewTokens;
  }

  /**
   * The prompt leaves room for the larger (multi-line) budget whatever the mode: windows
   * sized by the mode would change with it (an empty line, then text) and void the cache.
   */
  private async buildPrompt(doc: CompletionDocument): Promise<BuiltPrompt> {
    const o = this.options;
    const budget = { prefixTokens: o.prefixTokens, suffixTokens: o.suffixTokens, contextTokens: o.contextTokens, maxPromptTokens: Math.max(1, o.contextLength - o.maxNewTokens) };
    return this.prompter.build(doc, budget, this.ring?.excerpts() ?? []);
  }

  /** Starts a generation; the next one waits for it to end (at most one in flight). */
  private run(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult> {
    this.engineBusy = true;
    const run = this.engine.generate(req, signal, onText);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = settled;
    void settled.then(() => {
      if (this.running === settled) this.engineBusy = false;
    });
    return run;
  }
}

function promptParts(p: BuiltPrompt): FimParts {
  return { path: p.headerPath, prefix: p.prefix, suffix: p.suffix, context: p.chunks };
}
