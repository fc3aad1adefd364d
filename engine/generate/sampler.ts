// Picks the next token from a row of logits (llama2.c's sampler, with Hugging Face's
// processor order): repetition penalty, then temperature, then top-k, then top-p, then a
// draw from the sampler's own seeded RNG. Temperature 0 is greedy (argmax, first index on
// ties). Every buffer is allocated once per sampler, so drawing a token allocates nothing.
import { Rng } from './rng';

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); higher flattens the distribution. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all. */
  topP: number;
  /** Hugging Face's repetition penalty over every id seen so far; 1 is off. */
  repetitionPenalty: number;
  /** Seeds the sampler's RNG: the same seed, logits and history give the same tokens. */
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export class SamplingOptionsError extends Error {
  override name = 'SamplingOptionsError';
}

/** Fills in defaults and checks every field, with a message that says the allowed range. */
export function resolveSampling(opts: Partial<SamplingOptions> = {}): SamplingOptions {
  const s = { ...DEFAULT_SAMPLING, ...opts };
  const bad = (what: string, got: number): never => {
    throw new SamplingOptionsError(`${what} (got ${got}).`);
  };
  if (!Number.isFinite(s.temperature) || s.temperature < 0) bad('temperature must be 0 (greedy) or a positive number', s.temperature);
  if (!Number.isInteger(s.topK) || s.topK < 0) bad('top-k must be a whole number, 0 to keep every token', s.topK);
  if (!(s.topP > 0 && s.topP <= 1)) bad('top-p must be above 0 and at most 1 (1 keeps every token)', s.topP);
  if (!Number.isFinite(s.repetitionPenalty) || s.repetitionPenalty <= 0) bad('repetition penalty must be a positive number (1 is off)', s.repetitionPenalty);
  if (!Number.isFinite(s.seed)) bad('seed must be a finite number', s.seed);
  return s;
}

export class Sampler {
  readonly options: SamplingOptions;
  private readonly rng: Rng;
  private readonly work: Float32Array; // (V) processed logits
  private readonly idx: Int32Array; // (V) candidate token ids
  private readonly seen: Uint8Array; // (V) marks ids already penalised for this token

  constructor(
    readonly vocabSize: number,
    opts: Partial<SamplingOptions> = {},
  ) {
    if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw new SamplingOptionsError(`vocabulary size must be a positive whole number (got ${vocabSize}).`);
    this.options = resolveSampling(opts);
    this.rng = new Rng(this.options.seed);
    this.work = new Float32Array(vocabSize);
    this.idx = new Int32Array(vocabSize);
    this.seen = new Uint8Array(vocabSize);
  }

  /**
   * Next token id for `logits` (V). `history` is every id the model has seen so far (prompt
   * and generated), used by the repetition penalty. NaN logits count as impossible tokens;
   * if no logit is finite or +Infinity the model output is broken and this throws.
   */
  sample(logits: Float32Array, history: ArrayLike<number> = []): number {
    const V = this.vocabSize;
    if (logits.length < V) throw new SamplingOptionsError(`logits hold ${logits.length} values, the vocabulary has ${V}.`);
    const { temperature, topK, topP, repetitionPenalty } = this.options;
    const w = this.work;
    for (let i = 0; i < V; i++) {
      const x = logits[i];
      w[i] = x === x ? x : -Infinity;
    }
    if (repetitionPenalty !== 1) this.penalise(history, repetitionPenalty);

    let best = 0;
    for (let i = 1; i < V; i++) if (w[i] > w[best]) best = i;
    const max = w[best];
    if (max === -Infinity) throw new Error('The model produced no usable logits (all NaN or -Infinity). The weights may be corrupt: reload or re-export the model.');
    if (temperature === 0 || max === Infinity) return best;

    // From here work holds unnormalised probabilities exp((x - max) / T), in [0, 1].
    const invT = 1 / temperature;
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp((w[i] - max) * invT);
      w[i] = e;
      sum += e;
    }
    if (topK > 0 && topK < V) {
      this.selectTopK(topK);
      if (topP >= 1) return this.draw(0, topK);
      let kept = 0;
      for (let i = 0; i < topK; i++) kept += w[this.idx[i]];
      return this.nucleus(topK, topP, kept);
    }
    if (topP >= 1) return this.drawAll(sum);
    // A token with probability below (1 - p) / (V - 1) is never in the nucleus (llama2.c's
    // cut), which usually leaves few candidates. The most likely token always is one.
    const idx = this.idx;
    const cutoff = ((1 - topP) / (V - 1)) * sum;
    let n = 0;
    idx[n++] = best;
    for (let i = 0; i < V; i++) if (i !== best && w[i] >= cutoff) idx[n++] = i;
    return this.nucleus(n, topP, sum);
  }

  /** HF semantics: each distinct seen id's logit is divided by the penalty if positive, multiplied if negative. */
  private penalise(history: ArrayLike<number>, penalty: number): void {
    const V = this.vocabSize;
    const w = this.work;
    for (let i = 0; i < history.length; i++) {
      const id = history[i];
      if (!(id >= 0 && id < V) || this.seen[id]) continue;
      this.seen[id] = 1;
      w[id] = w[id] < 0 ? w[id] * penalty : w[id] / penalty;
    }
    for (let i = 0; i < history.length; i++) {
      const id = history[i];
      if (id >= 0 && id < V) this.seen[id] = 0;
    }
  }

  /** Puts the ids of the k largest probabilities in idx[0, k), in no order (a size-k min-heap pass). */
  private selectTopK(k: number): void {
    const w = this.work;
    const idx = this.idx;
    for (let i = 0; i < k; i++) idx[i] = i;
    for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(idx, i, k, w, false);
    for (let i = k; i < this.vocabSize; i++) {
      if (w[i] > w[idx[0]]) {
        idx[0] = i;
        siftDown(idx, 0, k, w, false);
      }
    }
  }

  /**
   * Top-p over the candidates idx[0, n) (HF's rule: keep the most likely tokens until their
   * mass reaches p of `total`, the mass left after top-k), then a draw among those kept. A
   * max-heap pops only as many candidates as the nucleus holds, each to the end of the range.
   */
  private nucleus(n: number, topP: number, total: number): number {
    const w = this.work;
    const idx = this.idx;
    for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(idx, i, n, w, true);
    const target = topP * total;
    let cum = 0;
    let end = n;
    while (end > 0) {
      const top = idx[0];
      end--;
      idx[0] = idx[end];
      idx[end] = top;
      siftDown(idx, 0, end, w, true);
      cum += w[top];
      if (cum >= target) break;
    }
    return this.draw(end, n);
  }

  /** Draws from the probabilities of idx[start, end). */
  private draw(start: number, end: number): number {
    const w = this.work;
    const idx = this.idx;
    let sum = 0;
    for (let i = start; i < end; i++) sum += w[idx[i]];
    const r = this.rng.nextFloat() * sum;
    let cum = 0;
    let last = idx[start];
    for (let i = start; i < end; i++) {
      const id = idx[i];
      if (w[id] === 0) continue;
      last = id;
      cum += w[id];
      if (r < cum) return id;
    }
    return last; // rounding left r a hair above the total: the last possible token
  }

  /** Draws from the probabilities of every id (no top-k, no top-p: nothing to sort). */
  private drawAll(sum: number): number {
    const w = this.work;
    const r = this.rng.nextFloat() * sum;
    let cum = 0;
    let last = 0;
    for (let i = 0; i < this.vocabSize; i++) {
      if (w[i] === 0) continue;
      last = i;
      cum += w[i];
      if (r < cum) return i;
    }
    return last;
  }
}

/** Restores the heap property below heap[i] over heap[0, n): a max-heap on key[id] if `max`, else a min-heap. */
function siftDown(heap: Int32Array, i: number, n: number, key: Float32Array, max: boolean): void {
  const item = heap[i];
  const k = key[item];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && (max ? key[heap[c + 1]] > key[heap[c]] : key[heap[c + 1]] < key[heap[c]])) c++;
    if (max ? key[heap[c]] <= k : key[heap[c]] >= k) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = item;
}
