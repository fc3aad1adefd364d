// Folder paths from settings and dialogs (extension/folderPath.ts) on real temporary folders,
// files and symbolic links: UNC and URL paths, variables, relative paths and missing folders
// are refused with a message that says what to do; `~` and `..` are resolved, links are
// followed to the real folder, and readSettings passes the real path on and notes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFolder, isNetworkPath } from '../../extension/folderPath';
import { isSettingsSchema, readSettings } from '../../extension/settings';

function withTree(fn: (root: string) => void): void {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'limelight-paths-')));
  try {
    mkdirSync(join(root, 'models', 'gpt2'), { recursive: true });
    writeFileSync(join(root, 'models', 'gpt2', 'config.json'), '{}');
    symlinkSync(join(root, 'models', 'gpt2'), join(root, 'current'));
    symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
    symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function problem(raw: string, home?: string): string {
  const c = checkFolder(raw, 'limelight.model.path', home);
  assert.ok(!c.ok, `${raw} was accepted as ${c.ok ? c.path : ''}`);
  assert.ok(c.problem.startsWith('limelight.model.path: '), c.problem);
  return c.problem;
}

test('network (UNC) paths are refused before anything touches them, in every spelling', () => {
  for (const p of ['\\\\server\\share\\models', '//server/share/models', '\\\\?\\UNC\\server\\share\\m', '\\\\.\\pipe\\x', '/\\server\\share', '  //server/share  ']) {
    assert.ok(isNetworkPath(p.trim()), p);
    assert.match(problem(p), /network \(UNC\) path.*Copy the folder to this machine/, p);
  }
  assert.ok(!isNetworkPath('/srv/models') && !isNetworkPath('C:\\models'));
});

test('URLs, variables, relative paths and other users\' homes are refused, each saying what to do', () => {
  assert.match(problem('file:///models/gpt2'), /is a URL/);
  assert.match(problem('https://huggingface.co/gpt2'), /is a URL/);
  assert.match(problem('${workspaceFolder}/models/gpt2'), /variable such as \$\{workspaceFolder\}.*absolute path/);
  assert.match(problem('models/gpt2'), /relative path.*Set an absolute path/);
  assert.match(problem('./gpt2'), /relative path/);
  assert.match(problem('~bob/models'), /another user's home/);
  assert.match(problem('   '), /is empty/);
  assert.match(problem('/models\0/x'), /NUL/);
});

test('real folders: .. is normalised, links and ~ lead to the real folder, which the note names', () => {
  withTree((root) => {
    const real = join(root, 'models', 'gpt2');
    assert.deepEqual(checkFolder(real, 'limelight.model.path'), { ok: true, path: real });
    const viaDots = checkFolder(`${root}/models/other/../gpt2/`, 'limelight.model.path');
    assert.ok(viaDots.ok && viaDots.path === real && viaDots.note?.includes(real), JSON.stringify(viaDots));
    const viaLink = checkFolder(join(root, 'current'), 'limelight.model.path');
    assert.ok(viaLink.ok && viaLink.path === real, JSON.stringify(viaLink));
    assert.equal(viaLink.note, `limelight.model.path: ${JSON.stringify(join(root, 'current'))} is the folder ${real}.`);
    const viaHome = checkFolder('~/models/gpt2', 'limelight.model.path', root);
    assert.ok(viaHome.ok && viaHome.path === real, JSON.stringify(viaHome));
  });
});

test('missing folders, files, dangling links and link loops are refused', () => {
  withTree((root) => {
    assert.match(problem(join(root, 'models', 'nope')), /does not exist\. Check the path, or create the folder first\./);
    assert.match(problem(`${root}/models/../nope`), new RegExp(`does not exist \\(${join(root, 'nope').replace(/[/\\]/g, '.')}\\)`));
    assert.match(problem(join(root, 'models', 'gpt2', 'config.json')), /is a file, not a folder\. Set the folder that holds it\./);
    assert.match(problem(join(root, 'models', 'gpt2', 'config.json', 'x')), /goes through a file/);
    assert.match(problem(join(root, 'dangling')), /does not exist/);
    assert.match(problem(join(root, 'loop-a')), /loop of symbolic links/);
  });
});

test('readSettings passes the real model folder on, notes it, and falls back to the starter model on a bad one', () => {
  const schema: unknown = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: unknown } } }).contributes.configuration.properties;
  assert.ok(isSettingsSchema(schema));
  withTree((root) => {
    const link = join(root, 'current');
    const good = readSettings(schema, (k) => (k === 'limelight.model.path' ? link : undefined));
    assert.equal(good.settings.modelPath, join(root, 'models', 'gpt2'));
    assert.deepEqual(good.problems, []);
    assert.deepEqual(good.notes, [`limelight.model.path: ${JSON.stringify(link)} is the folder ${join(root, 'models', 'gpt2')}.`]);
    const bad = readSettings(schema, (k) => (k === 'limelight.model.path' ? '\\\\fileserver\\models\\gpt2' : undefined));
    assert.equal(bad.settings.modelPath, '');
    assert.equal(bad.problems.length, 1);
    assert.match(bad.problems[0]!, /network \(UNC\) path.*Until then the bundled starter model is used\./);
    assert.deepEqual(readSettings(schema, () => undefined).settings.modelPath, '');
  });
});
