import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringMatcher, checkStopRules, StopRulesError } from '../../engine/generate/stops';

/** Pushes each piece; returns what was emitted piece by piece, and the total. */
function stream(stops: string[], pieces: string[]): { emitted: string[]; text: string; stopped: boolean } {
  const m = new StopStringMatcher(stops);
  const emitted: string[] = [];
  for (const p of pieces) {
    emitted.push(m.push(p));
    if (m.stopped) break;
  }
  emitted.push(m.finish());
  return { emitted, text: emitted.join(''), stopped: m.stopped };
}

test('a stop string inside one piece cuts the text before it', () => {
  const r = stream(['\n\n'], ['def f():', ' return 1\n\nclass']);
  assert.equal(r.text, 'def f(): return 1');
  assert.ok(r.stopped);
});

test('a stop string split across pieces is found and never shown', () => {
  const r = stream(['</s>'], ['hello <', '/', 's', '> world']);
  assert.equal(r.text, 'hello ');
  assert.ok(r.stopped);
  for (const e of r.emitted) assert.ok(!e.includes('<'), `emitted ${JSON.stringify(e)}`);
});

test('text that might start a stop string is held back, then released when it does not', () => {
  const m = new StopStringMatcher(['STOP']);
  assert.equal(m.push('abc ST'), 'abc ');
  assert.equal(m.push('O'), '');
  assert.equal(m.push('RM'), 'STORM');
  assert.equal(m.push(' S'), ' ');
  assert.equal(m.finish(), 'S', 'held text is released at the end');
  assert.ok(!m.stopped);
});

test('the earliest stop string wins; overlapping prefixes are handled', () => {
  assert.equal(stream(['world', 'lo w'], ['hello world']).text, 'hel');
  // "aab" after "aa": the held "aa" is not a match for "aab" until the b arrives.
  assert.equal(stream(['aab'], ['xa', 'a', 'a', 'b', 'tail']).text, 'xa');
  const r = stream(['ab'], ['a', 'a', 'c']);
  assert.equal(r.text, 'aac');
  assert.ok(!r.stopped);
});

test('with no stop strings everything passes straight through', () => {
  const m = new StopStringMatcher([]);
  assert.equal(m.push('a\n\nb'), 'a\n\nb');
  assert.equal(m.finish(), '');
});

test('after a stop nothing more is emitted', () => {
  const m = new StopStringMatcher(['x']);
  assert.equal(m.push('abxcd'), 'ab');
  assert.equal(m.push('more'), '');
  assert.equal(m.finish(), '');
});

test('stop rules are checked', () => {
  const ok = { stopTokenIds: [0], stopStrings: ['\n'], maxNewTokens: 4, maxTimeMs: Infinity };
  checkStopRules(ok);
  assert.throws(() => checkStopRules({ ...ok, maxNewTokens: 0 }), StopRulesError);
  assert.throws(() => checkStopRules({ ...ok, maxNewTokens: 2.5 }), /max new tokens/);
  assert.throws(() => checkStopRules({ ...ok, maxTimeMs: 0 }), /max time/);
  assert.throws(() => checkStopRules({ ...ok, stopTokenIds: [-1] }), /stop token ids/);
  assert.throws(() => checkStopRules({ ...ok, stopStrings: [''] }), /non-empty/);
});
