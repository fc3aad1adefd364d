// The CLI's argument parser: `--name value`, `--name=value`, `--flag`, repeatable options,
// list options (`--data a b c`), and typed getters that name the option in every error. Commands declare their options
// once (OptionSpec) and the same list drives parsing, checking and --help.

export type OptionKind = 'string' | 'number' | 'int' | 'flag';

export interface OptionSpec {
  name: string; // without the leading --
  kind: OptionKind;
  /** Placeholder in help, e.g. DIR, N, TEXT. */
  value?: string;
  help: string;
  /** May be given several times (values are collected in order). */
  repeat?: boolean;
  /** Takes every value up to the next option (`--data a b c`); may also be given several times. */
  many?: boolean;
}

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, string[]>,
    private readonly specs: readonly OptionSpec[],
    /** The arguments that are not options (`limelight download OWNER/REPO FILE`), in order. */
    readonly positionals: readonly string[] = [],
  ) {}

  has(name: string): boolean {
    return this.values.has(this.spec(name).name);
  }

  flag(name: string): boolean {
    this.spec(name);
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    return this.values.get(this.spec(name).name)?.at(-1);
  }

  list(name: string): string[] {
    return [...(this.values.get(this.spec(name).name) ?? [])];
  }

  number(name: string, fallback: number): number {
    const s = this.string(name);
    if (s === undefined) return fallback;
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name} takes a number (got ${JSON.stringify(s)}).`);
    return v;
  }

  int(name: string, fallback: number): number {
    const v = this.number(name, fallback);
    if (!Number.isSafeInteger(v)) throw new UsageError(`--${name} takes a whole number (got ${this.string(name)}).`);
    return v;
  }

  /** A comma-separated list of token ids, e.g. 1,2,3 (spaces allowed). */
  ids(name: string): number[] | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    const parts = s.split(/[\s,]+/).filter((p) => p !== '');
    if (parts.length === 0) throw new UsageError(`--${name} needs at least one token id, e.g. --${name} 1,2,3.`);
    return parts.map((p) => {
      const v = Number(p);
      if (!/^\d+$/.test(p) || !Number.isSafeInteger(v)) throw new UsageError(`--${name}: "${p}" is not a token id; give whole numbers >= 0 separated by commas, e.g. 1,2,3.`);
      return v;
    });
  }

  private spec(name: string): OptionSpec {
    const s = this.specs.find((o) => o.name === name);
    if (!s) throw new Error(`the command reads --${name} but does not declare it`);
    return s;
  }
}

/** Parses argv (after the subcommand name) against `specs`, with up to `positionals` arguments that are not options; `--help`/`-h` is always accepted. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], positionals = 0): ParsedArgs {
  const values = new Map<string, string[]>();
  const plain: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      values.set('help', []);
      continue;
    }
    if (!arg.startsWith('--') && plain.length < positionals) {
      plain.push(arg);
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}; options start with --.`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = specs.find((o) => o.name === name);
    if (!spec) {
      const near = specs.filter((o) => editDistance(o.name, name) <= 2).map((o) => `--${o.name}`);
      throw new UsageError(`unknown option --${name}.${near.length > 0 ? ` Did you mean ${near.join(' or ')}?` : ''}`);
    }
    let value: string;
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} is a switch and takes no value.`);
      value = '';
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      // A value may itself start with "-" (a negative number, a stop string) but not with "--".
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}.`);
      value = next;
      i++;
    }
    const given = [value];
    if (spec.many && eq < 0) {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--') && argv[i + 1] !== '-h') given.push(argv[++i]!);
    }
    const seen = values.get(name);
    if (seen && !spec.repeat && !spec.many) throw new UsageError(`--${name} is given more than once.`);
    values.set(name, [...(seen ?? []), ...given]);
  }
  return new ParsedArgs(values, [...specs, { name: 'help', kind: 'flag', help: 'show this help' }], plain);
}

/** The --help text of a command. */
export function formatHelp(command: string, summary: string, usage: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((o) => [`--${o.name}${o.value ? ` ${o.value}` : ''}`, o.help + (o.many ? ' (one or more)' : o.repeat ? ' (repeatable)' : '')]);
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map((r) => r[0].length));
  return `${summary}\n\nUsage: limelight ${command} ${usage}\n\nOptions:\n${rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n')}\n`;
}

/** Levenshtein distance, for "did you mean" on a misspelt option. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}
