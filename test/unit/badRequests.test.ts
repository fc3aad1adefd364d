// Bad input through the completion pipeline, the tokenizer, the prompt builders and the
// settings: empty files, a 10 MB single-line file, binary content, lone UTF-16 surrogates,
// absurd setting values. Each gets a sensible outcome, in bounded time, and nothing throws.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { Generator } from '../../engine/generate/generator';
import { encode as packageP50kEdit } from 'gpt-tokenizer/encoding/p50k_edit';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { promptTokenizer, summaryPromptTokens } from '../../engine/tokenizer/promptFormats';
import { LocalEngine } from '../../engine/complete/localEngine';
import { PromptBuilder, type CompletionDocument } from '../../engine/complete/prompt';
import { CompletionSession, type CompletionEngine, type GenerationRequest } from '../../engine/complete/session';
import { summaryPrompt } from '../../engine/summarize/summaryPrompt';
import { isSettingsSchema, readSettings } from '../../extension/settings';
import { echoModel } from '../harness/echoModel';

const t = getTokenizer('p50k_edit');
const tok = promptTokenizer(t);
const starter = (path: string, code: string): number[] => summaryPromptTokens(tok, path, code);
const fim = requireFimTemplate(t, 'p50k_edit');
const budget = { prefixTokens: 768, suffixTokens: 256, contextTokens: 256, maxPromptTokens: 960 };
const BIG = 10 * 2 ** 20;

/**
 * Milliseconds of CPU this process spent since `from` (process.cpuUsage()): the bounds below
 * are on work done, which a machine loaded by other jobs does not inflate as it does wall time.
 */
function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** A 10 MB minified-looking line: no newline, few spaces, long runs of one character class. */
function bigLine(): string {
  const unit = 'var a=b.c(d,e)||f;' + 'Q'.repeat(300) + '0'.repeat(300) + '==';
  return unit.repeat(Math.ceil(BIG / unit.length)).slice(0, BIG);
}

/** Binary content as an editor shows it: NUL bytes and invalid UTF-8 decoded as U+FFFD. */
const BINARY = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0xe2, 0x82, 0, 0x41, 0x0a, 0, 0]).toString('utf8').repeat(50);
/** Lone surrogates at the cursor, in the prefix, the suffix and the path. */
const SURROGATES = 'let s = "\uD800";\nconst t = "\uDC00x\uD83D";\n// \uDFFF\uD800\n';

test('the tokenizer takes lone surrogates, NUL bytes and U+FFFD, and round-trips them as text', () => {
  assert.equal(t.decode(t.encode('a\uD800b')), 'a\uFFFDb');
  assert.equal(t.decode(t.encode('\uDC00')), '\uFFFD');
  assert.equal(t.decode(t.encode('\0\0abc\0')), '\0\0abc\0');
  assert.equal(t.decode(t.encode(BINARY)), BINARY);
  assert.equal(t.decode(t.encode('emoji \u{1F600}\u{1F600}')), 'emoji \u{1F600}\u{1F600}');
});

test('long runs of one character class encode in linear time, and ordinary text encodes as before', () => {
  for (const [name, run] of [['letters', 'x'], ['digits', '7'], ['symbols', '='], ['spaces', ' '], ['astral symbols', '\u{1F600}']] as const) {
    const text = `a ${run.repeat(100_000)} b`;
    const t0 = process.cpuUsage();
    const ids = t.encode(text);
    const ms = cpuMs(t0);
    assert.ok(ms < 3000, `${name}: ${ms.toFixed(0)} ms`);
    assert.equal(t.decode(ids), text, `${name}: decodes to the same text (no surrogate pair split)`);
  }
  // Runs of up to 256 characters of one class are not cut: the ids are gpt-tokenizer's own.
  const ordinary = `${'x'.repeat(256)} ${'9'.repeat(256)} ${' '.repeat(256)}end; ${FILE_TEXT}`.repeat(3);
  assert.deepEqual(t.encode(ordinary), packageP50kEdit(ordinary));
});

const FILE_TEXT = 'export function area(r: number): number {\n  return Math.PI * r * r;\n}\n';

test('prompt building: an empty file, binary content and lone surrogates give a valid prompt', () => {
  const b = new PromptBuilder(fim);
  const empty = b.build({ path: 'src/empty.ts', languageId: 'typescript', text: '', offset: 0 }, budget);
  assert.equal(empty.prefix, '');
  assert.equal(empty.suffix, '');
  assert.ok(empty.ids.length > 3 && empty.ids.length < 30);
  const bin = b.build({ path: 'bin/a.out', languageId: 'plaintext', text: BINARY, offset: 300 }, budget);
  assert.ok(bin.ids.length <= budget.maxPromptTokens);
  assert.ok(bin.ids.every((id) => id >= 0 && id < t.vocabSize));
  const sur = b.build({ path: 'src/\uD800.ts', languageId: 'typescript', text: SURROGATES, offset: SURROGATES.indexOf('x') }, budget);
  assert.ok(sur.ids.every((id) => id >= 0 && id < t.vocabSize));
  assert.match(t.decode(sur.ids), /let s = "\uFFFD";/);
  // An offset past the end (a stale cursor) is clamped.
  assert.equal(b.build({ path: 'a.ts', languageId: 'typescript', text: 'abc', offset: 1e9 }, budget).prefix, 'abc');
});

test('prompt building in a 10 MB single-line file windows by characters: a keystroke stays fast', () => {
  const text = bigLine();
  for (const at of [0, text.length >> 1, text.length]) {
    const b = new PromptBuilder(fim);
    const doc: CompletionDocument = { path: 'dist/app.min.js', languageId: 'javascript', text, offset: at };
    const t0 = process.cpuUsage();
    const first = b.build(doc, budget);
    const firstMs = cpuMs(t0);
    // The next keystroke: one more character at the cursor (the document string is the editor's, not timed).
    const typed = { ...doc, text: text.slice(0, at) + 'z' + text.slice(at), offset: at + 1 };
    const t1 = process.cpuUsage();
    const next = b.build(typed, budget);
    const nextMs = cpuMs(t1);
    assert.ok(first.ids.length <= budget.maxPromptTokens && next.ids.length <= budget.maxPromptTokens);
    assert.ok(first.prefix.length + first.suffix.length < 30_000, 'only a window of the line is taken');
    assert.ok(firstMs < 2000, `first prompt at ${at}: ${firstMs.toFixed(0)} ms`);
    assert.ok(nextMs < 1000, `keystroke at ${at}: ${nextMs.toFixed(0)} ms`);
  }
});

test('the summarize prompt of a 10 MB single-line selection is cut by characters first, with the cut reported', () => {
  const t0 = process.cpuUsage();
  const p = summaryPrompt(starter, 'dist/app.min.js', bigLine(), 944);
  assert.ok(cpuMs(t0) < 2000, `${cpuMs(t0).toFixed(0)} ms of CPU`);
  assert.ok(p.ids.length <= 944);
  assert.equal(p.cut, true);
  assert.equal(p.totalLines, 1);
  const many = summaryPrompt(starter, 'a.ts', `${FILE_TEXT}`.repeat(20_000), 300);
  assert.ok(many.ids.length <= 300 && many.cut && many.keptLines < many.totalLines);
  const whole = summaryPrompt(starter, 'a.ts', FILE_TEXT, 300);
  assert.equal(whole.cut, false);
  // A context too small for any prompt still gives one id, never a negative slice.
  assert.equal(summaryPrompt(starter, 'a.ts', FILE_TEXT, -20).ids.length, 1);
  const odd = summaryPrompt(starter, 'a.ts', `${SURROGATES}${BINARY}`, 300);
  assert.ok(odd.ids.every((id) => id >= 0 && id < t.vocabSize));
});

/** The real engine on the echo model, counting answers (more than a one-token prefill). */
class Counting implements CompletionEngine {
  answers = 0;
  constructor(readonly inner: LocalEngine) {}
  generate(req: GenerationRequest, signal: AbortSignal, onText: (d: string) => void) {
    if (req.maxNewTokens > 1) this.answers++;
    return this.inner.generate(req, signal, onText);
  }
}

function session(opts: ConstructorParameters<typeof CompletionSession>[2] = {}) {
  const engine = new Counting(new LocalEngine(new Generator(createReferenceBackend(echoModel(t.encode('x')[0]))), t));
  return { engine, session: new CompletionSession(new PromptBuilder(fim), engine, { debounceMs: 0, maxNewTokens: 3, ...opts }) };
}

test('the completion pipeline: empty, 10 MB single-line, binary and surrogate documents end in an outcome, never a throw (CPU time bounded)', async () => {
  const { session: s } = session();
  const docs: [string, CompletionDocument][] = [
    ['empty', { path: 'src/empty.ts', languageId: 'typescript', text: '', offset: 0 }],
    ['10 MB line, middle', { path: 'app.min.js', languageId: 'javascript', text: bigLine(), offset: BIG >> 1 }],
    ['10 MB line, end', { path: 'app.min.js', languageId: 'javascript', text: bigLine(), offset: BIG }],
    ['binary', { path: 'a.out', languageId: 'plaintext', text: BINARY, offset: 100 }],
    ['surrogates', { path: '\uD800.ts', languageId: 'typescript', text: SURROGATES, offset: SURROGATES.indexOf('\n') }],
    ['negative offset', { path: 'a.ts', languageId: 'typescript', text: FILE_TEXT, offset: -5 }],
    ['NaN offset', { path: 'a.ts', languageId: 'typescript', text: FILE_TEXT, offset: Number.NaN }],
  ];
  for (const [name, doc] of docs) {
    for (const trigger of ['invoke', 'auto'] as const) {
      const t0 = process.cpuUsage();
      const r = await s.complete(doc, trigger);
      const ms = cpuMs(t0);
      assert.ok(['shown', 'typed-through', 'empty', 'skipped', 'duplicate', 'timed-out'].includes(r.outcome), `${name} (${trigger}): ${r.outcome} ${r.reason}`);
      assert.ok(ms < 3000, `${name} (${trigger}): ${ms.toFixed(0)} ms`);
      if (r.prompt) assert.ok(r.prompt.ids.length <= 1024 - 3);
    }
  }
});

test('absurd completion options are bounded: the prompt still fits the context and the answer the token limit', async () => {
  const { session: s } = session({ prefixTokens: 1e9, suffixTokens: 1e9, contextTokens: 1e9, contextLength: 1024, maxNewTokens: 4 });
  const r = await s.complete({ path: 'a.ts', languageId: 'typescript', text: FILE_TEXT.repeat(200), offset: FILE_TEXT.length * 100 }, 'invoke');
  assert.equal(r.outcome, 'shown', r.reason);
  assert.ok(r.prompt!.ids.length <= 1024 - 4);
});

test('fast typing starts no answer until typing pauses; the last keystroke gets one answer', async () => {
  const { engine, session: s } = session({ debounceMs: 120 });
  const head = 'function f(r: number) {\n  return ';
  const pending: Promise<{ outcome: string }>[] = [];
  for (let i = 0; i < 12; i++) {
    const text = `${head}${'Math.PI * r'.slice(0, i)}\n}\n`;
    pending.push(s.complete({ path: 'a.ts', languageId: 'typescript', text, offset: head.length + i }, 'auto'));
    await new Promise((r) => setTimeout(r, 20)); // a keystroke every 20 ms, well inside the 120 ms wait
  }
  const outcomes = (await Promise.all(pending)).map((r) => r.outcome);
  assert.deepEqual(outcomes.slice(0, -1), new Array(11).fill('debounced'));
  assert.notEqual(outcomes.at(-1), 'debounced');
  assert.equal(engine.answers, 1, 'one answer, for the pause after the last keystroke');
});

test('absurd settings.json values: every field falls back to its default or is clamped, with a warning each', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const schema: unknown = manifest.contributes.configuration.properties;
  assert.ok(isSettingsSchema(schema));
  const huge = 'x'.repeat(5 * 2 ** 20);
  const absurd: unknown[] = [-1e308, Number.NaN, Infinity, 1e308, 'ten', huge, null, [], {}, true, [huge, 3], { a: 'b' }];
  const keys = Object.keys(schema);
  for (const v of absurd) {
    const get = (k: string): unknown => (keys.includes(k) ? v : undefined);
    const { settings, problems } = readSettings(schema, get, get);
    for (const [key, s] of Object.entries(schema)) {
      const name = key.slice('limelight.'.length);
      const got = name.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], settings);
      if (got === undefined) continue; // declared but read elsewhere
      const accepted = JSON.stringify(got) === JSON.stringify(v);
      if (!accepted) assert.ok(problems.some((p) => p.startsWith(`${key}:`)), `${key} = ${String(v).slice(0, 20)}: changed to ${JSON.stringify(got)?.slice(0, 40)} without a warning`);
      if (s.type === 'integer' || s.type === 'number') {
        assert.ok(typeof got === 'number' && Number.isFinite(got) && got >= s.minimum! && got <= s.maximum!, `${key} = ${String(v)} gave ${String(got)}`);
      }
    }
    // Warnings quote the value: a 5 MB string must not become a 5 MB log line.
    for (const p of problems) assert.ok(p.length < 2000, `a warning of ${p.length} characters: ${p.slice(0, 80)}`);
  }
});
