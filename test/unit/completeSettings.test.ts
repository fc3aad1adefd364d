// limelight.completions.* settings, from the manifest's schema through the settings reader and
// the extension's mapping (extension/completions/options.ts) into a live CompletionSession on a
// real engine: a changed value is used by the next request, without a new session.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { Generator } from '../../engine/generate/generator';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { LocalEngine } from '../../engine/complete/localEngine';
import { CompletionSession, type CompletionEngine, type GenerationRequest } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import type { CompletionDocument } from '../../engine/complete/prompt';
import { isSettingsSchema, readSettings, type SettingsSchema } from '../../extension/settings';
import { completionOptions } from '../../extension/completions/options';
import { echoModel } from '../harness/echoModel';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const schema: unknown = manifest.contributes.configuration.properties;
assert.ok(isSettingsSchema(schema));
const SCHEMA: SettingsSchema = schema;

const t = getTokenizer('p50k_edit');
/** One model for every session (the backends only read its weights). */
const MODEL = echoModel(t.encode('x')[0]!);

/** The real engine, keeping each request it was given. */
class RecordingEngine implements CompletionEngine {
  readonly requests: GenerationRequest[] = [];
  constructor(readonly inner: LocalEngine) {}
  generate(req: GenerationRequest, signal: AbortSignal, onText: (d: string) => void) {
    this.requests.push(req);
    return this.inner.generate(req, signal, onText);
  }
}

function settings(values: Record<string, unknown> = {}) {
  const r = readSettings(SCHEMA, (k) => values[k]);
  assert.deepEqual(r.problems, []);
  return r.settings;
}

function setup(values: Record<string, unknown> = {}) {
  const engine = new RecordingEngine(new LocalEngine(new Generator(createReferenceBackend(MODEL)), t));
  const session = new CompletionSession(new PromptBuilder(requireFimTemplate(t, 'p50k_edit')), engine, completionOptions(settings(values), 1024));
  return { engine, session };
}

const BLOCK = 'function f() {\n  \n}\n';
/** An empty line inside a block: a multi-line place. */
const emptyLine = (): CompletionDocument => ({ path: 'a.ts', languageId: 'typescript', text: BLOCK, offset: BLOCK.indexOf('  \n') + 2 });
/** Inside a line: a single-line place. */
const inLine = (): CompletionDocument => ({ path: 'a.ts', languageId: 'typescript', text: 'let a = ', offset: 8 });

/** The engine's time limit for a request: the budget less the time spent before the engine (building the prompt). */
function assertBudget(req: GenerationRequest | undefined, budgetMs: number): void {
  assert.ok(req, 'the engine was not asked');
  assert.ok(req.maxTimeMs <= budgetMs && req.maxTimeMs > budgetMs - 300, `maxTimeMs ${req.maxTimeMs}, budget ${budgetMs}`);
}

test('the time budget settings reach the session, and a change applies to the next request', async () => {
  const { engine, session } = setup();
  await session.complete(emptyLine(), 'invoke');
  assertBudget(engine.requests.at(-1), 800);
  await session.complete(inLine(), 'invoke');
  assertBudget(engine.requests.at(-1), 350);

  session.setOptions(completionOptions(settings({ 'limelight.completions.singleLineMaxMs': 1234, 'limelight.completions.multiLineMaxMs': 4321 }), 1024));
  const multi = await session.complete(emptyLine(), 'invoke');
  assert.equal(multi.mode, 'multi-line');
  assertBudget(engine.requests.at(-1), 4321);
  const single = await session.complete(inLine(), 'invoke');
  assert.equal(single.mode, 'single-line');
  assertBudget(engine.requests.at(-1), 1234);
});

test('time budgets out of bounds are clamped to the schema and reported', () => {
  const { settings: s, problems } = readSettings(SCHEMA, (k) => ({ 'limelight.completions.singleLineMaxMs': 5, 'limelight.completions.multiLineMaxMs': 1e9 })[k]);
  assert.equal(s.completions.singleLineMaxMs, 50);
  assert.equal(s.completions.multiLineMaxMs, 30000);
  assert.equal(problems.length, 2);
});

test('multiLine off makes every suggestion one line; the single-line token budget is a setting', async () => {
  const { engine, session } = setup({ 'limelight.completions.singleLineMaxTokens': 3 });
  const multi = await session.complete(emptyLine(), 'invoke');
  assert.equal(multi.mode, 'multi-line');
  assert.deepEqual(engine.requests.at(-1)!.stopStrings, ['\n\n\n']);
  session.setOptions(completionOptions(settings({ 'limelight.completions.multiLine': false, 'limelight.completions.singleLineMaxTokens': 3 }), 1024));
  const one = await session.complete(emptyLine(), 'invoke');
  assert.equal(one.mode, 'single-line');
  assert.deepEqual(engine.requests.at(-1)!.stopStrings, ['\n']);
  assert.equal(engine.requests.at(-1)!.maxNewTokens, 3);
  assert.equal(one.text, 'xxx');
  assertBudget(engine.requests.at(-1), 350);
});

test('adaptive debounce: on, a fast engine shortens the wait; off, the wait is always the setting', () => {
  const { session } = setup({ 'limelight.completions.debounceMs': 200 });
  session.debounce.observe(40);
  assert.equal(session.debounce.delayMs(), 20);
  session.setOptions(completionOptions(settings({ 'limelight.completions.debounceMs': 200, 'limelight.completions.adaptiveDebounce': false }), 1024));
  assert.equal(session.debounce.delayMs(), 200);
  session.setOptions(completionOptions(settings({ 'limelight.completions.debounceMs': 200 }), 1024));
  assert.equal(session.debounce.delayMs(), 20);
});

test('maxFollowingChars decides how much text after the cursor stops an automatic request', async () => {
  const text = 'const total = computeTheTotal(items);';
  const at: CompletionDocument = { path: 'a.ts', languageId: 'typescript', text, offset: 'const total = '.length };
  const { engine, session } = setup({ 'limelight.completions.debounceMs': 0 });
  const skipped = await session.complete(at, 'auto');
  assert.equal(skipped.outcome, 'skipped');
  assert.match(skipped.reason, /characters follow/);
  assert.equal(engine.requests.length, 0);
  session.setOptions(completionOptions(settings({ 'limelight.completions.debounceMs': 0, 'limelight.completions.maxFollowingChars': 100 }), 1024));
  const asked = await session.complete(at, 'auto');
  assert.equal(asked.outcome, 'shown');
  assert.equal(engine.requests.length, 1);
});

test("every setting in the manifest has a row in the README's settings table", () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const missing = Object.keys(SCHEMA).filter((key) => !readme.includes(`| \`${key}\` |`));
  assert.deepEqual(missing, []);
});
