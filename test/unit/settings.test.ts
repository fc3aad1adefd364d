// The settings reader against the real manifest schema: defaults, type guards, bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionsEnabledFor, isSettingsSchema, readSettings, type SettingsSchema } from '../../extension/settings';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const schema: unknown = manifest.contributes.configuration.properties;

function loadSchema(): SettingsSchema {
  assert.ok(isSettingsSchema(schema), 'package.json contributes.configuration.properties is not a settings schema');
  return schema;
}

test('every setting in the manifest has a type, default, description and bounds', () => {
  for (const [key, s] of Object.entries(loadSchema()) as [string, SettingsSchema[string] & { description?: string; markdownDescription?: string }][]) {
    assert.ok(s.description ?? s.markdownDescription, `${key} has no description`);
    if (s.type === 'integer' || s.type === 'number') {
      assert.equal(typeof s.minimum, 'number', `${key} has no minimum`);
      assert.equal(typeof s.maximum, 'number', `${key} has no maximum`);
      assert.ok(s.minimum! <= (s.default as number) && (s.default as number) <= s.maximum!, `${key} default outside its bounds`);
    }
    if (s.enum) assert.ok(s.enum.includes(s.default as string), `${key} default not in its enum`);
  }
});

test('unset settings read as the manifest defaults, with no problems', () => {
  const { settings, problems } = readSettings(loadSchema(), () => undefined);
  assert.deepEqual(problems, []);
  assert.equal(settings.completions.enabled, true);
  assert.equal(settings.backend, 'auto');
  assert.equal(settings.modelPath, '');
  assert.equal(settings.fineTune.loraRank, 8);
});

test('wrong types fall back to the default and are reported', () => {
  const bad: Record<string, unknown> = {
    'limelight.backend': 'cuda',
    'limelight.completions.enabled': 'yes',
    'limelight.threads': 2.5,
    'limelight.fineTune.include': ['src/**', 3],
    'limelight.completions.languages': { python: 'on' },
  };
  const { settings, problems } = readSettings(loadSchema(), (k) => bad[k]);
  assert.equal(settings.backend, 'auto');
  assert.equal(settings.completions.enabled, true);
  assert.equal(settings.threads, 0);
  assert.equal(settings.fineTune.include.length, 1);
  assert.equal(settings.completions.languages['*'], true);
  assert.equal(problems.length, 5);
  assert.match(problems.find((p) => p.startsWith('limelight.backend'))!, /one of auto, js, ort-cpu, ort-webgpu/);
});

test('numbers out of bounds are clamped and reported', () => {
  const values: Record<string, unknown> = { 'limelight.completions.debounceMs': -5, 'limelight.fineTune.loraRank': 1000 };
  const { settings, problems } = readSettings(loadSchema(), (k) => values[k]);
  assert.equal(settings.completions.debounceMs, 0);
  assert.equal(settings.fineTune.loraRank, 64);
  assert.equal(problems.length, 2);
});

test('per-language switch honours "*" and the global switch', () => {
  const values: Record<string, unknown> = { 'limelight.completions.languages': { '*': false, python: true } };
  const { settings } = readSettings(loadSchema(), (k) => values[k]);
  assert.equal(completionsEnabledFor(settings, 'python'), true);
  assert.equal(completionsEnabledFor(settings, 'rust'), false);
  settings.completions.enabled = false;
  assert.equal(completionsEnabledFor(settings, 'python'), false);
});

test('a malformed schema is refused', () => {
  assert.equal(isSettingsSchema(undefined), false);
  assert.equal(isSettingsSchema({ 'limelight.x': { default: 1 } }), false);
});
