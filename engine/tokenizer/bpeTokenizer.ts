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
      throw new TokenizerError(`${init.name}: the tokenizer cannot be built: ${e instanceof Error ? e.message : String(e)}. Limelight reads tokenizer.json files with @huggingface/tokenizers 0.2; this one uses a part it does not support.`);
    }
    this.normalize = lib.normalizer;
    this.preTokenize = lib.pre_tokenizer as PreTokenize | null;
    const model = lib.model;
    if (model === null) throw new TokenizerError(`${init.name}: the tokenizer has no model.`);
    this.merge = model;
    this.ids = model.tokens_to_ids;
  }

  protected encodeText(text: string, sectionIndex: number, out: number[]): void {
    const normal = this.normalize ? this.normalize(text) : text;
    const words = this.preTokenize ? this.preTokenize(normal, { section_index: sectionIndex }) : [normal];
    for (const piece of this.merge(words)) {
      const id = this.ids.get(piece);
      // The library keeps only pieces of its vocabulary; this guards against a change of that.
      if (id === undefined) throw new TokenizerError(`${this.name}: the piece ${JSON.stringify(piece)} is not in the vocabulary.`);
      out.push(id);
    }
  }
}
