// What `npm run package` wrote (test:e2e packages first): the bundles, media and one
// platform's onnxruntime-node binaries, and nothing from the sources or tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { packagedVsix } from '../../tools/e2e/paths';
import { listZip } from '../../tools/e2e/zip';

const vsix = packagedVsix();

test('the .vsix holds the bundles, media and linux-x64 onnxruntime only', () => {
  const names = listZip(vsix).map((e) => e.name);
  for (const required of ['extension/package.json', 'extension/readme.md', 'extension/dist/extension.js', 'extension/media/icon.png']) {
    assert.ok(names.some((n) => n.toLowerCase() === required.toLowerCase()), `${required} missing from the package`);
  }
  assert.ok(names.includes('extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'));
  const allowed = /^(\[Content_Types\]\.xml|extension\.vsixmanifest|extension\/(package\.json|readme\.md|license\.txt|changelog\.md|dist\/.+|media\/.+|node_modules\/onnxruntime-(node|common)\/.+))$/i;
  const stray = names.filter((n) => !allowed.test(n));
  assert.deepEqual(stray, [], 'files outside dist/, media/ and onnxruntime in the package');
  const otherPlatforms = names.filter((n) => n.includes('/bin/napi-v6/') && !n.includes('/bin/napi-v6/linux/x64/'));
  assert.deepEqual(otherPlatforms, [], 'other platforms\' onnxruntime binaries in a linux-x64 package');
  const sources = names.filter((n) => /\.(ts|map)$/.test(n) && !n.endsWith('.d.ts') || n.includes('/media/src/') || n.includes('/test/'));
  assert.deepEqual(sources, [], 'source, test or source-map files in the package');
});

test('the .vsix size is sane (one platform, not five)', () => {
  const mb = statSync(vsix).size / 2 ** 20;
  assert.ok(mb > 5 && mb < 200, `package is ${mb.toFixed(1)} MB; expected 5-200 MB (one platform's onnxruntime is about 17 MB zipped, all five about 110 MB, plus the starter model)`);
});
