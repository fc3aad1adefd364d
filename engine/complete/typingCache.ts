// Typing through a suggestion: while the user types the characters a shown suggestion
// predicted, the rest of it is shown again at once, without asking the model.
//
// An entry remembers where a suggestion was shown (file, offset, the text just before and
// after the cursor) and the suggestion. A later cursor matches when the file is the same,
// the text after it is unchanged, and the text before it is the old text plus the first
// characters of the suggestion. Least recently used entries go first.

export interface TypingCacheKey {
  path: string;
  /** Text before the cursor (only its end is kept). */
  prefix: string;
  /** Text after the cursor (only its start is kept). */
  suffix: string;
}

interface Entry {
  path: string;
  /** Length of the whole text before the cursor when the suggestion was shown. */
  prefixLength: number;
  prefixTail: string;
  suffixHead: string;
  completion: string;
}

/** Characters of context compared on each side of the cursor. */
const SIDE = 256;

export class TypingCache {
  private entries: Entry[] = []; // most recently used last

  constructor(private readonly capacity = 32) {}

  get size(): number {
    return this.entries.length;
  }

  put(key: TypingCacheKey, completion: string): void {
    const entry: Entry = {
      path: key.path,
      prefixLength: key.prefix.length,
      prefixTail: key.prefix.slice(-SIDE),
      suffixHead: key.suffix.slice(0, SIDE),
      completion,
    };
    this.entries = this.entries.filter((e) => !(e.path === entry.path && e.prefixLength === entry.prefixLength && e.prefixTail === entry.prefixTail));
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** The rest of a suggestion the user is typing through, or null. */
  lookup(key: TypingCacheKey): string | null {
    const suffixHead = key.suffix.slice(0, SIDE);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      const typed = key.prefix.length - e.prefixLength;
      if (e.path !== key.path || typed < 0 || typed >= e.completion.length || e.suffixHead !== suffixHead) continue;
      if (!key.prefix.endsWith(e.prefixTail + e.completion.slice(0, typed))) continue;
      const rest = e.completion.slice(typed);
      if (rest.trim() === '') continue;
      this.entries.splice(i, 1);
      this.entries.push(e);
      return rest;
    }
    return null;
  }

  clear(): void {
    this.entries = [];
  }
}
