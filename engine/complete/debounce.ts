// How long to wait after a keystroke before asking the model.
//
// The wait exists so that a fast typist does not start a generation per character. With
// KV-cache reuse a generation that a newer keystroke cancels costs little (its prefill
// stays in the cache), so when the engine answers fast the wait is cut down to half its
// recent answer time, never below a floor; a slow engine waits the full setting. With
// adaptation off (limelight.completions.adaptiveDebounce) the wait is always the setting.

/** Weight of the newest measurement in the moving average of engine latency. */
const ALPHA = 0.3;
const FLOOR_MS = 15;

export class AdaptiveDebounce {
  private avgMs: number | null = null;

  constructor(
    private baseMs: number,
    private adaptive = true,
  ) {}

  setBase(ms: number, adaptive = this.adaptive): void {
    this.baseMs = ms;
    this.adaptive = adaptive;
  }

  /** Records how long the engine took to answer one request (prompt to suggestion). */
  observe(latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.avgMs = this.avgMs === null ? latencyMs : this.avgMs + ALPHA * (latencyMs - this.avgMs);
  }

  get averageLatencyMs(): number | null {
    return this.avgMs;
  }

  delayMs(): number {
    if (this.baseMs <= 0) return 0;
    if (this.avgMs === null || !this.adaptive) return this.baseMs;
    return Math.round(Math.min(this.baseMs, Math.max(FLOOR_MS, this.avgMs / 2)));
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
