// `npm run bench [-- <subcommand>] [-- --json]`: one entry for every benchmark.
//   (none)     inference: js backend per weight format and thread count, llama.cpp peer, machine limits
//   accuracy   f16 / q8_0 logits and perplexity against f32 (tools/bench/accuracy.ts)
//   train      training steps (tools/bench/train.ts)
//   latency    completion latency as the user sees it, typing replayed through the pipeline (tools/bench/latency.ts)
import { runInferenceBench } from './inference';
import { runTrainBench } from './train';
import { runLatencyBench } from './latency';
import { runAccuracyBench } from './accuracy';

const [first, ...rest] = process.argv.slice(2);
if (first === 'accuracy') {
  runAccuracyBench(rest).catch((e: unknown) => {
    console.error(`bench accuracy: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
} else if (first === 'train') {
  runTrainBench(rest);
} else if (first === 'latency') {
  runLatencyBench(rest).catch((e: Error) => {
    console.error(`bench latency: ${e.message}`);
    process.exitCode = 1;
  });
} else if (first === undefined || first.startsWith('--')) {
  runInferenceBench(process.argv.slice(2));
} else {
  console.error(`bench: unknown subcommand "${first}". Use none (inference), accuracy, train or latency; add --json for machine-readable output.`);
  process.exitCode = 2;
}
