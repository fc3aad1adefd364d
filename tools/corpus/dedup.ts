// Exact and near-duplicate detection. Files are offered in a fixed order (held-out splits
// first) and the first copy wins, so a file shared by a test and a train package stays in
// test and leaves train.
//
// Near duplicates: MinHash over word 5-shingles (NPERM permutations), banded LSH to find
// candidates, then the share of equal signature slots estimates the Jaccard similarity.
import { createHash } from 'node:crypto';

const NPERM = 64;
const BANDS = 16;
const ROWS = NPERM / BANDS; // 4 rows per band: pairs at Jaccard 0.8 collide in some band with p > 0.999
const SHINGLE = 5;
export const NEAR_DUP_JACCARD = 0.8;

/** Hash of the text with trailing whitespace and line-ending differences removed. */
export function contentHash(text: string): string {
  const norm = text.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  return createHash('sha256').update(norm).digest('hex');
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// Odd multipliers and offsets for the NPERM hash permutations, fixed by a seeded xorshift.
const MUL = new Uint32Array(NPERM);
const ADD = new Uint32Array(NPERM);
{
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < NPERM; i++) {
    MUL[i] = next() | 1;
    ADD[i] = next();
  }
}

/** MinHash signature of the text's word shingles; null when the text has too few words. */
export function minhash(text: string): Uint32Array | null {
  const words = text.match(/[A-Za-z_$][A-Za-z0-9_$]*|\d+|[^\sA-Za-z0-9_$]/g) ?? [];
  if (words.length < SHINGLE) return null;
  const wh = Uint32Array.from(words, fnv1a); // (words,)
  const sig = new Uint32Array(NPERM).fill(0xffffffff); // (NPERM,)
  for (let i = 0; i + SHINGLE <= words.length; i++) {
    let h = 0x811c9dc5;
    for (let k = 0; k < SHINGLE; k++) h = Math.imul(h ^ wh[i + k], 0x01000193);
    for (let p = 0; p < NPERM; p++) {
      let v = (Math.imul(h, MUL[p]) + ADD[p]) >>> 0;
      v ^= v >>> 15;
      v = Math.imul(v, 0x2c1b3c6d) >>> 0;
      if (v < sig[p]) sig[p] = v;
    }
  }
  return sig;
}

/** Share of equal slots: an estimate of the Jaccard similarity of the shingle sets. */
export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Remembers the files kept so far and says whether a new one repeats one of them. */
export class Deduplicator {
  private readonly hashes = new Set<string>();
  private readonly sigs: Uint32Array[] = [];
  private readonly buckets: Map<string, number[]>[] = Array.from({ length: BANDS }, () => new Map());

  /** 'exact-duplicate', 'near-duplicate', or null (the text is new and is now remembered). */
  check(text: string): 'exact-duplicate' | 'near-duplicate' | null {
    const h = contentHash(text);
    if (this.hashes.has(h)) return 'exact-duplicate';
    const sig = minhash(text);
    if (sig !== null) {
      const keys: string[] = [];
      const seen = new Set<number>();
      for (let b = 0; b < BANDS; b++) {
        const key = Array.from(sig.subarray(b * ROWS, (b + 1) * ROWS)).join(',');
        keys.push(key);
        for (const j of this.buckets[b].get(key) ?? []) {
          if (seen.has(j)) continue;
          seen.add(j);
          if (similarity(sig, this.sigs[j]) >= NEAR_DUP_JACCARD) return 'near-duplicate';
        }
      }
      const id = this.sigs.length;
      this.sigs.push(sig);
      for (let b = 0; b < BANDS; b++) {
        const list = this.buckets[b].get(keys[b]);
        if (list === undefined) this.buckets[b].set(keys[b], [id]);
        else list.push(id);
      }
    }
    this.hashes.add(h);
    return null;
  }
}
