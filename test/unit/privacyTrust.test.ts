// Workspace trust, as the manifest declares it: Limelight runs in Restricted Mode with limited
// support, and every setting that names a folder or a set of files, or decides whether and where
// code is sent (the backend, limelight.remote.*), is restricted, so that a workspace's own
// settings cannot point the engine at a model, pick training files or redirect code until the
// user trusts it (the remote settings are also application-scoped: read from user settings only) (VS Code then ignores the workspace's value; test/e2e/privacyTrust.test.ts
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

test('every setting that names a folder or a set of files, where code is sent or where models come from, is restricted, and nothing else', () => {
  const props = manifest.contributes.configuration.properties;
  const namesFiles = Object.entries(props)
    .filter(([key, s]) => /\.path$/.test(key) || /^limelight\.remote\./.test(key) || /\.endpoint$/.test(key) || key === 'limelight.backend' || /\bfolder\b|\bglob\b/i.test(s.description ?? s.markdownDescription ?? ''))
    .map(([key]) => key)
    .sort();
  assert.ok(namesFiles.includes('limelight.model.path'), 'the rule finds the model path');
  assert.ok(namesFiles.includes('limelight.remote.endpoint'), 'the rule finds the remote endpoint');
  assert.ok(namesFiles.includes('limelight.download.endpoint'), 'the rule finds the download endpoint');
  for (const key of namesFiles.filter((k) => k.startsWith('limelight.remote.') || k.endsWith('.endpoint'))) assert.equal((props[key] as { scope?: string }).scope, 'application', `${key} is user-level only`);
  assert.deepEqual([...(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [])].sort(), namesFiles);
});
