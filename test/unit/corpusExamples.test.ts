import { test } from 'node:test';
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import assert from 'node:assert/strict';
import { Rng } from '../../engine/generate/rng';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { fimPromptTokens, promptTokenizer } from '../../engine/tokenizer/promptFormats';
import { firstSentence, goFunctions, jsFunctions, matchBrace, pythonFunctions } from '../../engine/workspace/docstrings';
import { fileExamples, fimSplit, windows } from '../../engine/finetune/sourceExamples';

const t = getTokenizer('p50k_edit');
const tok = promptTokenizer(t);

test('firstSentence: first sentence of the first paragraph, abbreviations kept, noise refused', () => {
  assert.equal(firstSentence('Return the sum of a and b.\n\nMore text.'), 'Return the sum of a and b.');
  assert.equal(firstSentence('Parse a value, e.g. a number. Then more.'), 'Parse a value, e.g. a number.');
  assert.equal(firstSentence('Builds the\n   index lazily'), 'Builds the index lazily');
  assert.equal(firstSentence('TODO: write docs for this one.'), null);
  assert.equal(firstSentence('Short.'), null);
  assert.equal(firstSentence(':param x: the value'), null);
});

test('python: def with a docstring gives the code without the docstring and the first sentence', () => {
  const src = [
    'import os',
    '',
    'class Box:',
    '    def area(self, scale: float = 1.0,',
    '             offset=(0, 0)) -> float:',
    '        """Compute the area of the box.',
    '',
    '        Scaled by scale.',
    '        """',
    '        w = self.w * scale',
    '        return w * self.h',
    '',
    '    def nodoc(self):',
    '        return 1',
    '',
    "def one_line():",
    "    '''Return one, always and forever.'''",
    '    return 1',
    '',
    'def only_doc():',
    '    """A stub with only a docstring here."""',
    '',
    'x = 2',
  ].join('\n');
  const fns = pythonFunctions(src);
  assert.deepEqual(fns.map((f) => f.name), ['area', 'one_line']);
  assert.equal(fns[0].summary, 'Compute the area of the box.');
  assert.equal(fns[0].code, 'def area(self, scale: float = 1.0,\n         offset=(0, 0)) -> float:\n    w = self.w * scale\n    return w * self.h');
  assert.equal(fns[0].line, 4);
  assert.equal(fns[1].code, 'def one_line():\n    return 1');
  assert.equal(fns[1].summary, 'Return one, always and forever.');
});

test('javascript / typescript: JSDoc before functions, arrow functions and methods', () => {
  const src = [
    '/**',
    ' * Clamp a number into the range {@link Range}.',
    ' * @param x the number',
    ' */',
    'export function clamp(x: number, r: Range): number {',
    '  const s = "}{";',
    '  if (/[}]/.test(s)) return r.lo; // }',
    '  return Math.min(r.hi, Math.max(r.lo, x));',
    '}',
    '',
    '/** Adds two numbers together, quickly. */',
    'const add = (a, b) => {',
    '  return a + b;',
    '};',
    '',
    'class Stack {',
    '  /**',
    '   * Remove and return the top item of the stack.',
    '   */',
    '  public pop(): T {',
    '    return this.items.pop();',
    '  }',
    '}',
    '',
    '/** The default size used by all stacks. */',
    'const SIZE = 10;',
    '',
    '/** Declared elsewhere, no body at all. */',
    'declare function ambient(x: number): void;',
  ].join('\n');
  const fns = jsFunctions(src);
  assert.deepEqual(fns.map((f) => f.name), ['clamp', 'add', 'pop']);
  assert.equal(fns[0].summary, 'Clamp a number into the range Range.');
  assert.ok(fns[0].code.startsWith('export function clamp(') && fns[0].code.endsWith('x));\n}'));
  assert.ok(!fns[0].code.includes('@param'));
  assert.equal(fns[2].code, 'public pop(): T {\n  return this.items.pop();\n}');
});

test('go: // comments right before a func', () => {
  const src = [
    'package x',
    '',
    '// Max returns the larger of a and b.',
    '// It is generic over ordered types.',
    'func Max[T int | float64](a, b T) T {',
    '\tif a > b { // comment with }',
    '\t\treturn a',
    '\t}',
    '\treturn b',
    '}',
    '',
    '// Len reports the number of items in the list.',
    'func (l *List) Len() int {',
    '\ts := `raw } string`',
    '\treturn len(l.items) + len(s)',
    '}',
    '',
    'func undocumented() {',
    '}',
    '',
    '// asmStub is implemented in assembly here.',
    'func asmStub(x int) int',
  ].join('\n');
  const fns = goFunctions(src);
  assert.deepEqual(fns.map((f) => f.name), ['Max', 'Len']);
  assert.equal(fns[0].summary, 'Max returns the larger of a and b.');
  assert.ok(fns[0].code.startsWith('func Max[') && fns[0].code.endsWith('return b\n}'));
  assert.ok(fns[1].code.endsWith('len(s)\n}'));
});

test('matchBrace skips strings, comments and regex literals; unbalanced text gives -1', () => {
  const js = '{ a("}"); /* } */ b(/}/); c(`}`) }';
  assert.equal(matchBrace(js, 0, 'js'), js.length);
  assert.equal(matchBrace('{ x = a / b / c; }', 0, 'js'), 18);
  assert.equal(matchBrace('{ {', 0, 'js'), -1);
});

test('fimSplit: pieces concatenate back to the text and are reproducible for a seed', () => {
  const text = 'line one\n  line two\n    line three\nend\n';
  for (let seed = 0; seed < 200; seed++) {
    const s = fimSplit(new Rng(seed), text);
    assert.equal(s.prefix + s.middle + s.suffix, text);
    assert.deepEqual(fimSplit(new Rng(seed), text), s);
  }
});

test('windows: line-aligned, cover the text, respect the size unless one line is longer', () => {
  const text = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(i % 7)}`).join('\n') + '\n';
  const w = windows(text, 120);
  assert.equal(w.join(''), text);
  for (const piece of w.slice(0, -1)) {
    assert.ok(piece.length <= 120 && piece.endsWith('\n'));
  }
  assert.deepEqual(windows('a'.repeat(50), 20), ['a'.repeat(50)]);
});

test('fileExamples: left-to-right or FIM documents built with the shared layout, about half FIM', () => {
  const text = Array.from({ length: 300 }, (_, i) => `const v${i} = compute(${i});`).join('\n') + '\n';
  const rng = new Rng(7);
  let fim = 0;
  for (let i = 0; i < 40; i++) {
    const ex = fileExamples(requireFimTemplate(t, 'p50k_edit'), rng, 'src/a.ts', text);
    for (const d of ex.docs) assert.equal(d[d.length - 1], tok.eot);
    if (ex.kind === 'ltr') {
      assert.equal(ex.docs.length, 1);
      assert.equal(t.decode(ex.docs[0].slice(0, -1)), `<path: src/a.ts>\n${text}`);
      continue;
    }
    fim++;
    assert.ok(ex.docs.length > 1, 'a long file is cut into several FIM windows');
    let joined = '';
    for (const d of ex.docs) {
      const suf = d.indexOf(tok.fimSuffix);
      const pre = d.indexOf(tok.fimPrefix);
      const mid = d.indexOf(tok.fimMiddle);
      assert.ok(suf > 0 && pre > suf && mid > pre);
      const prefix = t.decode(d.slice(pre + 1, mid));
      const suffix = t.decode(d.slice(suf + 1, pre));
      const middle = t.decode(d.slice(mid + 1, -1));
      assert.deepEqual(d.slice(0, mid + 1), fimPromptTokens(tok, { path: 'src/a.ts', prefix, suffix }));
      assert.ok(d.length <= 1024, `FIM document of ${d.length} tokens does not fit the context`);
      joined += prefix + middle + suffix;
    }
    assert.equal(joined, text);
  }
  assert.ok(fim > 10 && fim < 30, `FIM files ${fim} of 40`);
});

test('fileExamples: FIM windows that encode to more than the context are halved until they fit', () => {
  // Tab-heavy lines with rare words encode to about one token per two characters.
  const text = Array.from({ length: 400 }, (_, i) => `\t\t\tx${i} := qzv(${i}, "ψ${i}ω")`).join('\n') + '\n';
  const rng = new Rng(3);
  let checked = 0;
  while (checked < 3) {
    const ex = fileExamples(requireFimTemplate(t, 'p50k_edit'), rng, 'a.go', text);
    if (ex.kind !== 'fim') continue;
    checked++;
    for (const d of ex.docs) assert.ok(d.length <= 1024, `FIM document of ${d.length} tokens`);
  }
});
