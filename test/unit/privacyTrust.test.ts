// Workspace trust, as the manifest declares it: Limelight runs in Restricted Mode with limited
// support, and every setting that names a folder or a set of files is restricted, so that a
// workspace's own settings cannot point the engine at a model or pick training files until the
// user trusts it (VS Code then ignores the workspace's value; test/e2e/privacyTrust.test.ts
// shows it in a real VS Code, with Fine-tune refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Manifest {
  capabilities: { untrustedWorkspaces: { supported: unknown; description?: string; restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, { type: string; description?: string; markdownDescription?: string }> } };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;

test('Restricted Mode: limited support, described to the user', () => {
  const u = manifest.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  assert.match(u.description ?? '', /untrusted workspace/i);
});

test('every setting that names a folder or a set of files is restricted, and nothing else', () => {
  const props = manifest.contributes.configuration.properties;
  const namesFiles = Object.entries(props)
    .filter(([key, s]) => /\.path$/.test(key) || /\bfolder\b|\bglob\b/i.test(s.description ?? s.markdownDescription ?? ''))
    .map(([key]) => key)
    .sort();
  assert.ok(namesFiles.includes('limelight.model.path'), 'the rule finds the model path');
  assert.deepEqual([...(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [])].sort(), namesFiles);
});
