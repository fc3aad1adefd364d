// Training examples from one kept file, in the starter model's layouts
// (engine/tokenizer/promptFormats.ts); the starter corpus (tools/corpus) and Fine-tune on Workspace share them.
// A file becomes either one left-to-right document or, with probability FIM_RATE,
// fill-in-the-middle examples: one per window of about a context's worth of text, so prefix,
// suffix and middle fit in the model's context. The middle imitates what the completion
// provider asks for: the rest of a line, a few lines, or (less often) an arbitrary span.
import { type Rng } from '../generate/rng';
import type { FimTemplate } from '../tokenizer/fimTemplates';

export const FIM_RATE = 0.5;
/** About 900 tokens of code at ~3 characters per token, leaving room for the header and markers. */
export const FIM_WINDOW_CHARS = 2700;
/** The model's context: a FIM example longer than this is cut by the training windows. */
export const FIM_MAX_TOKENS = 1024;

export interface FimSplit {
  prefix: string;
  middle: string;
  suffix: string;
}

function randInt(rng: Rng, n: number): number {
  return Math.floor(rng.nextFloat() * n);
}

/** Splits a text at a random cursor into prefix, middle and suffix (prefix + middle + suffix === text). */
export function fimSplit(rng: Rng, text: string): FimSplit {
  const cursor = randInt(rng, text.length + 1);
  const kind = rng.nextFloat();
  let end: number;
  if (kind < 0.5) {
    // The rest of the current line (the newline stays in the suffix).
    const nl = text.indexOf('\n', cursor);
    end = nl < 0 ? text.length : nl;
  } else if (kind < 0.8) {
    // The rest of the line and 1 to 8 more lines, as for a block.
    end = cursor;
    const lines = 1 + randInt(rng, 8);
    for (let i = 0; i <= lines && end < text.length; i++) {
      const nl = text.indexOf('\n', end + (i === 0 ? 0 : 1));
      end = nl < 0 ? text.length : nl;
    }
  } else {
    end = Math.min(text.length, cursor + randInt(rng, 257));
  }
  return { prefix: text.slice(0, cursor), middle: text.slice(cursor, end), suffix: text.slice(end) };
}

/** Consecutive line-aligned pieces of at most maxChars (a longer single line is its own piece). */
export function windows(text: string, maxChars: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxChars);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end - 1);
      end = nl >= start ? nl + 1 : Math.max(end, text.indexOf('\n', end) + 1 || text.length);
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export interface FileExamples {
  kind: 'ltr' | 'fim';
  docs: number[][];
}

/** A file's training documents in the model's layout (its FIM template): left to right, or FIM examples of its windows. */
export function fileExamples(tok: FimTemplate, rng: Rng, path: string, text: string): FileExamples {
  if (rng.nextFloat() >= FIM_RATE) return { kind: 'ltr', docs: [tok.document(path, text, tok.encode)] };
  const docs: number[][] = [];
  const add = (w: string): void => {
    const s = fimSplit(rng, w);
    const d = tok.example({ path, prefix: s.prefix, suffix: s.suffix }, s.middle, tok.encode);
    const halves = d.length > FIM_MAX_TOKENS ? windows(w, Math.ceil(w.length / 2)) : [];
    if (halves.length > 1) halves.forEach(add);
    else docs.push(d);
  };
  windows(text, FIM_WINDOW_CHARS).forEach(add);
  return { kind: 'fim', docs };
}
