// `npm run bench [-- <subcommand>] [-- --json]`: one entry for every benchmark.
//   (none)     inference: js backend per weight format and thread count, llama.cpp peer, machine limits
//   train      training steps (tools/bench/train.ts)
//   latency    completion latency as the extension sees it (reserved: not written yet)
import { runInferenceBench } from './inference';
import { runTrainBench } from './train';

const [first, ...rest] = process.argv.slice(2);
if (first === 'train') {
  runTrainBench(rest);
} else if (first === 'latency') {
  console.error('bench latency: not written yet (completion latency through the extension host). Run `npm run bench` for inference speed.');
  process.exitCode = 2;
} else if (first === undefined || first.startsWith('--')) {
  runInferenceBench(process.argv.slice(2));
} else {
  console.error(`bench: unknown subcommand "${first}". Use none (inference), train or latency; add --json for machine-readable output.`);
  process.exitCode = 2;
}
