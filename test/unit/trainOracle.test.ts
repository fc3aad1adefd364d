// The training engine against PyTorch: loss, every gradient and one AdamW step on the oracle
// checkpoints (test/fixtures/oracle/*, made with transformers; see reference.json there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { readSafetensors, type SafetensorsFile } from '../../engine/io/safetensors';
import { familyOf } from '../../engine/model/families';
import { copyTensorIntoParam } from '../../engine/model/tensorMapping';
import type { Model } from '../../engine/model/model';
import { createActivations, lossAndGrads } from '../../engine/train/gradients';
import { AdamW } from '../../engine/train/adamw';
import { nextTokenBatch } from '../../engine/train/data';
import { hfTensors } from '../../engine/train/hfExport';

const ORACLE = join(process.cwd(), 'test', 'fixtures', 'oracle');

/** HF-named tensors (with a name prefix) gathered into one buffer in the model's layout. */
function layoutFromHF(model: Model, file: SafetensorsFile, prefix: string): Float32Array {
  const out = new Float32Array(model.layout.total);
  for (const m of familyOf(model.config).hfTensors(model.config)) {
    const spec = model.layout.byName.get(m.param)!;
    copyTensorIntoParam(m, file.tensorToFloat32(prefix + m.name), out.subarray(spec.offset, spec.offset + spec.size));
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const name of ['gpt2-tiny', 'llama-tiny']) {
  for (const recompute of [false, true]) {
    test(`${name}${recompute ? ' (recomputing blocks)' : ''}: loss, gradients and one AdamW step match PyTorch`, () => {
      const dir = join(ORACLE, name);
      const model = loadModel(dir);
      const ref = readSafetensors(join(dir, 'reference.safetensors'));
      const [B, T] = ref.info('train_batch').shape as [number, number];
      const batch = nextTokenBatch(ref.tensorToInt32('train_batch'), B, T);
      const acts = createActivations(model.config, B, T, { recompute });
      const grads = new Float32Array(model.layout.total);
      const loss = lossAndGrads(model, batch, acts, grads);
      const expected = ref.tensorToFloat32('train_loss')[0]!;
      assert.ok(Math.abs(loss - expected) / expected < 1e-5, `loss ${loss} vs PyTorch ${expected}`);

      const refGrads = readSafetensors(join(dir, 'grads.safetensors'));
      const ours = hfTensors(model.config, model.layout, grads, 'grad.');
      assert.deepEqual(ours.map((t) => t.name).sort(), refGrads.names().sort());
      for (const t of ours) {
        const d = maxAbsDiff(t.data as Float32Array, refGrads.tensorToFloat32(t.name));
        assert.ok(d < 1e-4, `${t.name}: max abs diff ${d.toExponential(2)}`);
      }

      // The first AdamW step moves each weight by about lr * g / (|g| + eps): where the true
      // gradient is 0 (GPT-2's key bias: softmax ignores a shift shared by every score) the
      // float32 noise of either side decides the sign, so from our own gradients those few
      // elements cannot match; every other element must. AdamW itself is checked exactly by
      // stepping from PyTorch's gradients.
      const refAfter = readSafetensors(join(dir, 'after_adamw.safetensors'));
      const start = Float32Array.from(model.params);
      const opt = new AdamW(model.layout.total, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
      opt.update(model.params, grads);
      let noisy = 0;
      for (const t of hfTensors(model.config, model.layout, model.params, 'after_adamw.')) {
        const want = refAfter.tensorToFloat32(t.name);
        const g = refGrads.tensorToFloat32('grad.' + t.name.slice('after_adamw.'.length));
        const got = t.data as Float32Array;
        for (let i = 0; i < got.length; i++) {
          if (g[i] !== 0 && Math.abs(g[i]!) < 1e-6) noisy++;
          else assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5, `${t.name}[${i}]: ${got[i]} vs PyTorch ${want[i]} (gradient ${g[i]})`);
        }
      }
      assert.ok(noisy < 0.01 * model.layout.total, `${noisy} elements with a near-zero gradient`);

      model.params.set(start);
      const torchGrads = layoutFromHF(model, refGrads, 'grad.');
      new AdamW(model.layout.total, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 }).update(model.params, torchGrads);
      for (const t of hfTensors(model.config, model.layout, model.params, 'after_adamw.')) {
        const d = maxAbsDiff(t.data as Float32Array, refAfter.tensorToFloat32(t.name));
        assert.ok(d < 1e-5, `${t.name} (stepped from PyTorch's gradients): max abs diff ${d.toExponential(2)}`);
      }
    });
  }
}
