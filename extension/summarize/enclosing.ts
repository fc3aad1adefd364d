// The code to summarize when nothing is selected: the innermost function, method or class
// around the cursor. Document symbols (from the language's extension) answer first; without
// them a heuristic on the text finds the nearest header line above the cursor that opens a
// block containing it (by braces for brace languages, by indentation for Python and friends).

export interface LineRange {
  /** 0-based, inclusive. */
  start: number;
  end: number;
}

const HEADER = /^\s*(export\s+)?(default\s+)?(async\s+)?(function\b|def\s|class\s|func\s|fn\s|pub\s+fn\s|(public|private|protected|static|override|readonly|\s)*[A-Za-z_$][\w$]*\s*(<[^>]*>)?\s*\([^)]*\)?\s*(:[^={]*)?\s*\{?\s*$|(const|let|var)\s+[A-Za-z_$][\w$]*\s*=\s*(async\s*)?(\([^)]*\)|[A-Za-z_$][\w$]*)\s*=>)/;
const CONTROL = /^\s*(if|for|while|switch|catch|else|do|try|return|with|elif|except)\b/;

function indentWidth(line: string): number {
  const m = /^[ \t]*/.exec(line)![0];
  return m.replace(/\t/g, '    ').length;
}

/** End of the block opened at or after `start` by braces: the line where depth returns to 0. */
function braceEnd(lines: readonly string[], start: number): number | null {
  let depth = 0;
  let opened = false;
  for (let i = start; i < lines.length; i++) {
    for (const ch of lines[i]!.replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '').replace(/\/\/.*$/, '')) {
      if (ch === '{') {
        depth++;
        opened = true;
      } else if (ch === '}') {
        depth--;
        if (opened && depth === 0) return i;
      }
    }
    if (!opened && i > start + 3) return null;
  }
  return null;
}

/** End of an indentation block opened by the header at `start` (Python-like languages). */
function indentEnd(lines: readonly string[], start: number): number {
  const base = indentWidth(lines[start]!);
  let end = start;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '') continue;
    if (indentWidth(l) <= base && !/^\s*[)\]}]/.test(l)) break;
    end = i;
  }
  return end;
}

/** The innermost function-like block around `line`, or null. */
export function enclosingBlock(lines: readonly string[], line: number, indentLanguage: boolean): LineRange | null {
  for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
    const l = lines[i]!;
    if (!HEADER.test(l) || CONTROL.test(l)) continue;
    const end = indentLanguage ? indentEnd(lines, i) : braceEnd(lines, i);
    if (end !== null && end >= line) return { start: i, end };
  }
  return null;
}

export const INDENT_LANGUAGES = new Set(['python', 'coffeescript', 'yaml', 'nim', 'haml', 'pug']);
