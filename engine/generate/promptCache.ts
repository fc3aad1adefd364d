// A prompt cache across files: a small LRU of KV-cache snapshots (runtime/kvSnapshot.ts) of
// prompts the generator computed before, so that going back to a file whose window was
// prefilled earlier restores its keys and values instead of running the whole window again.
// The live cache serves typing in one place (each keystroke's prompt extends the last);
// this serves coming back: llama.cpp's server keeps cached prompts per slot for the same
// reason, and llama.vscode a ring of chunks so that the prompt's head stays the same.
// Entries are kept within a byte budget (what limelight.kvCacheMemoryMB leaves beside the
// live cache), least recently used first out.
import { snapshotBytes, type KvSnapshot } from '../runtime/kvSnapshot';

export interface CachedPrompt {
  readonly ids: readonly number[];
  readonly snapshot: KvSnapshot;
}

/** Prompts sharing fewer leading tokens than this with a cached one are not worth a copy. */
export const MIN_PROMPT_REUSE = 64;

export interface PromptCacheStats {
  /** Prompts that the live cache could not serve (MIN_PROMPT_REUSE or more ids to prefill) and a snapshot did. */
  hits: number;
  /** Prompts that the live cache could not serve and no snapshot did either: a prefill. */
  misses: number;
  /** Snapshots in the cache now, and their bytes. */
  entries: number;
  bytes: number;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PromptCache {
  /** Most recently used first. */
  private readonly entries: CachedPrompt[] = [];
  private used = 0;
  private hits = 0;
  private misses = 0;

  constructor(readonly budgetBytes: number) {}

  get stats(): PromptCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.length, bytes: this.used };
  }

  /**
   * The cached prompt sharing the most leading ids with `ids`, when that beats `liveCommon`
   * (what the live cache shares) by at least MIN_PROMPT_REUSE; it leaves the cache (it becomes
   * the live one). A prompt the live cache serves (typing in one place) is no question for the
   * cache and counts neither as a hit nor as a miss.
   */
  take(ids: readonly number[], liveCommon: number): { prompt: CachedPrompt; common: number } | null {
    if (ids.length - liveCommon < MIN_PROMPT_REUSE) return null;
    let best = -1;
    let bestCommon = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const common = commonPrefix(this.entries[i]!.ids, ids);
      if (common > bestCommon) [best, bestCommon] = [i, common];
    }
    if (best < 0 || bestCommon < liveCommon + MIN_PROMPT_REUSE) {
      this.misses++;
      return null;
    }
    const [prompt] = this.entries.splice(best, 1);
    this.used -= snapshotBytes(prompt!.snapshot);
    this.hits++;
    return { prompt: prompt!, common: bestCommon };
  }

  /** Keeps a prompt the live cache is about to lose; evicts the least recently used beyond the budget. */
  put(prompt: CachedPrompt): void {
    const bytes = snapshotBytes(prompt.snapshot);
    if (bytes > this.budgetBytes || prompt.ids.length < MIN_PROMPT_REUSE) return;
    // A prompt that another entry extends (or repeats) adds nothing: keep the longer one.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (commonPrefix(e.ids, prompt.ids) === prompt.ids.length) return;
      if (commonPrefix(e.ids, prompt.ids) === e.ids.length) {
        this.entries.splice(i, 1);
        this.used -= snapshotBytes(e.snapshot);
      }
    }
    this.entries.unshift(prompt);
    this.used += bytes;
    while (this.used > this.budgetBytes) this.used -= snapshotBytes(this.entries.pop()!.snapshot);
  }

  clear(): void {
    this.entries.length = 0;
    this.used = 0;
  }
}
