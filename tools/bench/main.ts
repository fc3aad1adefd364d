// `npm run bench [-- <subcommand>] [-- options]`: one entry for every benchmark; `-- --help` lists the options.
//   (none)     inference: js backend per weight format and thread count, onnxruntime (ort-cpu,
//              ort-webgpu), the llama.cpp peer and the machine limits, one table (tools/bench/inference.ts)
//   accuracy   f16 / q8_0 logits and perplexity against f32 (tools/bench/accuracy.ts)
//   train      training steps (tools/bench/train.ts)
//   latency    completion latency as the user sees it, typing replayed through the pipeline (tools/bench/latency.ts);
//              with --remote, against a loopback inference server: what Limelight adds to the server's own time (tools/bench/remoteLatency.ts)
//   relaxed    decode with the relaxed-SIMD kernels against the portable ones, in turns (tools/bench/relaxedDecode.ts)
import { INFERENCE_OPTIONS, runInferenceBench } from './inference';
import { runTrainBench } from './train';
import { runLatencyBench } from './latency';
import { runRemoteLatencyBench } from './remoteLatency';
import { runAccuracyBench } from './accuracy';
import { RELAXED_USAGE, runRelaxedDecodeBench } from './relaxedDecode';
import { pauseBackgroundTraining } from '../pretrain/pauseFile';

const HELP = `npm run bench [-- <subcommand>] [-- options]

(no subcommand)  inference table: limelight-js, onnxruntime ort-cpu and ort-webgpu, llama.cpp (node-llama-cpp)
                 on the same shapes and random weights: prefill 512 tok/s, time to first token (128-token
                 prompt; cold, 1024-token prompt), decode at 128 and 1024, peak RSS, decode/prefill bounds, ratios to llama.cpp and to
                 the decode bound
${INFERENCE_OPTIONS}

accuracy   [--tokens N] [--json]                    f16 / q8_0 logits and perplexity against f32
train      [--shapes a,b] [--modes full,lora] [--kernels wasm,ref] [--threads a,b] [--steps N] [--warmup N]
           [--batch B] [--seq T] [--recompute]      training steps
latency    [--backends js,js:q8_0,ort-cpu] [--keystrokes N] [--ms-per-char N] [--threads N]
           [--engine worker|local] [--files DIR] [--json] [--trace]   completion latency, typing replayed
latency --remote [--server-ms N] [--api llama-infill|ollama|openai-completions] [--keystrokes N] [--invokes N] [--json]
                                                    the remote backend's overhead over a loopback server's own time
${RELAXED_USAGE}`;

// A background pretraining job (docs/pretraining.md) sleeps while a benchmark runs.
pauseBackgroundTraining();
const [first, ...rest] = process.argv.slice(2);
if (first === '--help' || first === '-h' || first === 'help') {
  console.log(HELP);
} else if (first === 'accuracy') {
  runAccuracyBench(rest).catch((e: unknown) => {
    console.error(`bench accuracy: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
} else if (first === 'relaxed') {
  runRelaxedDecodeBench(rest).catch((e: unknown) => {
    console.error(`bench relaxed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
} else if (first === 'train') {
  runTrainBench(rest);
} else if (first === 'latency') {
  (rest.includes('--remote') ? runRemoteLatencyBench(rest) : runLatencyBench(rest)).catch((e: Error) => {
    console.error(`bench latency: ${e.message}`);
    process.exitCode = 1;
  });
} else if (first === undefined || first.startsWith('--')) {
  try {
    runInferenceBench(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exitCode = 2;
  }
} else {
  console.error(`bench: unknown subcommand "${first}". Use none (inference), accuracy, train, latency or relaxed; --help lists the options.`);
  process.exitCode = 2;
}
