// The Tokenizer interface every model's vocabulary sits behind, and its first implementation:
// byte-pair encodings from gpt-tokenizer (EncodingTokenizer).
//   r50k_base  GPT-2's vocabulary (50257 ids, <|endoftext|> = 50256)
//   p50k_base  r50k plus tokens for runs of 2..25 spaces, which code is full of
//   p50k_edit  p50k_base plus the fill-in-the-middle tokens (the starter model's encoding)
// Real models' vocabularies (tokenizer.json, the vocabulary inside a GGUF file) implement the
// same interface in vocabTokenizer.ts and its subclasses; hfTokenizer.ts and ggufTokenizer.ts
// build them.
// Text from users and files is always encoded with special tokens as plain text, so a file
// that contains "<|endoftext|>" cannot end a prompt or forge a FIM marker; special ids are
// only produced by encodeWithSpecials, which names the tokens it allows.
// Decoding works on each token's bytes (a token may hold part of a UTF-8 character), with a
// TextDecoder owned by the call or the stream: gpt-tokenizer's own decode shares one
// streaming TextDecoder across calls, so a split character would leak into the next call.

import { GptEncoding } from 'gpt-tokenizer/GptEncoding';

export const SUPPORTED_ENCODINGS = ['r50k_base', 'p50k_base', 'p50k_edit'] as const;
export type EncodingName = (typeof SUPPORTED_ENCODINGS)[number];

export const EOT_TEXT = '<|endoftext|>';
export const FIM_PREFIX_TEXT = '<|fim_prefix|>';
export const FIM_MIDDLE_TEXT = '<|fim_middle|>';
export const FIM_SUFFIX_TEXT = '<|fim_suffix|>';

/** An error whose message says what was wrong and what to do about it. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** The special tokens prompts are built from; null where a vocabulary has none. */
export interface SpecialTokenIds {
  /**
   * End of text: the token a document ends with in training data, so it separates documents and
   * ends a fill-in-the-middle answer (<|endoftext|> in GPT-2, Qwen and StarCoder,
   * <|end_of_text|> in Llama 3, the end-of-sentence token in Llama 2 and DeepSeek-Coder).
   */
  eot: number | null;
  /** FIM markers; null when the vocabulary has none (r50k_base, p50k_base, Llama 3). */
  fimPrefix: number | null;
  fimMiddle: number | null;
  fimSuffix: number | null;
  /** Repository-level FIM tokens (Qwen2.5-Coder: <|fim_pad|>, <|repo_name|>, <|file_sep|>). */
  fimPad: number | null;
  fimRepo: number | null;
  fimSep: number | null;
}

/** The special ids of a gpt-tokenizer encoding: every encoding has <|endoftext|>. */
export interface EncodingSpecialIds extends SpecialTokenIds {
  eot: number;
}

/**
 * A model's vocabulary: text to ids and back. Implementations: EncodingTokenizer (gpt-tokenizer
 * encodings), BpeTokenizer (tokenizer.json, GGUF byte-level BPE), SpmTokenizer (GGUF
 * SentencePiece vocabularies). No method adds BOS or EOS: a caller that starts a sequence puts
 * bosId first when addsBos is set.
 */
export interface Tokenizer {
  /** What the vocabulary is, for messages: an encoding name or the file it came from. */
  readonly name: string;
  /**
   * One more than the largest id tokenBytes accepts. The factories pad a vocabulary to the model's
   * embedding rows with unused ids that decode to nothing, so any id the model samples decodes.
   */
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  /** Beginning of sequence, null when the vocabulary has none. */
  readonly bosId: number | null;
  /** Whether the model expects bosId at the start of every sequence (Llama 2 and 3: yes; Qwen: no). */
  readonly addsBos: boolean;
  /** Whether the model expects its end-of-sequence token (eosIds[0]) after every sequence. */
  readonly addsEos: boolean;
  /** Tokens that end a generation: the declared end of sequence first, then end of turn, FIM pad... ascending. */
  readonly eosIds: readonly number[];
  /**
   * Whether encode puts a space before each piece of text (SentencePiece vocabularies: Llama 2,
   * CodeLlama): decode(encode(s)) is then " " + s.
   */
  readonly addsSpacePrefix: boolean;
  /** Encodes untrusted text: special-token strings in it are encoded as ordinary text. */
  encode(text: string): number[];
  /**
   * Encodes a trusted template in which the listed special-token strings (for example
   * "<|fim_prefix|>") become their special ids; any other special-token string stays text.
   */
  encodeWithSpecials(text: string, allowed: readonly string[]): number[];
  /** Encodes text in which every special-token string becomes its id (llama.cpp's parse_special, transformers' default). */
  encodeParsingSpecials(text: string): number[];
  /** A lower bound on encode(text).length that costs no encoding, to refuse huge inputs at once. */
  minTokens(text: string): number;
  /** The id of a special or added token given its text ("<|fim_prefix|>"), null when there is none. */
  tokenId(text: string): number | null;
  /** Whether the id is a control token (BOS, EOS, FIM markers...) rather than text. */
  isSpecial(id: number): boolean;
  /** The bytes a token stands for (special tokens: their text). A shared array: do not modify. */
  tokenBytes(id: number): Uint8Array;
  /** A token for display: a special token's text, otherwise its bytes as text (U+FFFD for part of a character). */
  tokenText(id: number): string;
  /** Text of a token sequence; an incomplete UTF-8 character at the end becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** A decoder for generated tokens that only ever emits whole characters. */
  streamDecoder(): StreamDecoder;
}

type RankTable = (string | number[])[];

/**
 * Longest run of one pre-token class (letters, digits, other symbols, whitespace) encoded as one
 * piece. Byte-pair merging is quadratic in a pre-token's length (16,000 letters in a row took
 * seconds, 64,000 half a minute), and minified files, base64 and binary content hold such runs:
 * cutting them keeps a keystroke's prompt fast. Text without such a run encodes exactly as before.
 */
const MAX_RUN = 256;
const LONG_RUN = /\p{L}{257,}|\p{N}{257,}|[^\s\p{L}\p{N}]{257,}|\s{257,}/gu;

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function appendAll(out: number[], ids: readonly number[]): void {
  for (const id of ids) out.push(id);
}

// r50k_base's 50256 merges are p50k_base's first 50256 (p50k only appends the whitespace
// runs), so one table serves all three and bundles carry ~0.6 MB less.
const R50K_MERGES = 50256;
let p50kRanks: RankTable | undefined;

/**
 * An encoding's merges, the table loaded on first use: a process that runs a model with a
 * vocabulary of its own (a GGUF file, tokenizer.json) never holds it (13 MB resident once loaded).
 */
function ranksOf(encoding: EncodingName): RankTable {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when first needed, and getTokenizer is synchronous
  p50kRanks ??= (require('gpt-tokenizer/bpeRanks/p50k_base') as { default: RankTable }).default;
  return encoding === 'r50k_base' ? p50kRanks.slice(0, R50K_MERGES) : p50kRanks;
}

// The special tokens the engine uses; each encoding defines some of them.
const KNOWN_SPECIALS = [EOT_TEXT, FIM_PREFIX_TEXT, FIM_MIDDLE_TEXT, FIM_SUFFIX_TEXT];

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const utf8 = new TextEncoder();

/** Emits decoded text token by token, holding back bytes of a character not yet complete. */
export class StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly tokenizer: Pick<Tokenizer, 'tokenBytes'>) {}

  /** Text completed by this token ('' while a multi-byte character is still open). */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Ends the stream: bytes of an unfinished character come out as U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}

/** Concatenates the bytes of the tokens and decodes them as UTF-8 (U+FFFD for broken characters). */
export function decodeTokens(tokenizer: Pick<Tokenizer, 'tokenBytes'>, ids: ArrayLike<number>): string {
  let total = 0;
  for (let i = 0; i < ids.length; i++) total += tokenizer.tokenBytes(ids[i]).length;
  const all = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < ids.length; i++) {
    const b = tokenizer.tokenBytes(ids[i]);
    all.set(b, at);
    at += b.length;
  }
  return new TextDecoder('utf-8').decode(all);
}

/** A gpt-tokenizer encoding behind the Tokenizer interface (the starter model and GPT-2). */
export class EncodingTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: Readonly<EncodingSpecialIds>;
  readonly bosId: number;
  readonly addsBos = false;
  readonly addsEos = false;
  readonly eosIds: readonly number[];
  readonly addsSpacePrefix = false;
  private readonly api: GptEncoding;
  private readonly ranks: RankTable;
  private readonly specialText: Map<number, string>;
  private readonly specialIds: Map<string, number>;
  private readonly bytes: (Uint8Array | undefined)[];
  private longestTokenBytes = 0;

  constructor(readonly encoding: EncodingName) {
    this.ranks = ranksOf(encoding);
    this.api = GptEncoding.getEncodingApi(encoding, () => this.ranks);
    this.vocabSize = this.api.vocabularySize;
    this.specialIds = new Map();
    for (const s of KNOWN_SPECIALS) {
      // Allowed, a special token of this encoding encodes to its one id; any other string to several.
      const ids = this.api.encode(s, { allowedSpecial: new Set([s]), disallowedSpecial: new Set<string>() });
      if (ids.length === 1) this.specialIds.set(s, ids[0]);
    }
    this.specialText = new Map([...this.specialIds].map(([text, id]) => [id, text]));
    const id = (text: string): number | null => this.specialIds.get(text) ?? null;
    const eot = id(EOT_TEXT) as number;
    this.special = { eot, fimPrefix: id(FIM_PREFIX_TEXT), fimMiddle: id(FIM_MIDDLE_TEXT), fimSuffix: id(FIM_SUFFIX_TEXT), fimPad: null, fimRepo: null, fimSep: null };
    // GPT-2's config names <|endoftext|> as both BOS and EOS, and nothing adds it to a prompt.
    this.bosId = eot;
    this.eosIds = [eot];
    this.bytes = new Array(this.vocabSize);
  }

  get name(): string {
    return this.encoding;
  }

  /** Encodes untrusted text: special-token strings in it are encoded as ordinary text. */
  encode(text: string): number[] {
    if (text.length <= MAX_RUN) return this.api.encode(text, PLAIN_TEXT);
    // Runs longer than MAX_RUN of one character class are cut into MAX_RUN pieces, each encoded alone.
    const out: number[] = [];
    let last = 0;
    for (const m of text.matchAll(LONG_RUN)) {
      const end = m.index + m[0].length;
      for (let cut = m.index + MAX_RUN; cut < end; cut += MAX_RUN) {
        if (isLowSurrogate(text.charCodeAt(cut))) cut++; // never split a surrogate pair
        appendAll(out, this.api.encode(text.slice(last, cut), PLAIN_TEXT));
        last = cut;
      }
    }
    if (last === 0) return this.api.encode(text, PLAIN_TEXT);
    appendAll(out, this.api.encode(text.slice(last), PLAIN_TEXT));
    return out;
  }

  /**
   * Encodes a trusted template in which the listed special-token strings (for example
   * "<|fim_prefix|>") become their special ids; any other special-token string stays text.
   */
  encodeWithSpecials(text: string, allowed: readonly string[]): number[] {
    for (const s of allowed) {
      if (!this.specialIds.has(s)) {
        throw new TokenizerError(`${JSON.stringify(s)} is not a special token of ${this.encoding} (it has ${[...this.specialIds.keys()].join(', ')}).`);
      }
    }
    // Split here rather than pass allowedSpecial to gpt-tokenizer: its 4.0.0 special-token
    // search is anchored (sticky regex) and misses allowed tokens after the first stretch of text.
    const out: number[] = [];
    const append = (ids: number[]): void => {
      for (const id of ids) out.push(id);
    };
    let last = 0;
    if (allowed.length > 0) {
      const pattern = new RegExp(allowed.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
      for (const m of text.matchAll(pattern)) {
        if (m.index > last) append(this.encode(text.slice(last, m.index)));
        out.push(this.specialIds.get(m[0]) as number);
        last = m.index + m[0].length;
      }
    }
    if (last < text.length) append(this.encode(text.slice(last)));
    return out;
  }

  encodeParsingSpecials(text: string): number[] {
    return this.encodeWithSpecials(text, [...this.specialIds.keys()]);
  }

  tokenId(text: string): number | null {
    return this.specialIds.get(text) ?? null;
  }

  /**
   * A lower bound on encode(text).length that costs no encoding: encode never yields a special
   * token, no other token stands for more bytes than the vocabulary's longest, and a UTF-16
   * string never has more code units than UTF-8 bytes. Lets a request with megabytes of text be refused before it is tokenized.
   */
  minTokens(text: string): number {
    if (this.longestTokenBytes === 0) {
      for (const rank of this.ranks) {
        // The table has holes (ids that are special tokens or unused).
        const bytes = typeof rank === 'string' ? utf8.encode(rank).length : Array.isArray(rank) ? rank.length : 0;
        this.longestTokenBytes = Math.max(this.longestTokenBytes, bytes);
      }
    }
    return Math.ceil(text.length / this.longestTokenBytes);
  }

  isSpecial(id: number): boolean {
    return this.specialText.has(id);
  }

  /** The bytes a token stands for (special tokens: their text). A shared array: do not modify. */
  tokenBytes(id: number): Uint8Array {
    const cached = this.bytes[id];
    if (cached !== undefined) return cached;
    const rank = Number.isInteger(id) && id >= 0 ? this.ranks[id] : undefined;
    const text = this.specialText.get(id);
    let b: Uint8Array;
    if (typeof rank === 'string') b = utf8.encode(rank);
    else if (rank !== undefined) b = Uint8Array.from(rank);
    else if (text !== undefined) b = utf8.encode(text);
    else {
      throw new TokenizerError(`token id ${id} is not in ${this.encoding} (ids 0 to ${this.vocabSize - 1}). The model's vocabulary does not match this tokenizer; check the model's encoding.`);
    }
    this.bytes[id] = b;
    return b;
  }

  tokenText(id: number): string {
    return this.specialText.get(id) ?? new TextDecoder('utf-8').decode(this.tokenBytes(id));
  }

  /** Text of a token sequence; an incomplete UTF-8 character at the end becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return decodeTokens(this, ids);
  }

  /** A decoder for generated tokens that only ever emits whole characters. */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }
}

const cache = new Map<EncodingName, EncodingTokenizer>();

export function isEncodingName(name: string): name is EncodingName {
  return (SUPPORTED_ENCODINGS as readonly string[]).includes(name);
}

/** The tokenizer of an encoding, built once per process (building one takes tens of ms). */
export function getTokenizer(name: string): EncodingTokenizer {
  if (!isEncodingName(name)) {
    throw new TokenizerError(`unknown tokenizer encoding ${JSON.stringify(name)}. Supported: ${SUPPORTED_ENCODINGS.join(', ')} (GPT-2 checkpoints use r50k_base).`);
  }
  let t = cache.get(name);
  if (t === undefined) {
    t = new EncodingTokenizer(name);
    cache.set(name, t);
  }
  return t;
}
