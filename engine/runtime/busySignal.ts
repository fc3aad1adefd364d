// Completions come before training. While the completion engine generates, a fine-tune in its
// own worker waits between steps instead of competing for the same cores: the user is looking
// at the cursor, and a training step can wait a moment. The signal is one Int32 in shared
// memory, the number of generations in flight: the extension's thread raises and lowers it,
// the training worker reads it without any message passing.
export class BusySignal {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly count = new Int32Array(this.buffer); // (1,)

  enter(): void {
    Atomics.add(this.count, 0, 1);
  }

  leave(): void {
    Atomics.sub(this.count, 0, 1);
    Atomics.notify(this.count, 0);
  }

  /** Runs `work` with the signal raised, lowering it however the work ends. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }
}

/**
 * Blocks the calling (worker) thread while the count in `buffer` is above zero, at most
 * `maxMs` (so a signal left raised cannot stall training for good). Returns the ms waited.
 */
export function waitWhileBusy(buffer: SharedArrayBuffer, maxMs: number): number {
  const count = new Int32Array(buffer); // (1,)
  const started = performance.now();
  for (;;) {
    const n = Atomics.load(count, 0);
    const left = maxMs - (performance.now() - started);
    if (n <= 0 || left <= 0) break;
    Atomics.wait(count, 0, n, left);
  }
  return performance.now() - started;
}
