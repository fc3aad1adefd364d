// What the latency benches share: reading `--option value` pairs with a clear error that quotes
// the usage, and percentiles of measured times.

/** Reads the value after argv[at] (the option's name); `next` advances past it. */
export class OptionReader {
  private at = 0;

  constructor(
    private readonly argv: readonly string[],
    private readonly usage: string,
  ) {}

  /** The next option name, or undefined at the end. */
  next(): string | undefined {
    return this.argv[this.at++];
  }

  value(option: string): string {
    const v = this.argv[this.at++];
    if (v === undefined) throw new Error(`${option} needs a value. ${this.usage}`);
    return v;
  }

  int(option: string, min: number): number {
    const v = Number(this.value(option));
    if (!Number.isInteger(v) || v < min) throw new Error(`${option} must be a whole number >= ${min}. ${this.usage}`);
    return v;
  }
}

/** The p-th percentile (0..1) of xs, NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}
