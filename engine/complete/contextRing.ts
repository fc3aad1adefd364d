// Excerpts of other files the user worked in, given to the model before the FIM prompt.
//
// The ring holds one excerpt per file (the lines around where the user last was), newest
// last, a few files at most. An excerpt is cut when it is noted (the user leaves or edits
// a file) and not while the user types elsewhere, so the chunks at the very start of the
// prompt stay the same keystroke after keystroke and the KV cache behind them stays valid.
// Files that Fine-tune on Workspace would refuse as secrets (credential files by name, or
// text that holds a key or token) are never excerpted: the prompt reaches the Explain Last
// Completion page, and a secret must not travel from one file into another's suggestions.
import { nameSkipReason } from '../workspace/workspaceFiles';
import { findSecret, MAX_FILE_BYTES } from '../workspace/sourceFilters';

export interface ContextChunk {
  path: string;
  text: string;
}

/** Whether a file must stay out of the ring: the secret rules of the training data. */
export function holdsSecret(path: string, text: string): boolean {
  return nameSkipReason(path) === 'secret-file' || findSecret(text) !== null;
}

/** Lines taken on each side of the noted position. */
const HALF_LINES = 20;

export function excerptAround(text: string, offset: number, halfLines = HALF_LINES): string {
  const lines = text.split('\n');
  const line = text.slice(0, Math.max(0, Math.min(offset, text.length))).split('\n').length - 1;
  const from = Math.max(0, line - halfLines);
  return lines
    .slice(from, line + halfLines + 1)
    .join('\n')
    .trimEnd();
}

export class ContextRing {
  private chunks: ContextChunk[] = []; // newest last

  constructor(private readonly capacity = 8) {}

  /** Records the user's place in a file (visited, edited or left); it becomes the newest chunk. */
  note(path: string, text: string, offset: number): void {
    this.chunks = this.chunks.filter((c) => c.path !== path);
    const excerpt = excerptAround(text, offset);
    if (excerpt.trim() === '') return;
    // The whole file when it is small enough to train on (a key's header may lie outside the
    // excerpt), else the excerpt, the only part that could reach a prompt; an excerpt that big
    // (a minified line) is over any context budget and too long to scan while the user waits.
    const checked = text.length <= MAX_FILE_BYTES ? text : excerpt;
    if (checked.length > MAX_FILE_BYTES || holdsSecret(path, checked)) return;
    this.chunks.push({ path, text: excerpt });
    if (this.chunks.length > this.capacity) this.chunks.shift();
  }

  forget(path: string): void {
    this.chunks = this.chunks.filter((c) => c.path !== path);
  }

  /** The excerpts held, oldest first (what a prompt selects from: selectChunks). */
  excerpts(): ContextChunk[] {
    return [...this.chunks];
  }
}

/**
 * Chunks for a prompt in `path` from a ring's excerpts (oldest first), oldest first (the newest
 * sits next to the prompt), within `budget` tokens counted by `count`: the newest chunks are
 * kept, a chunk whose text equals a newer one's or appears in `ownText` is skipped, and the
 * oldest kept chunk loses lines from its top until it fits.
 */
export function selectChunks(excerpts: readonly ContextChunk[], path: string, budget: number, count: (c: ContextChunk) => number, ownText = ''): ContextChunk[] {
  const picked: ContextChunk[] = [];
  const seen = new Set<string>();
  let left = budget;
  for (let i = excerpts.length - 1; i >= 0 && left > 0; i--) {
    const c = excerpts[i];
    if (c.path === path || seen.has(c.text) || ownText.includes(c.text)) continue;
    seen.add(c.text);
    let chunk = c;
    let n = count(chunk);
    while (n > left) {
      const nl = chunk.text.indexOf('\n');
      if (nl < 0) break;
      chunk = { path: c.path, text: chunk.text.slice(nl + 1) };
      n = count(chunk);
    }
    if (n > left) break;
    picked.push(chunk);
    left -= n;
  }
  return picked.reverse();
}
