// What every real model's vocabulary shares, whatever its merge rule: token types, special and
// added tokens cut out of the text before encoding, the special ids a prompt needs, decoding.
// Subclasses only encode plain text (text with no added token in it):
//   BpeTokenizer  byte-level BPE and SentencePiece-style BPE (tokenizer.json, GGUF "gpt2")
//   SpmTokenizer  SentencePiece vocabularies merged by score (GGUF "llama": Llama 2, CodeLlama)
//
// Token types are GGUF's (tokenizer.ggml.token_type), and a tokenizer.json's added tokens are
// typed the way llama.cpp's convert_hf_to_gguf.py types them, so both sources behave alike:
//   control       special tokens (BOS, EOS, FIM markers, chat markers): never read from plain
//                 text, only from encodeWithSpecials / encodeParsingSpecials
//   user-defined  added tokens that are text ("<think>", DeepSeek-Coder's "õ"): cut out of any
//                 text, as llama.cpp and transformers do
// An added token that looks special (<|...|>, <｜...｜>) counts as control even when its file
// says otherwise: Qwen3's tokenizer.json marks <|fim_prefix|> "special": false and old GGUF
// conversions type DeepSeek-Coder's FIM markers user-defined, and a file the user is editing
// must never be able to forge a FIM marker.

import { decodeTokens, StreamDecoder, TokenizerError, type SpecialTokenIds, type Tokenizer } from './tokenizer';
import { vocabularyMarkers } from './fimMarkers';

/** GGUF token types (llama.cpp's LLAMA_TOKEN_TYPE_*); 0 marks an id with no token. */
export const TokenType = { none: 0, normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
export type TokenTypeId = (typeof TokenType)[keyof typeof TokenType];

/** How a vocabulary writes bytes in its token strings. */
export type PieceStyle =
  /** GPT-2's byte-to-character table: every byte is one printable character ("Ġ" is a space). */
  | 'byteLevel'
  /** SentencePiece: text as UTF-8 with "▁" for a space, other bytes as "<0xXX>" tokens. */
  | 'sentencePiece';

/** Special ids a model file declares (GGUF keys, tokenizer_config.json); each is checked against the vocabulary. */
export interface DeclaredSpecials {
  bos?: number | null;
  eos?: number | null;
  /** End of turn (GGUF tokenizer.ggml.eot_token_id: <|eot_id|>, <|im_end|>). */
  eot?: number | null;
  /** End of message (Llama 3.1 <|eom_id|>). */
  eom?: number | null;
  fimPrefix?: number | null;
  fimSuffix?: number | null;
  fimMiddle?: number | null;
  fimPad?: number | null;
  fimRepo?: number | null;
  fimSep?: number | null;
}

export interface TokenizerLoadOptions {
  /**
   * The model's vocabulary size (rows of its embedding). A tokenizer with more ids than that
   * belongs to another model and is refused; fewer is fine (the rest are padding rows).
   */
  modelVocabSize: number | null;
}

export function checkSize(source: string, size: number, opts: TokenizerLoadOptions): void {
  if (opts.modelVocabSize !== null && size > opts.modelVocabSize) {
    throw new TokenizerError(`${source}: the tokenizer has ${size} token ids but the model's embedding has ${opts.modelVocabSize} rows, so the tokenizer belongs to another model. Use the tokenizer that came with these weights.`);
  }
}

export interface VocabInit {
  /** The file the vocabulary came from, for messages. */
  name: string;
  /** Token strings by id, as the file writes them; undefined for an id without a token. */
  pieces: readonly (string | undefined)[];
  /** TokenType by id. */
  types: Uint8Array;
  style: PieceStyle;
  declared: DeclaredSpecials;
  addBos: boolean;
  addEos: boolean;
  /** Added tokens that swallow the whitespace before (lstrip) or after (rstrip) them (tokenizer.json). */
  strip?: ReadonlyMap<number, { lstrip: boolean; rstrip: boolean }>;
}

// The texts llama.cpp recognises special tokens by when a file does not name them (llama-vocab.cpp);
// the FIM markers come from the one table of them (fimMarkers.ts).
export const FIM_PREFIX_TEXTS = vocabularyMarkers('prefix');
export const FIM_SUFFIX_TEXTS = vocabularyMarkers('suffix');
export const FIM_MIDDLE_TEXTS = vocabularyMarkers('middle');
const FIM_PAD_TEXTS = ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>'];
const FIM_REPO_TEXTS = ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>', '<repo_name>'];
const FIM_SEP_TEXTS = ['<|file_sep|>', '<file_sep>'];
/** The token a document ends with; the declared EOS when none of these exists. */
const END_OF_TEXT_TEXTS = ['<|endoftext|>', '<|end_of_text|>', '<｜end▁of▁sentence｜>'];
/** Tokens that end a generation (llama.cpp's end-of-generation list, the ones code models use). */
const END_OF_GENERATION_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>', '_<EOT>', '<|end_of_text|>', '<｜end▁of▁sentence｜>', '<|EOT|>'];

/** convert_hf_to_gguf.py's does_token_look_special: added tokens typed control whatever the file says. */
export function looksSpecial(text: string): boolean {
  return (
    text === '<pad>' ||
    text === '<mask>' ||
    (text.startsWith('<|') && text.endsWith('|>')) ||
    (text.startsWith('<｜') && text.endsWith('｜>')) ||
    (text.startsWith('<unused') && text.endsWith('>'))
  );
}

// GPT-2's table: bytes that are printable stand for themselves, the others are shifted to 256 and up.
const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<number, number>();
{
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const c = printable ? b : 256 + n++;
    BYTE_TO_CHAR[b] = String.fromCharCode(c);
    CHAR_TO_BYTE.set(c, b);
  }
}
/** The character GPT-2's byte-level table writes a byte as. */
export function byteLevelChar(byte: number): string {
  return BYTE_TO_CHAR[byte]!;
}

/** SentencePiece's byte tokens: "<0x0A>". */
export const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
export const SPACE_MARK = '\u2581'; // ▁

const utf8 = new TextEncoder();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Text with the added tokens found in it: strings are text to encode, numbers are token ids. */
type Fragment = string | number;

export abstract class VocabTokenizer implements Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly special: Readonly<SpecialTokenIds>;
  readonly bosId: number | null;
  readonly addsBos: boolean;
  readonly addsEos: boolean;
  readonly eosIds: readonly number[];
  abstract readonly addsSpacePrefix: boolean;

  protected readonly pieces: readonly (string | undefined)[];
  protected readonly types: Uint8Array;
  protected readonly style: PieceStyle;
  /** Control, unknown and user-defined tokens by text (what tokenId and the cutters look up). */
  private readonly addedIds = new Map<string, number>();
  private readonly strip: ReadonlyMap<number, { lstrip: boolean; rstrip: boolean }>;
  private readonly cutters = new Map<string, RegExp | null>();
  private readonly bytes: (Uint8Array | undefined)[];
  private longestTokenBytes = 0;

  protected constructor(init: VocabInit) {
    this.name = init.name;
    this.pieces = init.pieces;
    this.types = Uint8Array.from(init.types);
    this.style = init.style;
    this.vocabSize = init.pieces.length;
    this.strip = init.strip ?? new Map();
    this.bytes = new Array(this.vocabSize);
    for (let id = 0; id < this.vocabSize; id++) {
      const t = this.types[id];
      const p = this.pieces[id];
      if (p === undefined || p.length === 0) continue;
      if (t === TokenType.control || t === TokenType.unknown || t === TokenType.userDefined) {
        if (!this.addedIds.has(p)) this.addedIds.set(p, id);
        // Text-like added tokens that look special are treated as control (see the file comment).
        if (t === TokenType.userDefined && looksSpecial(p)) this.types[id] = TokenType.control;
      }
    }

    const d = init.declared;
    const valid = (id: number | null | undefined): number | null => (id !== undefined && id !== null && Number.isInteger(id) && id >= 0 && id < this.vocabSize && this.pieces[id] !== undefined ? id : null);
    const byText = (texts: readonly string[]): number | null => {
      for (const t of texts) {
        const id = this.addedIds.get(t);
        if (id !== undefined) return id;
      }
      return null;
    };
    const eos = valid(d.eos);
    this.special = {
      eot: byText(END_OF_TEXT_TEXTS) ?? eos,
      fimPrefix: valid(d.fimPrefix) ?? byText(FIM_PREFIX_TEXTS),
      fimMiddle: valid(d.fimMiddle) ?? byText(FIM_MIDDLE_TEXTS),
      fimSuffix: valid(d.fimSuffix) ?? byText(FIM_SUFFIX_TEXTS),
      fimPad: valid(d.fimPad) ?? byText(FIM_PAD_TEXTS),
      fimRepo: valid(d.fimRepo) ?? byText(FIM_REPO_TEXTS),
      fimSep: valid(d.fimSep) ?? byText(FIM_SEP_TEXTS),
    };
    this.bosId = valid(d.bos);
    // A file that asks for a BOS it does not name gets none (llama.cpp would abort on the first prompt).
    this.addsBos = init.addBos && this.bosId !== null;
    this.addsEos = init.addEos && eos !== null;
    // End of generation, as llama.cpp collects it: EOS, end of turn and of message, the repository
    // FIM tokens (a completion that starts another file is over) and the usual end texts.
    const ends = new Set<number>();
    for (const id of [valid(d.eot), valid(d.eom), this.special.eot, this.special.fimPad, this.special.fimRepo, this.special.fimSep]) if (id !== null) ends.add(id);
    for (const t of END_OF_GENERATION_TEXTS) {
      const id = this.addedIds.get(t);
      if (id !== undefined && this.types[id] === TokenType.control) ends.add(id);
    }
    if (eos !== null) ends.delete(eos);
    this.eosIds = [...(eos !== null ? [eos] : []), ...[...ends].sort((a, b) => a - b)];
  }

  /**
   * Appends the ids of text that holds no added token. sectionIndex is 0 only for text at the start
   * of the input (a Metaspace pre-tokenizer with prepend_scheme "first" puts ▁ there alone).
   */
  protected abstract encodeText(text: string, sectionIndex: number, out: number[]): void;

  encode(text: string): number[] {
    return this.encodeFragments(text, 'plain', (t) => t === TokenType.userDefined);
  }

  encodeParsingSpecials(text: string): number[] {
    return this.encodeFragments(text, 'all', (t) => t === TokenType.userDefined || t === TokenType.control || t === TokenType.unknown);
  }

  encodeWithSpecials(text: string, allowed: readonly string[]): number[] {
    const ids = new Set<number>();
    for (const s of allowed) {
      const id = this.addedIds.get(s);
      if (id === undefined) {
        const some = [...this.addedIds].filter(([, i]) => this.types[i] === TokenType.control).map(([k]) => k);
        throw new TokenizerError(`${JSON.stringify(s)} is not a special token of ${this.name} (it has ${some.slice(0, 12).join(', ')}${some.length > 12 ? ', ...' : ''}).`);
      }
      ids.add(id);
    }
    const key = [...ids].sort((a, b) => a - b).join(',');
    return this.encodeFragments(text, `with:${key}`, (t, id) => t === TokenType.userDefined || ids.has(id));
  }

  private encodeFragments(text: string, key: string, cuts: (type: number, id: number) => boolean): number[] {
    const out: number[] = [];
    const fragments = this.cut(text, key, cuts);
    for (let i = 0; i < fragments.length; i++) {
      const f = fragments[i]!;
      if (typeof f === 'number') out.push(f);
      else if (f.length > 0) this.encodeText(f, i, out);
    }
    return out;
  }

  /** Splits text at the added tokens `cuts` selects: leftmost first, the longest token at a position. */
  private cut(text: string, key: string, cuts: (type: number, id: number) => boolean): Fragment[] {
    let re = this.cutters.get(key);
    if (re === undefined) {
      const texts: string[] = [];
      for (const [t, id] of this.addedIds) if (cuts(this.types[id]!, id)) texts.push(t);
      texts.sort((a, b) => b.length - a.length);
      re = texts.length === 0 ? null : new RegExp(texts.map(escapeRegExp).join('|'), 'g');
      // Cutters for encodeWithSpecials are keyed by their token set; callers use a handful.
      if (this.cutters.size > 64) this.cutters.clear();
      this.cutters.set(key, re);
    }
    if (re === null) return [text];
    const out: Fragment[] = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      const id = this.addedIds.get(m[0])!;
      let before = text.slice(last, m.index);
      const s = this.strip.get(id);
      if (s?.lstrip) before = before.trimEnd();
      out.push(before, id);
      last = m.index + m[0].length;
      if (s?.rstrip) while (last < text.length && /\s/.test(text[last]!)) last++;
    }
    out.push(text.slice(last));
    return out;
  }

  tokenId(text: string): number | null {
    return this.addedIds.get(text) ?? null;
  }

  isSpecial(id: number): boolean {
    const t = this.types[id];
    return t === TokenType.control || t === TokenType.unknown;
  }

  minTokens(text: string): number {
    if (this.longestTokenBytes === 0) {
      let longest = 1;
      for (let id = 0; id < this.vocabSize; id++) {
        const t = this.types[id];
        const p = this.pieces[id];
        if (p === undefined || (t !== TokenType.normal && t !== TokenType.userDefined)) continue;
        // Byte-level pieces are one character a byte; other pieces are at most their UTF-8 length.
        const n = this.style === 'byteLevel' && t === TokenType.normal ? p.length : utf8.encode(p).length;
        if (n > longest) longest = n;
      }
      this.longestTokenBytes = longest;
    }
    // No token of encode's output stands for more bytes than the longest, and a UTF-16 string
    // never has more code units than UTF-8 bytes.
    return Math.ceil(text.length / this.longestTokenBytes);
  }

  tokenBytes(id: number): Uint8Array {
    const cached = Number.isInteger(id) && id >= 0 ? this.bytes[id] : undefined;
    if (cached !== undefined) return cached;
    const piece = Number.isInteger(id) && id >= 0 && id < this.vocabSize ? this.pieces[id] : undefined;
    if (piece === undefined) {
      throw new TokenizerError(`token id ${id} is not in ${this.name} (ids 0 to ${this.vocabSize - 1}${this.vocabSize > 0 && this.pieces.includes(undefined) ? ', with gaps' : ''}). The model's vocabulary does not match this tokenizer, or it sampled an id of an unused embedding row.`);
    }
    const b = this.pieceBytes(piece, this.types[id] as TokenTypeId);
    this.bytes[id] = b;
    return b;
  }

  private pieceBytes(piece: string, type: TokenTypeId): Uint8Array {
    // Unused ids (a model's padding rows) stand for no text; added tokens are plain text.
    if (type === TokenType.unused) return new Uint8Array(0);
    if (type !== TokenType.normal && type !== TokenType.byte) return utf8.encode(piece);
    if (this.style === 'byteLevel') {
      const out = new Uint8Array(piece.length);
      for (let i = 0; i < piece.length; i++) {
        const b = CHAR_TO_BYTE.get(piece.charCodeAt(i));
        if (b === undefined) return utf8.encode(piece); // not a byte-level piece after all
        out[i] = b;
      }
      return out;
    }
    const m = type === TokenType.byte ? BYTE_PIECE.exec(piece) : null;
    if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    return utf8.encode(piece.replaceAll(SPACE_MARK, ' '));
  }

  tokenText(id: number): string {
    if (this.types[id] !== TokenType.normal && this.types[id] !== TokenType.byte && id >= 0 && id < this.vocabSize && this.pieces[id] !== undefined) return this.pieces[id]!;
    return new TextDecoder('utf-8').decode(this.tokenBytes(id));
  }

  decode(ids: ArrayLike<number>): string {
    return decodeTokens(this, ids);
  }

  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }
}
