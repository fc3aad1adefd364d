// The completion prompt for a cursor in a document, in the model's FIM layout (its
// FimTemplate: the starter model's suffix-first layout, or the open models' prefix-first one).
//
// Windows are measured in tokens. Everything before the prefix must stay the same from one
// keystroke to the next for the KV cache to be reused, so:
//   - the suffix window is cut at a line end from the text after the cursor only, which
//     typing at the cursor does not change;
//   - the prefix window's start is kept from the previous prompt while the prefix stays
//     within its budget plus a margin; when it grows past that, the start moves forward to
//     a line start in one coarse step, leaving room to grow again (one full prefill every
//     few hundred tokens typed instead of a shifted window on every keystroke);
//   - the context chunks come from the ring, which changes only when the user leaves or
//     edits another file.
// Each piece is encoded on its own, as the layout requires, through a small memo: the
// header, the suffix and the chunks repeat on every keystroke.
//
// The builder runs where the model's tokenizer is: in the engine worker for the extension
// (worker/workerPrompter.ts asks it there), in this thread for the CLI, the benchmark and a
// remote server's estimated windows. The completion session sees only a Prompter.
import { SegmentedEncoder } from './segmentedEncoder';
import type { FimTemplate } from '../tokenizer/fimTemplates';
import { selectChunks, type ContextChunk } from './contextRing';

export interface CompletionDocument {
  /** Workspace-relative path, or '' for an untitled editor. */
  path: string;
  languageId: string;
  text: string;
  /** Cursor offset in `text` (UTF-16 units). */
  offset: number;
}

export interface PromptBudget {
  prefixTokens: number;
  suffixTokens: number;
  contextTokens: number;
  /** Most tokens the prompt may take (context length minus the new-token budget). */
  maxPromptTokens: number;
}

export interface BuiltPrompt {
  ids: number[];
  /** The path written in the header. */
  headerPath: string;
  /** The template's layout in one line (FimTemplate.layout), for the Explain view. */
  layout: string;
  prefix: string;
  suffix: string;
  chunks: ContextChunk[];
  /** Document offsets the windows span: [prefixStart, offset) and [offset, suffixEnd). */
  prefixStart: number;
  suffixEnd: number;
  tokens: { context: number; header: number; suffix: number; prefix: number };
  /** The budgets used after fitting the settings into maxPromptTokens. */
  budget: { prefix: number; suffix: number; context: number };
}

/** Extensions for untitled editors, so the header still names the language. */
const LANGUAGE_EXTENSIONS: Record<string, string> = {
  typescript: 'ts', typescriptreact: 'tsx', javascript: 'js', javascriptreact: 'jsx', python: 'py', go: 'go', rust: 'rs',
  java: 'java', c: 'c', cpp: 'cpp', csharp: 'cs', ruby: 'rb', php: 'php', swift: 'swift', kotlin: 'kt', scala: 'scala',
  shellscript: 'sh', lua: 'lua', sql: 'sql', css: 'css', scss: 'scss', html: 'html', json: 'json', yaml: 'yaml',
  markdown: 'md', vue: 'vue', svelte: 'svelte', plaintext: 'txt',
};

export function headerPath(doc: Pick<CompletionDocument, 'path' | 'languageId'>): string {
  if (doc.path.trim() !== '') return doc.path;
  return `untitled.${LANGUAGE_EXTENSIONS[doc.languageId] ?? doc.languageId}`;
}

/** What builds the completion prompts of one session, wherever the tokenizer lives. */
export interface Prompter {
  /** Tokens that end an answer (the template's). */
  readonly stopTokenIds: readonly number[];
  /** The prompt for `doc`, taking other files' excerpts (a ContextRing's, oldest first) where the layout has room. */
  build(doc: CompletionDocument, budget: PromptBudget, excerpts: readonly ContextChunk[]): BuiltPrompt | Promise<BuiltPrompt>;
  /** Forgets where the prefix window starts (the next prompt chooses it afresh). */
  resetAnchor(): void;
}

/** The most characters one token is assumed to cover when bounding a window's text. */
const MAX_CHARS_PER_TOKEN = 12;
/** Characters of the prefix start compared to tell that the window start still holds the same text. */
const ANCHOR_CHARS = 64;

/** The setting budgets scaled down together when they would not fit in the prompt. */
export function fitBudget(b: PromptBudget, headerTokens: number, markerTokens: number): BuiltPrompt['budget'] {
  const room = Math.max(1, b.maxPromptTokens - headerTokens - markerTokens);
  const want = b.prefixTokens + b.suffixTokens + b.contextTokens;
  const scale = want > room ? room / want : 1;
  return { prefix: Math.max(1, Math.floor(b.prefixTokens * scale)), suffix: Math.floor(b.suffixTokens * scale), context: Math.floor(b.contextTokens * scale) };
}

/** Largest index i in [lo, hi] with ok(i), given ok is monotone (true then false); lo must be ok. */
function lastOk(lo: number, hi: number, ok: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class PromptBuilder implements Prompter {
  private readonly memo = new Map<string, number[]>();
  private readonly memoEncode = (text: string): number[] => this.encode(text);
  private anchor: { path: string; start: number; head: string } | null = null;

  /** Line-by-line encoding with a cache, where the tokenizer allows it (else whole texts, memoized). */
  private readonly segments: SegmentedEncoder | null;

  constructor(
    private readonly template: FimTemplate,
    private readonly memoSize = 64,
  ) {
    this.segments = template.linesEncodeAlone ? new SegmentedEncoder(template.encode) : null;
  }

  /** Encodes with the memo (most recently used kept). */
  encode(text: string): number[] {
    const hit = this.memo.get(text);
    if (hit !== undefined) {
      this.memo.delete(text);
      this.memo.set(text, hit);
      return hit;
    }
    const ids = this.segments?.encode(text) ?? this.template.encode(text);
    this.memo.set(text, ids);
    if (this.memo.size > this.memoSize) this.memo.delete(this.memo.keys().next().value as string);
    return ids;
  }

  get stopTokenIds(): readonly number[] {
    return this.template.stopIds;
  }

  resetAnchor(): void {
    this.anchor = null;
  }

  build(doc: CompletionDocument, budget: PromptBudget, excerpts: readonly ContextChunk[] = []): BuiltPrompt {
    const built = this.buildOnce(doc, budget, excerpts);
    if (built.ids.length <= budget.maxPromptTokens) return built;
    // The kept prefix window may run a margin over its budget; with the suffix and context
    // full that overflows the prompt (the soak found prompts past the model's context):
    // choose the window afresh, which leaves two margins free.
    this.anchor = null;
    return this.buildOnce(doc, budget, excerpts);
  }

  private buildOnce(doc: CompletionDocument, budget: PromptBudget, excerpts: readonly ContextChunk[]): BuiltPrompt {
    const path = headerPath(doc);
    const t = this.template;
    const headerTokens = t.header(path, this.memoEncode).length;
    const fit = fitBudget(budget, headerTokens, t.markerCount);
    const offset = Math.max(0, Math.min(doc.offset, doc.text.length));
    const prefixStart = this.prefixStart(doc.text, offset, path, fit.prefix);
    const prefix = doc.text.slice(prefixStart, offset);
    const suffixEnd = this.suffixEnd(doc.text, offset, fit.suffix);
    const suffix = doc.text.slice(offset, suffixEnd);
    const chunks = t.takesContext && fit.context > 0 ? selectChunks(excerpts, path, fit.context, (c) => t.contextChunk(c.path, c.text, this.memoEncode).length, doc.text) : [];
    const ids = t.prompt({ path, prefix, suffix, context: chunks }, this.memoEncode);
    const prefixTokens = this.encode(prefix).length;
    const suffixTokens = this.encode(suffix).length;
    return {
      ids,
      headerPath: path,
      layout: t.layout,
      prefix,
      suffix,
      chunks,
      prefixStart,
      suffixEnd,
      tokens: { context: ids.length - headerTokens - t.markerCount - prefixTokens - suffixTokens, header: headerTokens, suffix: suffixTokens, prefix: prefixTokens },
      budget: fit,
    };
  }

  /**
   * Start of the prefix window. The previous start is kept while it still marks the same
   * text and the prefix holds between half the budget and the budget plus a margin; else a
   * new line-aligned start is chosen so the prefix fills the budget less two margins.
   */
  private prefixStart(text: string, offset: number, path: string, budget: number): number {
    const margin = Math.max(1, Math.floor(budget / 8));
    const a = this.anchor;
    // The kept start is measured only when it can still be within the budget: in a long line
    // (minified code) a jump of megabytes must not encode everything between.
    const near = a !== null && a.start <= offset && offset - a.start <= (budget + margin) * MAX_CHARS_PER_TOKEN;
    if (a !== null && near && a.path === path && text.startsWith(a.head, a.start)) {
      const n = this.encode(text.slice(a.start, offset)).length;
      if (n <= budget + margin && (a.start === 0 || n >= budget / 2)) return a.start;
    }
    const target = Math.max(1, budget - 2 * margin);
    const lowest = Math.max(0, offset - (budget + margin) * MAX_CHARS_PER_TOKEN);
    // Candidate starts, ascending: line starts in [lowest, offset], then (a single line too
    // long for the budget) character positions inside the cursor's line.
    const starts: number[] = [];
    if (lowest === 0) starts.push(0);
    for (let i = text.indexOf('\n', lowest); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    const lineStart = starts.length > 0 ? starts[starts.length - 1] : lowest;
    for (let i = lineStart + 64; i < offset; i += 64) starts.push(i);
    starts.push(offset);
    const fits = (k: number): boolean => (this.segments?.encode(text.slice(starts[k], offset)) ?? this.template.encode(text.slice(starts[k], offset))).length <= target;
    // Fewest tokens at the end (offset); the earliest start that fits is the first k with fits(k).
    const k = starts.length - 1 - lastOk(0, starts.length - 1, (j) => fits(starts.length - 1 - j));
    const start = starts[k];
    this.anchor = { path, start, head: text.slice(start, start + ANCHOR_CHARS) };
    return start;
  }

  /** End of the suffix window: the last line end after the cursor within the budget. */
  private suffixEnd(text: string, offset: number, budget: number): number {
    if (budget <= 0) return offset;
    const limit = Math.min(text.length, offset + budget * MAX_CHARS_PER_TOKEN);
    if (this.encode(text.slice(offset, limit)).length <= budget && limit === text.length) return limit;
    const ends: number[] = [offset];
    for (let i = text.indexOf('\n', offset); i >= 0 && i < limit; i = text.indexOf('\n', i + 1)) ends.push(i + 1);
    return ends[lastOk(0, ends.length - 1, (j) => this.encode(text.slice(offset, ends[j])).length <= budget)];
  }
}
