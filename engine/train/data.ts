// Training data as next-token examples: documents (token ids) are joined, each followed by a
// separator (end-of-text), and cut into windows of T + 1 ids; an example's inputs are the first
// T ids and its targets the last T. Each epoch visits every window once in an order drawn
// from (seed, epoch) alone, so a position (epoch, index) says exactly which examples come next
// and a resumed run sees the same batches as an uninterrupted one.
import { mulberry32 } from '../model/init';
import { IGNORE_INDEX } from '../kernels/crossEntropy';
import type { TrainBatch } from './gradients';

/** Where the data order stands: the next example is order(epoch)[index]. */
export interface DataPosition {
  epoch: number;
  index: number;
}

export class DataError extends Error {
  override name = 'DataError';
}

/**
 * A batch from (B, T) ids predicting each next id within its row: the inputs are all T ids and
 * the last position's target is ignored, as Hugging Face shifts labels inside the model.
 */
export function nextTokenBatch(ids: Int32Array, B: number, T: number): TrainBatch {
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1]! : IGNORE_INDEX;
  }
  return { B, T, tokens: ids, targets };
}

export class TokenDataset {
  /** Every id, documents joined with separators. */
  readonly stream: Int32Array;
  /** Number of windows of T + 1 ids (consecutive windows share one id). */
  readonly examples: number;

  constructor(
    documents: ArrayLike<number>[],
    separator: number,
    readonly T: number,
    readonly seed: number,
  ) {
    const total = documents.reduce((n, d) => n + d.length + 1, 0);
    this.stream = new Int32Array(total);
    let at = 0;
    for (const d of documents) {
      this.stream.set(d, at);
      at += d.length;
      this.stream[at++] = separator;
    }
    this.examples = Math.floor((total - 1) / T);
    if (this.examples < 1) throw new DataError(`The training data holds ${total} tokens, too few for one example of ${T + 1}. Add files or lower the sequence length.`);
  }

  private cached: { epoch: number; order: Uint32Array } | null = null;

  /** The visiting order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch). */
  order(epoch: number): Uint32Array {
    if (this.cached?.epoch === epoch) return this.cached.order;
    const rand = mulberry32((this.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
    const order = new Uint32Array(this.examples);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    this.cached = { epoch, order };
    return order;
  }

  /** Fills a (B, T) batch from `pos` onwards and returns the position after it. */
  fill(batch: TrainBatch, pos: DataPosition): DataPosition {
    const { B, T } = batch;
    let { epoch, index } = pos;
    let order = this.order(epoch);
    for (let b = 0; b < B; b++) {
      if (index >= order.length) {
        epoch++;
        index = 0;
        order = this.order(epoch);
      }
      const start = order[index++]! * T;
      batch.tokens.set(this.stream.subarray(start, start + T), b * T);
      batch.targets.set(this.stream.subarray(start + 1, start + T + 1), b * T);
    }
    return { epoch, index };
  }
}
