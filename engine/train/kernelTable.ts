// The kernels a training pass runs, as one table: the plain TypeScript references
// (REFERENCE_KERNELS, what the tests compare against) or a TrainPool on threads, which
// implements the same interface. The gradients code (gradients.ts) calls only this table.
import { matmulBackward, matmulForward } from '../kernels/matmul';
import { attentionTrainBackward, attentionTrainForward } from '../kernels/attentionTrain';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/crossEntropy';
import { geluBackward, geluForward } from '../kernels/activations';
import { loraUpBackward, loraUpForward } from '../kernels/lora';
import { layernormBackward, layernormForward } from '../kernels/norms';

/**
 * One chunk of rows of the LM head with the cross-entropy: logits (rows, V) = x . W^T and
 * losses (rows); with dloss (d objective / d each row's loss), dx (rows, C) += dlogits . W and
 * dW (V, C), when given, += dlogits^T . x. `logits` is scratch. A pass gives its chunks in
 * order, `first` on the first one: a TrainPool packs W then and reuses it for the others.
 * Returns the summed loss of the chunk.
 */
export type LmHeadChunk = (
  losses: Float32Array, // (rows)
  dx: Float32Array | null, // (rows, C)
  dW: Float32Array | null, // (V, C)
  x: Float32Array, // (rows, C)
  W: Float32Array, // (V, C)
  targets: Int32Array, // (rows)
  dloss: number | null,
  logits: Float32Array, // (rows, V)
  rows: number,
  C: number,
  V: number,
  first: boolean,
) => number;

/** The kernels a training pass runs: the references, or a TrainPool. */
export interface TrainKernels {
  matmulForward: typeof matmulForward;
  matmulBackward: typeof matmulBackward;
  attentionTrainForward: typeof attentionTrainForward;
  attentionTrainBackward: typeof attentionTrainBackward;
  lmHead: LmHeadChunk;
  geluForward: typeof geluForward;
  geluBackward: typeof geluBackward;
  loraUpForward: typeof loraUpForward;
  loraUpBackward: typeof loraUpBackward;
  layernormForward: typeof layernormForward;
  layernormBackward: typeof layernormBackward;
}

/** LmHeadChunk as its three steps: the products of `k`, then the cross-entropy kernels. */
export function lmHeadWith(k: Pick<TrainKernels, 'matmulForward' | 'matmulBackward'>, ...[losses, dx, dW, x, W, targets, dloss, logits, rows, C, V]: Parameters<LmHeadChunk>): number {
  const l = logits.subarray(0, rows * V);
  k.matmulForward(l, x, W, null, rows, C, V);
  crossEntropyForward(losses, l, targets, rows, V);
  let total = 0;
  for (let i = 0; i < rows; i++) total += losses[i]!;
  if (dloss === null) return total;
  crossEntropyBackward(l, l, targets, dloss, rows, V);
  if (dx !== null || dW !== null) k.matmulBackward(dx, dW, null, l, x, W, rows, C, V);
  return total;
}

export const REFERENCE_KERNELS: TrainKernels = {
  matmulForward,
  matmulBackward,
  attentionTrainForward,
  attentionTrainBackward,
  lmHead: (...args) => lmHeadWith({ matmulForward, matmulBackward }, ...args),
  geluForward,
  geluBackward,
  loraUpForward,
  loraUpBackward,
  layernormForward,
  layernormBackward,
};
