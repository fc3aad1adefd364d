// The workspace as training data: a deterministic 90/10 split by file (a file's split comes
// from the hash of its path, so it never moves when other files change), training documents
// in the starter model's layouts (left-to-right and fill-in-the-middle, sourceExamples.ts),
// held-out documents for the loss, and held-out line-completion tasks shaped like what the
// completion provider asks: the FIM prompt at the start of a line's code, the rest of the line
// to write.
import { createHash } from 'node:crypto';
import { Rng } from '../generate/rng';
import type { FimTemplate } from '../tokenizer/fimTemplates';
import { fileExamples } from './sourceExamples';

export const HELD_OUT_SHARE = 0.1;

export interface SourceFile {
  path: string;
  text: string;
}

export interface WorkspaceSplit {
  train: SourceFile[];
  heldOut: SourceFile[];
}

/** A stable number in [0, 1) from the path (first 32 bits of its SHA-256). */
function pathHash(path: string): number {
  return createHash('sha256').update(path).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Files whose hash falls under HELD_OUT_SHARE are held out; with two files or more at least
 * one is held out and at least one trains (the lowest and highest hashes), so both sides exist.
 */
export function splitByFile(files: readonly SourceFile[]): WorkspaceSplit {
  const ranked = [...files].map((f) => ({ f, h: pathHash(f.path) })).sort((a, b) => a.h - b.h || (a.f.path < b.f.path ? -1 : 1));
  const held = new Set(ranked.filter((r) => r.h < HELD_OUT_SHARE).map((r) => r.f));
  if (ranked.length >= 2) {
    held.add(ranked[0]!.f);
    held.delete(ranked[ranked.length - 1]!.f);
  }
  const byPath = (a: SourceFile, b: SourceFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { train: files.filter((f) => !held.has(f)).sort(byPath), heldOut: files.filter((f) => held.has(f)).sort(byPath) };
}

/** Training documents (token ids): each file left to right or as FIM examples, drawn from `seed`. */
export function trainingDocuments(tok: FimTemplate, files: readonly SourceFile[], seed: number): number[][] {
  const rng = new Rng(seed);
  return files.flatMap((f) => fileExamples(tok, rng, f.path, f.text).docs);
}

/** Held-out documents for the loss: every held-out file left to right. */
export function heldOutDocuments(tok: FimTemplate, files: readonly SourceFile[]): number[][] {
  return files.map((f) => tok.document(f.path, f.text, tok.encode));
}

export interface LineTask {
  path: string;
  /** 1-based line number. */
  line: number;
  promptIds: number[];
  /** The rest of the line after its indentation. */
  expected: string;
}

/** Characters of the file before and after the cursor that a task's prompt keeps. */
const PREFIX_CHARS = 1500;
const SUFFIX_CHARS = 500;
/** Lines with less code than this are not worth completing. */
const MIN_LINE_CHARS = 6;

export interface LineCandidate {
  file: SourceFile;
  /** 1-based line number. */
  line: number;
  /** Offset of the line's code (after its indentation) and of its end. */
  cursor: number;
  end: number;
}

/** The lines worth completing, in file order: at least MIN_LINE_CHARS characters of code after the indentation. */
export function lineCandidates(files: readonly SourceFile[]): LineCandidate[] {
  const candidates: LineCandidate[] = [];
  for (const file of files) {
    const text = file.text;
    let start = 0;
    for (let line = 1; start < text.length; line++) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const body = text.slice(start, end);
      const indent = body.length - body.trimStart().length;
      if (body.trim().length >= MIN_LINE_CHARS) candidates.push({ file, line, cursor: start + indent, end });
      start = end + 1;
    }
  }
  return candidates;
}

/**
 * The prompt for the gap between `cursor` and `end` in `text`, cut to `maxPromptTokens` by
 * keeping less text around the gap (PREFIX_CHARS before, SUFFIX_CHARS after, halved each
 * round); null when even the least does not fit.
 */
export function promptAround(build: (prefix: string, suffix: string) => number[], text: string, cursor: number, end: number, maxPromptTokens: number): number[] | null {
  for (let keep = 1; keep >= 1 / 64; keep /= 2) {
    const prefix = text.slice(Math.max(0, cursor - Math.floor(PREFIX_CHARS * keep)), cursor);
    const suffix = text.slice(end, end + Math.floor(SUFFIX_CHARS * keep));
    const promptIds = build(prefix, suffix);
    if (promptIds.length <= maxPromptTokens) return promptIds;
  }
  return null;
}

/**
 * Up to `max` line-completion tasks from the held-out files, spread evenly over their
 * candidate lines. Each prompt is cut to `maxPromptTokens` by keeping less text around the cursor.
 */
export function lineTasks(tok: FimTemplate, files: readonly SourceFile[], max: number, maxPromptTokens: number): LineTask[] {
  const candidates = lineCandidates(files);
  const n = Math.min(max, candidates.length);
  const out: LineTask[] = [];
  for (let i = 0; i < n; i++) {
    const c = candidates[Math.floor((i * candidates.length) / n)]!;
    const promptIds = promptAround((prefix, suffix) => tok.prompt({ path: c.file.path, prefix, suffix }, tok.encode), c.file.text, c.cursor, c.end, maxPromptTokens);
    if (promptIds !== null) out.push({ path: c.file.path, line: c.line, promptIds, expected: c.file.text.slice(c.cursor, c.end).trimEnd() });
  }
  return out;
}

/** Levenshtein distance of two strings (two rows of the table). */
export function editDistance(a: string, b: string): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** 1 - distance / longer length: 1 for equal strings, 0 for nothing in common (two empty strings: 1). */
export function editSimilarity(a: string, b: string): number {
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - editDistance(a, b) / longer;
}
