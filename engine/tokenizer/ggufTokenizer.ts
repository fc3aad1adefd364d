// The vocabulary inside a GGUF file, from its metadata (tokenizer.ggml.*), given as a plain map
// of key to value (strings, numbers, bigints, booleans, arrays or typed arrays) so this module
// does not depend on the GGUF reader.
//
//   tokenizer.ggml.model = "gpt2"   byte-level BPE (Qwen, Llama 3, DeepSeek-Coder, StarCoder):
//       tokens (the pieces, by id), token_type, merges ("a b", in rank order) and pre, the name
//       of the pre-tokenizer. The vocabulary is written as a tokenizer.json pipeline (the split
//       patterns llama.cpp uses for that name, each isolating its matches as in llama.cpp's
//       unicode_regex_split, then the byte-level mapping) and runs through BpeTokenizer, the
//       encoder a tokenizer.json folder uses.
//   tokenizer.ggml.model = "llama"  SentencePiece pieces with scores (Llama 2, CodeLlama): SpmTokenizer.
//
// Defaults are llama.cpp's (llama-vocab.cpp): BOS is added for "llama" vocabularies and the
// Llama 3 pre-tokenizers unless tokenizer.ggml.add_bos_token says otherwise; "llama" BOS, EOS
// and unknown default to ids 1, 2 and 0; a "gpt2" file without pre uses "default".

import { BpeTokenizer, type BpePipelineJson } from './bpeTokenizer';
import { SpmTokenizer } from './spmTokenizer';
import { TokenizerError, type Tokenizer } from './tokenizer';
import { TokenType, checkSize, type DeclaredSpecials, type TokenizerLoadOptions } from './vocabTokenizer';

/** GGUF metadata: a Map (what a GGUF reader returns, converted) or a plain object. */
export type GgufMetadata = ReadonlyMap<string, unknown> | Readonly<Record<string, unknown>>;

// Split patterns by tokenizer.ggml.pre (llama.cpp's llm_tokenizer_bpe). Each pattern in a list
// isolates its matches within the pieces the previous one left, the text between matches
// staying pieces of its own.
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
/** Llama 3: contractions in either case, a letter run with one leading non-letter, digits in threes, newlines grouped. */
const LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** Qwen2 is Llama 3's pattern with single digits. */
const QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** Qwen3.5 also keeps combining marks with letters. */
const QWEN35 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

interface PreTokenizerRule {
  patterns: readonly string[];
  /** A piece that is itself a token is taken whole, without merging (Llama 3). */
  ignoreMerges?: boolean;
  /** BOS is added unless the file says otherwise. */
  addBos?: boolean;
}

const LLAMA3_RULE: PreTokenizerRule = { patterns: [LLAMA3], ignoreMerges: true, addBos: true };
const GPT2_RULE: PreTokenizerRule = { patterns: [GPT2] };
const STARCODER_RULE: PreTokenizerRule = { patterns: ['\\p{N}', GPT2] };
const QWEN2_RULE: PreTokenizerRule = { patterns: [QWEN2] };

export const GGUF_PRE_TOKENIZERS: Readonly<Record<string, PreTokenizerRule>> = {
  default: { patterns: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  'gpt-2': GPT2_RULE,
  'phi-2': GPT2_RULE,
  mpt: GPT2_RULE,
  olmo: GPT2_RULE,
  'llama-bpe': LLAMA3_RULE,
  llama3: LLAMA3_RULE,
  'llama-v3': LLAMA3_RULE,
  qwen2: QWEN2_RULE,
  'deepseek-r1-qwen': QWEN2_RULE,
  stablelm2: QWEN2_RULE,
  qwen35: { patterns: [QWEN35] },
  'deepseek-coder': { patterns: ['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
  starcoder: STARCODER_RULE,
  refact: STARCODER_RULE,
  smollm: STARCODER_RULE,
  codeshell: STARCODER_RULE,
};

function get(meta: GgufMetadata, key: string): unknown {
  return meta instanceof Map ? meta.get(key) : (meta as Readonly<Record<string, unknown>>)[key];
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** Reads one GGUF key with its expected type; a missing key is undefined, a wrong type an error. */
class MetaReader {
  constructor(
    private readonly meta: GgufMetadata,
    private readonly path: string,
  ) {}

  private bad(key: string, want: string): TokenizerError {
    const v = get(this.meta, key);
    const got = isArrayLike(v) ? `an array of ${v.length}` : typeof v;
    return new TokenizerError(`${this.path}: the GGUF key ${key} should be ${want}, not ${got}. The file is damaged or was written by an unknown converter.`);
  }

  string(key: string): string | undefined {
    const v = get(this.meta, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.bad(key, 'a string');
    return v;
  }

  int(key: string): number | undefined {
    const v = get(this.meta, key);
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw this.bad(key, 'an integer');
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = get(this.meta, key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if ((typeof v === 'number' || typeof v === 'bigint') && (Number(v) === 0 || Number(v) === 1)) return Number(v) === 1;
    throw this.bad(key, 'a boolean');
  }

  strings(key: string): readonly string[] | undefined {
    const v = get(this.meta, key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || (v.length > 0 && typeof v[0] !== 'string')) throw this.bad(key, 'an array of strings');
    return v as string[];
  }

  numbers(key: string): ArrayLike<number> | undefined {
    const v = get(this.meta, key);
    if (v === undefined) return undefined;
    if (!isArrayLike(v)) throw this.bad(key, 'an array of numbers');
    if (v.length > 0 && typeof v[0] === 'bigint') return Array.from(v as ArrayLike<bigint>, Number);
    if (v.length > 0 && typeof v[0] !== 'number') throw this.bad(key, 'an array of numbers');
    return v as ArrayLike<number>;
  }
}

/**
 * The tokenizer a GGUF file carries. `path` names the file in errors; opts.modelVocabSize is the
 * model's embedding rows (a vocabulary with more ids is refused).
 */
export function tokenizerFromGgufMetadata(meta: GgufMetadata, path: string, opts: TokenizerLoadOptions): Tokenizer {
  const r = new MetaReader(meta, path);
  const model = r.string('tokenizer.ggml.model');
  if (model === undefined) throw new TokenizerError(`${path} has no tokenizer.ggml.model: the GGUF file carries no vocabulary. Use a GGUF converted with its tokenizer (llama.cpp's convert_hf_to_gguf.py), or the model's Hugging Face folder.`);
  if (model !== 'gpt2' && model !== 'llama') {
    throw new TokenizerError(`${path}: the GGUF vocabulary type is ${JSON.stringify(model)}; Limelight runs "gpt2" (byte-level BPE: Qwen, Llama 3, DeepSeek-Coder, StarCoder) and "llama" (SentencePiece: Llama 2, CodeLlama) vocabularies.`);
  }
  const pieces = r.strings('tokenizer.ggml.tokens');
  if (pieces === undefined || pieces.length === 0) throw new TokenizerError(`${path} has no tokenizer.ggml.tokens: the GGUF file's vocabulary is missing.`);
  const n = pieces.length;
  checkSize(path, n, opts);

  const types = new Uint8Array(n).fill(TokenType.normal);
  const fileTypes = r.numbers('tokenizer.ggml.token_type');
  if (fileTypes !== undefined) {
    if (fileTypes.length < n) throw new TokenizerError(`${path}: tokenizer.ggml.token_type has ${fileTypes.length} entries for ${n} tokens.`);
    for (let id = 0; id < n; id++) {
      const t = fileTypes[id]!;
      types[id] = t >= TokenType.normal && t <= TokenType.byte ? t : TokenType.normal;
      // Older converters typed the filler of a padded vocabulary user-defined; it is unused.
      if (t === TokenType.userDefined && /^\[PAD\d+\]$/.test(pieces[id]!)) types[id] = TokenType.unused;
    }
  }

  const id = (key: string): number | null | undefined => {
    const v = r.int(key);
    return v === undefined ? undefined : v >= 0 && v < n ? v : null;
  };
  const declared: DeclaredSpecials = {
    bos: id('tokenizer.ggml.bos_token_id'),
    eos: id('tokenizer.ggml.eos_token_id'),
    eot: id('tokenizer.ggml.eot_token_id'),
    eom: id('tokenizer.ggml.eom_token_id'),
    fimPrefix: id('tokenizer.ggml.fim_pre_token_id') ?? id('tokenizer.ggml.prefix_token_id'),
    fimSuffix: id('tokenizer.ggml.fim_suf_token_id') ?? id('tokenizer.ggml.suffix_token_id'),
    fimMiddle: id('tokenizer.ggml.fim_mid_token_id') ?? id('tokenizer.ggml.middle_token_id'),
    fimPad: id('tokenizer.ggml.fim_pad_token_id'),
    fimRepo: id('tokenizer.ggml.fim_rep_token_id'),
    fimSep: id('tokenizer.ggml.fim_sep_token_id'),
  };
  const addBos = r.bool('tokenizer.ggml.add_bos_token');
  const addEos = r.bool('tokenizer.ggml.add_eos_token') ?? false;
  const base = { name: path, pieces, types, declared, addEos };

  if (model === 'llama') {
    const scores = r.numbers('tokenizer.ggml.scores') ?? new Float32Array(n);
    if (scores.length < n) throw new TokenizerError(`${path}: tokenizer.ggml.scores has ${scores.length} entries for ${n} tokens.`);
    // llama.cpp's SentencePiece defaults: <unk> 0, <s> 1, </s> 2.
    if (declared.bos === undefined) declared.bos = n > 1 ? 1 : null;
    if (declared.eos === undefined) declared.eos = n > 2 ? 2 : null;
    return new SpmTokenizer({ ...base, style: 'sentencePiece', addBos: addBos ?? true, scores, addsSpacePrefix: r.bool('tokenizer.ggml.add_space_prefix') ?? true });
  }

  const pre = r.string('tokenizer.ggml.pre') ?? 'default';
  const rule = GGUF_PRE_TOKENIZERS[pre];
  if (rule === undefined) {
    throw new TokenizerError(`${path}: the pre-tokenizer ${JSON.stringify(pre)} (tokenizer.ggml.pre) is not supported; Limelight knows ${Object.keys(GGUF_PRE_TOKENIZERS).join(', ')}.`);
  }
  const mergeList = r.strings('tokenizer.ggml.merges');
  if (mergeList === undefined) throw new TokenizerError(`${path} has no tokenizer.ggml.merges: a "gpt2" vocabulary needs its merges. Convert the model again with llama.cpp's convert_hf_to_gguf.py.`);
  return new BpeTokenizer({ ...base, style: 'byteLevel', addBos: addBos ?? rule.addBos ?? false, addsSpacePrefix: false, pipeline: bpePipeline(pieces, types, mergeList, rule) });
}

/** The GGUF vocabulary written as tokenizer.json's normalizer, pre-tokenizer and BPE model. */
function bpePipeline(pieces: readonly string[], types: Uint8Array, mergeList: readonly string[], rule: PreTokenizerRule): BpePipelineJson {
  const vocab: Record<string, number> = Object.create(null);
  for (let id = 0; id < pieces.length; id++) {
    if (types[id] === TokenType.normal || types[id] === TokenType.byte) vocab[pieces[id]!] = id;
  }
  // "a b": the first space at index 1 or later separates the two pieces (llama.cpp reads them so).
  const merges: [string, string][] = new Array(mergeList.length);
  for (let i = 0; i < mergeList.length; i++) {
    const m = mergeList[i]!;
    const cut = m.indexOf(' ', 1);
    merges[i] = cut < 0 ? ['', ''] : [m.slice(0, cut), m.slice(cut + 1)];
  }
  return {
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        ...rule.patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })),
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    model: { type: 'BPE', vocab, merges, ignore_merges: rule.ignoreMerges === true, byte_fallback: false, unk_token: null },
  };
}
