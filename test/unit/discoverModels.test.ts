// Finding the models already on a machine (engine/model/discover.ts, `limelight models`): fake
// Hugging Face, Ollama, LM Studio and llama.cpp stores built in a temporary HOME in each tool's
// real layout, with tiny real models (HF folders and GGUF files) and broken entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverModels, type FoundModel } from '../../engine/model/discover';
import { modelStores } from '../../engine/model/modelStores';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { loadModel } from '../../engine/model/load';
import { writeTinyModel } from '../harness/tinyModel';
import { writeTinyQwenFolder } from '../harness/realModel';
import { describeModel } from '../../engine/model/describe';
import { checkModelFolder, foundModelText } from '../../extension/modelChoice';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'limelight-discover-'));
test.after(() => { if (process.env.KEEP_TMP === undefined) rmSync(tmp, { recursive: true, force: true }); });

// The models every store gets a copy of: a Qwen2 folder (FIM + chat template), its GGUF, and a
// GPT-2 GGUF (Limelight's p50k_edit encoding).
const qwenDir = writeTinyQwenFolder(join(tmp, 'src', 'qwen'));
const qwenGguf = join(tmp, 'src', 'qwen.gguf');
writeGgufModel(qwenGguf, loadModel(qwenDir), { weightType: 'Q8_0' });
const gpt2Dir = writeTinyModel(join(tmp, 'src', 'gpt2'));
const gpt2Gguf = join(tmp, 'src', 'gpt2.gguf');
writeGgufModel(gpt2Gguf, loadModel(gpt2Dir), { weightType: 'Q8_0' });

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A snapshot as huggingface_hub writes it: files in blobs/ named by hash, symlinked from snapshots/REV/. */
function hubRepo(hub: string, repo: string, rev: string, files: Record<string, string>): string {
  const repoDir = join(hub, `models--${repo.replace('/', '--')}`);
  const snap = join(repoDir, 'snapshots', rev);
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  mkdirSync(snap, { recursive: true });
  writeFileSync(join(repoDir, 'refs', 'main'), rev);
  for (const [name, src] of Object.entries(files)) {
    const hash = sha256(src);
    copyFileSync(src, join(repoDir, 'blobs', hash));
    symlinkSync(join('..', '..', 'blobs', hash), join(snap, name));
  }
  return snap;
}

function folderFiles(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, join(dir, f)]));
}

/** An Ollama store entry: the blob (named by its digest) and the manifest naming it. */
function ollamaModel(root: string, parts: [string, string, string, string], blobSrc: string | null, digest?: string): void {
  const hex = digest ?? (blobSrc !== null ? sha256(blobSrc) : 'ab'.repeat(32));
  mkdirSync(join(root, 'blobs'), { recursive: true });
  if (blobSrc !== null) copyFileSync(blobSrc, join(root, 'blobs', `sha256-${hex}`));
  const dir = join(root, 'manifests', ...parts.slice(0, 3));
  mkdirSync(dir, { recursive: true });
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'cd'.repeat(32)}`, size: 487 },
    layers: [
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: 1000 },
      { mediaType: 'application/vnd.ollama.image.license', digest: `sha256:${'ef'.repeat(32)}`, size: 10 },
    ],
  };
  writeFileSync(join(dir, parts[3]), JSON.stringify(manifest));
}

// A Linux HOME with every store in its default place.
const home = join(tmp, 'home');
const hub = join(home, '.cache', 'huggingface', 'hub');
hubRepo(hub, 'Qwen/Qwen2.5-Coder-0.5B-Instruct', 'a'.repeat(40), folderFiles(qwenDir));
hubRepo(hub, 'someone/tiny-gguf', 'b'.repeat(40), { 'tiny-q8_0.gguf': qwenGguf });
// Broken: config.json without weights, and a snapshot whose weights link to a deleted blob.
hubRepo(hub, 'someone/no-weights', 'c'.repeat(40), { 'config.json': join(qwenDir, 'config.json') });
const dangling = hubRepo(hub, 'someone/dangling', 'd'.repeat(40), folderFiles(gpt2Dir));
rmSync(join(dangling, '..', '..', 'blobs', sha256(join(gpt2Dir, 'model.safetensors'))));
const ollama = join(home, '.ollama', 'models');
ollamaModel(ollama, ['registry.ollama.ai', 'library', 'qwen2.5-coder', '0.5b-base'], qwenGguf);
ollamaModel(ollama, ['registry.ollama.ai', 'someone', 'gpt2-tiny', 'latest'], gpt2Gguf);
ollamaModel(ollama, ['hf.co', 'Qwen', 'Qwen2.5-Coder-GGUF', 'Q8_0'], null); // blob missing
const lmstudio = join(home, '.lmstudio', 'models');
mkdirSync(join(lmstudio, 'lmstudio-community', 'tiny-GGUF'), { recursive: true });
copyFileSync(gpt2Gguf, join(lmstudio, 'lmstudio-community', 'tiny-GGUF', 'tiny-Chat-Q8_0.gguf'));
const llamaCache = join(home, '.cache', 'llama.cpp');
mkdirSync(llamaCache, { recursive: true });
copyFileSync(qwenGguf, join(llamaCache, 'Qwen_Qwen2.5-Coder-0.5B-GGUF_qwen-q8_0.gguf'));
writeFileSync(join(llamaCache, 'truncated.gguf'), readFileSync(qwenGguf).subarray(0, 200));

const EMPTY_ENV: NodeJS.ProcessEnv = {};

function byName(models: FoundModel[], name: string): FoundModel {
  const m = models.find((x) => x.name === name);
  assert.ok(m !== undefined, `${name} not among ${models.map((x) => `${x.source}:${x.name}`).join(', ')}`);
  return m;
}


/** The engine's header reader, as the worker runs it for Select Model. */
const describe = async (path: string): Promise<ReturnType<typeof describeModel>> => describeModel(path);

test('finds the models of every store in its default place, with family, FIM and instruct', () => {
  const models = discoverModels({ env: EMPTY_ENV, home, platform: 'linux', contextLength: 128 });
  const hf = byName(models, 'Qwen/Qwen2.5-Coder-0.5B-Instruct');
  assert.equal(hf.source, 'huggingface');
  assert.equal(hf.family, 'qwen2');
  assert.equal(hf.fim, true);
  assert.equal(hf.instruct, true);
  assert.equal(hf.format, 'F32');
  assert.equal(hf.error, undefined);
  assert.ok(hf.path.endsWith(join('snapshots', 'a'.repeat(40))));
  assert.ok((hf.bytes ?? 0) > 0 && (hf.parameters ?? 0) > 0 && (hf.memoryBytes ?? 0) > 0);
  assert.equal(typeof hf.fits, 'boolean');

  const hfGguf = byName(models, 'someone/tiny-gguf/tiny-q8_0.gguf');
  assert.deepEqual([hfGguf.source, hfGguf.family, hfGguf.fim, hfGguf.error], ['huggingface', 'qwen2', true, undefined]);

  const ol = byName(models, 'qwen2.5-coder:0.5b-base');
  assert.equal(ol.source, 'ollama');
  assert.equal(ol.family, 'qwen2');
  assert.equal(ol.fim, true);
  assert.match(ol.path, /blobs[\\/]sha256-[0-9a-f]{64}$/);
  assert.equal(ol.bytes, readFileSync(qwenGguf).length);
  assert.equal(ol.format, 'Q8_0'); // general.file_type, though this tiny model's rows fall back to F16
  const ns = byName(models, 'someone/gpt2-tiny:latest');
  assert.deepEqual([ns.source, ns.family, ns.error], ['ollama', 'gpt2', undefined]);

  const lm = byName(models, 'lmstudio-community/tiny-GGUF/tiny-Chat-Q8_0');
  assert.deepEqual([lm.source, lm.family, lm.error], ['lmstudio', 'gpt2', undefined]);
  assert.equal(lm.instruct, true); // by its name: the file carries no chat template
  const lc = byName(models, 'Qwen_Qwen2.5-Coder-0.5B-GGUF_qwen-q8_0');
  assert.deepEqual([lc.source, lc.family, lc.fim, lc.error], ['llama.cpp', 'qwen2', true, undefined]);
  assert.equal(lc.instruct, false); // GGUF export writes no chat template, and the name says base
});

test('broken entries are listed with the reason, not dropped', () => {
  const models = discoverModels({ env: EMPTY_ENV, home, platform: 'linux' });
  const noWeights = byName(models, 'someone/no-weights');
  assert.equal(noWeights.source, 'huggingface');
  assert.ok(noWeights.error !== undefined && noWeights.error.length > 0);
  assert.equal(noWeights.family, undefined);
  const dang = byName(models, 'someone/dangling');
  assert.ok(dang.error !== undefined, 'a snapshot whose weights link to a missing blob has an error');
  const missing = byName(models, 'hf.co/Qwen/Qwen2.5-Coder-GGUF:Q8_0');
  assert.equal(missing.source, 'ollama');
  assert.match(missing.error ?? '', /missing.*ollama pull/s);
  const trunc = byName(models, 'truncated');
  assert.equal(trunc.source, 'llama.cpp');
  assert.ok(trunc.error !== undefined && trunc.error.length > 0);
  assert.equal(trunc.bytes, 200);
});

test('environment variables move each store, and Windows and macOS defaults are used', () => {
  const alt = join(tmp, 'alt');
  hubRepo(join(alt, 'hf-home', 'hub'), 'org/from-hf-home', 'e'.repeat(40), { 'm.gguf': gpt2Gguf });
  hubRepo(join(alt, 'hub-cache'), 'org/from-hub-cache', 'e'.repeat(40), { 'm.gguf': gpt2Gguf });
  ollamaModel(join(alt, 'ollama'), ['registry.ollama.ai', 'library', 'moved', 'latest'], gpt2Gguf);
  mkdirSync(join(alt, 'llama'), { recursive: true });
  copyFileSync(gpt2Gguf, join(alt, 'llama', 'moved.gguf'));
  const names = (env: NodeJS.ProcessEnv, platform: NodeJS.Platform = 'linux', h = join(tmp, 'nohome')): string[] =>
    discoverModels({ env, home: h, platform }).map((m) => `${m.source}:${m.name}`);

  assert.deepEqual(names({ HF_HOME: join(alt, 'hf-home') }), ['huggingface:org/from-hf-home/m.gguf']);
  // HF_HUB_CACHE wins over HF_HOME.
  assert.deepEqual(names({ HF_HOME: join(alt, 'hf-home'), HF_HUB_CACHE: join(alt, 'hub-cache') }), ['huggingface:org/from-hub-cache/m.gguf']);
  assert.deepEqual(names({ OLLAMA_MODELS: join(alt, 'ollama') }), ['ollama:moved:latest']);
  assert.deepEqual(names({ LLAMA_CACHE: join(alt, 'llama') }), ['llama.cpp:moved']);
  // An override replaces the default: the HOME's own stores are not read then.
  assert.ok(!names({ OLLAMA_MODELS: join(alt, 'ollama') }, 'linux', home).includes('ollama:qwen2.5-coder:0.5b-base'));

  // Windows: %LOCALAPPDATA%\llama.cpp; macOS: ~/Library/Caches/llama.cpp.
  const win = join(tmp, 'win');
  mkdirSync(join(win, 'AppData', 'Local', 'llama.cpp'), { recursive: true });
  copyFileSync(gpt2Gguf, join(win, 'AppData', 'Local', 'llama.cpp', 'w.gguf'));
  assert.deepEqual(names({}, 'win32', win), ['llama.cpp:w']);
  assert.deepEqual(names({ LOCALAPPDATA: join(alt, 'none') }, 'win32', win), []);
  const mac = join(tmp, 'mac');
  mkdirSync(join(mac, 'Library', 'Caches', 'llama.cpp'), { recursive: true });
  copyFileSync(gpt2Gguf, join(mac, 'Library', 'Caches', 'llama.cpp', 'm.gguf'));
  assert.deepEqual(names({}, 'darwin', mac), ['llama.cpp:m']);
  const stores = modelStores({ env: {}, home: win, platform: 'win32' }).map((s) => s.dir);
  assert.ok(stores.includes(join(win, '.cache', 'huggingface', 'hub')));
  assert.ok(stores.includes(join(win, '.ollama', 'models')));
});

test('recent paths and the Limelight folder are listed once; missing ones say so', () => {
  const lime = join(tmp, 'limelight');
  mkdirSync(lime, { recursive: true });
  copyFileSync(gpt2Gguf, join(lime, 'downloaded.gguf'));
  writeTinyModel(join(lime, 'folder-model'));
  hubRepo(lime, 'Qwen/Qwen2.5-Coder-0.5B', 'f'.repeat(40), { 'q.gguf': qwenGguf });
  const inHub = join(hub, 'models--someone--tiny-gguf', 'snapshots', 'b'.repeat(40), 'tiny-q8_0.gguf');
  const models = discoverModels({ env: EMPTY_ENV, home, platform: 'linux', limelightDir: lime, recent: [gpt2Dir, inHub, join(tmp, 'gone.gguf')] });
  assert.deepEqual(
    models.filter((m) => m.source === 'limelight').map((m) => [m.name, m.family]),
    [['Qwen/Qwen2.5-Coder-0.5B/q.gguf', 'qwen2'], ['downloaded', 'gpt2'], ['folder-model', 'gpt2']],
  );
  const recent = models.filter((m) => m.source === 'recent');
  // The recent path already found in the HF cache is not listed twice.
  assert.deepEqual(recent.map((m) => m.name), ['gpt2', 'gone']);
  assert.equal(recent[0]!.family, 'gpt2');
  assert.match(recent[1]!.error ?? '', /no longer exists/);
});

test('a store is walked to at most maxPerSource entries, and says so', () => {
  const big = join(tmp, 'big');
  mkdirSync(big, { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(big, `m${i}.gguf`), 'x');
  const models = discoverModels({ env: { LLAMA_CACHE: big }, home: join(tmp, 'nohome'), platform: 'linux', maxPerSource: 3 });
  assert.equal(models.length, 4);
  assert.match(models[3]!.error ?? '', /first 3/);
  // Each of the three is a broken file, listed with the loader's message.
  for (const m of models.slice(0, 3)) assert.ok(m.error !== undefined);
});

test('an unreadable store or manifest does not stop the listing', () => {
  const root = join(tmp, 'odd');
  mkdirSync(join(root, 'manifests', 'registry.ollama.ai', 'library', 'bad'), { recursive: true });
  writeFileSync(join(root, 'manifests', 'registry.ollama.ai', 'library', 'bad', 'latest'), '{not json');
  ollamaModel(root, ['registry.ollama.ai', 'library', 'good', 'latest'], gpt2Gguf);
  // A file where the llama.cpp folder should be.
  writeFileSync(join(tmp, 'not-a-dir'), 'x');
  const models = discoverModels({ env: { OLLAMA_MODELS: root, LLAMA_CACHE: join(tmp, 'not-a-dir') }, home: join(tmp, 'nohome'), platform: 'linux' });
  assert.deepEqual(models.map((m) => [m.name, m.error === undefined]), [['bad:latest', false], ['good:latest', true]]);
  assert.match(models[0]!.error ?? '', /ollama pull bad:latest/);
});

test('`limelight models --json` prints {"models": [...]} and the table names each model', () => {
  const env = { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home };
  const r = spawnSync(process.execPath, [CLI, 'models', '--json', '--context-length', '64'], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { models: FoundModel[] };
  const ol = byName(out.models, 'qwen2.5-coder:0.5b-base');
  assert.deepEqual([ol.source, ol.family, ol.fim], ['ollama', 'qwen2', true]);
  assert.equal(typeof ol.memoryBytes, 'number');
  assert.ok(out.models.some((m) => m.error !== undefined));
  for (const m of out.models) assert.ok(['huggingface', 'ollama', 'lmstudio', 'llama.cpp', 'limelight', 'recent'].includes(m.source));
  const t = spawnSync(process.execPath, [CLI, 'models'], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^NAME\s+SOURCE\s+FAMILY\s+FORMAT\s+FIM\s+SIZE\s+MEMORY\s+ERROR/);
  assert.match(t.stdout, /qwen2\.5-coder:0\.5b-base\s+ollama\s+qwen2\s+\S+\s+yes/);
});

test('Select Model accepts what discovery finds: an Ollama blob and a GGUF linked from an HF snapshot', async () => {
  const models = discoverModels({ env: EMPTY_ENV, home, platform: 'linux' });
  for (const name of ['qwen2.5-coder:0.5b-base', 'someone/tiny-gguf/tiny-q8_0.gguf', 'Qwen/Qwen2.5-Coder-0.5B-Instruct']) {
    const m = byName(models, name);
    const check = await checkModelFolder(m.path, describe);
    assert.ok(check.ok, `${name}: ${check.ok ? '' : check.problem}`);
  }
  // The engine loads the blob it saves as limelight.model.path.
  const blob = await checkModelFolder(byName(models, 'qwen2.5-coder:0.5b-base').path, describe);
  assert.ok(blob.ok);
  assert.equal(loadModel(blob.path).config.family, 'qwen2');
  // A file that is neither named .gguf nor starts with GGUF's magic is still refused.
  writeFileSync(join(tmp, 'sha256-notgguf'), 'not a model');
  assert.equal((await checkModelFolder(join(tmp, 'sha256-notgguf'), describe)).ok, false);
});

test("Select Model's text for a found model: its facts, or why it cannot be used", () => {
  const models = discoverModels({ env: EMPTY_ENV, home, platform: 'linux', contextLength: 128 });
  const ok = foundModelText(byName(models, 'qwen2.5-coder:0.5b-base'));
  assert.match(ok.label, /qwen2\.5-coder:0\.5b-base/);
  assert.match(ok.description, /^ollama · qwen2 · [\d.]+M · \S+ · completions · needs /);
  assert.match(ok.detail, /sha256-/);
  const bad = foundModelText(byName(models, 'truncated'));
  assert.match(bad.label, /warning/);
  assert.match(bad.description, /cannot be used/);
  assert.match(bad.detail, /truncated/);
});
