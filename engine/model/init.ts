// Deterministic random weights, GPT-2 style (normal(0, 0.02), residual projections scaled by
// 1/sqrt(2L), norms at 1, biases at 0). Used by benchmarks, tests and training from scratch.
import type { ModelConfig } from './config';
import { createModel, type Model } from './model';

/** Mulberry32: a small, fast, seedable generator; enough for weight init and data order. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillNormal(out: Float32Array, std: number, rand: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = Math.max(rand(), 1e-12);
    const r = std * Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
}

export function randomModel(config: ModelConfig, seed = 1337): Model {
  const model = createModel(config);
  const rand = mulberry32(seed);
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayer);
  const { views } = model;
  fillNormal(views.wte, 0.02, rand);
  if (views.wpe) fillNormal(views.wpe, 0.01, rand);
  for (const layer of views.layers) {
    layer.ln1w.fill(1);
    layer.ln2w.fill(1);
    fillNormal(layer.qkvw, 0.02, rand);
    fillNormal(layer.attnOutW, residualStd, rand);
    fillNormal(layer.fcw, 0.02, rand);
    fillNormal(layer.projw, residualStd, rand);
  }
  views.lnfw.fill(1);
  if (views.lmHead !== views.wte) fillNormal(views.lmHead, 0.02, rand);
  return model;
}
