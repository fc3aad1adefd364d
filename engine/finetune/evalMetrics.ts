// The scores of `limelight eval` and the baselines they stand beside. Summaries are scored
// as CodeXGLUE's code-to-text task scores them: sentence BLEU-4 with Lin and Och's add-one
// smoothing of the 2- to 4-gram precisions, and ROUGE-L's F1 from the longest common
// subsequence, both over lower-cased word tokens and averaged over the samples. Completions
// are scored by exact match and edit similarity (workspaceDataset.ts). The baselines: for a
// completed line, the earlier line of the same file most like the answer (what copying one
// line from above could at best give; a span's baseline builds on it, evalTasks.ts); for a
// summary, the function's name split into words.
import { editSimilarity } from './workspaceDataset';

/** Lower-cased words and numbers; punctuation does not count. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Sentence BLEU-4 of `candidate` against one `reference` (0..1): add-one smoothing for n >= 2, brevity penalty when the candidate is shorter. */
export function bleu4(candidate: string, reference: string): number {
  const c = words(candidate);
  const r = words(reference);
  if (c.length === 0 || r.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= 4; n++) {
    const cand = ngramCounts(c, n);
    const ref = ngramCounts(r, n);
    let clipped = 0;
    for (const [g, k] of cand) clipped += Math.min(k, ref.get(g) ?? 0);
    const total = Math.max(0, c.length - n + 1);
    const smooth = n === 1 ? 0 : 1;
    if (clipped + smooth === 0) return 0;
    logSum += Math.log((clipped + smooth) / (total + smooth)) / 4;
  }
  const brevity = c.length < r.length ? Math.exp(1 - r.length / c.length) : 1;
  return brevity * Math.exp(logSum);
}

/** Length of the longest common subsequence of two token lists (one row of the table). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

/** ROUGE-L F1 of `candidate` against `reference` (0..1). */
export function rougeL(candidate: string, reference: string): number {
  const c = words(candidate);
  const r = words(reference);
  const lcs = lcsLength(c, r);
  if (lcs === 0) return 0;
  const p = lcs / c.length;
  const q = lcs / r.length;
  return (2 * p * q) / (p + q);
}

/** The summary baseline: `parseHTTPHeader_v2` -> "parse http header v 2". */
export function nameWords(name: string): string {
  const spaced = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2');
  return words(spaced).join(' ');
}

/** The completion baseline: the earlier line (indentation and trailing space trimmed) most like `expected`; '' when there is none. */
export function closestEarlierLine(expected: string, earlierLines: readonly string[]): string {
  let best = '';
  let bestSim = -1;
  for (const line of earlierLines) {
    const t = line.trim();
    if (t === '') continue;
    const s = editSimilarity(t, expected);
    if (s > bestSim) {
      best = t;
      bestSim = s;
    }
  }
  return best;
}

export interface CompletionScores {
  exact_match: number;
  edit_similarity: number;
}

export interface SummaryScores {
  bleu4: number;
  rouge_l: number;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function completionScores(pairs: ReadonlyArray<{ got: string; expected: string }>): CompletionScores {
  return {
    exact_match: mean(pairs.map((p) => (p.got === p.expected ? 1 : 0))),
    edit_similarity: mean(pairs.map((p) => editSimilarity(p.got, p.expected))),
  };
}

export function summaryScores(pairs: ReadonlyArray<{ got: string; expected: string }>): SummaryScores {
  return {
    bleu4: mean(pairs.map((p) => bleu4(p.got, p.expected))),
    rouge_l: mean(pairs.map((p) => rougeL(p.got, p.expected))),
  };
}
