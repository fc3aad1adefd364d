// A team's inference server as Limelight uses it: fill-in-the-middle, plain continuations and
// chat turns, streamed, each ending on the caller's terms. A cancellation (a newer keystroke)
// or the request's time budget running out ends it with the text so far ('cancelled',
// 'max-time'), as a local generation ends; the caller's stop strings are applied here too,
// whatever the server does with them. A 429 is honoured: nothing is sent until its
// Retry-After has passed. Completions are never retried (the next keystroke asks again);
// chat turns are retried a bounded number of times after a 429 or 503.
import type { GenerateTimings } from '../generate/generator';
import type { StopReason } from '../generate/stops';
import { fimRowByName, fimRowForModel, FIM_TEMPLATE_NAMES, type FimMarkerRow, type FimTextParts } from '../tokenizer/fimMarkers';
import { chatRequest, continueRequest, infillRequest, ShapeError, type ApiRequest, type ChatMessage, type Limits, type ServerCounts } from './apis';
import { endpointUrl, redact, type RemoteConfig } from './endpoint';
import { postJson } from './http';
import { RemoteError } from './remoteError';

export interface RemoteRun {
  maxTokens: number;
  /** Texts that end the answer (not included in it). */
  stop: string[];
  /** Budget of this request: past it, the answer ends with the text so far ('max-time'). */
  maxTimeMs: number;
  signal: AbortSignal;
  onText?: (delta: string) => void;
  /** Streamed (default) or one whole answer. */
  stream?: boolean;
}

export interface RemoteResult {
  text: string;
  stopReason: StopReason;
  timings: GenerateTimings;
}

/** Chat turns are sent at most this many times in all after a 429 or 503. */
export const CHAT_ATTEMPTS = 3;
/** The longest Retry-After a chat turn waits for; a longer one is reported instead. */
const CHAT_MAX_WAIT_MS = 20_000;
/** The pause after a 429 that gave no Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 5_000;

export class RemoteClient {
  /** Until when the server asked not to be sent requests (429 Retry-After), as Date.now(). */
  private quietUntil = 0;
  /** The FIM template (openai-completions, raw Ollama), or null where the server owns it. */
  readonly fimRow: FimMarkerRow | null;

  constructor(readonly config: RemoteConfig) {
    this.fimRow = fimTemplateFor(config);
  }

  /** "llama-infill at http://127.0.0.1:8080 (qwen2.5-coder)": for logs and the Explain view, never with the key. */
  get description(): string {
    const c = this.config;
    return `${c.api} at ${c.endpoint.origin}${c.endpoint.pathname.replace(/\/$/, '')}${c.model !== '' ? ` (${c.model})` : ''}`;
  }

  /** A completion between the parts' prefix and suffix. */
  infill(parts: FimTextParts, run: RemoteRun): Promise<RemoteResult> {
    return this.send(infillRequest(this.config.api, parts, this.limits(run), this.fimRow), run);
  }

  /** A continuation of `prompt`. */
  continue(prompt: string, run: RemoteRun): Promise<RemoteResult> {
    return this.send(continueRequest(this.config.api, prompt, this.limits(run)), run);
  }

  /** A chat turn, retried after a 429 or 503 (CHAT_ATTEMPTS in all, waiting as the server asks). */
  async chat(messages: ChatMessage[], run: RemoteRun): Promise<RemoteResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(chatRequest(this.config.api, messages, this.limits(run)), run);
      } catch (e) {
        const retryable = e instanceof RemoteError && (e.kind === 'rate-limited' || e.status === 503);
        if (!retryable || attempt >= CHAT_ATTEMPTS) throw e;
        const wait = Math.max(0, this.quietUntil - Date.now(), e.retryAfterMs ?? 0);
        if (wait > CHAT_MAX_WAIT_MS) throw e;
        if (!(await pause(wait, run.signal))) throw new RemoteError('the request was cancelled', 'cancelled');
      }
    }
  }

  private limits(run: RemoteRun): Limits {
    return { model: this.config.model, maxTokens: run.maxTokens, stop: run.stop, stream: run.stream ?? true };
  }

  private async send(req: ApiRequest, run: RemoteRun): Promise<RemoteResult> {
    const key = this.config.apiKey;
    const waitMs = this.quietUntil - Date.now();
    if (waitMs > 0) throw new RemoteError(`${this.description} asked to wait (HTTP 429): nothing is sent for another ${Math.ceil(waitMs / 1000)} s.`, 'rate-limited', 429, waitMs);
    const started = performance.now();
    let firstAt: number | null = null;
    let text = '';
    let pieces = 0;
    let end: StopReason | null = null;
    let counts: ServerCounts | null = null;
    const local = new AbortController();
    let localReason: StopReason | null = null;
    const stopHere = (reason: StopReason): void => {
      localReason ??= reason;
      local.abort();
    };
    const budget = setTimeout(() => stopHere('max-time'), Math.max(1, Math.min(run.maxTimeMs, 2 ** 31 - 1)));
    const onCancel = (): void => stopHere('cancelled');
    run.signal.addEventListener('abort', onCancel, { once: true });
    if (run.signal.aborted) onCancel();
    try {
      await postJson(endpointUrl(this.config.endpoint, req.path), req.body, {
        apiKey: key,
        signal: local.signal,
        timeoutMs: this.config.timeoutMs,
        framing: req.framing,
        onMessage: (message) => {
          if (localReason !== null) return;
          let piece;
          try {
            piece = req.read(message);
          } catch (e) {
            if (e instanceof ShapeError) throw new RemoteError(`${this.description} answered in an unexpected shape (${e.message}): is limelight.remote.api right for this server?`, 'protocol');
            throw e;
          }
          if (piece.counts !== null) counts = { ...counts, ...piece.counts };
          if (piece.text !== '') {
            firstAt ??= performance.now();
            pieces++;
            const before = text.length;
            text += piece.text;
            const cut = firstStop(text, run.stop, Math.max(0, before - maxLength(run.stop)));
            if (cut >= 0) {
              text = text.slice(0, cut);
              if (text.length > before) run.onText?.(text.slice(before));
              stopHere('stop-string');
              return;
            }
            run.onText?.(piece.text);
          }
          if (piece.end !== null) end = piece.end;
        },
      });
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      if (e.kind === 'cancelled' && localReason !== null) {
        // Ended here: by the caller, the budget or a stop string, with the text so far.
      } else {
        if (e.kind === 'rate-limited') this.quietUntil = Date.now() + (e.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
        throw e;
      }
    } finally {
      clearTimeout(budget);
      run.signal.removeEventListener('abort', onCancel);
    }
    const stopReason: StopReason | null = localReason ?? end;
    if (stopReason === null) throw new RemoteError(redact(`${this.description} ended its answer before saying it was complete (the connection closed early); the text so far is dropped.`, key), 'network');
    return { text, stopReason, timings: this.timings(counts, pieces, started, firstAt) };
  }

  /** The server's counts where it gave them, else what was seen here (a streamed piece taken as a token). */
  private timings(c: ServerCounts | null, pieces: number, started: number, firstAt: number | null): GenerateTimings {
    const now = performance.now();
    const firstMs = (firstAt ?? now) - started;
    return {
      prompt_tokens: c?.promptTokens ?? 0,
      reused_tokens: c?.cachedTokens ?? 0,
      prefilled_tokens: c?.prefilledTokens ?? c?.promptTokens ?? 0,
      new_tokens: c?.newTokens ?? pieces,
      prefill_ms: c?.prefillMs ?? firstMs,
      decode_ms: c?.decodeMs ?? (firstAt === null ? 0 : now - firstAt),
      backend: `remote ${this.description}`,
    };
  }
}

/**
 * The FIM template a configuration uses: the one named, else the one the model's name selects;
 * null where the server builds the prompt (llama-infill; Ollama without a template named).
 * Throws what to set when openai-completions has neither.
 */
export function fimTemplateFor(config: Pick<RemoteConfig, 'api' | 'model' | 'fimTemplate'>): FimMarkerRow | null {
  if (config.fimTemplate !== '') {
    const row = fimRowByName(config.fimTemplate);
    if (row === null) throw new RemoteError(`limelight.remote.fimTemplate "${config.fimTemplate}" is not a known template; use one of ${FIM_TEMPLATE_NAMES.join(', ')}, or leave it empty to choose from the model's name.`, 'bad-request');
    return config.api === 'llama-infill' ? null : row;
  }
  if (config.api !== 'openai-completions') return null;
  const row = fimRowForModel(config.model);
  if (row === null) throw new RemoteError(`cannot tell which fill-in-the-middle markers the model "${config.model}" uses: set limelight.remote.fimTemplate (CLI: --fim-template) to one of ${FIM_TEMPLATE_NAMES.join(', ')}.`, 'bad-request');
  return row;
}

/** Index of the earliest stop text in `text` at or after `from`, or -1. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

function maxLength(stops: readonly string[]): number {
  return stops.reduce((n, s) => Math.max(n, s.length), 0);
}

/** Waits `ms`; false when the signal fired first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
