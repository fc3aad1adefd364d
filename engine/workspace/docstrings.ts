// Functions with a doc comment, for the starter corpus's summarization pairs and for
// `limelight eval --task summarize`: the function's code without its doc comment, and the
// comment's first sentence. Small line and brace scanners, one per language family; they
// skip what they cannot read with confidence rather than guess.
//   Python      `def` followed by a docstring (the docstring is cut out of the code)
//   JS / TS     a `/** ... */` block right before a function, method or arrow function
//   Go          `// ...` lines right before a top-level `func`

export type Language = 'python' | 'javascript' | 'typescript' | 'go';

export interface DocumentedFunction {
  name: string;
  /** The function's code without its doc comment, dedented. */
  code: string;
  summary: string;
  /** 1-based line of the definition in the file. */
  line: number;
}

const MAX_CODE_CHARS = 4000;
const MIN_SUMMARY_CHARS = 10;
const MAX_SUMMARY_CHARS = 200;

/** The first sentence of a doc comment's first paragraph, or null when there is none worth learning. */
export function firstSentence(doc: string): string | null {
  const para = doc.trim().split(/\n\s*\n/)[0].replace(/\s+/g, ' ').trim();
  let end = para.length;
  for (const m of para.matchAll(/[.!?](?=\s|$)/g)) {
    const before = para.slice(0, m.index);
    if (/\b(e\.g|i\.e|etc|vs|cf|Mr|Dr|approx)$/i.test(before)) continue;
    end = (m.index ?? 0) + 1;
    break;
  }
  const s = para.slice(0, end).trim();
  if (s.length < MIN_SUMMARY_CHARS || s.length > MAX_SUMMARY_CHARS) return null;
  if (!/^[A-Za-z`'"]/.test(s) || s.split(' ').length < 3) return null;
  if (/^(todo|fixme|deprecated|xxx|copyright|license)\b/i.test(s)) return null;
  return s;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function dedent(lines: string[]): string {
  const nonBlank = lines.filter((l) => l.trim().length > 0);
  const cut = Math.min(...nonBlank.map(indentOf));
  return lines.map((l) => l.slice(Math.min(cut, indentOf(l)))).join('\n').replace(/\s+$/, '');
}

const PY_DEF = /^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
const PY_DOC_OPEN = /^\s*[rRuU]?("""|''')/;

export function pythonFunctions(text: string): DocumentedFunction[] {
  const lines = text.split('\n');
  const out: DocumentedFunction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = PY_DEF.exec(lines[i]);
    if (m === null) continue;
    const indent = m[1].length;
    // The signature ends on the first line, at bracket depth 0, whose code ends with ':'.
    let depth = 0;
    let sigEnd = -1;
    for (let j = i; j < lines.length && j < i + 30; j++) {
      const code = lines[j].replace(/#.*$/, '');
      for (const ch of code) {
        if (ch === '(' || ch === '[' || ch === '{') depth++;
        else if (ch === ')' || ch === ']' || ch === '}') depth--;
      }
      if (depth === 0 && code.trimEnd().endsWith(':')) {
        sigEnd = j;
        break;
      }
    }
    if (sigEnd < 0) continue;
    let k = sigEnd + 1;
    while (k < lines.length && lines[k].trim() === '') k++;
    const open = k < lines.length ? PY_DOC_OPEN.exec(lines[k]) : null;
    if (open === null || indentOf(lines[k]) <= indent) continue;
    const quote = open[1];
    const afterOpen = lines[k].indexOf(quote) + 3;
    let docEnd = -1;
    let doc = '';
    const closeSame = lines[k].indexOf(quote, afterOpen);
    if (closeSame >= 0) {
      docEnd = k;
      doc = lines[k].slice(afterOpen, closeSame);
    } else {
      const parts = [lines[k].slice(afterOpen)];
      for (let e = k + 1; e < lines.length; e++) {
        const c = lines[e].indexOf(quote);
        if (c >= 0) {
          parts.push(lines[e].slice(0, c));
          docEnd = e;
          break;
        }
        parts.push(lines[e]);
      }
      doc = parts.join('\n');
    }
    if (docEnd < 0) continue;
    let end = docEnd + 1;
    while (end < lines.length && (lines[end].trim() === '' || indentOf(lines[end]) > indent)) end++;
    const body = lines.slice(docEnd + 1, end);
    if (!body.some((l) => l.trim().length > 0)) continue;
    const code = dedent([...lines.slice(i, sigEnd + 1), ...body]);
    const summary = firstSentence(doc);
    if (summary !== null && code.length <= MAX_CODE_CHARS) out.push({ name: m[2], code, summary, line: i + 1 });
  }
  return out;
}

/**
 * Index just past the bracket that closes the one at `open`, skipping strings, comments and
 * (for JS) regular expression literals; -1 when it does not close within the limit.
 */
export function matchBrace(text: string, open: number, lang: 'js' | 'go'): number {
  let depth = 0;
  const limit = Math.min(text.length, open + MAX_CODE_CHARS * 2);
  let prevSignificant = '';
  for (let i = open; i < limit; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? limit : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return -1;
      i = close + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === '`' || (lang === 'js' && c === '/' && /^$|[(,=:[!&|?{};+\-*%<>~^]/.test(prevSignificant))) {
      // A string, raw string, template or regex literal: skip to its unescaped end.
      const multiLine = c === '`';
      let j = i + 1;
      let inClass = false;
      for (; j < limit; j++) {
        const d = text[j];
        if (d === '\\' && !(lang === 'go' && c === '`')) {
          j++;
          continue;
        }
        if (d === '\n' && !multiLine) return -1;
        if (c === '/' && d === '[') inClass = true;
        else if (c === '/' && d === ']') inClass = false;
        else if (d === c && !inClass) break;
      }
      if (j >= limit) return -1;
      i = j;
      prevSignificant = 'a';
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') prevSignificant = c;
  }
  return -1;
}

/** Position of the body's `{` after a signature starting at `from`: the first at bracket depth 0, before any `;` (or, in Go, a line end). */
function bodyOpen(text: string, from: number, lang: 'js' | 'go'): number {
  let depth = 0;
  for (let i = from; i < text.length && i < from + 2000; i++) {
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (depth === 0 && c === '{') return i;
    else if (depth === 0 && (c === ';' || (lang === 'go' && c === '\n'))) return -1;
  }
  return -1;
}

const JS_DECL = [
  /^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(]/,
  /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=\n]+)?=>\s*\{|[A-Za-z_$][\w$]*\s*=>\s*\{)/,
  /^(?:(?:public|private|protected|static|async|override|get|set)\s+)*\*?\s*([A-Za-z_$][\w$]*)\s*(?:<[^>\n]*>)?\s*\(/,
];
const NOT_A_NAME = new Set(['if', 'for', 'while', 'switch', 'return', 'catch', 'function', 'with', 'new', 'typeof', 'await', 'super', 'constructor']);

function jsdocText(comment: string): string {
  const lines = comment
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''));
  const tag = lines.findIndex((l) => l.trimStart().startsWith('@'));
  return (tag < 0 ? lines : lines.slice(0, tag)).join('\n').replace(/\{@(?:link|linkcode|linkplain)\s+([^}|\s]+)[^}]*\}/g, '$1');
}

export function jsFunctions(text: string): DocumentedFunction[] {
  const out: DocumentedFunction[] = [];
  for (const m of text.matchAll(/\/\*\*(?!\/)[\s\S]*?\*\//g)) {
    const commentStart = m.index ?? 0;
    const after = commentStart + m[0].length;
    const rest = text.slice(after, after + 400);
    const lead = /^[ \t]*\r?\n?([ \t]*)/.exec(rest);
    if (lead === null) continue;
    const declStart = after + lead[0].length;
    const head = text.slice(declStart, declStart + 400);
    let name: string | null = null;
    for (const re of JS_DECL) {
      const d = re.exec(head);
      if (d !== null && !NOT_A_NAME.has(d[1])) {
        name = d[1];
        break;
      }
    }
    if (name === null) continue;
    const open = bodyOpen(text, declStart, 'js');
    if (open < 0) continue;
    const close = matchBrace(text, open, 'js');
    if (close < 0) continue;
    const lineStart = text.lastIndexOf('\n', declStart - 1) + 1;
    const code = dedent(text.slice(lineStart, close).split('\n'));
    const summary = firstSentence(jsdocText(m[0]));
    if (summary !== null && code.length <= MAX_CODE_CHARS && code.includes('\n')) {
      out.push({ name, code, summary, line: text.slice(0, declStart).split('\n').length });
    }
  }
  return out;
}

const GO_FUNC = /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/;

export function goFunctions(text: string): DocumentedFunction[] {
  const lines = text.split('\n');
  const offsets: number[] = [];
  let at = 0;
  for (const l of lines) {
    offsets.push(at);
    at += l.length + 1;
  }
  const out: DocumentedFunction[] = [];
  for (let i = 1; i < lines.length; i++) {
    const m = GO_FUNC.exec(lines[i]);
    if (m === null) continue;
    let k = i;
    while (k > 0 && lines[k - 1].startsWith('//')) k--;
    if (k === i) continue;
    const doc = lines
      .slice(k, i)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .filter((l) => !l.startsWith('go:') && !l.startsWith('+build'))
      .join('\n');
    const open = bodyOpen(text, offsets[i], 'go');
    if (open < 0) continue;
    const close = matchBrace(text, open, 'go');
    if (close < 0) continue;
    const code = text.slice(offsets[i], close);
    const summary = firstSentence(doc);
    if (summary !== null && code.length <= MAX_CODE_CHARS && code.includes('\n')) out.push({ name: m[1], code, summary, line: i + 1 });
  }
  return out;
}

export function documentedFunctions(text: string, lang: Language): DocumentedFunction[] {
  if (lang === 'python') return pythonFunctions(text);
  if (lang === 'go') return goFunctions(text);
  return jsFunctions(text);
}
