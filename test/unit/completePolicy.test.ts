import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnd, cursorContext, decideMode, indentWidth, postProcess, type CursorContext } from '../../engine/complete/policy';

/** A document with the cursor at '|'. */
function at(src: string): CursorContext {
  const offset = src.indexOf('|');
  return cursorContext(src.slice(0, offset) + src.slice(offset + 1), offset);
}

test('cursorContext splits the cursor line and lists the next lines (CRLF tolerated)', () => {
  const ctx = at('a\nfoo(|x);\r\nnext\r\n\r\nlast');
  assert.equal(ctx.linePrefix, 'foo(');
  assert.equal(ctx.lineSuffix, 'x);');
  assert.deepEqual(ctx.nextLines, ['next', '', 'last']);
  assert.deepEqual(at('|').nextLines, []);
});

test('indentWidth counts tabs as four columns and stops at code', () => {
  assert.equal(indentWidth('    x'), 4);
  assert.equal(indentWidth('\t  x'), 6);
  assert.equal(indentWidth('x  '), 0);
  assert.equal(indentWidth('   '), 3);
});

test('an empty or blank line asks for a block at its indentation', () => {
  assert.deepEqual(decideMode(at('if (a) {\n    |\n}'), 'auto'), { mode: 'multi-line', minIndent: 4 });
  assert.deepEqual(decideMode(at('|'), 'auto'), { mode: 'multi-line', minIndent: 0 });
});

test('the end of a line that opens a block asks for a block deeper than that line', () => {
  assert.deepEqual(decideMode(at('  function f() {|'), 'auto'), { mode: 'multi-line', minIndent: 3 });
  assert.deepEqual(decideMode(at('def f(x):|'), 'auto'), { mode: 'multi-line', minIndent: 1 });
  assert.deepEqual(decideMode(at('xs.forEach((x) =>|'), 'auto'), { mode: 'multi-line', minIndent: 1 });
  assert.deepEqual(decideMode(at('items.each do|'), 'auto'), { mode: 'multi-line', minIndent: 1 });
});

test('inside a line the request is single-line; closers after the cursor are fine', () => {
  assert.deepEqual(decideMode(at('const x = |'), 'auto'), { mode: 'single-line', minIndent: 0 });
  assert.deepEqual(decideMode(at('foo(|);'), 'auto'), { mode: 'single-line', minIndent: 0 });
  assert.deepEqual(decideMode(at('  |)'), 'auto'), { mode: 'multi-line', minIndent: 2 });
});

test('no automatic request with much text after the cursor or inside a word; an explicit one is answered', () => {
  assert.match((decideMode(at('x = |someFunction(argument)'), 'auto') as { skip: string }).skip, /characters follow/);
  assert.match((decideMode(at('cons|t'), 'auto') as { skip: string }).skip, /inside a word/);
  assert.deepEqual(decideMode(at('x = |someFunction(argument)'), 'invoke'), { mode: 'single-line', minIndent: 0 });
  assert.deepEqual(decideMode(at('cons|t'), 'invoke'), { mode: 'single-line', minIndent: 0 });
  assert.deepEqual(decideMode(at('x = |short'), 'auto'), { mode: 'single-line', minIndent: 0 });
});

test('blockEnd finds the first line left of the block, as soon as its first character arrives', () => {
  assert.equal(blockEnd('a\n    b\n  c', 4), '    a\n    b'.length - 4);
  assert.equal(blockEnd('x = 1\n    y = 2\n', 4), -1);
  assert.equal(blockEnd('\n    return 1\n}', 3), '\n    return 1'.length);
  // A blank line is not evidence; the line after it is.
  assert.equal(blockEnd('a\n\n', 2), -1);
  assert.equal(blockEnd('a\n\nb', 2), 2);
  // At column 0 a blank line after code ends the statement, but not before any code.
  assert.equal(blockEnd('x = 1\n\n', 0), 5);
  assert.equal(blockEnd('\n\nx = 1', 0), -1);
  assert.equal(blockEnd('x = 1\n', 0), -1);
});

test('single-line suggestions stop at the line end and lose trailing whitespace', () => {
  assert.deepEqual(postProcess('foo(bar);   \nmore', at('x = |'), 'single-line', 0), { text: 'foo(bar);' });
});

test('closers already after the cursor are not repeated', () => {
  assert.deepEqual(postProcess('a, b);', at('foo(|);'), 'single-line', 0), { text: 'a, b' });
  assert.deepEqual(postProcess(');', at('foo(|);'), 'single-line', 0), { drop: 'empty' });
});

test('empty and whitespace-only suggestions are dropped', () => {
  assert.deepEqual(postProcess('', at('x = |'), 'single-line', 0), { drop: 'empty' });
  assert.deepEqual(postProcess('   \n  \n', at('  |'), 'multi-line', 2), { drop: 'empty' });
  assert.deepEqual(postProcess('\nfoo()', at('x = |'), 'single-line', 0), { drop: 'empty' });
});

test('a suggestion that repeats the code after the cursor is dropped', () => {
  assert.deepEqual(postProcess('return x;', at('  |\n  return x;\n}'), 'multi-line', 2), { drop: 'duplicate' });
  assert.deepEqual(postProcess('a();\n  b();', at('  |\n  a();\n  b();\n  c();'), 'multi-line', 2), { drop: 'duplicate' });
  assert.deepEqual(postProcess('value;', at('x = |\nx = value;'), 'single-line', 0), { drop: 'duplicate' });
  assert.deepEqual(postProcess('a();\n  z();', at('  |\n  a();\n  b();'), 'multi-line', 2), { text: 'a();\n  z();' });
});

test('a block suggestion ends with its block and does not repeat the closing brace below', () => {
  const ctx = at('function f() {|\n}\n');
  assert.deepEqual(postProcess('\n  return 1;\n}\n\nfunction g() {', ctx, 'multi-line', 1), { text: '\n  return 1;' });
  const inner = at('  if (a) {\n    |\n  }\n}');
  assert.deepEqual(postProcess('go();\n  }\n}', inner, 'multi-line', 4), { text: 'go();' });
  // The model closes the block the editor already closed: the closing lines are dropped.
  const open = at('if (a) {\n  |\n}');
  assert.deepEqual(postProcess('go();\n  stop();   ', open, 'multi-line', 2), { text: 'go();\n  stop();' });
});

test('Python blocks end by indentation; a top-level statement ends at a blank line', () => {
  const py = at('def f(x):|\n');
  assert.deepEqual(postProcess('\n    y = x + 1\n    return y\nprint(f(2))', py, 'multi-line', 1), { text: '\n    y = x + 1\n    return y' });
  assert.deepEqual(postProcess('import os\nimport sys\n\ndef main():', at('|'), 'multi-line', 0), { text: 'import os\nimport sys' });
});
