// The line-cached encoder behind the prompt builder gives exactly the ids of encoding the whole
// text, on real source files and on text built to sit on the pre-tokenizer's edges (CRLF,
// indentation, blank lines, unicode spaces, long runs, surrogate pairs), and its cache is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { SegmentedEncoder } from '../../engine/complete/segmentedEncoder';
import { mulberry32 } from '../../engine/model/init';

const tok = getTokenizer('p50k_edit');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|js|py|go|rs|md)$/.test(name)) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

test('real source files: the same ids as encoding the whole text, for every prefix a keystroke makes', () => {
  const files = sourceFiles(join(process.cwd(), 'engine', 'complete')).concat(sourceFiles(join(process.cwd(), 'test', 'fixtures', 'sample-workspace')));
  assert.ok(files.length >= 5);
  const seg = new SegmentedEncoder((t) => tok.encode(t));
  for (const text of files) {
    assert.deepEqual(seg.encode(text), tok.encode(text));
    for (let end = 0; end < text.length; end += 97) assert.deepEqual(seg.encode(text.slice(0, end)), tok.encode(text.slice(0, end)));
  }
});

test('text on the pre-tokenizer\'s edges: the same ids as encoding the whole text', () => {
  const pieces = ['\n', '\r\n', '\n\n', '    ', '\t', '\u00a0', '\u3000', 'x', 'foo', ' bar', "'s", '42', '{', '});', '😀', 'é', 'a'.repeat(300), ' '.repeat(300), '\n'.repeat(5), '\u2028', '<|fim_prefix|>', '"""'];
  const rand = mulberry32(11);
  const seg = new SegmentedEncoder((t) => tok.encode(t), 16);
  for (let n = 0; n < 400; n++) {
    let text = '';
    const len = 1 + Math.floor(rand() * 40);
    for (let i = 0; i < len; i++) text += pieces[Math.floor(rand() * pieces.length)];
    assert.deepEqual(seg.encode(text), tok.encode(text), JSON.stringify(text));
  }
});

test('the line cache stays within its capacity', () => {
  const calls: string[] = [];
  const seg = new SegmentedEncoder((t) => (calls.push(t), tok.encode(t)), 3);
  const text = 'a\nb\nc\nd\n';
  seg.encode(text);
  assert.equal(calls.length, 4);
  seg.encode(text);
  assert.equal(calls.length, 8, 'a cache of 3 cannot hold 4 lines used in turn');
  const small = new SegmentedEncoder((t) => (calls.push(t), tok.encode(t)), 8);
  small.encode(text);
  const before = calls.length;
  small.encode(`${text}e`);
  assert.deepEqual(calls.slice(before), ['\nd', '\ne'], 'typing re-encodes only the lines at the end');
});
