// Reading a family's config values from config.json (a JSON object) or from GGUF metadata
// (key/value pairs under the architecture's prefix), with one vocabulary of checks: a value
// that is missing, of the wrong type or out of range is named with where it came from and
// what to do, whichever file it came from.
import { ModelConfigError } from '../config';

/** Where config values come from: config.json, or a GGUF file's metadata. */
export interface ConfigValues {
  /** How the values are named in messages: "config.json" or the GGUF file's path. */
  readonly source: string;
  /** What to do when the values are wrong. */
  readonly fix: string;
  get(key: string): unknown;
}

export function jsonValues(json: Record<string, unknown>): ConfigValues {
  return { source: 'config.json', fix: 'Fix config.json, or use the one that came with the checkpoint.', get: (k) => json[k] };
}

/** A value as JSON, cut short: a damaged file may hold anything. */
export function shown(v: unknown): string {
  const s = typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? 'nothing');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/** The first of `keys` that is present, as a finite number; else the fallback, else an error naming `what`. */
export function num(vals: ConfigValues, keys: string[], what: string, fallback?: number): number {
  for (const k of keys) {
    const raw = vals.get(k);
    if (raw === undefined || raw === null) continue;
    const v = asNumber(raw);
    if (v === undefined || !Number.isFinite(v)) throw new ModelConfigError(`${vals.source}: "${k}" must be a number (got ${shown(raw)}). ${vals.fix}`);
    return v;
  }
  if (fallback !== undefined) return fallback;
  throw new ModelConfigError(`${vals.source}: missing ${what} (expected one of ${keys.map((k) => `"${k}"`).join(', ')}). ${vals.fix}`);
}

export function positiveInt(vals: ConfigValues, value: number, key: string, max: number): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new ModelConfigError(`${vals.source}: "${key}" must be a whole number from 1 to ${max} (got ${value}). ${vals.fix}`);
  }
  return value;
}

/** Token ids given as one id or a list (eos_token_id may be either). */
export function idList(v: unknown): number[] {
  const one = asNumber(v);
  if (one !== undefined && Number.isInteger(one)) return [one];
  if (Array.isArray(v)) return v.map(asNumber).filter((x): x is number => x !== undefined && Number.isInteger(x));
  return [];
}

export function str(vals: ConfigValues, key: string): string | undefined {
  const v = vals.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** Upper bounds that catch a damaged file before it allocates gigabytes. */
export const LIMIT = { vocab: 1 << 20, positions: 1 << 24, layers: 512, heads: 1024, width: 1 << 16 };
