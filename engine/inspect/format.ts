// The inspector's data format, shared by the engine (which builds it) and the webview (which
// draws it). Attention is causal, so only the lower triangle of each (T, T) matrix is kept:
// row q holds keys 0..q at offset q (q + 1) / 2. Probabilities are stored as one byte on a
// square-root scale (p = (b / 255)^2), which keeps the small weights of long rows visible
// (1/1024 is byte 8, not 0) at a quarter of the size of float32.
//
// Letter legend: L layers, NH heads, T tokens, K top-k, N top-N, P positions.

export const FORMAT_VERSION = 1;

/** Floats in the lower triangle (diagonal included) of a (T, T) matrix. */
export function triSize(T: number): number {
  return (T * (T + 1)) / 2;
}

/** Offset of row q in a lower-triangle array. */
export function triRow(q: number): number {
  return (q * (q + 1)) / 2;
}

export function quantiseProb(p: number): number {
  if (!(p > 0)) return 0;
  if (p >= 1) return 255;
  return Math.round(Math.sqrt(p) * 255);
}

/** Byte -> probability. */
export const DEQUANT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = (b / 255) * (b / 255);
  return t;
})();

export interface InspectedModel {
  /** The model family: gpt2, llama, qwen2, starcoder2. */
  family: string;
  modelType: string;
  nLayer: number; // L
  nHead: number; // NH
  nKvHead: number;
  headDim: number;
  hidden: number;
  vocabSize: number;
  maxPositions: number;
  positions: 'learned' | 'rope';
}

/** How the model encodes order, for the position view. */
export interface PositionInfo {
  kind: 'learned' | 'rope';
  /** Learned: (P, P) cosine similarity of the first P position embeddings. */
  similarity: Float32Array | null;
  P: number;
  /** RoPE: (HD / 2) rotation frequencies in radians per position, fastest first. */
  frequencies: Float32Array | null;
  /** RoPE: for d = 0, 1, ...: mean over frequency pairs of cos(d * freq): how a query and key that match
   * perfectly still score less the further apart they are (RoFormer's long-term decay). */
  ropeDecay: Float32Array | null;
  /** (L, D) measured: mean attention weight a query gives to the key d positions back,
   * averaged over heads and over queries that have such a key. */
  byDistance: Float32Array;
  D: number;
}

/** A span of the decoded token text that came from a document, for editor highlighting. */
export interface SourceSegment {
  /** Offset in the decoded text of all tokens. */
  textStart: number;
  length: number;
  /** Offset in the document where that span begins. */
  docOffset: number;
}

/** Everything the inspector shows, from one forward pass. */
export interface Inspection {
  version: number;
  model: InspectedModel;
  T: number;
  /** Tokens [0, promptLength) are the prompt; the rest were generated. */
  promptLength: number;
  ids: Int32Array; // (T)
  /** Display text of each token (special tokens by name, partial UTF-8 bytes as \xNN). */
  pieces: string[]; // (T)
  /** (T, 2) [start, end) of each token in `text`, in UTF-16 code units. */
  ranges: Int32Array;
  /** The decoded text of all tokens. */
  text: string;
  segments: SourceSegment[];
  /** Per layer: (NH, triSize(T)) quantised attention probabilities. */
  attention: Uint8Array[];
  /** (L, triSize(T)) quantised mean over heads. */
  meanHeads: Uint8Array;
  /** (L, triSize(T)) quantised attention rollout through layers 0..l. */
  rollout: Uint8Array;
  /** Positions that have a logit lens, ascending. */
  lensPositions: Int32Array; // (P)
  lensK: number; // K
  /** (P, L + 1, K) top-k next-token ids read out of the residual stream: row 0 is the
   * embedding, row l the output of layer l (row L is the model's own prediction). */
  lensIds: Int32Array;
  lensProbs: Float32Array; // (P, L + 1, K)
  finalN: number; // N
  /** (P, N) the final layer's top-N ids and raw logits, so a temperature can be re-applied. */
  finalIds: Int32Array;
  finalLogits: Float32Array;
  /** Display text of every id in lensIds / finalIds. */
  vocabPieces: Record<number, string>;
  positions: PositionInfo;
}

/** A typed array as JSON: its bytes in base64 (little-endian, as every platform we run on). */
export interface PackedArray {
  dtype: 'f32' | 'i32' | 'u8';
  length: number;
  b64: string;
}

/** T with every typed array replaced by a PackedArray. */
export type Packed<T> = T extends Float32Array | Int32Array | Uint8Array
  ? PackedArray
  : T extends (infer U)[]
    ? Packed<U>[]
    : T extends object
      ? { [K in keyof T]: Packed<T[K]> }
      : T;
