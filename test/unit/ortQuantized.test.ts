// onnxruntime on quantized GGUF files, kept quantized: every stored format's MatMulNBits form
// (onnx/nbits.ts) holds the reference dequantizer's weights, and tiny Qwen2 and Llama models
// written as Q8_0 and Q4_K_M run on ort-cpu with the js backend's logits and greedy ids, without
// the model ever being expanded to float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dequantize, formatInfo, quantize, type WeightType } from '../../engine/formats/formats';
import { nbitsBytes, nbitsLayout, OFFSET_BLOCK, toNBits, type NBitsLayout, type NBitsWeights } from '../../engine/onnx/nbits';
import { exportCached } from '../../engine/onnx/cache';
import { exportOnnx, kvNames } from '../../engine/onnx/export';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../engine/model/load';
import type { Model } from '../../engine/model/model';
import { OrtBackend } from '../../engine/runtime/ortBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { ortRefusal } from '../../engine/runtime/select';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import type { InferenceBackend } from '../../engine/runtime/backend';
import { ORACLE_MODELS, oracleIds, oracleModel, oracleVocabMetadata, writeOracleGguf } from '../../tools/oracle/oracleModels';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { mulberry32 } from '../../engine/model/init';

const dirs: string[] = [];
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What MatMulNBits computes its weights as (onnxruntime's contrib op spec): w = scale * (u - 2^(bits - 1)), u packed low nibble first; plus our offsets. (rows, cols) */
function fromNBits(layout: NBitsLayout, nb: NBitsWeights, rows: number, cols: number): Float32Array {
  const w = new Float32Array(rows * cols);
  const zp = 1 << (layout.bits - 1);
  for (let i = 0; i < rows * cols; i++) {
    const u = layout.bits === 8 ? nb.b[i]! : (nb.b[i >>> 1]! >>> (4 * (i & 1))) & 15;
    w[i] = nb.scales[Math.floor(i / layout.block)]! * (u - zp) + (nb.offsets ? nb.offsets[Math.floor(i / OFFSET_BLOCK)]! : 0);
  }
  return w;
}

const QUANTIZED: readonly WeightType[] = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K'];

test('each quantized format becomes MatMulNBits codes and scales that give the reference dequantizer its weights', () => {
  const rand = mulberry32(5);
  const rows = 3;
  const cols = 512;
  for (const type of QUANTIZED) {
    const layout = nbitsLayout(type)!;
    const x = Float32Array.from({ length: rows * cols }, (_, i) => (rand() - 0.3) * 0.1 * (1 + (i % 7)));
    const f = formatInfo(type);
    const blocks = new Uint8Array(((rows * cols) / f.blockElems) * f.blockBytes);
    quantize(type, x, blocks);
    const want = new Float32Array(rows * cols);
    dequantize(type, blocks, want);
    // Two parts converted into one group: the second lands after the first.
    const nb: NBitsWeights = { b: new Uint8Array(nbitsBytes(layout, rows, cols)), scales: new Float32Array((rows * cols) / layout.block), offsets: layout.offsets ? new Float32Array((rows * cols) / OFFSET_BLOCK) : null };
    const split = (cols / f.blockElems) * f.blockBytes;
    toNBits(type, blocks.subarray(0, split), nb, 0);
    toNBits(type, blocks.subarray(split), nb, cols);
    const got = fromNBits(layout, nb, rows, cols);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1e-3));
    // Without offsets the products are ggml's exactly; an offset is one float32 rounding of its own (relative 2^-24 of its terms).
    if (layout.offsets) assert.ok(worst < 1e-5, `${type}: relative error ${worst}`);
    else assert.equal(worst, 0, `${type}: the MatMulNBits weights differ from the reference's`);
  }
});

/** Logits of every prompt position, then `steps` greedy tokens (one per forward). */
async function runIds(be: InferenceBackend, prompt: readonly number[], steps: number): Promise<{ logits: Float32Array; greedy: number[] }> {
  const out = await be.forward(Int32Array.from(prompt), 0, { allLogits: true });
  const V = be.config.vocabSize;
  const greedy: number[] = [];
  let last = out.logits.subarray((prompt.length - 1) * V);
  for (let s = 0; s < steps; s++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
    greedy.push(best);
    last = (await be.forward(Int32Array.of(best), prompt.length + s)).logits;
  }
  be.releaseCache();
  return { logits: out.logits, greedy };
}

/** Every position's logits of `ids` from the model's graph exported with float32 MatMulNBits compute (accuracy_level 0), in a session of its own. (T, V) */
async function exactGraphLogits(model: Model, ids: readonly number[]): Promise<Float32Array> {
  const enc = exportOnnx(model, { accuracyLevel: 0, dataFile: 'w.bin' });
  const data = new Uint8Array(enc.dataBytes);
  let at = 0;
  for (const p of enc.data) {
    data.set(p, at);
    at += p.byteLength;
  }
  const session = await ort.InferenceSession.create(enc.model, { intraOpNumThreads: 2, externalData: [{ path: 'w.bin', data }] });
  const c = model.config;
  const T = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
  };
  for (let l = 0; l < c.nLayer; l++) {
    feeds[kvNames(l).pastKey] = new ort.Tensor('float32', new Float32Array(0), [1, c.nKvHead, 0, c.headDim]);
    feeds[kvNames(l).pastValue] = new ort.Tensor('float32', new Float32Array(0), [1, c.nKvHead, 0, c.headDim]);
  }
  try {
    return (await session.run(feeds, { logits: null })).logits!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Measured on these models (logits of magnitude up to about 7): with float32 MatMulNBits compute
 * the graph gives the reference backend's logits on the file's own weights within 1e-5 (nothing
 * is lost in the export); with int8 activations (accuracy_level 4, what ort-cpu runs) within
 * 0.132 of them, and of the js backend's on its portable kernels (0.132 too: on prompts these
 * small it computes in float32). The bounds keep a margin of 1.5x. Greedy ids must match; the
 * closest call on the way is a top-2 margin of 0.004 (llama Q8_0, step 6), where all three agree.
 * (With relaxed SIMD the js backend rounds its prefill activations to 7 bits and lands 0.30 from
 * the reference, enough to pick another first token on llama Q4_K_M, so it is not the peer here.)
 */
const EXACT_TOL = 1e-3;
const ORT_REF_TOL = 0.2;
const ORT_JS_TOL = 0.2;

for (const spec of ORACLE_MODELS.filter((s) => s.name === 'qwen2' || s.name === 'llama')) {
  test(`${spec.name}: Q8_0 and Q4_K_M GGUF run on ort-cpu, kept quantized, with the js backend's logits and greedy ids`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `limelight-ortq-${spec.name}-`));
    dirs.push(dir);
    const built = oracleModel(spec);
    const ids = oracleIds();
    for (const format of ['Q8_0', 'Q4_K_M'] as const) {
      const path = join(dir, `${format}.gguf`);
      writeOracleGguf(path, built, format);
      const model: Model = loadModel(path);
      assert.equal(ortRefusal(model), null, `${format}: ort takes the file's formats`);
      const ref = await runIds(new ReferenceBackend(model.float32()), ids, 12);
      const exact = maxAbsDiff(await exactGraphLogits(model, ids), ref.logits);
      const ortBe = await OrtBackend.create(model, { threads: 2, cacheDir: join(dir, 'onnx') });
      const js = await FastBackend.create(model, { threads: 2, weightFormat: 'auto', relaxedSimd: false });
      try {
        const a = await runIds(ortBe, ids, 12);
        const b = await runIds(js, ids, 12);
        const ortRef = maxAbsDiff(a.logits, ref.logits);
        const ortJs = maxAbsDiff(a.logits, b.logits);
        console.log(`${spec.name} ${format}: max |diff| float-compute graph vs reference ${exact.toExponential(2)}, ort-cpu vs reference ${ortRef.toFixed(3)}, ort-cpu vs js ${ortJs.toFixed(3)}; greedy ${a.greedy.join(' ')}`);
        assert.ok(exact < EXACT_TOL, `${spec.name} ${format}: the exported weights are not the file's (${exact})`);
        assert.ok(ortRef < ORT_REF_TOL, `${spec.name} ${format}: ort-cpu is ${ortRef} from the reference (tolerance ${ORT_REF_TOL})`);
        assert.ok(ortJs < ORT_JS_TOL, `${spec.name} ${format}: ort-cpu and js logits differ by ${ortJs} (tolerance ${ORT_JS_TOL})`);
        assert.deepEqual(a.greedy, b.greedy, `${spec.name} ${format}: greedy ids of ort-cpu and js`);
        assert.deepEqual(a.greedy, ref.greedy, `${spec.name} ${format}: greedy ids of ort-cpu and the reference`);
      } finally {
        ortBe.dispose();
        js.dispose();
      }
      assert.equal(model.isFloat32, false, `${format}: the export read the stored parts; no float32 copy was made`);
      // The cached export is reused, and its key does not expand the weights either.
      assert.equal(exportCached(model, join(dir, 'onnx')).reused, true);
      assert.equal(model.isFloat32, false);
    }
  });
}

/** Every quantized format in one model: q, k and v in three formats and gate and up in two (a product per format, concatenated), a Q5_K embedding (8-bit blocks with offsets) and a Q4_1 head. */
const MIX: Record<string, WeightType> = {
  'token_embd.weight': 'Q5_K',
  'output.weight': 'Q4_1',
  attn_q: 'Q4_0',
  attn_k: 'Q5_1',
  attn_v: 'Q6_K',
  attn_output: 'Q5_0',
  ffn_gate: 'Q4_K',
  ffn_up: 'Q8_0',
  ffn_down: 'Q5_K',
};
/** ort-cpu (int8 activations) against the reference on the mix: measured 0.175; the bound keeps a margin of 1.7x. */
const MIX_TOL = 0.3;

test('a file mixing every quantized format, several in one fused matrix, gives the reference logits on ort-cpu', async () => {
  const spec = ORACLE_MODELS.find((s) => s.name === 'llama')!;
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ortq-mix-'));
  dirs.push(dir);
  const path = join(dir, 'mix.gguf');
  writeGgufModel(path, oracleModel(spec), { weightType: 'Q8_0', tokenizer: oracleVocabMetadata(), tensorType: (name) => MIX[name] ?? MIX[/^blk\.\d+\.(\w+)\.weight$/.exec(name)?.[1] ?? ''] });
  const model = loadModel(path);
  assert.deepEqual([...model.formats().keys()].filter((t) => t !== 'F32').sort(), [...QUANTIZED].sort());
  const ids = oracleIds();
  const ref = await runIds(new ReferenceBackend(model.float32()), ids, 0);
  const exact = maxAbsDiff(await exactGraphLogits(model, ids), ref.logits);
  const be = await OrtBackend.create(model, { threads: 2 });
  try {
    const ortRef = maxAbsDiff((await be.forward(Int32Array.from(ids), 0, { allLogits: true })).logits, ref.logits);
    console.log(`llama, every format: max |diff| float-compute graph vs reference ${exact.toExponential(2)}, ort-cpu vs reference ${ortRef.toFixed(3)}`);
    assert.ok(exact < EXACT_TOL, `the exported weights are not the file's (${exact})`);
    assert.ok(ortRef < MIX_TOL, `ort-cpu is ${ortRef} from the reference (tolerance ${MIX_TOL})`);
  } finally {
    be.dispose();
  }
  assert.equal(model.isFloat32, false);
});
