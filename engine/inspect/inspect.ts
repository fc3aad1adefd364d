// The worker-side handler of an inspection request: one forward pass with attention and
// hidden-state capture, turned into everything the inspector shows (see format.ts).
// It runs on its own ReferenceBackend, so the generator's KV cache is left alone, and feeds the
// tokens in chunks so the captured (L, NH, chunk, keys) attention stays small however long
// the prompt: each chunk is quantised into the lower triangles before the next one runs.
import type { Model } from '../model/model';
import { ReferenceBackend } from '../runtime/referenceBackend';
import { getTokenizer, type Tokenizer } from '../tokenizer/tokenizer';
import { FORMAT_VERSION, quantiseProb, triRow, triSize, type Inspection, type SourceSegment } from './format';
import { attentionRollout } from './rollout';
import { chooseLensPositions, logitLens } from './logitLens';
import { positionInfo } from './positions';
import { tokenText } from './tokens';
import { yieldToEventLoop } from '../runtime/eventLoop';

export interface InspectInput {
  /** Token ids to inspect; when absent, `text` is tokenized with the model's encoding. */
  ids?: number[];
  text?: string;
  /** Tokens [0, promptLength) are the prompt, the rest were generated (default: all prompt). */
  promptLength?: number;
  /** Where spans of the decoded text sit in the editor's document. */
  segments?: SourceSegment[];
  /**
   * Document text the prompt holds, located in the decoded text by the engine (its last
   * occurrence): the easy way for a caller that built the prompt from pieces (a FIM prompt's
   * prefix and suffix) to tie its tokens to the document.
   */
  spans?: { text: string; docOffset: number }[];
  /** Tokenizer for pieces when the model's config names none (e.g. 'r50k_base'). */
  encoding?: string;
  /** Multiply-adds allowed for the logit lens (default 1e9, about a second). */
  lensBudget?: number;
}

export class InspectError extends Error {
  override name = 'InspectError';
}

const CHUNK = 128;
const LENS_K = 8;
const FINAL_N = 64;

export interface InspectOptions {
  /** Tokens per forward call (smaller bounds memory; the result does not change). */
  chunk?: number;
  /** Stops the inspection between forward calls (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The model's tokenizer (model/modelTokenizer.ts); a request's `encoding` overrides it, and the config's encoding serves when neither is given. */
  tokenizer?: Tokenizer | null;
}

/** Runs the model over the request's tokens, capturing what the inspector shows; yields between chunks so a cancel can land. */
export async function inspect(model: Model, req: InspectInput, opts: InspectOptions = {}): Promise<Inspection> {
  const chunk = opts.chunk ?? CHUNK;
  const c = model.config;
  const encoding = req.encoding ?? (opts.tokenizer ? null : c.encoding);
  const tokenizer = encoding ? getTokenizer(encoding) : (opts.tokenizer ?? null);
  const ids = requestIds(req, tokenizer, c.vocabSize, c.maxPositions);
  const T = ids.length;
  const promptLength = req.promptLength ?? T;
  if (!Number.isInteger(promptLength) || promptLength < 1 || promptLength > T) {
    throw new InspectError(`inspect: promptLength must be a whole number from 1 to the token count ${T} (got ${promptLength}).`);
  }
  const L = c.nLayer;
  const NH = c.nHead;
  const C = c.hidden;
  const n = triSize(T);
  const attention = Array.from({ length: L }, () => new Uint8Array(NH * n)); // L x (NH, triSize(T))
  const mean = new Float32Array(L * n); // (L, triSize(T))
  const hidden = new Float32Array((L + 1) * T * C); // (L + 1, T, C)
  const backend = new ReferenceBackend(model, { contextLength: T });
  try {
    for (let c0 = 0; c0 < T; c0 += chunk) {
      await yieldToEventLoop();
      opts.signal?.throwIfAborted();
      const c1 = Math.min(T, c0 + chunk);
      const Tc = c1 - c0;
      const res = backend.forwardSync(ids.subarray(c0, c1), c0, { captureAttention: true, captureHidden: true });
      const probs = res.attention!; // (L, NH, Tc, c1)
      const hid = res.hidden!; // (L + 1, Tc, C)
      for (let r = 0; r <= L; r++) hidden.set(hid.subarray(r * Tc * C, (r + 1) * Tc * C), (r * T + c0) * C);
      for (let l = 0; l < L; l++) {
        const q8 = attention[l]!;
        for (let h = 0; h < NH; h++) {
          for (let t = 0; t < Tc; t++) {
            const q = c0 + t;
            const src = ((l * NH + h) * Tc + t) * c1;
            const dst = triRow(q);
            for (let k = 0; k <= q; k++) {
              const p = probs[src + k]!;
              q8[h * n + dst + k] = quantiseProb(p);
              mean[l * n + dst + k] += p / NH;
            }
          }
        }
      }
    }
  } finally {
    backend.dispose();
  }
  const rollout = attentionRollout(mean, L, T);
  const lensPositions = chooseLensPositions(T, (L + 1) * c.vocabSize * C, req.lensBudget ?? 1e9);
  const lens = logitLens(model, hidden, T, lensPositions, LENS_K, Math.min(FINAL_N, c.vocabSize));
  const bytes = Array.from(ids, (id) => tokenBytes(tokenizer, id));
  const { pieces, ranges, text } = tokenText(bytes);
  const vocabPieces: Record<number, string> = {};
  for (const id of [...lens.ids, ...lens.finalIds]) vocabPieces[id] ??= tokenText([tokenBytes(tokenizer, id)]).pieces[0]!;
  return {
    version: FORMAT_VERSION,
    model: {
      family: c.family,
      modelType: c.modelType,
      nLayer: L,
      nHead: NH,
      nKvHead: c.nKvHead,
      headDim: c.headDim,
      hidden: C,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      positions: c.positions,
    },
    T,
    promptLength,
    ids,
    pieces,
    ranges,
    text,
    segments: validSegments([...(req.segments ?? []), ...locateSpans(req.spans ?? [], text)], text.length),
    attention,
    meanHeads: quantiseAll(mean),
    rollout: quantiseAll(rollout),
    lensPositions,
    lensK: lens.K,
    lensIds: lens.ids,
    lensProbs: lens.probs,
    finalN: lens.N,
    finalIds: lens.finalIds,
    finalLogits: lens.finalLogits,
    vocabPieces,
    positions: positionInfo(model, mean, T),
  };
}

function requestIds(req: InspectInput, tokenizer: Tokenizer | null, V: number, maxPositions: number): Int32Array {
  let ids: number[];
  if (req.ids !== undefined) ids = req.ids;
  else if (typeof req.text === 'string') {
    if (!tokenizer) throw new InspectError('inspect: this model carries no tokenizer, so text cannot be tokenized; pass token ids or an encoding.');
    const least = tokenizer.minTokens(req.text);
    if (least > maxPositions) throw new InspectError(`inspect: the text is at least ${least} tokens, more than the model's context of ${maxPositions}; select less text.`);
    ids = tokenizer.encode(req.text);
  } else throw new InspectError('inspect: give token ids or text to inspect.');
  if (ids.length === 0) throw new InspectError('inspect: nothing to inspect (no tokens); select some code first.');
  if (ids.length > maxPositions) {
    throw new InspectError(`inspect: ${ids.length} tokens are more than the model's context of ${maxPositions}; select less text.`);
  }
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new InspectError(`inspect: token id ${id} is outside the model's vocabulary (0..${V - 1}).`);
  }
  return Int32Array.from(ids);
}

const utf8 = new TextEncoder();

/** A token's bytes; a model without a tokenizer (or an id the tokenizer lacks) shows its id. */
function tokenBytes(tokenizer: Tokenizer | null, id: number): Uint8Array {
  if (tokenizer && id < tokenizer.vocabSize) return tokenizer.tokenBytes(id);
  return utf8.encode(`#${id} `);
}

function validSegments(segments: SourceSegment[], textLength: number): SourceSegment[] {
  return segments.filter(
    (s) => Number.isInteger(s.textStart) && Number.isInteger(s.length) && Number.isInteger(s.docOffset) && s.textStart >= 0 && s.length > 0 && s.docOffset >= 0 && s.textStart + s.length <= textLength,
  );
}

/** Segments for the spans found in the decoded text; a span that is not there is skipped. */
export function locateSpans(spans: readonly { text: string; docOffset: number }[], text: string): SourceSegment[] {
  const out: SourceSegment[] = [];
  for (const s of spans) {
    if (typeof s.text !== 'string' || s.text.length === 0) continue;
    const at = text.lastIndexOf(s.text);
    if (at >= 0) out.push({ textStart: at, length: s.text.length, docOffset: s.docOffset });
  }
  return out;
}

function quantiseAll(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantiseProb(values[i]!);
  return out;
}
