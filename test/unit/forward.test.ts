// The JS forward pass against Hugging Face transformers (the oracle fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { ContextOverflowError } from '../../engine/runtime/backend';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

for (const name of ORACLE_MODELS) {
  const model = loadModel(oracleDir(name));
  const ref = oracleFile(name, 'reference');
  const ids = ref.tensorToInt32('input_ids');
  const c = model.config;
  const T = ids.length;

  test(`${name}: logits, attention and hidden states match transformers`, () => {
    const r = new ReferenceBackend(model).forwardSync(ids, 0, { allLogits: true, captureAttention: true, captureHidden: true });
    assert.ok(maxAbsDiff(r.logits, ref.tensorToFloat32('logits')) < 1e-4, 'logits within 1e-4');
    for (let l = 0; l < c.nLayer; l++) {
      const per = c.nHead * T * T;
      const d = maxAbsDiff(r.attention!.subarray(l * per, (l + 1) * per), ref.tensorToFloat32(`attn.${l}`));
      assert.ok(d < 1e-5, `attn.${l} max diff ${d} < 1e-5`);
    }
    for (let l = 0; l <= c.nLayer; l++) {
      const per = T * c.hidden;
      const d = maxAbsDiff(r.hidden!.subarray(l * per, (l + 1) * per), ref.tensorToFloat32(`hidden.${l}`));
      assert.ok(d < 1e-4, `hidden.${l} max diff ${d} < 1e-4`);
    }
  });

  test(`${name}: prefill 16 then 8 through the KV cache matches logits_cached_tail`, () => {
    const be = new ReferenceBackend(model);
    be.forwardSync(ids.subarray(0, 16), 0);
    const tail = be.forwardSync(ids.subarray(16), 16, { allLogits: true });
    assert.ok(maxAbsDiff(tail.logits, ref.tensorToFloat32('logits_cached_tail')) < 1e-4);
  });

  test(`${name}: decoding one token at a time equals one prefill`, () => {
    const be = new ReferenceBackend(model);
    const full = be.forwardSync(ids, 0, { allLogits: true }).logits;
    be.releaseCache();
    for (let t = 0; t < T; t++) {
      const step = be.forwardSync(ids.subarray(t, t + 1), t).logits;
      assert.ok(maxAbsDiff(step, full.subarray(t * c.vocabSize, (t + 1) * c.vocabSize)) < 1e-5, `position ${t}`);
    }
  });
}

test('context overflow is a clear error, and the cache stays usable', () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const be = new ReferenceBackend(model, { contextLength: 8 });
  be.forwardSync(Int32Array.from([1, 2, 3, 4, 5, 6]), 0);
  assert.throws(() => be.forwardSync(Int32Array.from([1, 2, 3]), 6), ContextOverflowError);
  assert.equal(be.forwardSync(Int32Array.from([7, 8]), 6).logits.length, model.config.vocabSize);
});

test('bad token ids and positions are rejected with a message', () => {
  const be = new ReferenceBackend(loadModel(oracleDir('llama-tiny')));
  assert.throws(() => be.forwardSync(Int32Array.from([512]), 0), /outside the vocabulary/);
  assert.throws(() => be.forwardSync(Int32Array.from([1]), 3), /not in the cache/);
  assert.throws(() => be.forwardSync(new Int32Array(0), 0), /no tokens/);
});
