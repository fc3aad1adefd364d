// Shared access to the Hugging Face oracle fixtures (test/fixtures/oracle, see its SOURCE.md).
import { join } from 'node:path';
import { readSafetensors, type SafetensorsFile } from '../../engine/io/safetensors';

export const ORACLE_ROOT = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'oracle');
export const ORACLE_MODELS = ['gpt2-tiny', 'llama-tiny'] as const;

export function oracleDir(name: string): string {
  return join(ORACLE_ROOT, name);
}

export function oracleFile(name: string, file: 'reference' | 'grads' | 'after_adamw' | 'model'): SafetensorsFile {
  return readSafetensors(join(oracleDir(name), `${file}.safetensors`));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Softmax of logits in float64. */
export function softmax(logits: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const p = Float64Array.from(logits, (v) => Math.exp(v - m));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}

/** KL(softmax(ref) || softmax(got)): how far a lower-precision run's next-token distribution is from the reference's. */
export function kl(ref: Float32Array, got: Float32Array): number {
  const p = softmax(ref);
  const q = softmax(got);
  let d = 0;
  for (let i = 0; i < p.length; i++) d += p[i]! * Math.log(p[i]! / q[i]!);
  return d;
}

/** n values uniform in (-scale, scale) from a seeded generator. */
export function randn(n: number, rand: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
