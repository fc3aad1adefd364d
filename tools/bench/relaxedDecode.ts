// `npm run bench -- relaxed`: decode with the relaxed-SIMD kernels against the portable ones on
// one model, side by side in one process: two js backends on the same weights, fed the same
// prompt, then decoding one token each in turns, so the load of a shared machine falls on both
// alike. Prints the median milliseconds per token of each, their ratio, and the load average.
// The model: --model PATH, or a real-model shape's GGUF of random weights (realShapes.ts).
import { loadavg } from 'node:os';
import { loadModel } from '../../engine/model/load';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { relaxedSimdAvailable } from '../../engine/kernels/wasm/kernels';
import { OptionReader, percentile } from './benchArgs';
import { realShapeGguf, REAL_FORMATS, REAL_SHAPES, type RealFormat } from './realShapes';

export const RELAXED_USAGE =
  'relaxed    [--model PATH | --shape qwen2.5-coder-1.5b --format q4_k_m] [--threads 1,2] [--ctx 512] [--steps 24]\n' +
  '                                                    decode, relaxed-SIMD kernels against portable ones, in turns';

const load = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

export async function runRelaxedDecodeBench(argv: readonly string[]): Promise<void> {
  const opts = new OptionReader(argv, `Usage: npm run bench -- ${RELAXED_USAGE}`);
  let model: string | undefined;
  let shape = 'qwen2.5-coder-1.5b';
  let format: RealFormat = 'q4_k_m';
  let threads = [1, 2];
  let ctx = 512;
  let steps = 24;
  for (let o = opts.next(); o !== undefined; o = opts.next()) {
    if (o === '--model') model = opts.value(o);
    else if (o === '--shape') shape = opts.value(o);
    else if (o === '--format') {
      const f = opts.value(o);
      if (!(REAL_FORMATS as readonly string[]).includes(f)) throw new Error(`--format must be one of ${REAL_FORMATS.join(', ')}`);
      format = f as RealFormat;
    } else if (o === '--threads') threads = opts.value(o).split(',').map(Number);
    else if (o === '--ctx') ctx = opts.int(o, 1);
    else if (o === '--steps') steps = opts.int(o, 1);
    else throw new Error(`unknown option ${o}. Usage: npm run bench -- ${RELAXED_USAGE}`);
  }
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error('--threads takes whole numbers >= 1, for example 1,2');
  if (!relaxedSimdAvailable()) throw new Error('this engine has no relaxed SIMD: nothing to compare');
  if (model === undefined && REAL_SHAPES[shape] === undefined) throw new Error(`unknown shape ${shape}; known: ${Object.keys(REAL_SHAPES).join(', ')}`);
  const path = model ?? realShapeGguf(shape, format);
  const weights = loadModel(path);
  const vocab = weights.config.vocabSize;
  const prompt = Int32Array.from({ length: ctx }, (_, i) => (i * 977) % vocab);
  console.log(`Decode at context ${ctx}, ${steps} tokens each, relaxed and portable in turns: ${path}; load average at start ${load()}`);
  for (const t of threads) {
    const builds = [true, false];
    const backends: FastBackend[] = [];
    try {
      for (const relaxedSimd of builds) {
        backends.push(await FastBackend.create(weights, { threads: t, weightFormat: 'auto', relaxedSimd, contextLength: ctx + steps }));
      }
      for (const be of backends) be.forwardSync(prompt, 0);
      const times = backends.map(() => [] as number[]);
      for (let s = 0; s < steps; s++) {
        const token = Int32Array.of((s * 31 + 7) % vocab);
        backends.forEach((be, k) => {
          const t0 = performance.now();
          be.forwardSync(token, ctx + s);
          times[k]!.push(performance.now() - t0);
        });
      }
      const [relaxed, portable] = times.map((xs) => percentile(xs, 0.5)) as [number, number];
      console.log(
        `${t} thread${t > 1 ? 's' : ''}: relaxed ${relaxed.toFixed(1)} ms/token (${(1000 / relaxed).toFixed(1)} tok/s), ` +
          `portable ${portable.toFixed(1)} ms/token (${(1000 / portable).toFixed(1)} tok/s), relaxed ${(portable / relaxed).toFixed(2)}x; load average ${load()}`,
      );
    } finally {
      for (const be of backends) be.dispose();
    }
  }
}
