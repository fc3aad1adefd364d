// Summarize Selection's pure parts: the comment syntax per language (JSDoc, Python docstring
// inside the def, line comments), the enclosing-function heuristic, the prompt (the trained
// template or plain text, cut to the context with the number of lines kept), and the
// fine-tune summary text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commentEdit } from '../../extension/summarize/comment';
import { enclosingBlock } from '../../extension/summarize/enclosing';
import { summaryLayout, summaryPrompt } from '../../engine/summarize/summaryPrompt';
import { plainSummaryText } from '../../engine/summarize/summaryText';
import { summarizeSelection, summaryDetail, summaryHeadline, skippedMarkdown } from '../../extension/fineTune/summary';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { promptTokenizer, summaryPromptTokens } from '../../engine/tokenizer/promptFormats';

test('comments: JSDoc above TS code, a docstring inside a Python def, // for Go, /// for Rust, wrapped and indented', () => {
  const ts = ['class A {', '  area(): number {', '    return 1;', '  }', '}'];
  assert.deepEqual(commentEdit('typescript', 'Returns the area.', ts, 1), { line: 1, lines: ['  /** Returns the area. */'] });
  const long = 'word '.repeat(40).trim();
  const e = commentEdit('typescript', long, ts, 1);
  assert.equal(e.lines[0], '  /**');
  assert.equal(e.lines.at(-1), '   */');
  assert.ok(e.lines.slice(1, -1).every((l) => l.startsWith('   * ') && l.length <= 90));
  const py = ['def mean(values,', '         weights):', '    return 1', ''];
  assert.deepEqual(commentEdit('python', 'The mean.', py, 0), { line: 2, lines: ['    """The mean."""'] });
  assert.deepEqual(commentEdit('python', 'A constant.', ['X = 1'], 0), { line: 0, lines: ['# A constant.'] });
  assert.deepEqual(commentEdit('go', 'Area of a rectangle.', ['func area() {', '}'], 0), { line: 0, lines: ['// Area of a rectangle.'] });
  assert.deepEqual(commentEdit('rust', 'Adds.', ['\tfn add() {}'], 0), { line: 0, lines: ['\t/// Adds.'] });
  assert.deepEqual(commentEdit('typescript', 'Ends */ early.', ['f();'], 0).lines, ['/** Ends * / early. */']);
});

test('enclosing block: braces for C-like code, indentation for Python, null outside any function', () => {
  const ts = ['import x;', '', 'export function f(a: number): number {', '  if (a) {', '    return 1;', '  }', '  return 2;', '}', ''];
  assert.deepEqual(enclosingBlock(ts, 4, false), { start: 2, end: 7 });
  assert.equal(enclosingBlock(ts, 0, false), null);
  const py = ['import os', '', 'def f(a):', '    if a:', '        return 1', '', '    return 2', '', 'x = 1'];
  assert.deepEqual(enclosingBlock(py, 4, true), { start: 2, end: 6 });
  assert.equal(enclosingBlock(py, 8, true), null);
});

test('prompt: the trained template for p50k_edit models, plain text otherwise; long code is cut by lines to fit', () => {
  const t = getTokenizer('p50k_edit');
  const pt = promptTokenizer(t);
  const starter = summaryLayout({ tokenizer: t, fim: null, chatTemplate: null, starterLayout: pt });
  assert.equal(starter.kind, 'starter');
  assert.ok(starter.stopTokenIds.includes(t.special.eot!));
  const code = 'function add(a, b) {\n  return a + b;\n}';
  const p = summaryPrompt(starter.encode, 'src/a.js', code, 1000);
  assert.deepEqual(p.ids, summaryPromptTokens(pt, 'src/a.js', code));
  assert.equal(p.keptLines, 3);
  const plainLayout = summaryLayout({ tokenizer: t, fim: null, chatTemplate: null, starterLayout: null });
  assert.equal(plainLayout.kind, 'plain');
  assert.deepEqual(summaryPrompt(plainLayout.encode, 'src/a.js', code, 1000).ids, t.encode(plainSummaryText(code)));
  const long = Array.from({ length: 400 }, (_, i) => `  total += values[${i}] * weights[${i}];`).join('\n');
  const cut = summaryPrompt(starter.encode, 'src/b.ts', long, 300);
  assert.ok(cut.ids.length <= 300, `${cut.ids.length}`);
  assert.ok(cut.keptLines < 400 && cut.keptLines > 10, `${cut.keptLines}`);
  assert.equal(cut.totalLines, 400);
  assert.equal(t.decode(cut.ids.slice(-3)), '<|endoftext|>Summary:');
});

test("prompt: an instruct model's chat template wraps the plain request; one that does not render falls back to plain text, saying why", () => {
  const t = getTokenizer('p50k_edit');
  const chatml = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";
  const chat = summaryLayout({ tokenizer: t, fim: null, chatTemplate: chatml, starterLayout: null });
  assert.equal(chat.kind, 'chat');
  assert.deepEqual(chat.stopStrings, ['\n\n']);
  // Jinja drops the template's one trailing newline.
  assert.equal(t.decode(chat.encode('a.js', 'x = 1')), `<|im_start|>user\n${plainSummaryText('x = 1')}<|im_end|>\n<|im_start|>assistant`);
  const broken = summaryLayout({ tokenizer: t, fim: null, chatTemplate: '{% for m in messages %}{{ m.content ', starterLayout: null });
  assert.equal(broken.kind, 'plain');
  assert.match(broken.note ?? '', /chat template does not render/);
});

test('fine-tune summary: counts by language and skip reason, detail text, skipped list', () => {
  const sel = {
    files: [{ path: 'a.ts', text: 'one two', language: 'ts' }, { path: 'b.ts', text: 'x', language: 'ts' }, { path: 'c.py', text: 'y', language: 'py' }],
    skipped: [
      { path: '.env', reason: 'secret-file' as const, folder: false },
      { path: 'node_modules', reason: 'dependencies' as const, folder: true },
      { path: 'k.ts', reason: 'secret' as const, detail: 'private key', folder: false },
      { path: 'x.png', reason: 'not-included' as const, folder: false },
    ],
    bytes: 9,
  };
  const s = summarizeSelection(sel, sel.files.reduce((n, f) => n + f.text.split(' ').length, 0));
  assert.equal(s.files, 3);
  assert.equal(s.tokens, 4);
  assert.deepEqual(s.languages, [['ts', 2], ['py', 1]]);
  assert.equal(summaryHeadline(s), 'Fine-tune on 3 files (4 tokens)?');
  const d = summaryDetail(s, 10);
  assert.match(d, /Languages: ts 2, py 1\./);
  assert.match(d, /1 × credential files/);
  assert.match(d, /1 × files containing a private key or token/);
  assert.match(d, /1 other files are not matched/);
  assert.match(d, /at most 10 minutes/);
  const md = skippedMarkdown(sel);
  assert.match(md, /`node_modules\/`: dependencies/);
  assert.match(md, /`k.ts`: files containing a private key or token \(private key\)/);
});
