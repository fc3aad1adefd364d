// Fine-tune on Workspace's file selection on a fixture workspace with planted secrets,
// ignored and excluded folders, dependencies, build output, lock files, binaries, a symbolic
// link out of the workspace and a huge file: exactly the hand-written source is kept, every
// skip has its reason, and no planted secret reaches the kept text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitIgnore, globToRegExp } from '../../engine/workspace/glob';
import { selectWorkspaceFiles, type WorkspaceSelection } from '../../engine/workspace/workspaceFiles';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default: string[] }> } };
};
const INCLUDE = manifest.contributes.configuration.properties['limelight.fineTune.include']!.default;
const EXCLUDE = manifest.contributes.configuration.properties['limelight.fineTune.exclude']!.default;
/** What files.exclude holds in the fixture's .vscode/settings.json (the extension passes it in). */
const FILES_EXCLUDE = ['**/tmp'];

const KEPT = ['README.md', 'cmd/main.go', 'lib/stats.py', 'src/circle.ts', 'src/hexagon.ts', 'src/octagon.ts', 'src/shape.ts', 'src/square.ts', 'src/triangle.ts'];

async function select(ws: string): Promise<WorkspaceSelection> {
  return selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: INCLUDE, exclude: [...EXCLUDE, ...FILES_EXCLUDE] });
}

test('only hand-written source is kept; every other file is skipped with its reason', async () => {
  const ws = fixtureWorkspace();
  try {
    const sel = await select(ws);
    assert.deepEqual(sel.files.map((f) => f.path).sort(), KEPT);
    const reason = new Map(sel.skipped.map((s) => [s.path, s.reason]));
    const expected: Record<string, string> = {
      '.env': 'secret-file',
      '.env.production': 'secret-file',
      'config/server.key': 'secret-file',
      'config/server.crt': 'secret-file',
      'src/deploy.ts': 'secret',
      'src/token.ts': 'secret',
      'src/aws.py': 'secret',
      scratch: 'gitignored',
      'debug.log': 'gitignored',
      'notes.txt': 'gitignored',
      tmp: 'excluded',
      node_modules: 'dependencies',
      dist: 'build-output',
      'package-lock.json': 'excluded',
      'pnpm-lock.yaml': 'lock-file',
      'assets/logo.png': 'binary',
      'src/blob.js': 'binary',
      'src/generated.ts': 'generated',
      'src/vendor.min.js': 'excluded',
      'src/packed.js': 'minified',
      'src/empty.ts': 'empty',
      'src/huge.ts': 'too-large',
      'src/linked.ts': 'symlink',
      up: 'symlink',
      'lib/notes.txt': 'not-included',
    };
    for (const [path, why] of Object.entries(expected)) assert.equal(reason.get(path), why, path);
    assert.equal(sel.skipped.find((s) => s.path === 'src/deploy.ts')?.detail, 'private key');
    assert.equal(sel.skipped.find((s) => s.path === 'src/aws.py')?.detail, 'AWS access key id');
    assert.equal(sel.skipped.find((s) => s.path === 'src/token.ts')?.detail, 'high-entropy token');
    assert.equal(sel.bytes, sel.files.reduce((n, f) => n + Buffer.byteLength(f.text), 0));
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
});

test('no planted secret or skipped content reaches the kept text', async () => {
  const ws = fixtureWorkspace();
  try {
    const all = (await select(ws)).files.map((f) => f.text).join('\n');
    assert.ok(all.includes('class Circle'));
    for (const marker of ['PLANTED', 'BEGIN RSA PRIVATE KEY', 'AKIA', 'hunter2']) assert.ok(!all.includes(marker), marker);
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
});

test('a size budget stops adding files and says so; an aborted selection throws', async () => {
  const ws = fixtureWorkspace();
  try {
    const sel = await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: INCLUDE, exclude: EXCLUDE, maxFiles: 2 });
    assert.equal(sel.files.length, 2);
    assert.ok(sel.skipped.some((s) => s.reason === 'over-budget'));
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: INCLUDE, exclude: EXCLUDE, signal: ac.signal }), /stop/);
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
});

test('several workspace folders: paths carry the folder name', async () => {
  const ws = fixtureWorkspace();
  try {
    const sel = await selectWorkspaceFiles([{ name: 'a', path: join(ws, 'lib') }, { name: 'b', path: join(ws, 'cmd') }], { include: INCLUDE, exclude: EXCLUDE });
    assert.deepEqual(sel.files.map((f) => f.path), ['a/stats.py', 'b/main.go']);
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
});

test('globs: ** spans folders, * and ? stay in one, braces and classes', () => {
  const g = globToRegExp('**/*.{ts,py}');
  assert.ok(g.test('a.ts') && g.test('x/y/z.py') && !g.test('a.tsx') && !g.test('a.js'));
  const nm = globToRegExp('**/node_modules/**');
  assert.ok(nm.test('node_modules/x.js') && nm.test('a/node_modules/b/c.js') && nm.test('node_modules') && !nm.test('my_node_modules/x'));
  assert.ok(globToRegExp('src/*.ts').test('src/a.ts') && !globToRegExp('src/*.ts').test('src/a/b.ts'));
  assert.ok(globToRegExp('file?.[jt]s').test('file1.ts') && !globToRegExp('file?.[!jt]s').test('file1.ts'));
  assert.ok(globToRegExp('**/*.min.*').test('a/b.min.js'));
});

test('gitignore: last rule wins, ! re-includes, / anchors, trailing / is folders only, nested files apply below', () => {
  const gi = new GitIgnore();
  gi.add('', '*.log\n!keep.log\n/top.txt\nbuild/\n# comment\n\ndocs/**/*.tmp\n');
  gi.add('pkg', 'local.ts\n');
  assert.ok(gi.ignored('a.log', false) && gi.ignored('x/y/a.log', false));
  assert.ok(!gi.ignored('keep.log', false));
  assert.ok(gi.ignored('top.txt', false) && !gi.ignored('x/top.txt', false));
  assert.ok(gi.ignored('build', true) && !gi.ignored('build', false) && gi.ignored('x/build', true));
  assert.ok(gi.ignored('docs/a/b/c.tmp', false) && !gi.ignored('other/c.tmp', false));
  assert.ok(gi.ignored('pkg/local.ts', false) && gi.ignored('pkg/sub/local.ts', false) && !gi.ignored('local.ts', false));
});
