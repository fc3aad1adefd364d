// The summary as a comment in the language of the code it summarizes: JSDoc above the code for
// JavaScript and TypeScript, `///` for Rust and C#, a docstring as the first line inside a
// Python `def` or `class` (where Python tools read it), `--` for Lua and SQL, `#` for shells
// and Ruby, `//` for Go and the C family, and so on.

export interface CommentEdit {
  /** 0-based line before which the comment lines are inserted. */
  line: number;
  /** The lines to insert, each with its indentation, without line ends. */
  lines: string[];
}

const LINE_PREFIX: Record<string, string> = {
  go: '//',
  c: '//',
  cpp: '//',
  java: '//',
  kotlin: '//',
  scala: '//',
  swift: '//',
  dart: '//',
  php: '//',
  rust: '///',
  csharp: '///',
  fsharp: '///',
  lua: '--',
  sql: '--',
  haskell: '--',
  shellscript: '#',
  ruby: '#',
  perl: '#',
  r: '#',
  yaml: '#',
  dockerfile: '#',
  makefile: '#',
  powershell: '#',
  elixir: '#',
  julia: '#',
  python: '#',
};

const JSDOC = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'vue', 'svelte']);

/** Words at most this wide per comment line. */
const WIDTH = 90;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out.length > 0 ? out : [''];
}

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** The indentation one level deeper than `indent`, in the file's style (tabs or spaces). */
function deeper(indent: string, lines: readonly string[]): string {
  if (indent.includes('\t')) return `${indent}\t`;
  const widths = lines.map((l) => indentOf(l)).filter((i) => i.length > 0 && !i.includes('\t')).map((i) => i.length);
  const step = widths.length > 0 ? Math.min(...widths) : 4;
  return indent + ' '.repeat(Math.max(2, Math.min(8, step)));
}

/**
 * Where and what to insert for `summary` on the code that starts at `startLine` of `lines`
 * (the document's lines). Python gets a docstring after the header of a def or class (a
 * header may span lines: it ends at the first line ending with ':'), else `#` lines above.
 */
export function commentEdit(languageId: string, summary: string, lines: readonly string[], startLine: number): CommentEdit {
  const first = lines[startLine] ?? '';
  const indent = indentOf(first);
  const text = summary.replace(/\s+/g, ' ').trim().replace(/\*\//g, '* /');
  if (languageId === 'python' && /^\s*(async\s+def|def|class)\s/.test(first)) {
    let end = startLine;
    while (end < lines.length - 1 && !/:\s*(#.*)?$/.test(lines[end]!)) end++;
    const inner = deeper(indent, lines);
    const body = wrap(text.replace(/"""/g, '\\"\\"\\"'), WIDTH - inner.length - 6);
    const doc = body.length === 1 ? [`${inner}"""${body[0]}"""`] : [`${inner}"""${body[0]}`, ...body.slice(1).map((l) => `${inner}${l}`), `${inner}"""`];
    return { line: end + 1, lines: doc };
  }
  if (JSDOC.has(languageId)) {
    const body = wrap(text, WIDTH - indent.length - 3);
    return { line: startLine, lines: body.length === 1 ? [`${indent}/** ${body[0]} */`] : [`${indent}/**`, ...body.map((l) => `${indent} * ${l}`), `${indent} */`] };
  }
  const prefix = LINE_PREFIX[languageId] ?? (['html', 'xml', 'markdown'].includes(languageId) ? null : '//');
  if (prefix === null) return { line: startLine, lines: [`${indent}<!-- ${text.replace(/--/g, '- -')} -->`] };
  return { line: startLine, lines: wrap(text, WIDTH - indent.length - prefix.length - 1).map((l) => `${indent}${prefix} ${l}`) };
}
