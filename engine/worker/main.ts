// The engine worker (bundled as dist/worker.js): checks each message, hands requests to the
// WorkerState one at a time, and answers every request with exactly one result or error.
// A `cancel` aborts the named request between forward passes (the generator yields to the
// event loop between steps). A malformed message gets an error reply naming the problem;
// nothing a message holds can end the worker.
import { parentPort } from 'node:worker_threads';
import { WorkerState } from './workerState';
import { errorData, parseToWorker, replyId, type EngineRequest, type FromWorker, type ToWorker } from './protocol';

const controllers = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function send(msg: FromWorker): void {
  const transfer: ArrayBuffer[] = [];
  if (msg.kind === 'result' && msg.result && 'logits' in msg.result) {
    transfer.push(msg.result.logits.buffer as ArrayBuffer);
    if (msg.result.attention) transfer.push(msg.result.attention.buffer as ArrayBuffer);
  }
  parentPort!.postMessage(msg, transfer);
}

const engine = new WorkerState(send);

function enqueue(id: number, request: EngineRequest): void {
  const controller = new AbortController();
  controllers.set(id, controller);
  queue = queue.then(async () => {
    try {
      if (controller.signal.aborted && request.type !== 'dispose') throw new Error('The request was cancelled before it started.');
      send({ kind: 'result', id, result: await engine.handle(id, request, controller.signal) });
    } catch (e) {
      send({ kind: 'error', id, error: errorData(e) });
    } finally {
      controllers.delete(id);
    }
  });
}

parentPort!.on('message', (raw: unknown) => {
  let msg: ToWorker;
  try {
    msg = parseToWorker(raw);
  } catch (e) {
    send({ kind: 'error', id: replyId(raw), error: errorData(e) });
    return;
  }
  if (msg.kind === 'cancel') controllers.get(msg.id)?.abort(new Error('cancelled'));
  else enqueue(msg.id, msg.request);
});
