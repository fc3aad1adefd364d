// When generation ends: a stop token (the model's end of sequence), a stop string in the
// decoded text, the new-token budget, the time budget, or cancellation.
//
// Stop strings are matched on text, not tokens: "\n\n" may arrive as "\n" + "\n" or inside
// one token with text after it. While streaming, text that could still turn out to be the
// start of a stop string is held back, so a caller never shows a stop string (or half of
// one) that it must then take back.

export type StopReason = 'eos' | 'stop-string' | 'max-tokens' | 'max-time' | 'cancelled';

export interface StopRules {
  /** Token ids that end generation (usually the model's eos ids); the id is kept in the output ids, its text is not emitted. */
  stopTokenIds: readonly number[];
  /** Text that ends generation; the output text is cut just before it. */
  stopStrings: readonly string[];
  /** New-token budget (a whole number >= 1). */
  maxNewTokens: number;
  /** Wall-clock budget in milliseconds for the whole call (prefill included); Infinity for none. */
  maxTimeMs: number;
}

export class StopRulesError extends Error {
  override name = 'StopRulesError';
}

/** Checks the rules and says what to change when one is out of range. */
export function checkStopRules(r: StopRules): void {
  if (!Number.isInteger(r.maxNewTokens) || r.maxNewTokens < 1) {
    throw new StopRulesError(`max new tokens must be a whole number of at least 1 (got ${r.maxNewTokens}).`);
  }
  if (!(r.maxTimeMs > 0)) throw new StopRulesError(`max time must be a positive number of milliseconds, or Infinity for none (got ${r.maxTimeMs}).`);
  for (const id of r.stopTokenIds) {
    if (!Number.isInteger(id) || id < 0) throw new StopRulesError(`stop token ids must be whole numbers >= 0 (got ${id}).`);
  }
  for (const s of r.stopStrings) {
    if (typeof s !== 'string' || s.length === 0) throw new StopRulesError('stop strings must be non-empty text; remove the empty one.');
  }
}

/**
 * Streams decoded text through the stop strings. push() takes each new piece of text and
 * returns what is safe to show now; once a stop string appears, `stopped` is set and the
 * text before it is everything that will ever be emitted. finish() releases the text held
 * back when generation ends for another reason.
 */
export class StopStringMatcher {
  private held = '';
  private done = false;
  private readonly maxLen: number;

  constructor(private readonly stops: readonly string[]) {
    this.maxLen = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  get stopped(): boolean {
    return this.done;
  }

  push(text: string): string {
    if (this.done) return '';
    const buf = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const at = buf.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = '';
      return buf.slice(0, cut);
    }
    // Text already emitted was checked: no stop string can begin there, so only a suffix of
    // buf that is a proper prefix of some stop string needs holding back (the longest one).
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  finish(): string {
    const rest = this.done ? '' : this.held;
    this.held = '';
    return rest;
  }

  private partialSuffix(buf: string): number {
    for (let len = Math.min(this.maxLen - 1, buf.length); len > 0; len--) {
      const tail = buf.slice(buf.length - len);
      if (this.stops.some((s) => s.length > len && s.startsWith(tail))) return len;
    }
    return 0;
  }
}
