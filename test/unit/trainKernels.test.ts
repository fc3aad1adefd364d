// Finite-difference checks of every backward kernel on small random odd shapes: the analytic
// gradient of loss = sum(out * r) (r random) must match central differences, with the loss
// summed in float64. Backward kernels that accumulate are called on gradients already holding
// 0.5 everywhere, so a kernel that overwrote instead of adding would fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../engine/model/init';
import { matmulBackward, matmulForward } from '../../engine/kernels/matmul';
import { layernormBackward, layernormForward, rmsnormBackward, rmsnormForward } from '../../engine/kernels/norms';
import { geluBackward, geluForward, swigluBackward, swigluForward } from '../../engine/kernels/activations';
import { ropeBackward, ropeForward, ropeTables } from '../../engine/kernels/rope';
import { embeddingBackward, embeddingForward } from '../../engine/kernels/embedding';
import { IGNORE_INDEX, crossEntropyBackward, crossEntropyForward } from '../../engine/kernels/crossEntropy';
import { attentionTrainBackward, attentionTrainForward } from '../../engine/kernels/attentionTrain';

const rand = mulberry32(7);
function randn(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

interface Check {
  inputs: Float32Array[];
  /** Which inputs to differentiate (default: all). */
  wrt?: number[];
  forward: () => Float32Array;
  /** Fills grads (one per wrt input, same order) from dout. */
  backward: (dout: Float32Array, grads: Float32Array[]) => void;
  /** The kernel accumulates into grads (+=) rather than writing them. */
  accumulates?: boolean;
  /** The upstream gradient (default: random). */
  dout?: (n: number) => Float32Array;
}

function gradCheck(name: string, c: Check, eps = 1e-3, tol = 2e-3): void {
  const wrt = c.wrt ?? c.inputs.map((_, i) => i);
  const out0 = c.forward();
  const r = c.dout ? c.dout(out0.length) : randn(out0.length);
  const loss = (): number => {
    const out = c.forward();
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!;
    return s;
  };
  const base = c.accumulates === false ? 0 : 0.5;
  const grads = wrt.map((i) => new Float32Array(c.inputs[i]!.length).fill(base));
  c.forward();
  c.backward(Float32Array.from(r), grads);
  wrt.forEach((inputIndex, g) => {
    const x = c.inputs[inputIndex]!;
    let worst = 0;
    for (let k = 0; k < x.length; k++) {
      const keep = x[k]!;
      x[k] = keep + eps;
      const up = loss();
      x[k] = keep - eps;
      const down = loss();
      x[k] = keep;
      const fd = (up - down) / (2 * eps);
      const analytic = grads[g]![k]! - base;
      const err = Math.abs(fd - analytic) / Math.max(1, Math.abs(fd));
      worst = Math.max(worst, err);
    }
    assert.ok(worst < tol, `${name}: input ${inputIndex} worst relative error ${worst.toExponential(2)}`);
  });
}

test('matmulBackward matches finite differences (with and without bias, odd sizes)', () => {
  for (const [N, C, OC] of [
    [5, 7, 3],
    [6, 5, 9],
  ] as const) {
    const inp = randn(N * C);
    const w = randn(OC * C);
    const bias = randn(OC);
    const out = new Float32Array(N * OC);
    gradCheck(`matmul ${N}x${C}x${OC}`, {
      inputs: [inp, w, bias],
      forward: () => (matmulForward(out, inp, w, bias, N, C, OC), out),
      backward: (dout, [di, dw, db]) => matmulBackward(di!, dw!, db!, dout, inp, w, N, C, OC),
    });
    gradCheck(`matmul no bias ${N}x${C}x${OC}`, {
      inputs: [inp, w],
      forward: () => (matmulForward(out, inp, w, null, N, C, OC), out),
      backward: (dout, [di, dw]) => matmulBackward(di!, dw!, null, dout, inp, w, N, C, OC),
    });
  }
});

test('layernormBackward and rmsnormBackward match finite differences', () => {
  const N = 3;
  const C = 7;
  const inp = randn(N * C, 2);
  const w = randn(C);
  const b = randn(C);
  const out = new Float32Array(N * C);
  const mean = new Float32Array(N);
  const rstd = new Float32Array(N);
  gradCheck('layernorm', {
    inputs: [inp, w, b],
    forward: () => (layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5), out),
    backward: (dout, [di, dw, db]) => layernormBackward(di!, dw!, db!, dout, inp, w, mean, rstd, N, C),
  });
  gradCheck('rmsnorm', {
    inputs: [inp, w],
    forward: () => (rmsnormForward(out, rstd, inp, w, N, C, 1e-5), out),
    backward: (dout, [di, dw]) => rmsnormBackward(di!, dw!, dout, inp, w, rstd, N, C),
  });
});

test('geluBackward and swigluBackward match finite differences', () => {
  const n = 23;
  const inp = randn(n, 3);
  const out = new Float32Array(n);
  gradCheck('gelu', {
    inputs: [inp],
    forward: () => (geluForward(out, inp, n), out),
    backward: (dout, [di]) => geluBackward(di!, dout, inp, n),
  });
  const N = 3;
  const FF = 5;
  const x = randn(N * 2 * FF, 3);
  const y = new Float32Array(N * FF);
  gradCheck('swiglu', {
    inputs: [x],
    forward: () => (swigluForward(y, x, N, FF), y),
    backward: (dout, [di]) => swigluBackward(di!, dout, x, N, FF),
  });
});

test('ropeBackward matches finite differences', () => {
  const T = 3;
  const HD = 6;
  const stride = 3 * HD + 2;
  const { cos, sin } = ropeTables(8, HD, 10000);
  const x = randn(T * stride);
  const y = new Float32Array(T * stride);
  gradCheck('rope', {
    inputs: [x],
    accumulates: false,
    forward: () => (y.set(x), ropeForward(y, cos, sin, 2, T, stride, 1, 3, HD), y),
    backward: (dout, [dx]) => (dx!.set(dout), ropeBackward(dx!, cos, sin, 2, T, stride, 1, 3, HD)),
  });
});

test('embeddingBackward matches finite differences (token and position)', () => {
  const B = 2;
  const T = 3;
  const C = 5;
  const V = 4;
  const tokens = Int32Array.from([1, 3, 1, 0, 1, 2]);
  const wte = randn(V * C);
  const wpe = randn(T * C);
  const out = new Float32Array(B * T * C);
  gradCheck('embedding', {
    inputs: [wte, wpe],
    forward: () => (embeddingForward(out, tokens, wte, wpe, B, T, C), out),
    backward: (dout, [dwte, dwpe]) => embeddingBackward(dwte!, dwpe!, dout, tokens, B, T, C),
  });
});

test('crossEntropyBackward matches finite differences and ignores IGNORE_INDEX rows', () => {
  const N = 4;
  const V = 7;
  const logits = randn(N * V, 4);
  const targets = Int32Array.from([3, IGNORE_INDEX, 0, 6]);
  const losses = new Float32Array(N);
  const dloss = 0.37;
  gradCheck('cross-entropy', {
    inputs: [logits],
    accumulates: false,
    dout: (n) => new Float32Array(n).fill(dloss),
    forward: () => (crossEntropyForward(losses, logits, targets, N, V), losses),
    backward: (_dout, [dl]) => crossEntropyBackward(dl!, logits, targets, dloss, N, V),
  });
  crossEntropyForward(losses, logits, targets, N, V);
  assert.equal(losses[1], 0);
  const inPlace = Float32Array.from(logits);
  crossEntropyBackward(inPlace, inPlace, targets, 1, N, V);
  const separate = new Float32Array(N * V);
  crossEntropyBackward(separate, logits, targets, 1, N, V);
  assert.deepEqual(inPlace, separate);
  for (let v = 0; v < V; v++) assert.equal(separate[V + v], 0);
});

test('attentionTrainBackward matches finite differences (causal, GQA, sliding window)', () => {
  for (const [NH, KVH, window] of [
    [4, 2, null],
    [3, 3, 2],
  ] as const) {
    const B = 2;
    const T = 5;
    const HD = 3;
    const QKV = (NH + 2 * KVH) * HD;
    const qkv = randn(B * T * QKV);
    const out = new Float32Array(B * T * NH * HD);
    const probs = new Float32Array(B * NH * T * T);
    gradCheck(`attention NH=${NH} KVH=${KVH} window=${window}`, {
      inputs: [qkv],
      forward: () => (attentionTrainForward(out, probs, qkv, B, T, NH, KVH, HD, window), out),
      backward: (dout, [dq]) => attentionTrainBackward(dq!, new Float32Array(T), dout, qkv, probs, B, T, NH, KVH, HD, window),
    });
  }
});
