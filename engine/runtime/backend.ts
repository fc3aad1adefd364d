// The one interface every backend implements (js: own kernels; ort: onnxruntime-node).
// The generator, the worker and the CLI drive a backend only through this, so sampling,
// prefix reuse and cancellation work unchanged whichever backend runs the model.
import type { ModelConfig } from '../model/config';
import type { KvSnapshot } from './kvSnapshot';

/** 'js': Limelight's WASM kernels (FastBackend); 'reference': the plain TypeScript forward pass the tests, the inspector and training's evaluation run; the ort ones: onnxruntime; 'ort-cpu+js': each phase on the faster of the two (runtime/phaseSplit.ts). */
export type BackendName = 'js' | 'reference' | 'ort-cpu' | 'ort-webgpu' | 'ort-cpu+js';

export interface ForwardOptions {
  /** Return logits for every input position (T, V) instead of the last one only (1, V). */
  allLogits?: boolean;
  /** Capture attention probabilities of these positions (JS backend; costs nothing when off). */
  captureAttention?: boolean;
}

export interface ForwardResult {
  /** (T, V) when allLogits, else (1, V): logits of the last input position. */
  logits: Float32Array;
  /** With captureAttention: (L, NH, T, pos + T) softmax probabilities of the T new queries over every key so far. */
  attention?: Float32Array;
}

export interface InferenceBackend {
  readonly name: BackendName;
  readonly config: ModelConfig;
  /** Positions the KV cache can hold; forward() past it throws a ContextOverflowError. */
  readonly contextLength: number;
  /**
   * Runs `tokens` at positions [pos, pos + T). The KV cache must already hold positions
   * [0, pos) for this sequence (entries at pos and beyond are overwritten), so a caller reuses
   * a cached prefix by passing its length as pos.
   */
  forward(tokens: Int32Array, pos: number, opts?: ForwardOptions): Promise<ForwardResult>;
  /** Frees the KV cache (and any native resources); the weights stay loaded. */
  releaseCache(): void;
  /** Copies positions [0, n) of the KV cache out (backends that can; see generate/promptCache.ts). */
  saveCache?(n: number): KvSnapshot;
  /** Puts a snapshot back: the cache then holds its positions (and nothing after them). */
  restoreCache?(s: KvSnapshot): void;
  /** A backend that runs each call on one of several engines (runtime/phaseSplit.ts): which ran what since the last call, in words; the count starts again. */
  takeEngineUse?(): string;
  dispose(): void;
}

export class ContextOverflowError extends Error {
  override name = 'ContextOverflowError';
  constructor(
    readonly needed: number,
    readonly capacity: number,
  ) {
    super(`The prompt needs ${needed} positions but the model's context holds ${capacity}. Shorten the prompt or lower the prefix/suffix token settings.`);
  }
}

/**
 * The checks every backend makes before touching its cache: tokens given, `pos` within what
 * the cache holds, the context not overflowed, every id inside the vocabulary.
 */
export function checkForwardInputs(tokens: Int32Array, pos: number, filled: number, contextLength: number, vocabSize: number): void {
  const T = tokens.length;
  if (T === 0) throw new Error('forward: no tokens given');
  if (!Number.isInteger(pos) || pos < 0 || pos > filled) {
    throw new Error(`forward: position ${pos} is not in the cache (it holds ${filled} positions); pass pos <= ${filled}`);
  }
  if (pos + T > contextLength) throw new ContextOverflowError(pos + T, contextLength);
  for (let t = 0; t < T; t++) {
    const id = tokens[t]!;
    if (!(id >= 0 && id < vocabSize)) throw new RangeError(`forward: token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
  }
}
