// What Download Model offers (extension/downloadChoice.ts): the curated models are valid hub
// names with a GGUF file each, sizes and speeds from the README; a repo's choices (its
// checkpoint, its GGUF files but no vision projector); the hub address from user settings only;
// the progress line. The manifest declares the commands and the setting as user-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRepoFile, checkRepoId, DEFAULT_ENDPOINT } from '../../engine/download/hub';
import { CURATED_MODELS, curatedText, progressText, repoChoices, userEndpoint } from '../../extension/downloadChoice';

const ROOT = join(__dirname, '..', '..', '..');

test('curated models: real hub names, GGUF base models with FIM, size, license and a speed the README states', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(CURATED_MODELS.length >= 4);
  for (const m of CURATED_MODELS) {
    assert.equal(checkRepoId(m.repo), m.repo);
    assert.equal(checkRepoFile(m.file), m.file);
    assert.match(m.file, /\.gguf$/);
    assert.doesNotMatch(m.file, /instruct/i, 'base models: they carry the FIM tokens completions need');
    const quant = /(Q8_0|Q4_K_M)\.gguf$/.exec(m.file)![1]!;
    const size = /(0\.5B|1\.5B)/.exec(m.repo)![1]!;
    const row = new RegExp(`\\| Qwen2\\.5-Coder-${size.replace('.', '\\.')} shape, \`js\`, ${quant} GGUF \\| [^|]+ \\| ${m.tokensPerSecond} \\|`);
    assert.match(readme, row, `README Speed has no row for ${m.label} at ${m.tokensPerSecond} tokens/s`);
    const t = curatedText(m);
    assert.match(t.description, /^\d+(\.\d+)? (MB|GB) · Apache-2\.0 · about \d+ tokens\/s on 2 CPU cores$/);
    assert.equal(t.detail, `${m.repo} · ${m.file}`);
  }
});

test("a repo's choices: the checkpoint when it has one, then each GGUF file with its size, no vision projector", () => {
  assert.deepEqual(
    repoChoices([
      { name: 'README.md', size: 10 },
      { name: 'b-q8_0.gguf', size: 531e6 },
      { name: 'a-q4_k_m.gguf', size: 1.2e9 },
      { name: 'mmproj-f16.gguf', size: 5e8 },
      { name: 'config.json', size: 700 },
      { name: 'model.safetensors', size: 988e6 },
    ]),
    [
      { label: 'The checkpoint (safetensors)', description: 'config, tokenizer and weights, 988 MB' },
      { label: 'a-q4_k_m.gguf', description: '1.20 GB', file: 'a-q4_k_m.gguf' },
      { label: 'b-q8_0.gguf', description: '531 MB', file: 'b-q8_0.gguf' },
    ],
  );
  assert.deepEqual(repoChoices([{ name: 'README.md' }, { name: 'pytorch_model.bin' }]), []);
});

test('the hub address comes from user settings only; a workspace value is ignored', () => {
  assert.equal(userEndpoint(undefined), undefined);
  assert.equal(userEndpoint({ globalValue: ' https://hub.corp/ ' }), 'https://hub.corp/');
  assert.equal(userEndpoint({ globalValue: '' }), undefined);
  assert.equal(userEndpoint({ globalValue: 42 }), undefined);
  assert.equal(userEndpoint({ workspaceValue: 'http://evil.example' } as { globalValue?: unknown }), undefined);
});

test('the progress line: bytes, speed, time left, file of several', () => {
  assert.equal(progressText({ file: 'm.gguf', fileIndex: 1, fileCount: 1, bytes: 120e6, total: 531e6, bytesPerSecond: 8.2e6, etaSeconds: 50 }), '120 MB of 531 MB · 8.2 MB/s · 50 s left');
  assert.equal(progressText({ file: 'm', fileIndex: 2, fileCount: 5, bytes: 0, total: 2e9, bytesPerSecond: 0 }), '0 kB of 2.00 GB · file 2 of 5');
  assert.match(progressText({ file: 'm', fileIndex: 1, fileCount: 1, bytes: 1, total: 2e9, bytesPerSecond: 1e5, etaSeconds: 4000 }), /1 h 7 min left/);
});

test('the manifest: both commands, the endpoint setting user-only (application scope, restricted) with the default hub', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const commands = (manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command);
  assert.ok(commands.includes('limelight.downloadModel') && commands.includes('limelight.setHuggingFaceToken'));
  const setting = manifest.contributes.configuration.properties['limelight.download.endpoint'];
  assert.equal(setting.default, DEFAULT_ENDPOINT);
  assert.equal(setting.scope, 'application');
  assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('limelight.download.endpoint'));
});
