// The fine-tune fixture workspace (test/fixtures/finetune-workspace) copied to a temporary
// folder, plus what git cannot hold: git-ignored files, dependencies, build output, a huge
// file and symbolic links out of the workspace. Every planted file's text contains PLANTED.
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FINETUNE_FIXTURE = join(process.cwd(), 'test', 'fixtures', 'finetune-workspace');

/** A fresh copy in <tmp>/ws; remove its parent folder when done. */
export function fixtureWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ws-'));
  const ws = join(dir, 'ws');
  cpSync(FINETUNE_FIXTURE, ws, { recursive: true });
  const put = (rel: string, text: string): void => {
    mkdirSync(join(ws, rel, '..'), { recursive: true });
    writeFileSync(join(ws, rel), text);
  };
  put('scratch/draft.ts', 'export const PLANTED_GITIGNORED = 1;\n');
  put('debug.log', 'PLANTED_GITIGNORED log\n');
  put('notes.txt', 'PLANTED_GITIGNORED notes\n');
  put('lib/notes.txt', 'an unanchored name elsewhere is not ignored by /notes.txt\n');
  put('node_modules/left-pad/index.js', 'module.exports = function PLANTED_DEPENDENCY(s) { return s; };\n');
  put('dist/bundle.js', "console.log('PLANTED_BUILD');\n");
  put('src/huge.ts', `// PLANTED_HUGE\n${'export const x = 1;\n'.repeat(12_000)}`);
  writeFileSync(join(dir, 'outside.ts'), 'export const PLANTED_OUTSIDE = 1;\n');
  symlinkSync(join(dir, 'outside.ts'), join(ws, 'src', 'linked.ts'));
  symlinkSync(dir, join(ws, 'up'));
  return ws;
}

