import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypingCache } from '../../engine/complete/typingCache';
import { AdaptiveDebounce, sleep } from '../../engine/complete/debounce';

const before = 'function area(r) {\n  return ';
const after = '\n}\n';

test('typing the characters of a shown suggestion shows its remainder', () => {
  const cache = new TypingCache();
  cache.put({ path: 'a.js', prefix: before, suffix: after }, 'Math.PI * r * r;');
  assert.equal(cache.lookup({ path: 'a.js', prefix: before, suffix: after }), 'Math.PI * r * r;');
  assert.equal(cache.lookup({ path: 'a.js', prefix: before + 'Ma', suffix: after }), 'th.PI * r * r;');
  assert.equal(cache.lookup({ path: 'a.js', prefix: before + 'Math.PI * r * r', suffix: after }), ';');
});

test('a different character, file, suffix, or a finished suggestion is a miss', () => {
  const cache = new TypingCache();
  cache.put({ path: 'a.js', prefix: before, suffix: after }, 'Math.PI * r * r;');
  assert.equal(cache.lookup({ path: 'a.js', prefix: before + 'Mx', suffix: after }), null);
  assert.equal(cache.lookup({ path: 'b.js', prefix: before + 'Ma', suffix: after }), null);
  assert.equal(cache.lookup({ path: 'a.js', prefix: before + 'Ma', suffix: ')' + after }), null);
  assert.equal(cache.lookup({ path: 'a.js', prefix: before + 'Math.PI * r * r;', suffix: after }), null);
  assert.equal(cache.lookup({ path: 'a.js', prefix: before.slice(0, -1), suffix: after }), null);
  // Only whitespace left to type is not worth a suggestion.
  cache.put({ path: 'a.js', prefix: 'x', suffix: '' }, 'y  ');
  assert.equal(cache.lookup({ path: 'a.js', prefix: 'xy', suffix: '' }), null);
});

test('an edit far above the cursor still matches on the text around it', () => {
  const cache = new TypingCache();
  const long = 'x'.repeat(1000) + before;
  cache.put({ path: 'a.js', prefix: long, suffix: after }, 'r * r;');
  assert.equal(cache.lookup({ path: 'a.js', prefix: 'y' + long.slice(1) + 'r', suffix: after }), ' * r;');
});

test('the least recently used entry is evicted first', () => {
  const cache = new TypingCache(2);
  cache.put({ path: 'a', prefix: 'one ', suffix: '' }, 'first');
  cache.put({ path: 'a', prefix: 'two ', suffix: '' }, 'second');
  assert.equal(cache.lookup({ path: 'a', prefix: 'one f', suffix: '' }), 'irst');
  cache.put({ path: 'a', prefix: 'three ', suffix: '' }, 'third');
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup({ path: 'a', prefix: 'two s', suffix: '' }), null);
  assert.equal(cache.lookup({ path: 'a', prefix: 'one fi', suffix: '' }), 'rst');
  // The same place again replaces the entry.
  cache.put({ path: 'a', prefix: 'one ', suffix: '' }, 'fresh');
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup({ path: 'a', prefix: 'one fr', suffix: '' }), 'esh');
  cache.clear();
  assert.equal(cache.size, 0);
});

test('the debounce starts at the setting and follows half the measured latency, within bounds', () => {
  const d = new AdaptiveDebounce(150);
  assert.equal(d.delayMs(), 150);
  d.observe(40);
  assert.equal(d.delayMs(), 20);
  for (let i = 0; i < 20; i++) d.observe(2000);
  assert.equal(d.delayMs(), 150);
  for (let i = 0; i < 30; i++) d.observe(1);
  assert.equal(d.delayMs(), 15);
  d.observe(Number.NaN);
  d.observe(-5);
  assert.equal(d.delayMs(), 15);
  d.setBase(0);
  assert.equal(d.delayMs(), 0);
});

test('sleep resolves true after the time, false at once when aborted', async () => {
  const c = new AbortController();
  assert.equal(await sleep(1, c.signal), true);
  const t0 = performance.now();
  const pending = sleep(10_000, c.signal);
  setTimeout(() => c.abort(), 5);
  assert.equal(await pending, false);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(await sleep(5, c.signal), false);
});
