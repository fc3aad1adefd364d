// Train / validation / test assignment by source unit (an npm package, a Python top-level
// module, a Go package directory), never by file, so no test unit is seen in training.
// A unit's split comes from the hash of its name, so adding or removing other units does
// not move it, except that each pool (a group of similar units, e.g. Go packages) is topped
// up to its held-out shares, so every language has enough held-out data.
import { createHash } from 'node:crypto';

export type Split = 'train' | 'val' | 'test';

export const TEST_SHARE = 0.05;
export const VAL_SHARE = 0.05;

/** A stable number in [0, 1) from the unit's name (first 32 bits of its SHA-256). */
export function unitHash(unit: string): number {
  return createHash('sha256').update(unit).digest().readUInt32BE(0) / 2 ** 32;
}

export function splitOf(unit: string): Split {
  const h = unitHash(unit);
  if (h < TEST_SHARE) return 'test';
  if (h < TEST_SHARE + VAL_SHARE) return 'val';
  return 'train';
}

export interface WeightedUnit {
  name: string;
  /** Size of the unit (its file count): held-out splits are topped up by weight, not by unit count. */
  weight: number;
}

/**
 * Splits for every unit of one pool. Where hashing leaves a held-out split with less than
 * its share of the pool's weight (small pools, or only tiny units drawn), train units are
 * moved there in order of their hash, test first, skipping units too big to give up
 * (over twice the share and over the median unit), until the share is reached or the split holds twice its share of
 * the units. So each held-out split gets at least one unit wherever the pool has one small enough.
 */
export function assignSplits(units: readonly WeightedUnit[]): Map<string, Split> {
  const out = new Map<string, Split>();
  for (const u of units) out.set(u.name, splitOf(u.name));
  const total = units.reduce((a, u) => a + u.weight, 0);
  const byHash = [...units].sort((a, b) => unitHash(a.name) - unitHash(b.name));
  const weights = units.map((u) => u.weight).sort((a, b) => a - b);
  const median = weights[Math.floor(weights.length / 2)] ?? 0;
  for (const need of ['test', 'val'] as const) {
    const share = need === 'test' ? TEST_SHARE : VAL_SHARE;
    const target = share * total;
    const maxCount = Math.max(1, Math.round(2 * share * units.length));
    let have = 0;
    let count = 0;
    for (const u of units) {
      if (out.get(u.name) === need) {
        have += u.weight;
        count++;
      }
    }
    for (const u of byHash) {
      if (units.length < 3 || (have >= target && count > 0) || count >= maxCount) break;
      if (out.get(u.name) !== 'train' || u.weight > Math.max(2 * target, median)) continue;
      out.set(u.name, need);
      have += u.weight;
      count++;
    }
  }
  return out;
}
