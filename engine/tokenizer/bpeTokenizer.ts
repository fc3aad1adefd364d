// Byte-pair encoding of plain text through @huggingface/tokenizers (the pure-JS tokenizers of
// transformers.js): its normalizers, pre-tokenizers (with its translation of the Oniguruma
// split patterns of tokenizer.json to JavaScript) and its BPE model. A tokenizer.json is read
// as is; a GGUF vocabulary is first written as the same structure (ggufTokenizer.ts), so both
// sources run one encoder.
//
// Only the library's pipeline pieces are used, not its Tokenizer.encode: added tokens are cut
// out by VocabTokenizer (the library would also cut special tokens out of untrusted text), and
// its encode spent seconds on bookkeeping for 100k-character inputs that the pieces encode in
// a fraction of that. The library's BPE merges with a heap (n log n in the length of a piece),
// so unlike gpt-tokenizer's encodings no long run needs cutting, and the ids stay those of
// transformers and llama.cpp for any input. Like both of them, it drops a byte the vocabulary
// has no piece for (StarCoder has none for 0xF1-0xF4, the lead bytes of characters above
// U+40000; DeepSeek-Coder none for bytes UTF-8 never uses), so such text does not round-trip.

import { Tokenizer as HfPipeline } from '@huggingface/tokenizers';
import { TokenizerError } from './tokenizer';
import { VocabTokenizer, type VocabInit } from './vocabTokenizer';

/** A tokenizer.json "model" of type BPE. */
export interface BpeModelJson {
  type: 'BPE';
  vocab: Record<string, number>;
  /** "a b" strings, or [a, b] pairs (tokenizers 0.20 and later), in rank order. */
  merges: readonly (string | readonly [string, string])[];
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  unk_token?: string | null;
  [key: string]: unknown;
}

/** The pipeline of a tokenizer.json: what turns plain text into BPE pieces. */
export interface BpePipelineJson {
  normalizer: unknown;
  pre_tokenizer: unknown;
  model: BpeModelJson;
}

type PreTokenize = (text: string, options: { section_index: number }) => string[];

export class BpeTokenizer extends VocabTokenizer {
  readonly addsSpacePrefix: boolean;
  private readonly normalize: ((text: string) => string) | null;
  private readonly preTokenize: PreTokenize | null;
  private readonly merge: (words: string[]) => string[];
  private readonly ids: Map<string, number>;

  constructor(init: VocabInit & { pipeline: BpePipelineJson; addsSpacePrefix: boolean }) {
    super(init);
    this.addsSpacePrefix = init.addsSpacePrefix;
    let lib: HfPipeline;
    try {
      lib = new HfPipeline({ normalizer: init.pipeline.normalizer ?? null, pre_tokenizer: init.pipeline.pre_tokenizer ?? null, model: init.pipeline.model, post_processor: null, decoder: null, added_tokens: [] }, {});
    } catch (e) {
      throw new TokenizerError(`${init.name}: the tokenizer cannot be built (${libraryError(e)}). Download the model's tokenizer.json again: Limelight reads tokenizer.json files with @huggingface/tokenizers 0.2, and this one may use a part it does not support.`);
    }
    this.normalize = lib.normalizer;
    this.preTokenize = lib.pre_tokenizer as PreTokenize | null;
    const model = lib.model;
    if (model === null) throw new TokenizerError(`${init.name}: the tokenizer has no model; download the model's tokenizer.json again.`);
    this.merge = model;
    this.ids = model.tokens_to_ids;
  }

  protected encodeText(text: string, sectionIndex: number, out: number[]): void {
    let pieces: string[];
    try {
      const normal = this.normalize ? this.normalize(text) : text;
      const words = this.preTokenize ? this.preTokenize(normal, { section_index: sectionIndex }) : [normal];
      pieces = this.merge(words);
    } catch (e) {
      // A part of the pipeline with fields of the wrong type fails only when it runs.
      throw new TokenizerError(`${this.name}: the tokenizer's pipeline fails on this text (${libraryError(e)}); download the model's tokenizer.json again.`);
    }
    for (const piece of pieces) {
      const id = this.ids.get(piece);
      // The library keeps pieces of its vocabulary and the unk_token, which a damaged file may leave out of it.
      if (id === undefined) throw new TokenizerError(`${this.name}: the piece ${JSON.stringify(String(piece).slice(0, 40))} is not in the vocabulary; download the model's tokenizer.json again.`);
      out.push(id);
    }
  }
}

/** The library's complaint for a message: its own errors as they are, a JavaScript failure (a field of the wrong type) without internals. */
function libraryError(e: unknown): string {
  if (e instanceof RangeError) return 'a part is nested too deeply or too large';
  if (e instanceof TypeError || !(e instanceof Error)) return 'a part has a field of the wrong type';
  return e.message.length > 200 ? `${e.message.slice(0, 200)}...` : e.message;
}
