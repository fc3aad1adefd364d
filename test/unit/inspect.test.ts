// The inspector's pure logic: rollout, logit lens, line filtering, token <-> text ranges,
// and one whole inspection of the oracle checkpoints checked against transformers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionRollout, triMatmul, withResidual } from '../../engine/inspect/rollout';
import { filterLines, topK } from '../../engine/inspect/filter';
import { docRangeTokens, tokenDocRange, tokenText, tokensInRange } from '../../engine/inspect/tokens';
import { chooseLensPositions, logitLens, logSumExp } from '../../engine/inspect/logitLens';
import { DEQUANT, quantiseProb, triRow, triSize } from '../../engine/inspect/format';
import { attentionByDistance, positionSimilarity, ropeProfile } from '../../engine/inspect/positions';
import { inspect, InspectError, locateSpans } from '../../engine/inspect/inspect';
import { pack, toWire } from '../../engine/inspect/wire';
import { loadModel } from '../../engine/model/load';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { loadModelPrompts } from '../../engine/model/modelTokenizer';
import { writeTinyQwenFolder } from '../harness/realModel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

/** Dense (T, T) row-major -> lower triangle. */
function tri(dense: number[][]): Float32Array {
  const T = dense.length;
  const out = new Float32Array(triSize(T));
  for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) out[triRow(q) + k] = dense[q]![k]!;
  return out;
}

function denseMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

function residual(a: number[][]): number[][] {
  return a.map((row, i) => row.map((v, j) => 0.5 * v + (i === j ? 0.5 : 0)));
}

const A0 = [
  [1, 0, 0],
  [0.3, 0.7, 0],
  [0.2, 0.5, 0.3],
];
const A1 = [
  [1, 0, 0],
  [0.9, 0.1, 0],
  [0.6, 0.1, 0.3],
];

test('rollout chains (A + I) / 2 through the layers, as dense matrix products do', () => {
  const mean = new Float32Array([...tri(A0), ...tri(A1)]);
  const r = attentionRollout(mean, 2, 3);
  assert.ok(maxAbsDiff(r.subarray(0, 6), tri(residual(A0))) < 1e-6, 'layer 0 is A0 with the residual');
  const want = denseMatmul(residual(A1), residual(A0));
  assert.ok(maxAbsDiff(r.subarray(6, 12), tri(want)) < 1e-6, 'layer 1 is Â1 Â0');
  for (let q = 0; q < 3; q++) {
    let s = 0;
    for (let k = 0; k <= q; k++) s += r[6 + triRow(q) + k]!;
    assert.ok(Math.abs(s - 1) < 1e-6, `row ${q} of the rollout sums to 1`);
  }
});

test('triMatmul of lower triangles equals the dense product', () => {
  const a = tri(A0);
  const b = tri(A1);
  const out = new Float32Array(6);
  triMatmul(out, a, b, 3);
  assert.ok(maxAbsDiff(out, tri(denseMatmul(A0, A1))) < 1e-6);
  const w = new Float32Array(6);
  withResidual(w, a, 3);
  assert.deepEqual(Array.from(w), Array.from(tri(residual(A0))));
});

test('filterLines keeps the strongest keys above the threshold, at most topK', () => {
  const row = [0.05, 0.4, 0.1, 0.4, 0.05];
  assert.deepEqual(filterLines(row, 0.1, 0), [1, 3, 2]);
  assert.deepEqual(filterLines(row, 0, 2), [1, 3], 'ties keep the earlier key first');
  assert.deepEqual(filterLines(row, 0.5, 3), []);
  assert.deepEqual(filterLines([0, 0, 1], 0, 0), [2], 'zero weights are never lines');
});

test('topK returns the k largest in order and copes with k > length', () => {
  const idx = new Int32Array(3);
  const val = new Float32Array(3);
  assert.equal(topK([1, 5, 3, 5, -2, 4], 3, idx, val), 3);
  assert.deepEqual(Array.from(idx), [1, 3, 5]);
  assert.deepEqual(Array.from(val), [5, 5, 4]);
  assert.equal(topK([2, 7], 3, idx, val), 2);
  assert.deepEqual(Array.from(idx.subarray(0, 2)), [1, 0]);
});

test('tokenText maps tokens to UTF-16 ranges, even when a token splits a character', () => {
  const enc = new TextEncoder();
  const euro = enc.encode('€'); // 3 bytes
  const tokens = [enc.encode('a '), euro.subarray(0, 2), Uint8Array.from([...euro.subarray(2), ...enc.encode('b😀')]), enc.encode('')];
  const { pieces, ranges, text } = tokenText(tokens);
  assert.equal(text, 'a €b😀');
  assert.deepEqual(Array.from(ranges), [0, 2, 2, 3, 2, 6, 6, 6]);
  assert.equal(pieces[0], 'a ');
  assert.equal(pieces[1], '\\xE2\\x82', 'a partial character shows its bytes');
  assert.deepEqual(tokensInRange(ranges, 2, 3), [1, 2], 'both halves of the split € are selected');
  assert.deepEqual(tokensInRange(ranges, 0, 1), [0]);
  assert.deepEqual(tokensInRange(ranges, 4, 4), [2], 'a caret picks the token under it');
  assert.deepEqual(tokensInRange(ranges, 6, 6), [], 'past the end picks nothing');
});

test('tokens map to the document through segments, and a document range back to tokens', () => {
  // Decoded text "<P>ab cd<S>" with "ab cd" at document offset 100; the markers are not in the document.
  const ranges = Int32Array.from([0, 3, 3, 5, 5, 8, 8, 11]);
  const segments = [{ textStart: 3, length: 5, docOffset: 100 }];
  assert.equal(tokenDocRange(ranges, segments, 0), null, 'a marker has no place in the document');
  assert.deepEqual(tokenDocRange(ranges, segments, 1), [100, 102]);
  assert.deepEqual(tokenDocRange(ranges, segments, 2), [102, 105]);
  assert.equal(tokenDocRange(ranges, segments, 3), null);
  assert.equal(tokenDocRange(ranges, segments, 9), null, 'an unknown token is not an error');
  assert.deepEqual(docRangeTokens(ranges, segments, 101, 103), [1, 2]);
  assert.deepEqual(docRangeTokens(ranges, segments, 103, 103), [2], 'a caret picks the token under it');
  assert.deepEqual(docRangeTokens(ranges, segments, 0, 100), [], 'text before the segment has no tokens');
  assert.deepEqual(docRangeTokens(ranges, segments, 0, 1000), [1, 2], 'only tokens inside the segment');
});

test('document spans are found in the decoded text (last occurrence), missing ones skipped', async () => {
  const text = '<P>let x = 1;<S>x = 2<M>';
  assert.deepEqual(locateSpans([{ text: 'let x = 1;', docOffset: 40 }, { text: 'x = 2', docOffset: 51 }, { text: 'nope', docOffset: 0 }, { text: '', docOffset: 0 }], text), [
    { textStart: 3, length: 10, docOffset: 40 },
    { textStart: 16, length: 5, docOffset: 51 },
  ]);
  const model = loadModel(oracleDir('gpt2-tiny'));
  const insp = await inspect(model, { text: 'a.b', spans: [{ text: '.b', docOffset: 7 }] });
  assert.deepEqual(insp.segments, [{ textStart: 1, length: 2, docOffset: 7 }]);
  assert.deepEqual(tokenDocRange(insp.ranges, insp.segments, 2), [8, 9], 'token "b" is at document offset 8');
});

test('tokenText agrees with the real tokenizer on code', () => {
  const tok = getTokenizer('r50k_base');
  const src = 'function add(a, b) {\n  return a + b; // é\n}\n';
  const ids = tok.encode(src);
  const { pieces, ranges, text } = tokenText(ids.map((id) => tok.tokenBytes(id)));
  assert.equal(text, src);
  for (let t = 0; t < ids.length; t++) assert.equal(text.slice(ranges[2 * t]!, ranges[2 * t + 1]!), pieces[t]);
});

test('byte quantisation keeps small weights visible and errs little', () => {
  assert.equal(quantiseProb(0), 0);
  assert.equal(quantiseProb(1), 255);
  assert.ok(quantiseProb(1 / 1024) > 0, '1/1024 is not rounded away');
  for (const p of [0.001, 0.01, 0.1, 0.5, 0.9]) assert.ok(Math.abs(DEQUANT[quantiseProb(p)]! - p) < 0.004, `p = ${p}`);
});

test('logit lens: the last row is the model prediction and earlier rows read the residual stream', () => {
  for (const name of ORACLE_MODELS) {
    const model = loadModel(oracleDir(name));
    const ref = oracleFile(name, 'reference');
    const c = model.config;
    const T = ref.tensorToInt32('input_ids').length;
    const L = c.nLayer;
    const hidden = new Float32Array((L + 1) * T * c.hidden);
    for (let l = 0; l <= L; l++) hidden.set(ref.tensorToFloat32(`hidden.${l}`), l * T * c.hidden);
    const positions = Int32Array.from([0, 5, T - 1]);
    const lens = logitLens(model, hidden, T, positions, 4, 16);
    const logits = ref.tensorToFloat32('logits'); // (T, V)
    positions.forEach((t, p) => {
      const row = logits.subarray(t * c.vocabSize, (t + 1) * c.vocabSize);
      const idx = new Int32Array(4);
      const val = new Float32Array(4);
      topK(row, 4, idx, val);
      const o = (p * (L + 1) + L) * 4;
      assert.deepEqual(Array.from(lens.ids.subarray(o, o + 4)), Array.from(idx), `${name} position ${t}: final top-4`);
      const lse = logSumExp(row);
      assert.ok(maxAbsDiff(lens.probs.subarray(o, o + 4), Array.from(val, (v) => Math.exp(v - lse))) < 1e-5);
      assert.ok(maxAbsDiff(lens.finalLogits.subarray(p * 16, p * 16 + 4), val) < 1e-4, 'final logits kept raw for a temperature');
      for (let r = 0; r < L; r++) {
        const pr = lens.probs.subarray((p * (L + 1) + r) * 4, (p * (L + 1) + r + 1) * 4);
        assert.ok(pr[0]! > 0 && pr[0]! <= 1 && pr[0]! >= pr[3]!, `${name} row ${r} holds sorted probabilities`);
      }
    });
    const mid = (0 * (L + 1) + 0) * 4;
    assert.notDeepEqual(Array.from(lens.probs.subarray(mid, mid + 4)), Array.from(lens.probs.subarray(L * 4, L * 4 + 4)), 'the embedding row differs from the final one');
  }
});

test('lens positions: all when they fit, else the last ones', () => {
  assert.deepEqual(Array.from(chooseLensPositions(4, 10, 100)), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(chooseLensPositions(10, 10, 30)), [7, 8, 9]);
  assert.deepEqual(Array.from(chooseLensPositions(10, 1000, 1)), [9], 'always at least the last position');
});

test('position helpers: similarity is 1 on the diagonal, RoPE decays, distance profile averages', () => {
  const wpe = Float32Array.from([1, 0, 1, 1, 0, 2]);
  const s = positionSimilarity(wpe, 2, 3);
  assert.ok(Math.abs(s[0]! - 1) < 1e-6 && Math.abs(s[4]! - 1) < 1e-6);
  assert.ok(Math.abs(s[1]! - Math.SQRT1_2) < 1e-6 && s[1] === s[3]);
  assert.ok(Math.abs(s[2]!) < 1e-6, 'orthogonal positions score 0');
  const rope = ropeProfile(64, 10000, 512);
  assert.equal(rope.frequencies[0], 1);
  assert.equal(rope.decay[0], 1);
  assert.ok(rope.decay[400]! < rope.decay[1]!, 'far apart scores lower than adjacent');
  const d = attentionByDistance(tri(A0), 1, 3);
  assert.ok(maxAbsDiff(d, [(1 + 0.7 + 0.3) / 3, (0.3 + 0.5) / 2, 0.2]) < 1e-6);
});

for (const name of ORACLE_MODELS) {
  test(`${name}: a whole inspection matches transformers' attention and is consistent`, async () => {
    const model = loadModel(oracleDir(name));
    const ref = oracleFile(name, 'reference');
    const ids = Array.from(ref.tensorToInt32('input_ids'));
    const T = ids.length;
    const c = model.config;
    const insp = await inspect(model, { ids, promptLength: 16, encoding: 'r50k_base' });
    assert.equal(insp.T, T);
    assert.equal(insp.attention.length, c.nLayer);
    const n = triSize(T);
    for (let l = 0; l < c.nLayer; l++) {
      const want = ref.tensorToFloat32(`attn.${l}`); // (NH, T, T)
      let worst = 0;
      for (let h = 0; h < c.nHead; h++) {
        for (let q = 0; q < T; q++) {
          for (let k = 0; k < T; k++) {
            const got = k <= q ? DEQUANT[insp.attention[l]![h * n + triRow(q) + k]!]! : 0;
            worst = Math.max(worst, Math.abs(got - want[(h * T + q) * T + k]!));
          }
        }
      }
      assert.ok(worst < 0.004, `${name} layer ${l}: quantised attention within 0.004 of transformers (got ${worst})`);
    }
    assert.equal(insp.lensPositions.length, T, 'a tiny model gets a lens at every position');
    assert.equal(insp.pieces.length, T);
    assert.equal(insp.text, getTokenizer('r50k_base').decode(ids));
    assert.equal(insp.positions.kind, c.positions);
    assert.equal(insp.positions.byDistance.length, c.nLayer * T);
    const wire = toWire(insp);
    assert.equal(wire.layers.length, c.nLayer);
    assert.equal(wire.layers[0]!.heads.length, c.nHead * n);
    assert.deepEqual(Buffer.from(wire.layers[1]!.rollout.b64, 'base64'), Buffer.from(insp.rollout.subarray(n, 2 * n)), 'each layer carries its own rollout');
    assert.equal(Buffer.from(wire.meta.ids.b64, 'base64').length, 4 * T);
    assert.doesNotThrow(() => JSON.stringify(wire));
  });
}

test('feeding the tokens in chunks through the KV cache gives the same inspection', async () => {
  const model = loadModel(oracleDir('llama-tiny'));
  const ids = Array.from({ length: 40 }, (_, i) => (i * 37) % 512);
  const one = await inspect(model, { ids, encoding: 'r50k_base' }, { chunk: 128 });
  const chunked = await inspect(model, { ids, encoding: 'r50k_base' }, { chunk: 7 });
  for (let l = 0; l < one.attention.length; l++) {
    assert.ok(maxAbsDiff(Array.from(one.attention[l]!, (b) => DEQUANT[b]!), Array.from(chunked.attention[l]!, (b) => DEQUANT[b]!)) < 0.004, `layer ${l}`);
  }
  assert.ok(maxAbsDiff(one.lensProbs, chunked.lensProbs) < 1e-4);
  assert.deepEqual(one.lensIds, chunked.lensIds);
});

test('bad requests fail with a message that says what to do', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  await assert.rejects(inspect(model, { ids: [] }), (e: Error) => e instanceof InspectError && /select some code/.test(e.message));
  await assert.rejects(inspect(model, { ids: [1, 9999] }), /outside the model's vocabulary/);
  await assert.rejects(inspect(model, { ids: Array(65).fill(1) }), /context of 64/);
  await assert.rejects(inspect(model, { ids: [1, 2], promptLength: 3 }), /promptLength/);
  await assert.rejects(inspect(loadModel(oracleDir('llama-tiny')), { text: 'x' }), /carries no tokenizer, so text cannot be tokenized/);
  assert.equal((await inspect(model, { text: 'a.b' })).T, 3, 'text is tokenized with the model encoding');
});

test('pack turns nested typed arrays into base64 and leaves the rest alone', () => {
  const p = pack({ a: Int32Array.from([1, -2]), b: [Float32Array.from([0.5])], s: 'x', n: 3, o: { u: Uint8Array.from([7]) } });
  assert.deepEqual(p.a, { dtype: 'i32', length: 2, b64: Buffer.from(Int32Array.from([1, -2]).buffer).toString('base64') });
  assert.equal(p.b[0]!.dtype, 'f32');
  assert.equal(p.s, 'x');
  assert.equal(p.n, 3);
  assert.deepEqual(Buffer.from(p.o.u.b64, 'base64'), Buffer.from([7]));
});

test('an inspection stops between chunks when its signal aborts, and a later one runs whole', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const ids = Array.from({ length: 40 }, (_, i) => (i * 37) % 512);
  const ac = new AbortController();
  const running = inspect(model, { ids, encoding: 'r50k_base' }, { chunk: 4, signal: ac.signal });
  // Queued behind the inspection's first turn of the event loop: lands after its first chunk.
  setImmediate(() => ac.abort(new Error('replaced by a newer inspection')));
  await assert.rejects(running, /replaced by a newer inspection/);
  const whole = await inspect(model, { ids, encoding: 'r50k_base' }, { chunk: 4 });
  assert.equal(whole.T, 40);
});

test('a Qwen2 model is inspected with its own tokenizer: Qwen pieces, its grouped key/value heads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-inspect-qwen-'));
  try {
    const path = writeTinyQwenFolder(join(dir, 'qwen'));
    const model = loadModel(path);
    const prompts = loadModelPrompts(path, model.config)!;
    const r = await inspect(model, { text: 'def fib(n):' }, { tokenizer: prompts.tokenizer });
    assert.deepEqual(Array.from(r.ids), [750, 15801, 1445, 1648]);
    assert.deepEqual(r.pieces, ['def', ' fib', '(n', '):']);
    assert.equal(r.model.family, 'qwen2');
    assert.deepEqual([r.model.nHead, r.model.nKvHead], [2, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
