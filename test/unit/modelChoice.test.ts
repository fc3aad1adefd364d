// Select Model's checks on a picked folder, run on real folders: a loadable checkpoint is
// accepted with its description, and every kind of wrong folder is refused with what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModel } from '../../engine/model/describe';
import { checkModelFolder, rememberModel, RECENT_MODELS } from '../../extension/modelChoice';
import { writeTinyModel } from '../harness/tinyModel';
import { loadModel } from '../../engine/model/load';
import { writeGgufModel } from '../../engine/model/ggufExport';

async function withTemp(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-model-choice-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


/** The engine's header reader, as the worker runs it for Select Model. */
const describe = async (path: string): Promise<ReturnType<typeof describeModel>> => describeModel(path);

test('a checkpoint folder is accepted with a description, through a link to its real path', async () => {
  await withTemp(async (dir) => {
    const model = writeTinyModel(join(dir, 'tiny'));
    const link = join(dir, 'link');
    symlinkSync(model, link);
    const check = await checkModelFolder(link, describe);
    assert.ok(check.ok, check.ok ? '' : check.problem);
    assert.equal(check.path, model);
    assert.equal(check.completes, true);
    assert.match(check.description, /^gpt2 \(gpt2\), 1\.6M parameters, F32, 256 positions$/);
  });
});

test('a model without fill-in-the-middle tokens is accepted and says completions need another', async () => {
  await withTemp(async (dir) => {
    const model = writeTinyModel(join(dir, 'tiny'));
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    delete config.limelight_encoding;
    writeFileSync(join(model, 'config.json'), JSON.stringify(config));
    const check = await checkModelFolder(model, describe);
    assert.ok(check.ok);
    assert.equal(check.completes, false);
    assert.match(check.description, /no fill-in-the-middle tokens for completions/);
  });
});

test('a GGUF file is accepted with its family, size and formats', async () => {
  await withTemp(async (dir) => {
    const model = loadModel(writeTinyModel(join(dir, 'tiny')));
    const file = join(dir, 'tiny.Q8_0.gguf');
    writeGgufModel(file, model, { weightType: 'Q8_0' });
    const check = await checkModelFolder(file, describe);
    assert.ok(check.ok, check.ok ? '' : check.problem);
    assert.equal(check.path, file);
    assert.equal(check.completes, true, 'the starter layout survives the GGUF export');
    assert.match(check.description, /^gpt2 \(gpt2\), 1\.6M parameters, (Q8_0\/F32|F32\/Q8_0), 256 positions$/);
  });
});

test('wrong folders are refused with what to do', async () => {
  await withTemp(async (dir) => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const noWeights = writeTinyModel(join(dir, 'no-weights'));
    unlinkSync(join(noWeights, 'model.safetensors'));
    const badConfig = join(dir, 'bad-config');
    mkdirSync(badConfig);
    writeFileSync(join(badConfig, 'config.json'), '{"model_type": "gpt2", "n_layer": ');
    const cases: [string, RegExp][] = [
      [empty, /config\.json does not exist\. Choose a \.gguf file or a Hugging Face checkpoint folder/],
      [join(noWeights, 'config.json'), /is a file, not a folder or a \.gguf file/],
      [noWeights, /expected model\.safetensors or model\.safetensors\.index\.json .*save_pretrained/],
      [badConfig, /is not valid JSON .*Restore it/],
      [join(dir, 'missing'), /does not exist.*Check the path/],
      ['//server/share/model', /network \(UNC\) path/],
      ['relative/model', /relative path/],
    ];
    for (const [path, why] of cases) {
      const check = await checkModelFolder(path, describe);
      assert.equal(check.ok, false, path);
      if (!check.ok) assert.match(check.problem, why, path);
    }
  });
});

test('the recent list puts the latest first, without duplicates, and stays short', () => {
  let recent: string[] = [];
  for (const p of ['/a', '/b', '/a', '/c', '/d', '/e', '/f']) recent = rememberModel(recent, p);
  assert.deepEqual(recent, ['/f', '/e', '/d', '/c', '/a']);
  assert.equal(recent.length, RECENT_MODELS);
});
