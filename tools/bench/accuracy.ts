// Accuracy of the lower-precision weight formats: the fast backend's logits with f16 and q8_0
// weights against its f32 logits on the same text (max |delta|, mean KL(f32 || format) per
// position, and the perplexity of the text's next tokens under each). The oracle checkpoints
// are tiny trained-by-nobody models and the bench shapes are random, so the perplexities
// themselves mean little; their deltas and the KL are the honest measure available offline.
//   npm run bench -- accuracy [--json] [--tokens N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../engine/model/model';
import { loadModel } from '../../engine/model/load';
import { FastBackend, type WeightFormat } from '../../engine/runtime/fastBackend';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { BENCH_SHAPES, benchModel } from './inference';

export interface AccuracyRow {
  model: string;
  weights: WeightFormat;
  tokens: number;
  maxAbsDelta: number;
  meanKL: number;
  perplexity: number;
  perplexityF32: number;
}

const ROOT = join(__dirname, '..', '..', '..');

function logSoftmax(l: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of l) m = Math.max(m, v);
  let s = 0;
  for (const v of l) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(l, (v) => v - lse);
}

async function logits(model: Model, ids: Int32Array, weightFormat: WeightFormat): Promise<Float32Array> {
  const be = await FastBackend.create(model, { threads: 1, weightFormat });
  try {
    return be.forwardSync(ids, 0, { allLogits: true }).logits;
  } finally {
    be.dispose();
  }
}

export async function runAccuracyBench(argv: readonly string[] = []): Promise<AccuracyRow[]> {
  const json = argv.includes('--json');
  const i = argv.indexOf('--tokens');
  const n = i >= 0 ? Number(argv[i + 1]) : 256;
  // Held-out text: the project's design notes, which no model here was trained on.
  const text = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8') + readFileSync(join(ROOT, 'README.md'), 'utf8');
  const textIds = getTokenizer('r50k_base').encode(text);
  const models: Array<[string, () => Model]> = [
    ['gpt2-tiny (oracle)', () => loadModel(join(ROOT, 'test', 'fixtures', 'oracle', 'gpt2-tiny'))],
    ['llama-tiny (oracle)', () => loadModel(join(ROOT, 'test', 'fixtures', 'oracle', 'llama-tiny'))],
    ...Object.keys(BENCH_SHAPES).map((s): [string, () => Model] => [`${s} (random)`, () => benchModel(s)]),
  ];
  const rows: AccuracyRow[] = [];
  if (!json) console.log('model                  weights  tokens  max|dlogit|   mean KL     ppl    ppl(f32)');
  for (const [name, make] of models) {
    const model = make();
    const V = model.config.vocabSize;
    const T = Math.min(n, model.config.maxPositions, textIds.length);
    const ids = Int32Array.from(textIds.slice(0, T), (id) => id % V);
    const ref = await logits(model, ids, 'f32');
    const nll = (l: Float32Array): number => {
      let s = 0;
      for (let t = 0; t + 1 < T; t++) s -= logSoftmax(l.subarray(t * V, (t + 1) * V))[ids[t + 1]!]!;
      return Math.exp(s / (T - 1));
    };
    const pplF32 = nll(ref);
    for (const weights of ['f16', 'q8_0'] as const) {
      const got = await logits(model, ids, weights);
      let maxAbs = 0;
      let kl = 0;
      for (let t = 0; t < T; t++) {
        const p = logSoftmax(ref.subarray(t * V, (t + 1) * V));
        const q = logSoftmax(got.subarray(t * V, (t + 1) * V));
        for (let v = 0; v < V; v++) {
          maxAbs = Math.max(maxAbs, Math.abs(ref[t * V + v]! - got[t * V + v]!));
          kl += Math.exp(p[v]!) * (p[v]! - q[v]!);
        }
      }
      const row: AccuracyRow = { model: name, weights, tokens: T, maxAbsDelta: maxAbs, meanKL: kl / T, perplexity: nll(got), perplexityF32: pplF32 };
      rows.push(row);
      if (!json) {
        console.log(
          `${name.padEnd(22)} ${weights.padEnd(7)} ${String(T).padStart(6)}  ${row.maxAbsDelta.toExponential(2).padStart(10)}  ${row.meanKL.toExponential(2).padStart(9)}  ${row.perplexity.toFixed(2).padStart(8)}  ${pplF32.toFixed(2).padStart(8)}`,
        );
      }
    }
  }
  if (json) console.log(JSON.stringify(rows, null, 2));
  return rows;
}
