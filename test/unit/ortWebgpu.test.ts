// ort-webgpu against the oracle fixtures and the JS backend. These run where onnxruntime finds
// a WebGPU adapter and are skipped, with the reason, elsewhere (CI has no GPU). Set
// LIMELIGHT_REQUIRE_WEBGPU=1 (tools/device-check.sh does) to make a missing adapter a failure.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { OrtBackend } from '../../engine/runtime/ortBackend';
import { probeWebGpu } from '../../engine/runtime/select';
import type { InferenceBackend } from '../../engine/runtime/backend';
import { mulberry32 } from '../../engine/model/init';
import { ORACLE_MODELS, oracleDir, oracleFile, maxAbsDiff } from './oracle';

/** True when the test should go on; otherwise it has been skipped (or failed, when a GPU is required). */
async function needsWebGpu(t: TestContext): Promise<boolean> {
  const noAdapter = await probeWebGpu();
  if (noAdapter === null) return true;
  if (process.env.LIMELIGHT_REQUIRE_WEBGPU === '1') assert.fail(`LIMELIGHT_REQUIRE_WEBGPU=1 but there is no WebGPU adapter: ${noAdapter}`);
  t.skip(`no WebGPU adapter: ${noAdapter}`);
  return false;
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

async function greedy(be: InferenceBackend, prompt: Int32Array, steps: number): Promise<number[]> {
  const out = [...prompt];
  let logits = (await be.forward(prompt, 0)).logits;
  for (let i = 0; i < steps; i++) {
    out.push(argmax(logits));
    if (i + 1 < steps) logits = (await be.forward(Int32Array.of(out[out.length - 1]!), out.length - 1)).logits;
  }
  return out;
}

for (const name of ORACLE_MODELS) {
  test(`${name} ort-webgpu: logits, cached tail, prefix reuse and greedy ids match transformers`, async (t) => {
    if (!(await needsWebGpu(t))) return;
    const model = loadModel(oracleDir(name));
    const ref = oracleFile(name, 'reference');
    const ids = ref.tensorToInt32('input_ids');
    const be = await OrtBackend.create(model, { device: 'webgpu' });
    try {
      assert.equal(be.name, 'ort-webgpu');
      const full = await be.forward(ids, 0, { allLogits: true });
      const d = maxAbsDiff(full.logits, ref.tensorToFloat32('logits'));
      assert.ok(d < 1e-3, `logits max diff ${d} < 1e-3`);
      await be.forward(ids.subarray(0, 16), 0);
      const dt = maxAbsDiff((await be.forward(ids.subarray(16), 16, { allLogits: true })).logits, ref.tensorToFloat32('logits_cached_tail'));
      assert.ok(dt < 1e-3, `cached-tail logits max diff ${dt} < 1e-3`);
      // Prefix reuse: back to position 10 with other tokens.
      const reused = await be.forward(ids.subarray(12, 18), 10, { allLogits: true });
      const js = new ReferenceBackend(model);
      js.forwardSync(ids.subarray(0, 10), 0);
      const dr = maxAbsDiff(reused.logits, js.forwardSync(ids.subarray(12, 18), 10, { allLogits: true }).logits);
      assert.ok(dr < 1e-3, `reused-prefix logits max diff ${dr} < 1e-3`);
      be.releaseCache();
      const want = [...ref.tensorToInt32('greedy_from_8')];
      assert.deepEqual(await greedy(be, Int32Array.from(want.slice(0, 8)), want.length - 8), want);
    } finally {
      be.dispose();
    }
  });

  test(`${name}: ort-webgpu and js give the same greedy ids on random prompts`, async (t) => {
    if (!(await needsWebGpu(t))) return;
    const model = loadModel(oracleDir(name));
    const gpu = await OrtBackend.create(model, { device: 'webgpu' });
    const js = new ReferenceBackend(model);
    const rand = mulberry32(11);
    try {
      for (let trial = 0; trial < 4; trial++) {
        const prompt = Int32Array.from({ length: 3 + trial * 5 }, () => Math.floor(rand() * model.config.vocabSize));
        gpu.releaseCache();
        js.releaseCache();
        assert.deepEqual(await greedy(gpu, prompt, 20), await greedy(js, prompt, 20), `prompt ${trial}`);
      }
    } finally {
      gpu.dispose();
    }
  });
}
