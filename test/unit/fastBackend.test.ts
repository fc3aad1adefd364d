// The fast backend (WebAssembly kernels on a thread pool) against the reference ReferenceBackend:
// the oracle models and random odd-shaped ones, 1 and 2 threads, chunked prefill, decoding
// through the KV cache, attention capture, and the F16 / Q8_0 weight formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { randomModel } from '../../engine/model/init';
import { configFromHF } from '../../engine/model/families';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { ContextOverflowError } from '../../engine/runtime/backend';
import { kvBytesPerPosition } from '../../engine/model/memory';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff, kl } from './oracle';

for (const name of ORACLE_MODELS) {
  const model = loadModel(oracleDir(name));
  const ids = oracleFile(name, 'reference').tensorToInt32('input_ids');
  const ref = new ReferenceBackend(model).forwardSync(ids, 0, { allLogits: true, captureAttention: true });

  for (const threads of [1, 2]) {
    test(`${name}, ${threads} thread(s): logits and attention equal the reference`, async () => {
      const be = await FastBackend.create(model, { threads, chunk: 5 });
      try {
        const r = be.forwardSync(ids, 0, { allLogits: true, captureAttention: true });
        assert.ok(maxAbsDiff(r.logits, ref.logits) < 1e-5, 'logits within 1e-5');
        assert.ok(maxAbsDiff(r.attention!, ref.attention!) < 1e-6, 'attention within 1e-6');
        be.releaseCache();
        const fused = be.forwardSync(ids, 0, { allLogits: true });
        assert.ok(maxAbsDiff(fused.logits, ref.logits) < 1e-5, 'fused attention logits within 1e-5');
        be.releaseCache();
        const c = model.config;
        be.forwardSync(ids.subarray(0, 3), 0);
        for (let t = 3; t < ids.length; t++) {
          const step = be.forwardSync(ids.subarray(t, t + 1), t).logits;
          assert.ok(maxAbsDiff(step, ref.logits.subarray(t * c.vocabSize, (t + 1) * c.vocabSize)) < 1e-5, `decode position ${t}`);
        }
      } finally {
        be.dispose();
      }
    });
  }
}

/** A GPT-2-shaped config with widths that exercise the kernels' tails. */
function oddConfig(hidden: number, nHead: number, vocab: number) {
  return configFromHF({ model_type: 'gpt2', n_embd: hidden, n_head: nHead, n_layer: 2, vocab_size: vocab, n_positions: 40 });
}



test('random odd shapes, 2 threads: f32 equals the reference, f16 and q8_0 stay close', async () => {
  for (const [hidden, nHead, vocab] of [[30, 3, 97], [64, 4, 101], [96, 2, 77]] as const) {
    const model = randomModel(oddConfig(hidden, nHead, vocab), 3);
    const ids = Int32Array.from({ length: 23 }, (_, i) => (i * 37) % vocab);
    const ref = new ReferenceBackend(model).forwardSync(ids, 0, { allLogits: true }).logits;
    for (const weightFormat of ['f32', 'f16', 'q8_0'] as const) {
      const be = await FastBackend.create(model, { threads: 2, weightFormat, chunk: 7 });
      try {
        const got = be.forwardSync(ids, 0, { allLogits: true }).logits;
        const d = maxAbsDiff(got, ref);
        if (weightFormat === 'f32') assert.ok(d < 1e-5, `f32 width ${hidden}: ${d}`);
        else {
          // The first row comes from a 7-token chunk (prefill kernels), the last from the 2 left (decode kernels).
          const last = (ids.length - 1) * vocab;
          assert.ok(kl(ref.subarray(0, vocab), got.subarray(0, vocab)) < 1e-3, `${weightFormat} width ${hidden}: KL, first row`);
          assert.ok(kl(ref.subarray(last, last + vocab), got.subarray(last, last + vocab)) < 1e-3, `${weightFormat} width ${hidden}: KL, last row`);
        }
      } finally {
        be.dispose();
      }
    }
  }
});

test('the fast backend rejects bad input like the reference', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const be = await FastBackend.create(model, { threads: 1, contextLength: 8 });
  try {
    be.forwardSync(Int32Array.from([1, 2, 3, 4, 5, 6]), 0);
    assert.throws(() => be.forwardSync(Int32Array.from([1, 2, 3]), 6), ContextOverflowError);
    assert.equal(be.forwardSync(Int32Array.from([7, 8]), 6).logits.length, be.config.vocabSize);
    assert.throws(() => be.forwardSync(Int32Array.from([1]), 9), /not in the cache/);
    assert.throws(() => be.forwardSync(Int32Array.from([-1]), 0), /outside the vocabulary/);
    await assert.rejects(FastBackend.create(model, { weightFormat: 'q4' as never }), /Unknown weight format/);
  } finally {
    be.dispose();
  }
});

// An f16 KV cache against the f32 one on the same model: keys and values rounded to f16
// (relative error 2^-11). Measured on the oracle models (prefill in chunks of 5, then decoding,
// 1 and 2 threads): logits within 1.8e-3 (gpt2-tiny) and 4.3e-3 (llama-tiny) of each other,
// decoded ones the same, attention probabilities within 1.8e-4 and 6.8e-4; the bounds leave 10x.
for (const name of ORACLE_MODELS) {
  test(`${name}: an f16 KV cache stays close to the f32 one (prefill, decode, captured attention)`, async () => {
    const model = loadModel(oracleDir(name));
    const ids = oracleFile(name, 'reference').tensorToInt32('input_ids');
    for (const threads of [1, 2]) {
      const full = await FastBackend.create(model, { threads, chunk: 5 });
      const half = await FastBackend.create(model, { threads, chunk: 5, kvCache: 'f16' });
      try {
        assert.equal(half.kvCache, 'f16');
        const a = full.forwardSync(ids, 0, { allLogits: true, captureAttention: true });
        const b = half.forwardSync(ids, 0, { allLogits: true, captureAttention: true });
        assert.ok(maxAbsDiff(a.logits, b.logits) < 0.05, `logits, ${threads} thread(s)`);
        assert.ok(maxAbsDiff(a.attention!, b.attention!) < 7e-3, `attention, ${threads} thread(s)`);
        for (const be of [full, half]) {
          be.releaseCache();
          be.forwardSync(ids.subarray(0, 3), 0);
        }
        for (let t = 3; t < ids.length; t++) {
          const x = full.forwardSync(ids.subarray(t, t + 1), t).logits;
          const y = half.forwardSync(ids.subarray(t, t + 1), t).logits;
          assert.ok(maxAbsDiff(x, y) < 0.05, `decode position ${t}, ${threads} thread(s)`);
        }
      } finally {
        full.dispose();
        half.dispose();
      }
    }
  });
}

test('the fast backend rejects an unknown KV cache format', async () => {
  const model = loadModel(oracleDir(ORACLE_MODELS[0]!));
  await assert.rejects(FastBackend.create(model, { kvCache: 'q8' as never }), /Unknown KV cache format "q8"; use one of f32, f16/);
});

test('beyond its weights and KV cache the backend holds one chunk of activations: the MLP output, the gated product, the logits and the load staging share one region', async () => {
  // SwiGLU, 256-token chunks: the MLP's (256, 2 x 1024) output is 2 MiB, the gated product 1 MiB, 8 rows of 50000 logits 1.6 MB, the staging area 4 MiB.
  const config = configFromHF({ model_type: 'llama', vocab_size: 50000, hidden_size: 64, intermediate_size: 1024, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256, tie_word_embeddings: true });
  const model = randomModel(config, 1);
  const be = await FastBackend.create(model, { threads: 1, chunk: 256 });
  try {
    const activations = be.memoryBytes - be.weightBytes - kvBytesPerPosition(config) * be.contextLength;
    // Shared: the 4 MiB region, and about 1 MiB for the rest (x, xn, qkv, att, the quantized input, scratch, norms); apart it would be 4.6 MB more.
    assert.ok(activations < 6 * 2 ** 20, `${(activations / 2 ** 20).toFixed(2)} MiB of activations`);
    const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 7919) % config.vocabSize);
    const ref = new ReferenceBackend(model).forwardSync(ids, 0, { allLogits: true }).logits;
    assert.ok(maxAbsDiff(be.forwardSync(ids, 0, { allLogits: true }).logits, ref) < 1e-4, 'logits of every position equal the reference');
  } finally {
    be.dispose();
  }
});
