// The worker thread of the model-file fuzzer: runs cases [start, end) one after another and
// posts each result, so runFuzz can tell which case hung or crashed the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { runCase, type WorkerInput, type WorkerMessage } from './fuzzModelFiles';

const input = workerData as WorkerInput;
for (let i = input.start; i < input.end; i++) {
  parentPort!.postMessage({ kind: 'result', result: runCase(input.seeds, i, input.seed, input.caseRoot) } satisfies WorkerMessage);
}
parentPort!.postMessage({ kind: 'done' } satisfies WorkerMessage);
