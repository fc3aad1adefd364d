// Softmax cross-entropy over the vocabulary, one row per token. A target equal to
// IGNORE_INDEX (padding, prompt tokens that must not be learned) contributes no loss and no
// gradient, as in torch.nn.functional.cross_entropy. Log-sum-exp runs in float64 with the
// row maximum removed, so large logits neither overflow nor lose the small differences.

export const IGNORE_INDEX = -100;

/** losses[n] = logsumexp(logits[n]) - logits[n, targets[n]], or 0 for an ignored target. */
export function crossEntropyForward(
  losses: Float32Array, // (N)
  logits: Float32Array, // (N, V)
  targets: Int32Array, // (N)
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const target = targets[n]!;
    if (target === IGNORE_INDEX) {
      losses[n] = 0;
      continue;
    }
    losses[n] = logSumExp(logits, n * V, V) - logits[n * V + target]!;
  }
}

/**
 * dlogits[n] = dloss * (softmax(logits[n]) - onehot(targets[n])), 0 for ignored rows, where
 * dloss is the gradient of the total loss with respect to each row's loss (1 / token count for
 * a mean). Writes rather than accumulates so that dlogits may be logits itself: the (N, V)
 * logits are the largest activation of a small model and need no second copy.
 */
export function crossEntropyBackward(
  dlogits: Float32Array, // (N, V), may alias logits
  logits: Float32Array, // (N, V)
  targets: Int32Array, // (N)
  dloss: number,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const li = n * V;
    const target = targets[n]!;
    if (target === IGNORE_INDEX) {
      dlogits.fill(0, li, li + V);
      continue;
    }
    const lse = logSumExp(logits, li, V);
    for (let v = 0; v < V; v++) dlogits[li + v] = dloss * Math.exp(logits[li + v]! - lse);
    dlogits[li + target] -= dloss;
  }
}

function logSumExp(x: Float32Array, start: number, V: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (x[start + v]! > max) max = x[start + v]!;
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(x[start + v]! - max);
  return max + Math.log(sum);
}
