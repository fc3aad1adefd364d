import { test } from 'node:test';
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import assert from 'node:assert/strict';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { fimPromptTokens, promptTokenizer } from '../../engine/tokenizer/promptFormats';
import { fitBudget, headerPath, PromptBuilder, type PromptBudget } from '../../engine/complete/prompt';
import { ContextRing, excerptAround, selectChunks } from '../../engine/complete/contextRing';

const t = getTokenizer('p50k_edit');
const tok = promptTokenizer(t);
const fim = requireFimTemplate(t, 'p50k_edit');
const roomy: PromptBudget = { prefixTokens: 512, suffixTokens: 128, contextTokens: 128, maxPromptTokens: 4096 };

/** A source file of `n` numbered lines. */
function source(n: number): string {
  return Array.from({ length: n }, (_, i) => `const value${i} = compute(${i}, "item ${i}");`).join('\n') + '\n';
}

function commonPrefix(a: number[], b: number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

test('a small file gives exactly the FIM layout of promptFormats', () => {
  const text = 'def f(x):\n    return x\n\nprint(f(1))\n';
  const offset = text.indexOf('return x') + 'return '.length;
  const p = new PromptBuilder(fim).build({ path: 'src/a.py', languageId: 'python', text, offset }, roomy);
  assert.equal(p.prefix, text.slice(0, offset));
  assert.equal(p.suffix, text.slice(offset));
  assert.deepEqual(p.ids, fimPromptTokens(tok, { path: 'src/a.py', prefix: p.prefix, suffix: p.suffix }));
  assert.equal(p.ids[p.ids.length - 1], tok.fimMiddle);
  assert.equal(p.tokens.context, 0);
  assert.equal(p.tokens.prefix, t.encode(p.prefix).length);
});

test('untitled editors name their language by extension in the header', () => {
  assert.equal(headerPath({ path: '', languageId: 'python' }), 'untitled.py');
  assert.equal(headerPath({ path: '', languageId: 'typescriptreact' }), 'untitled.tsx');
  assert.equal(headerPath({ path: '', languageId: 'zig' }), 'untitled.zig');
  assert.equal(headerPath({ path: 'lib/x.go', languageId: 'go' }), 'lib/x.go');
});

test('budgets that exceed the prompt room are scaled down together', () => {
  const fit = fitBudget({ prefixTokens: 768, suffixTokens: 256, contextTokens: 256, maxPromptTokens: 960 }, 7, 3);
  assert.ok(fit.prefix + fit.suffix + fit.context <= 960 - 7 - 3);
  assert.ok(fit.prefix > 500 && fit.suffix > 150 && fit.context > 150);
  assert.deepEqual(fitBudget(roomy, 7, 3), { prefix: 512, suffix: 128, context: 128 });
});

test('windows stay within their token budgets and are line-aligned', () => {
  const text = source(400);
  const offset = text.indexOf('const value200') + 'const val'.length;
  const budget = { ...roomy, prefixTokens: 200, suffixTokens: 60 };
  const p = new PromptBuilder(fim).build({ path: 'a.ts', languageId: 'typescript', text, offset }, budget);
  assert.ok(p.tokens.prefix <= 200, `prefix ${p.tokens.prefix} tokens`);
  assert.ok(p.tokens.prefix >= 100, `prefix ${p.tokens.prefix} tokens wastes the budget`);
  assert.ok(p.tokens.suffix <= 60 && p.tokens.suffix >= 30, `suffix ${p.tokens.suffix} tokens`);
  assert.equal(text[p.prefixStart - 1], '\n');
  assert.equal(text[p.suffixEnd - 1], '\n');
  assert.ok(p.prefix.endsWith('const val'));
});

test('typing at the cursor only appends to the token prefix; the window start moves in rare coarse steps', () => {
  const text = source(300);
  const builder = new PromptBuilder(fim);
  const budget = { ...roomy, prefixTokens: 256, suffixTokens: 64 };
  const cursor = text.indexOf('const value150');
  const typed = 'function helper(a, b) {\n  return a * b + compute(a, "x");\n}\n'.repeat(12);
  let doc = text;
  let prev = builder.build({ path: 'a.ts', languageId: 'typescript', text: doc, offset: cursor }, budget);
  const prefilled: number[] = [];
  const starts = new Set<number>([prev.prefixStart]);
  for (let i = 0; i < typed.length; i++) {
    doc = text.slice(0, cursor) + typed.slice(0, i + 1) + text.slice(cursor);
    const p = builder.build({ path: 'a.ts', languageId: 'typescript', text: doc, offset: cursor + i + 1 }, budget);
    assert.ok(p.tokens.prefix <= 256 + 32, `prefix grew to ${p.tokens.prefix}`);
    prefilled.push(p.ids.length - commonPrefix(prev.ids, p.ids));
    starts.add(p.prefixStart);
    prev = p;
  }
  prefilled.sort((a, b) => a - b);
  assert.ok(prefilled[prefilled.length >> 1] <= 3, `median new tokens per keystroke ${prefilled[prefilled.length >> 1]}`);
  // About 750 characters typed, ~64 tokens of slack per step: a handful of moves, not one per keystroke.
  assert.ok(starts.size >= 2 && starts.size <= 8, `${starts.size} window starts`);
});

test('an edit before the window start or a jump of the cursor re-anchors the window', () => {
  const text = source(300);
  const builder = new PromptBuilder(fim);
  const budget = { ...roomy, prefixTokens: 128, suffixTokens: 0 };
  const a = builder.build({ path: 'a.ts', languageId: 'typescript', text, offset: text.length }, budget);
  const far = builder.build({ path: 'a.ts', languageId: 'typescript', text, offset: 2000 }, budget);
  assert.ok(far.prefixStart < a.prefixStart && far.tokens.prefix <= 128);
  assert.equal(far.suffix, '');
  const other = builder.build({ path: 'b.ts', languageId: 'typescript', text, offset: text.length }, budget);
  assert.equal(other.prefixStart, a.prefixStart);
});

test('context chunks precede the prompt, newest last, skip the current file and respect the budget', () => {
  const ring = new ContextRing();
  ring.note('lib/util.ts', 'export function add(a: number, b: number) {\n  return a + b;\n}\n', 10);
  ring.note('lib/old.ts', 'export const OLD = 1;\n', 0);
  ring.note('main.ts', 'current file\n', 0);
  const text = 'import { add } from "./lib/util";\nconsole.log(add(1, 2));\n';
  const p = new PromptBuilder(fim).build({ path: 'main.ts', languageId: 'typescript', text, offset: text.length }, roomy, ring.excerpts());
  assert.deepEqual(p.chunks.map((c) => c.path), ['lib/util.ts', 'lib/old.ts']);
  assert.ok(p.tokens.context > 0 && p.tokens.context <= 128);
  assert.deepEqual(p.ids, fimPromptTokens(tok, { path: 'main.ts', prefix: p.prefix, suffix: p.suffix, context: p.chunks }));
  const tight = new PromptBuilder(fim).build({ path: 'main.ts', languageId: 'typescript', text, offset: text.length }, { ...roomy, contextTokens: 20 }, ring.excerpts());
  assert.deepEqual(tight.chunks.map((c) => c.path), ['lib/old.ts']);
});

test('the ring keeps one excerpt per file, drops duplicates and the oldest beyond its capacity', () => {
  const ring = new ContextRing(2);
  const count = (c: { path: string; text: string }) => t.encode(c.text).length + 8;
  ring.note('a.ts', 'alpha\n', 0);
  ring.note('b.ts', 'same text\n', 0);
  ring.note('c.ts', 'same text\n', 0);
  assert.deepEqual(selectChunks(ring.excerpts(), 'x.ts', 1000, count).map((c) => c.path), ['c.ts']);
  ring.note('b.ts', 'beta\n', 0);
  assert.deepEqual(selectChunks(ring.excerpts(), 'x.ts', 1000, count).map((c) => c.path), ['c.ts', 'b.ts']);
  assert.deepEqual(selectChunks(ring.excerpts(), 'x.ts', 1000, count, 'has beta\n inside').map((c) => c.path), ['c.ts']);
  ring.forget('c.ts');
  assert.deepEqual(selectChunks(ring.excerpts(), 'x.ts', 1000, count).map((c) => c.path), ['b.ts']);
  assert.deepEqual(selectChunks(ring.excerpts(), 'x.ts', 0, count), []);
});

test('a chunk too long for the budget loses lines from its top', () => {
  const ring = new ContextRing();
  const long = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
  ring.note('long.ts', long, long.length);
  const count = (c: { path: string; text: string }) => t.encode(c.text).length;
  const [c] = selectChunks(ring.excerpts(), 'x.ts', 20, count);
  assert.ok(count(c) <= 20);
  assert.ok(c.text.endsWith('line 29'));
});

test('excerptAround takes the lines around the offset', () => {
  const text = Array.from({ length: 100 }, (_, i) => `${i}`).join('\n');
  const e = excerptAround(text, text.indexOf('\n50\n') + 1, 2);
  assert.equal(e, '48\n49\n50\n51\n52');
  assert.equal(excerptAround('a\nb', 0, 5), 'a\nb');
});
