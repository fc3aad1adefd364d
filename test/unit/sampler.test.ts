import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler, resolveSampling, SamplingOptionsError } from '../../engine/generate/sampler';
import { Rng } from '../../engine/generate/rng';

/** Logits whose softmax is exactly `probs`. */
function logitsOf(probs: number[]): Float32Array {
  return Float32Array.from(probs, (p) => (p > 0 ? Math.log(p) : -Infinity));
}

function counts(sampler: Sampler, logits: Float32Array, draws: number): number[] {
  const c = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) c[sampler.sample(logits)]++;
  return c;
}

test('rng: same seed same stream, different seeds differ, floats in [0, 1)', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.nextFloat());
  const sb = Array.from({ length: 100 }, () => b.nextFloat());
  const sc = Array.from({ length: 100 }, () => c.nextFloat());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const x of sa) assert.ok(x >= 0 && x < 1);
  const mean = sa.reduce((s, x) => s + x, 0) / sa.length;
  assert.ok(Math.abs(mean - 0.5) < 0.1, `mean ${mean}`);
});

test('greedy (temperature 0) is argmax, first index on ties, whatever the seed', () => {
  const logits = Float32Array.from([0.1, 2.5, -1, 2.5, 0]);
  for (const seed of [0, 1, 99]) assert.equal(new Sampler(5, { temperature: 0, seed }).sample(logits), 1);
  const big = new Float32Array(1000).map((_, i) => Math.sin(i));
  let arg = 0;
  for (let i = 1; i < big.length; i++) if (big[i] > big[arg]) arg = i;
  assert.equal(new Sampler(1000).sample(big), arg);
});

test('seeded sampling is reproducible and depends on the seed', () => {
  const logits = new Float32Array(64).map((_, i) => Math.cos(i * 0.7));
  const run = (seed: number): number[] => {
    const s = new Sampler(64, { temperature: 1, topK: 20, topP: 0.9, seed });
    return Array.from({ length: 200 }, () => s.sample(logits));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('temperature 1 draws follow the softmax', () => {
  const probs = [0.5, 0.25, 0.15, 0.1];
  const c = counts(new Sampler(4, { temperature: 1, seed: 3 }), logitsOf(probs), 40000);
  probs.forEach((p, i) => assert.ok(Math.abs(c[i] / 40000 - p) < 0.01, `id ${i}: ${c[i] / 40000} vs ${p}`));
});

test('low temperature sharpens, high temperature flattens', () => {
  const logits = logitsOf([0.4, 0.3, 0.2, 0.1]);
  const sharp = counts(new Sampler(4, { temperature: 0.1, seed: 1 }), logits, 5000);
  const flat = counts(new Sampler(4, { temperature: 10, seed: 1 }), logits, 20000);
  assert.ok(sharp[0] / 5000 > 0.9);
  assert.ok(flat[3] / 20000 > 0.2, `flat ${flat}`);
});

test('top-k keeps exactly the k most likely tokens, in proportion', () => {
  const probs = [0.05, 0.3, 0.02, 0.2, 0.1, 0.15, 0.18];
  const c = counts(new Sampler(7, { temperature: 1, topK: 3, seed: 5 }), logitsOf(probs), 30000);
  assert.deepEqual(
    c.map((n) => n > 0),
    [false, true, false, true, false, false, true],
  );
  const kept = 0.3 + 0.2 + 0.18;
  assert.ok(Math.abs(c[1] / 30000 - 0.3 / kept) < 0.015);
  assert.ok(Math.abs(c[6] / 30000 - 0.18 / kept) < 0.015);
});

test('top-p keeps the smallest most-likely set whose mass reaches p', () => {
  const probs = [0.1, 0.4, 0.05, 0.3, 0.15];
  // Descending: 0.4, 0.3 (0.7), 0.15 (0.85): p = 0.8 keeps three ids, p = 0.65 keeps two.
  const c8 = counts(new Sampler(5, { temperature: 1, topP: 0.8, seed: 2 }), logitsOf(probs), 30000);
  assert.deepEqual(
    c8.map((n) => n > 0),
    [false, true, false, true, true],
  );
  assert.ok(Math.abs(c8[4] / 30000 - 0.15 / 0.85) < 0.015);
  const c7 = counts(new Sampler(5, { temperature: 1, topP: 0.65, seed: 2 }), logitsOf(probs), 10000);
  assert.deepEqual(
    c7.map((n) => n > 0),
    [false, true, false, true, false],
  );
  const tiny = counts(new Sampler(5, { temperature: 1, topP: 0.01, seed: 2 }), logitsOf(probs), 1000);
  assert.equal(tiny[1], 1000);
});

test('top-p over a large vocabulary matches the full sort', () => {
  const V = 5000;
  // About 50 likely ids with distinct logits over a long tail, so 20000 draws reach every nucleus id.
  const logits = new Float32Array(V).map((_, i) => (i % 97 === 0 ? 8 + Math.sin(i) : Math.sin(i * 1.3)));
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  const max = logits[order[0]];
  const total = order.reduce((s, i) => s + Math.exp(logits[i] - max), 0);
  let cum = 0;
  const nucleus = new Set<number>();
  for (const i of order) {
    nucleus.add(i);
    cum += Math.exp(logits[i] - max) / total;
    if (cum >= 0.5) break;
  }
  const s = new Sampler(V, { temperature: 1, topP: 0.5, seed: 11 });
  const drawn = new Set<number>();
  for (let i = 0; i < 10000; i++) drawn.add(s.sample(logits));
  for (const id of drawn) assert.ok(nucleus.has(id), `id ${id} outside the nucleus`);
  assert.equal(drawn.size, nucleus.size);
});

test('top-k then top-p: p applies to the renormalised top-k', () => {
  const probs = [0.3, 0.25, 0.2, 0.15, 0.1];
  // top-k 2 leaves 0.3/0.55 = 0.545 and 0.455: p = 0.5 keeps only the first.
  const c = counts(new Sampler(5, { temperature: 1, topK: 2, topP: 0.5, seed: 9 }), logitsOf(probs), 2000);
  assert.equal(c[0], 2000);
});

test('repetition penalty divides positive and multiplies negative logits of seen ids (once each)', () => {
  // Greedy makes the penalised logits visible: id 0 (2.0) / 2 = 1.0 < id 1 (1.5).
  const s = new Sampler(4, { temperature: 0, repetitionPenalty: 2 });
  const logits = Float32Array.from([2, 1.5, -0.1, -0.5]);
  assert.equal(s.sample(logits, []), 0);
  assert.equal(s.sample(logits, [0]), 1);
  assert.equal(s.sample(logits, [0, 0, 0, 0]), 1, 'a repeated id is penalised once');
  // -0.1 * 2 = -0.2 still beats -0.5, but 2 and 1.5 penalised: 1.0 vs 0.75 -> id 0.
  assert.equal(s.sample(logits, [0, 1]), 0);
  const neg = Float32Array.from([-1, -1.5, -3, -4]);
  // -1 * 2 = -2 falls below -1.5.
  assert.equal(s.sample(neg, [0]), 1);
  // History ids outside the vocabulary are ignored, not crashes.
  assert.equal(s.sample(logits, [-1, 99, 0]), 1);
  // With sampling, the penalised distribution is what is drawn from: exp(1)/(exp(1)+exp(1.5)) for id 0.
  const p = new Sampler(2, { temperature: 1, repetitionPenalty: 2, seed: 4 });
  const two = Float32Array.from([2, 1.5]);
  let zeros = 0;
  for (let i = 0; i < 20000; i++) if (p.sample(two, [0]) === 0) zeros++;
  const expected = Math.exp(1) / (Math.exp(1) + Math.exp(1.5));
  assert.ok(Math.abs(zeros / 20000 - expected) < 0.015, `${zeros / 20000} vs ${expected}`);
});

test('NaN logits are never drawn; all-NaN is a clear error; +Infinity wins', () => {
  const logits = Float32Array.from([NaN, 0, NaN, 0.5]);
  for (const opts of [{ temperature: 0 }, { temperature: 1, seed: 1 }, { temperature: 1, topK: 3 }, { temperature: 1, topP: 0.9 }]) {
    const s = new Sampler(4, opts);
    for (let i = 0; i < 200; i++) {
      const id = s.sample(logits);
      assert.ok(id === 1 || id === 3, `drew ${id} with ${JSON.stringify(opts)}`);
    }
  }
  assert.throws(() => new Sampler(3, { temperature: 1 }).sample(Float32Array.from([NaN, NaN, -Infinity])), /no usable logits/);
  assert.equal(new Sampler(3, { temperature: 1 }).sample(Float32Array.from([0, Infinity, 1])), 1);
});

test('bad options are rejected with the allowed range', () => {
  assert.throws(() => resolveSampling({ temperature: -1 }), SamplingOptionsError);
  assert.throws(() => resolveSampling({ topK: 1.5 }), /top-k/);
  assert.throws(() => resolveSampling({ topP: 0 }), /top-p/);
  assert.throws(() => resolveSampling({ topP: 1.2 }), /top-p/);
  assert.throws(() => resolveSampling({ repetitionPenalty: 0 }), /repetition penalty/);
  assert.throws(() => resolveSampling({ seed: NaN }), /seed/);
  assert.throws(() => new Sampler(0), /vocabulary/);
  assert.throws(() => new Sampler(4).sample(new Float32Array(3)), /logits hold 3/);
});
