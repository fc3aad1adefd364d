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
