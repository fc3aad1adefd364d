// ONNX export: the ModelProto's header and interface, refusal of configs the graph cannot
// express, 8-bit weights, and the on-disk cache (reuse, rebuild of a corrupt entry, new key
// for changed weights).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { createModel, type Model } from '../../engine/model/model';
import { exportOnnx, checkExportable, quantizeQ8, OnnxExportError, Q8_BLOCK } from '../../engine/onnx/export';
import { exportCached, exportKey, DATA_FILE, MODEL_FILE } from '../../engine/onnx/cache';
import { ModelProto } from '../../engine/onnx/schema';
import { IR_VERSION } from '../../engine/onnx/graph';
import { OrtBackend } from '../../engine/runtime/ortBackend';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { exportOnnxCommand } from '../../engine/cli/commands/exportOnnx';
import { parseArgs } from '../../engine/cli/args';
import * as ort from 'onnxruntime-node';
import { oracleDir, oracleFile, maxAbsDiff } from './oracle';

interface DecodedModel {
  irVersion: number;
  opsetImport: Array<{ domain: string; version: number }>;
  graph: { input: Array<{ name: string }>; output: Array<{ name: string }>; node: Array<{ opType: string; domain: string }> };
}

function decode(bytes: Uint8Array): DecodedModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as DecodedModel;
}

test('the exported ModelProto has IR 10, the ONNX and com.microsoft opsets and the decoder interface', () => {
  const model = loadModel(oracleDir('llama-tiny'));
  const enc = exportOnnx(model);
  const m = decode(enc.model);
  assert.equal(m.irVersion, IR_VERSION);
  assert.ok(IR_VERSION <= 10);
  assert.deepEqual(m.opsetImport.map((o) => o.domain).sort(), ['', 'com.microsoft']);
  const inputs = m.graph.input.map((i) => i.name);
  assert.deepEqual(inputs.slice(0, 3), ['input_ids', 'attention_mask', 'logits_to_keep']);
  assert.deepEqual(inputs.slice(3), ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
  assert.deepEqual(m.graph.output.map((o) => o.name), [
    'logits',
    'present.0.key',
    'present.0.value',
    'present.1.key',
    'present.1.value',
    'new.0.key',
    'new.0.value',
    'new.1.key',
    'new.1.value',
  ]);
  const ops = m.graph.node.map((n) => `${n.domain}:${n.opType}`);
  assert.equal(ops.filter((o) => o === 'com.microsoft:GroupQueryAttention').length, 2);
  assert.equal(ops.filter((o) => o === 'com.microsoft:SkipSimplifiedLayerNormalization').length, 4);
  // Every weight of the model is in the external blob (plus the rotary caches).
  assert.ok(enc.dataBytes >= model.params.byteLength);
});

test('configs the graph cannot express are refused with a message that says what to do', () => {
  const base = loadModel(oracleDir('gpt2-tiny')).config;
  assert.throws(() => checkExportable({ ...base, slidingWindow: 16 }), (e: Error) => e instanceof OnnxExportError && /sliding-window/.test(e.message) && /js backend/.test(e.message));
  assert.throws(() => checkExportable({ ...base, family: 'mamba' as never }), /the mamba family has no ONNX graph yet; families with one: gpt2/);
  assert.throws(() => checkExportable({ ...base, nKvHead: 3 }), /multiple of nKvHead/);
  assert.throws(() => checkExportable({ ...base, hidden: 0 }), /hidden must be a positive whole number/);
  assert.throws(() => exportOnnx(createModel({ ...base, slidingWindow: 4 })), OnnxExportError);
});

test('8-bit blocks round-trip within half a step of their scale', () => {
  const N = 3;
  const K = 2 * Q8_BLOCK;
  const w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
  w.fill(0, 0, Q8_BLOCK); // an all-zero block
  const { q, scales } = quantizeQ8(w, N, K);
  assert.equal(scales[0], 0);
  for (let i = 0; i < N * K; i++) {
    const s = scales[Math.floor(i / Q8_BLOCK)]!;
    assert.ok(Math.abs((q[i]! - 128) * s - w[i]!) <= s / 2 + 1e-7, `weight ${i}`);
  }
});

function dequantize(w: Float32Array, K: number): void {
  const { q, scales } = quantizeQ8(w, w.length / K, K);
  for (let i = 0; i < w.length; i++) w[i] = (q[i]! - 128) * scales[Math.floor(i / Q8_BLOCK)]!;
}

/**
 * What the q8 export computes, as a float model: every linear weight whose input width is a
 * multiple of the block dequantized, and the head untied (the embedding lookup stays f32).
 */
function dequantizedCopy(model: Model): Model {
  const c = model.config;
  const copy = createModel({ ...c, tiedEmbeddings: false });
  copy.params.set(model.params); // the same layout, plus lm_head at the end
  copy.views.lmHead.set(model.views.lmHead);
  dequantize(copy.views.lmHead, c.hidden);
  for (const p of copy.views.layers) {
    const linears: Array<[Float32Array, number]> = [[p.qkvw, c.hidden], [p.attnOutW, c.nHead * c.headDim], [p.fcw, c.hidden], [p.projw, c.ffn]];
    for (const [w, K] of linears) if (K % Q8_BLOCK === 0) dequantize(w, K);
  }
  return copy;
}

test('q8 weights (MatMulNBits) compute what the dequantized weights compute, up to 8-bit activations', async () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const ids = oracleFile('gpt2-tiny', 'reference').tensorToInt32('input_ids');
  const be = await OrtBackend.create(model, { threads: 1, weightFormat: 'q8_0' });
  try {
    const got = (await be.forward(ids, 0, { allLogits: true })).logits;
    const want = new ReferenceBackend(dequantizedCopy(model)).forwardSync(ids, 0, { allLogits: true }).logits;
    let scale = 0;
    for (const x of want) scale = Math.max(scale, Math.abs(x));
    // accuracy_level 4 also rounds activations to 8 bits (as llama.cpp's Q8_0 does): about 1.5 % here.
    const d = maxAbsDiff(got, want);
    assert.ok(d < 0.04 * scale, `q8 logits within 4% of the largest logit (diff ${d}, largest ${scale})`);
  } finally {
    be.dispose();
  }
});

test('exports are cached on disk by weights; a corrupt entry is rebuilt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-onnx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = loadModel(oracleDir('gpt2-tiny'));
  const ids = oracleFile('gpt2-tiny', 'reference').tensorToInt32('input_ids');

  const first = exportCached(model, dir);
  assert.equal(first.reused, false);
  const again = exportCached(model, dir);
  assert.equal(again.reused, true);
  assert.equal(again.key, first.key);

  // A flipped byte in the weights, a truncated graph, a missing manifest: each is rebuilt.
  const data = join(first.dir, DATA_FILE);
  const bytes = readFileSync(data);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(data, bytes);
  const fixed = exportCached(model, dir);
  assert.equal(fixed.reused, false);
  assert.match(fixed.rebuiltBecause ?? '', /checksum/);
  truncateSync(join(first.dir, MODEL_FILE), 10);
  assert.match(exportCached(model, dir).rebuiltBecause ?? '', /bytes, expected/);
  unlinkSync(join(first.dir, 'manifest.json'));
  assert.match(exportCached(model, dir).rebuiltBecause ?? '', /manifest is missing/);
  assert.equal(exportCached(model, dir).reused, true);

  // The cached graph runs and equals the in-memory export.
  const cached = await OrtBackend.create(model, { threads: 1, cacheDir: dir });
  const memory = await OrtBackend.create(model, { threads: 1 });
  try {
    assert.equal(cached.info.cache?.reused, true);
    assert.equal(memory.info.cache, null);
    assert.equal(maxAbsDiff((await cached.forward(ids, 0)).logits, (await memory.forward(ids, 0)).logits), 0);
  } finally {
    cached.dispose();
    memory.dispose();
  }

  // Changed weights (a fine-tune) get a new key; the weight format is part of the key too.
  const tuned = createModel(model.config, model.params.slice());
  tuned.params[0] += 1e-3;
  assert.notEqual(exportKey(tuned, 'f32'), first.key);
  assert.notEqual(exportKey(model, 'q8_0'), first.key);
});

test('limelight export-onnx writes FILE.onnx + FILE.onnx.data that onnxruntime loads, and never overwrites', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'tiny.onnx');
  const argv = ['--model', oracleDir('llama-tiny'), '--out', out, '--weights', 'q8_0'];
  assert.equal(await exportOnnxCommand.run(parseArgs(argv, exportOnnxCommand.options)), 0);
  const session = await ort.InferenceSession.create(out);
  try {
    assert.deepEqual(session.outputNames.slice(0, 2), ['logits', 'present.0.key']);
  } finally {
    await session.release();
  }
  await assert.rejects(exportOnnxCommand.run(parseArgs(argv, exportOnnxCommand.options)), /already exists; refusing to overwrite/);
  await assert.rejects(exportOnnxCommand.run(parseArgs([...argv.slice(0, 3), join(dir, 'b.onnx'), '--weights', 'q4'], exportOnnxCommand.options)), /--weights must be one of f32, q8_0/);
});
