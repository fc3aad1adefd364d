// Glob patterns as VS Code settings write them (`**/*.{ts,js}`, `**/node_modules/**`) and
// .gitignore rules (git's semantics: last matching rule wins, `!` re-includes, a trailing `/`
// matches folders only, a pattern with a `/` before its end is anchored to its file's
// folder, one without matches a name at any depth). Paths are relative, with `/` separators.

/** A RegExp matching a whole relative path: `**` spans folders, `*` and `?` stay inside one. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slashBefore = i === 0 || glob[i - 1] === '/';
        const slashAfter = glob[i + 2] === '/';
        i++;
        if (slashBefore && slashAfter) {
          re += '(?:[^/]*/)*';
          i++;
        } else if (slashBefore && i === glob.length - 1) {
          re = re.endsWith('/') ? `${re.slice(0, -1)}(?:/.*)?` : `${re}.*`;
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '{') {
      braces++;
      re += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (ch === ',' && braces > 0) {
      re += '|';
    } else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < glob.length) {
      re += `\\${glob[++i]}`;
    } else {
      re += /[.+^$()|\\]/.test(ch) ? `\\${ch}` : ch;
    }
  }
  return new RegExp(`^${re}$`);
}

/** Any of the globs matches the path. */
export function matchesAny(globs: readonly RegExp[], path: string): boolean {
  return globs.some((g) => g.test(path));
}

/** Whether a folder is excluded by a glob: `**\/dist/**`, `**\/dist` and `dist/` all exclude dist. */
export function folderExcluded(globs: readonly RegExp[], dirPath: string): boolean {
  return globs.some((g) => g.test(dirPath) || g.test(`${dirPath}/`));
}

interface IgnoreRule {
  /** Folder of the .gitignore that holds it ('' for the root). */
  base: string;
  negate: boolean;
  dirOnly: boolean;
  re: RegExp;
}

/** The .gitignore rules met so far while walking down a tree. */
export class GitIgnore {
  private readonly rules: IgnoreRule[] = [];

  /** Adds the rules of the .gitignore found in folder `base` (relative to the root). */
  add(base: string, text: string): void {
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.replace(/(?<!\\)\s+$/, '');
      if (line === '' || line.startsWith('#')) continue;
      const negate = line.startsWith('!');
      if (negate) line = line.slice(1);
      if (line.startsWith('\\')) line = line.slice(1);
      const dirOnly = line.endsWith('/');
      if (dirOnly) line = line.slice(0, -1);
      if (line === '') continue;
      const anchored = line.includes('/');
      const pattern = anchored ? line.replace(/^\//, '') : `**/${line}`;
      this.rules.push({ base, negate, dirOnly, re: globToRegExp(pattern) });
    }
  }

  /** Whether `path` (a file, or a folder when isDir) is ignored; parents are checked by the walker. */
  ignored(path: string, isDir: boolean): boolean {
    let out = false;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.base !== '' && !path.startsWith(`${r.base}/`)) continue;
      const rel = r.base === '' ? path : path.slice(r.base.length + 1);
      if (r.re.test(rel)) out = !r.negate;
    }
    return out;
  }
}
