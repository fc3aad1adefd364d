import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import {
  fileHeader,
  fimExampleTokens,
  fimPromptTokens,
  leftToRightTokens,
  promptTokenizer,
  summaryExampleTokens,
  summaryPromptTokens,
} from '../../engine/tokenizer/promptFormats';

const t = getTokenizer('p50k_edit');
const tok = promptTokenizer(t);

test('p50k_edit ids: FIM tokens follow the 50281 p50k ranks, vocabulary 50284', () => {
  assert.deepEqual([tok.eot, tok.fimPrefix, tok.fimMiddle, tok.fimSuffix], [50256, 50281, 50282, 50283]);
  assert.equal(t.vocabSize, 50284);
});

test('encodings without FIM tokens are refused with a hint', () => {
  assert.throws(() => promptTokenizer(getTokenizer('r50k_base')), /p50k_edit/);
});

test('file header is one line and cannot be broken by the path', () => {
  assert.equal(fileHeader('src/foo.ts'), '<path: src/foo.ts>\n');
  assert.equal(fileHeader('a\\b\\c.py'), '<path: a/b/c.py>\n');
  assert.equal(fileHeader('x>\ny.go'), '<path: x__y.go>\n');
  assert.equal(fileHeader('  '), '<path: untitled>\n');
});

test('left to right: header, code, end of text; code holding special strings stays text', () => {
  const ids = leftToRightTokens(tok, 'a.py', 'x = "<|endoftext|>"\n');
  assert.equal(ids[ids.length - 1], tok.eot);
  assert.equal(ids.filter((i) => i === tok.eot).length, 1);
  assert.equal(t.decode(ids.slice(0, -1)), '<path: a.py>\nx = "<|endoftext|>"\n');
});

test('FIM prompt is SPM ordered and ends with <|fim_middle|>', () => {
  const parts = { path: 'm.go', prefix: 'func f() {\n\treturn ', suffix: '\n}\n' };
  const ids = fimPromptTokens(tok, parts);
  const suf = ids.indexOf(tok.fimSuffix);
  const pre = ids.indexOf(tok.fimPrefix);
  assert.ok(suf > 0 && pre > suf);
  assert.equal(ids[ids.length - 1], tok.fimMiddle);
  assert.equal(t.decode(ids.slice(0, suf)), '<path: m.go>\n');
  assert.equal(t.decode(ids.slice(suf + 1, pre)), parts.suffix);
  assert.equal(t.decode(ids.slice(pre + 1, -1)), parts.prefix);
});

test('FIM prompt: typing at the cursor only appends tokens before <|fim_middle|>', () => {
  const before = fimPromptTokens(tok, { path: 'a.ts', prefix: 'const total = items.', suffix: ';\n' });
  const after = fimPromptTokens(tok, { path: 'a.ts', prefix: 'const total = items.length', suffix: ';\n' });
  const stable = before.length - 1; // everything up to <|fim_middle|>
  assert.deepEqual(after.slice(0, stable), before.slice(0, stable));
});

test('FIM example: prompt, middle, end of text; context chunks come first as finished documents', () => {
  const parts = { path: 'b.ts', prefix: 'let a = ', suffix: ';\n', context: [{ path: 'c.ts', text: 'export const k = 1;\n' }] };
  const ids = fimExampleTokens(tok, parts, '42');
  const prompt = fimPromptTokens(tok, parts);
  assert.deepEqual(ids.slice(0, prompt.length), prompt);
  assert.equal(t.decode(ids.slice(prompt.length, -1)), '42');
  assert.equal(ids[ids.length - 1], tok.eot);
  assert.equal(t.decode(prompt.slice(0, prompt.indexOf(tok.eot))), '<path: c.ts>\nexport const k = 1;\n');
});

test('summary: code, newline, end of text, cue; the example adds " sentence" and end of text', () => {
  const code = 'def add(a, b):\n    return a + b';
  const prompt = summaryPromptTokens(tok, 'm.py', code);
  assert.equal(t.decode(prompt), `<path: m.py>\n${code}\n<|endoftext|>Summary:`);
  assert.equal(prompt.filter((i) => i === tok.eot).length, 1);
  const ex = summaryExampleTokens(tok, 'm.py', code, 'Add two numbers.  ');
  assert.deepEqual(ex.slice(0, prompt.length), prompt);
  assert.equal(t.decode(ex.slice(prompt.length, -1)), ' Add two numbers.');
  assert.equal(ex[ex.length - 1], tok.eot);
});
