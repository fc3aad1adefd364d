// Choosing a backend: explicit settings, auto, and falling back with a reason when a backend
// cannot run the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../engine/model/load';
import { createModel } from '../../engine/model/model';
import { selectBackend, probeWebGpu, type BackendSetting } from '../../engine/runtime/select';
import { oracleDir } from './oracle';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const model = loadModel(oracleDir('gpt2-tiny'));

test('an explicit js or ort-cpu setting is used as is', async () => {
  for (const setting of ['js', 'ort-cpu'] as const) {
    const choice = await selectBackend(model, { setting, threads: 1 });
    try {
      assert.equal(choice.name, setting);
      assert.equal(choice.backend.name, setting);
      assert.deepEqual(choice.fallbacks, []);
      assert.match(choice.reason, /set by limelight\.backend/);
    } finally {
      choice.backend.dispose();
    }
  }
});

test('auto skips WebGPU for a small model and says so, then splits the phases between ort-cpu and js as measured', async () => {
  const choice = await selectBackend(model, { setting: 'auto', threads: 1 });
  try {
    // Which engine wins which phase is measured on this machine (phaseSplit.test.ts pins a plan).
    assert.ok(choice.name === 'ort-cpu+js' || choice.name === 'js', choice.name);
    assert.equal(choice.fallbacks[0]?.name, 'ort-webgpu');
    assert.match(choice.fallbacks[0]!.reason, /too small to gain from the GPU/);
    assert.match(choice.reason, /^(ort-cpu\+js|js) \(auto: .*(prefill from \d+ tokens, js decode|prefill and decode) \(measured now: .*\); ort-webgpu: the model/);
  } finally {
    choice.backend.dispose();
  }
});

test('auto takes WebGPU when an adapter exists and the model is big enough, else says why not', async () => {
  const noAdapter = await probeWebGpu();
  const choice = await selectBackend(model, { setting: 'auto', threads: 1, webgpuMinParams: 0 });
  try {
    if (noAdapter === null) {
      assert.equal(choice.name, 'ort-webgpu');
    } else {
      assert.ok(choice.name === 'ort-cpu+js' || choice.name === 'js', choice.name);
      assert.equal(choice.fallbacks[0]!.reason, `no WebGPU adapter (${noAdapter})`);
    }
  } finally {
    choice.backend.dispose();
  }
});

test('ort-webgpu without an adapter falls back to ort-cpu with the reason', async (t) => {
  const noAdapter = await probeWebGpu();
  if (noAdapter === null) {
    t.skip('a WebGPU adapter exists here, so there is nothing to fall back from');
    return;
  }
  const choice = await selectBackend(model, { setting: 'ort-webgpu', threads: 1 });
  try {
    assert.equal(choice.name, 'ort-cpu');
    assert.equal(choice.fallbacks[0]!.name, 'ort-webgpu');
    assert.match(choice.fallbacks[0]!.reason, /^failed: /);
  } finally {
    choice.backend.dispose();
  }
});

test('a model onnxruntime cannot run falls back to js, keeping the exporter message', async () => {
  const windowed = createModel({ ...model.config, slidingWindow: 8 }, model.params);
  const choice = await selectBackend(windowed, { setting: 'ort-cpu', threads: 1 });
  try {
    assert.equal(choice.name, 'js');
    assert.match(choice.fallbacks[0]!.reason, /sliding-window/);
    assert.match(choice.reason, /ort-cpu: failed/);
  } finally {
    choice.backend.dispose();
  }
});

test('an unknown setting is a clear error', async () => {
  await assert.rejects(selectBackend(model, { setting: 'cuda' as BackendSetting }), /not one of auto, js, ort-cpu, ort-webgpu/);
});

test('a quantized GGUF model runs on onnxruntime in its own blocks: ort-cpu takes it as asked, and auto tries it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ort-q8-'));
  try {
    const path = join(dir, 'm.gguf');
    writeGgufModel(path, model, { weightType: 'Q8_0' });
    const q8 = loadModel(path);
    const asked = await selectBackend(q8, { setting: 'ort-cpu', threads: 1 });
    try {
      assert.equal(asked.name, 'ort-cpu');
      assert.deepEqual(asked.fallbacks, []);
    } finally {
      asked.backend.dispose();
    }
    const auto = await selectBackend(q8, { setting: 'auto', threads: 1 });
    try {
      assert.ok(auto.name === 'ort-cpu+js' || auto.name === 'js', auto.name);
      assert.deepEqual(auto.fallbacks.filter((f) => f.name === 'ort-cpu' || f.name === 'ort-cpu+js'), [], 'onnxruntime is neither refused nor failing');
    } finally {
      auto.backend.dispose();
    }
    assert.equal(q8.isFloat32, false, 'the weights stayed in their Q8_0 blocks');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
