// When to ask the model, how much to ask for, and what to do with its answer.
//
// A suggestion is multi-line where a block or a statement begins (an empty line, or the end
// of a line that opens a block) and single-line when the cursor is inside a line. With much
// text after the cursor no automatic request is made: the model would have to write around
// it, and a ghost text in the middle of a line is more noise than help.
// Multi-line suggestions end with their block, judged by indentation: the first line that
// starts left of the block's indentation belongs to the code after it.

export type CompletionMode = 'single-line' | 'multi-line';
export type Trigger = 'auto' | 'invoke';

/** The text around the cursor that the policy looks at. */
export interface CursorContext {
  /** Text of the cursor's line before the cursor. */
  linePrefix: string;
  /** Text of the cursor's line after the cursor. */
  lineSuffix: string;
  /** The lines after the cursor's line (a few), for duplicate checks. */
  nextLines: string[];
}

export type ModeDecision = { mode: CompletionMode; minIndent: number } | { skip: string };

/** Characters that may follow the cursor without making the request mid-line text. */
const CLOSERS = /^[)\]}>'"`;,.:\s]*$/;
/** Line endings after which the next line begins a block (braces, Python, Ruby/Lua, arrows). */
const BLOCK_OPENER = /(?:[{([:]|=>|\bdo|\bthen|\bbegin)\s*$/;
/** Text after the cursor (closers aside) longer than this gets no automatic request (the default). */
export const MAX_FOLLOWING_CHARS = 8;
/** Lines after the cursor kept for the duplicate checks. */
const NEXT_LINES = 8;
const TAB_WIDTH = 4;

/** Characters of the cursor's line looked at on each side of it. */
const LINE_WINDOW = 4096;

/** The user's settings of the policy. */
export interface ModePolicy {
  /** Multi-line suggestions where a block begins; false: one line everywhere. */
  multiLine: boolean;
  /** Text after the cursor (closers aside) longer than this gets no automatic request. */
  maxFollowingChars: number;
}

export const DEFAULT_MODE_POLICY: ModePolicy = { multiLine: true, maxFollowingChars: MAX_FOLLOWING_CHARS };

export function cursorContext(text: string, offset: number): CursorContext {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const nextLines: string[] = [];
  let at = lineEnd;
  while (at < text.length && nextLines.length < NEXT_LINES) {
    let end = text.indexOf('\n', at + 1);
    if (end < 0) end = text.length;
    nextLines.push(text.slice(at + 1, Math.min(end, at + 1 + LINE_WINDOW)).replace(/\r$/, ''));
    at = end;
  }
  // A line longer than LINE_WINDOW (minified code) is seen through LINE_WINDOW characters on each
  // side of the cursor: the rules look at its ends only, and regexes over megabytes cost a keystroke.
  const from = Math.max(lineStart, offset - LINE_WINDOW);
  const to = Math.min(lineEnd, offset + LINE_WINDOW);
  return { linePrefix: text.slice(from, offset), lineSuffix: text.slice(offset, to).replace(/\r$/, ''), nextLines };
}

/** Width of a line's leading whitespace, tabs counting TAB_WIDTH columns. */
export function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w++;
    else if (ch === '\t') w += TAB_WIDTH;
    else break;
  }
  return w;
}

/**
 * What to ask for at this cursor, or why not to ask. `minIndent`: lines of a multi-line
 * suggestion (after its first) that start left of this column end it.
 */
export function decideMode(ctx: CursorContext, trigger: Trigger, policy: ModePolicy = DEFAULT_MODE_POLICY): ModeDecision {
  const following = ctx.lineSuffix.trim();
  if (trigger === 'auto') {
    if (/^[\p{L}\p{N}_$]/u.test(ctx.lineSuffix) && /[\p{L}\p{N}_$]$/u.test(ctx.linePrefix)) return { skip: 'the cursor is inside a word' };
    if (!CLOSERS.test(following) && following.length > policy.maxFollowingChars) return { skip: `${following.length} characters follow the cursor on its line` };
  }
  if (!policy.multiLine) return { mode: 'single-line', minIndent: 0 };
  const closersOnly = CLOSERS.test(following);
  if (closersOnly && ctx.linePrefix.trim() === '') return { mode: 'multi-line', minIndent: indentWidth(ctx.linePrefix) };
  if (closersOnly && following === '' && BLOCK_OPENER.test(ctx.linePrefix)) return { mode: 'multi-line', minIndent: indentWidth(ctx.linePrefix) + 1 };
  return { mode: 'single-line', minIndent: 0 };
}

/**
 * Where a multi-line suggestion's block ends: the index of the newline before the first
 * later line that starts left of `minIndent` (at column 0 a blank line ends a top-level
 * statement), or -1 while no complete evidence is there. A line is judged as soon as its
 * first non-blank character has arrived, so a stream can stop the model right there.
 */
export function blockEnd(text: string, minIndent: number): number {
  let nl = text.indexOf('\n');
  let seenCode = text.slice(0, nl < 0 ? text.length : nl).trim() !== '';
  while (nl >= 0) {
    const next = text.indexOf('\n', nl + 1);
    const line = text.slice(nl + 1, next < 0 ? text.length : next);
    const body = line.trim();
    if (body === '' && next >= 0 && minIndent === 0 && seenCode) return nl;
    if (body !== '') {
      if (indentWidth(line) < minIndent) return nl;
      seenCode = true;
    }
    nl = next;
  }
  return -1;
}

export type Verdict = { text: string } | { drop: 'empty' | 'duplicate' };

function squash(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

/**
 * Turns the model's raw text into the suggestion: cut to one line or to the block, trailing
 * whitespace trimmed, closers already after the cursor not repeated, lines that the code
 * after the cursor already holds dropped; empty or pure repetition is dropped.
 */
export function postProcess(raw: string, ctx: CursorContext, mode: CompletionMode, minIndent: number): Verdict {
  let text = raw.replace(/\r\n?/g, '\n');
  if (mode === 'single-line') {
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
  } else {
    const end = blockEnd(text, minIndent);
    if (end >= 0) text = text.slice(0, end);
  }
  let lines = text.split('\n').map((l) => l.trimEnd());
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const following = ctx.lineSuffix.trim();
  const next = ctx.nextLines.map(squash).filter((l) => l !== '');
  if (mode === 'single-line') {
    if (following !== '' && lines[0].endsWith(following)) lines[0] = lines[0].slice(0, lines[0].length - following.length).trimEnd();
  } else {
    // The model often closes the block the editor already closed below the cursor.
    for (let k = Math.min(lines.length - 1, next.length); k > 0; k--) {
      const tail = lines.slice(lines.length - k).map(squash);
      if (tail.every((l, i) => l === next[i])) {
        lines = lines.slice(0, lines.length - k);
        break;
      }
    }
  }
  text = lines.join('\n').trimEnd();
  if (text.trim() === '') return { drop: 'empty' };
  if (mode === 'single-line') {
    if (squash(text) === squash(following) || squash(ctx.linePrefix + text) === next[0]) return { drop: 'duplicate' };
  } else {
    const written = lines.map(squash).filter((l) => l !== '');
    const ahead = [squash(ctx.lineSuffix), ...next].filter((l) => l !== '');
    if (written.length > 0 && written.every((l, i) => l === ahead[i])) return { drop: 'duplicate' };
  }
  return { text };
}
