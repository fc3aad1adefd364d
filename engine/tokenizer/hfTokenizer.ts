// A Hugging Face model folder's tokenizer: tokenizer.json (the vocabulary, merges, normalizer,
// pre-tokenizer and added tokens) and tokenizer_config.json (which added tokens are BOS and
// EOS, and whether a prompt starts with BOS).
//
// Two kinds of BPE are read, both through BpeTokenizer:
//   byte-level   Qwen2/2.5/3, Llama 3, DeepSeek-Coder, StarCoder2, GPT-2: a ByteLevel
//                pre-tokenizer or decoder; every byte has a one-character piece
//   SentencePiece-style   Llama 2 / CodeLlama tokenizer.json: "▁" for spaces (Metaspace
//                pre-tokenizer or Prepend/Replace normalizer), byte_fallback to <0xXX> tokens
// Other models (Unigram, WordPiece) are refused by name.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpeTokenizer, type BpeModelJson } from './bpeTokenizer';
import { TokenizerError, type Tokenizer } from './tokenizer';
import { BYTE_PIECE, SPACE_MARK, TokenType, checkSize, looksSpecial, type DeclaredSpecials, type PieceStyle, type TokenizerLoadOptions } from './vocabTokenizer';

export interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  single_word?: boolean;
}

/** The parts of tokenizer.json read here. */
export interface TokenizerJson {
  model: { type?: string; [key: string]: unknown };
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
  added_tokens?: readonly AddedTokenJson[];
}

/** The parts of tokenizer_config.json read here (its BOS/EOS entries are strings or {content}). */
export interface TokenizerConfigJson {
  bos_token?: unknown;
  eos_token?: unknown;
  add_bos_token?: unknown;
  add_eos_token?: unknown;
  [key: string]: unknown;
}

/** Reads dir/tokenizer.json and dir/tokenizer_config.json (optional). Synchronous: ~1 s for a 150k vocabulary. */
export function tokenizerFromHfFolder(dir: string, opts: TokenizerLoadOptions): Tokenizer {
  const file = join(dir, 'tokenizer.json');
  const json = readJson(file, 'the model folder has no tokenizer.json (GGUF files carry their vocabulary inside; Hugging Face folders need tokenizer.json next to config.json)');
  let config: unknown = {};
  const configFile = join(dir, 'tokenizer_config.json');
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new TokenizerError(`${configFile}: ${e instanceof Error ? e.message : String(e)}. Fix or delete the file.`);
  }
  return tokenizerFromHfJson(json, config, file, opts);
}

function readJson(file: string, missing: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TokenizerError(`${file} does not exist: ${missing}.`);
    throw new TokenizerError(`${file} cannot be read (${code ?? (e instanceof Error ? e.message : String(e))}). Check that it is a readable file, or ${DOWNLOAD}.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); download it again.`);
  }
}

/** What a message tells the user to do about a damaged tokenizer.json. */
const DOWNLOAD = "download the model's tokenizer.json again";

/** A value from the file, for a message: short, and never a raw JavaScript rendering of an object. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'missing';
  return Array.isArray(v) ? 'a list' : 'an object';
}

/** Far more levels of Sequence than any real pipeline has (they nest one or two). */
const MAX_NESTING = 32;

/**
 * Refuses pipelines nested deeper than MAX_NESTING (walking them, and the library building
 * them, would overflow the stack) and, in the parts the library builds (normalizer and
 * pre-tokenizer), components that are not {"type": ...} objects.
 */
function checkPipeline(json: Record<string, unknown>, file: string): void {
  for (const part of ['normalizer', 'pre_tokenizer', 'decoder', 'post_processor'] as const) {
    const built = part === 'normalizer' || part === 'pre_tokenizer';
    let level: unknown[] = json[part] === undefined || json[part] === null ? [] : [json[part]];
    for (let depth = 1; level.length > 0; depth++) {
      if (depth > MAX_NESTING) throw new TokenizerError(`${file}: the ${part} nests Sequences more than ${MAX_NESTING} deep; ${DOWNLOAD}.`);
      const next: unknown[] = [];
      for (const c of level) {
        if (built && !(isObject(c) && typeof c.type === 'string')) throw new TokenizerError(`${file}: the ${part} has a part that is ${isObject(c) ? 'an object without a "type" name' : shown(c)}, not a {"type": ...} object; ${DOWNLOAD}.`);
        const list = isObject(c) ? (c.pretokenizers ?? c.normalizers ?? c.decoders ?? c.processors) : undefined;
        if (Array.isArray(list)) for (const x of list) next.push(x);
      }
      level = next;
    }
  }
}

/** Far above any real vocabulary (Gemma's 262k): a larger id is a damaged file, not a reason to allocate gigabytes. */
const MAX_IDS = 1 << 24;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** All the components of a pipeline entry (a Sequence's parts, recursively). */
function components(node: unknown): Record<string, unknown>[] {
  if (!isObject(node)) return [];
  const parts = node.pretokenizers ?? node.normalizers ?? node.decoders ?? node.processors;
  return [node, ...(Array.isArray(parts) ? parts.flatMap(components) : [])];
}

/** Builds the tokenizer of parsed tokenizer.json and tokenizer_config.json; `file` names them in errors. */
export function tokenizerFromHfJson(json: unknown, config: unknown, file: string, opts: TokenizerLoadOptions): Tokenizer {
  if (!isObject(json) || !isObject(json.model)) throw new TokenizerError(`${file} has no "model" object: it is not a Hugging Face tokenizer.json; ${DOWNLOAD}.`);
  const model = json.model;
  const type = typeof model.type === 'string' ? model.type : isObject(model.vocab) && Array.isArray(model.merges) ? 'BPE' : 'unknown';
  if (type !== 'BPE') {
    const name = type.length > 0 && type.length <= 40 ? type : shown(type);
    throw new TokenizerError(`${file}: the tokenizer model is ${name}, not BPE. Limelight runs byte-pair vocabularies (Qwen, Llama, DeepSeek-Coder, StarCoder, CodeLlama); ${name} models (T5, BERT-style vocabularies) are not supported: choose a model with a BPE tokenizer.json.`);
  }
  if (!isObject(model.vocab) || !Array.isArray(model.merges)) throw new TokenizerError(`${file}: the BPE model has no vocab object or merges list; ${DOWNLOAD}.`);
  // Every merge in the form of the first (as tokenizers requires): the library splits "a b" strings and looks pairs up as given.
  const pairs = Array.isArray(model.merges[0]);
  for (let i = 0; i < model.merges.length; i++) {
    const m: unknown = model.merges[i];
    const ok = pairs ? Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string' : typeof m === 'string' && m.includes(' ');
    if (!ok) throw new TokenizerError(`${file}: merge ${i} is ${shown(m)}, not ${pairs ? 'a pair of pieces like the first merge' : 'two pieces separated by a space'}; ${DOWNLOAD}.`);
  }
  if (model.unk_token !== undefined && model.unk_token !== null && typeof model.unk_token !== 'string') throw new TokenizerError(`${file}: the BPE model's unk_token is ${shown(model.unk_token)}, not a token; ${DOWNLOAD}.`);
  checkPipeline(json, file);
  const cfg: TokenizerConfigJson = isObject(config) ? config : {};
  const vocab = model.vocab as Record<string, number>;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as AddedTokenJson[]) : [];

  // One pass over the vocabulary object (151k keys for Qwen): Object.entries would build an array a key.
  const pieces: (string | undefined)[] = [];
  for (const piece in vocab) {
    const id = vocab[piece];
    if (!Number.isInteger(id) || id! < 0 || id! >= MAX_IDS) throw new TokenizerError(`${file}: the vocabulary gives ${shown(piece)} the id ${shown(id)}, not a whole number from 0 to ${MAX_IDS - 1}; ${DOWNLOAD}.`);
    pieces[id!] = piece;
  }
  let size = pieces.length;
  for (const t of added as unknown[]) {
    if (!isObject(t) || !Number.isInteger(t.id) || (t.id as number) < 0 || (t.id as number) >= MAX_IDS || typeof t.content !== 'string') {
      const what = isObject(t) ? `has the id ${shown(t.id)} and the content ${shown(t.content)}` : `is ${shown(t)}`;
      throw new TokenizerError(`${file}: an added token ${what}; each needs a whole-number id from 0 to ${MAX_IDS - 1} and a content string; ${DOWNLOAD}.`);
    }
  }
  for (const t of added) {
    size = Math.max(size, t.id + 1);
  }
  checkSize(file, size, opts);
  // The model's padding rows become unused tokens that decode to nothing, as in a GGUF converted from this folder.
  size = Math.max(size, opts.modelVocabSize ?? 0);

  const style = pieceStyle(json, model, file);
  const types = new Uint8Array(size);
  for (let id = 0; id < pieces.length; id++) {
    const p = pieces[id];
    if (p !== undefined) types[id] = style === 'sentencePiece' && BYTE_PIECE.test(p) ? TokenType.byte : TokenType.normal;
  }
  const strip = new Map<number, { lstrip: boolean; rstrip: boolean }>();
  for (const t of added) {
    pieces[t.id] = t.content;
    // As convert_hf_to_gguf.py types them, so that a GGUF made from this folder behaves alike.
    types[t.id] = t.special === true || looksSpecial(t.content) ? TokenType.control : TokenType.userDefined;
    if (t.lstrip === true || t.rstrip === true) strip.set(t.id, { lstrip: t.lstrip === true, rstrip: t.rstrip === true });
  }
  for (let id = 0; id < size; id++) {
    if (pieces[id] === undefined) {
      pieces[id] = `[PAD${id}]`;
      types[id] = TokenType.unused;
    }
  }
  if (typeof model.unk_token === 'string' && Object.hasOwn(vocab, model.unk_token) && types[vocab[model.unk_token]!] === TokenType.normal) types[vocab[model.unk_token]!] = TokenType.unknown;

  const idOf = (entry: unknown): number | null => {
    const text = typeof entry === 'string' ? entry : isObject(entry) && typeof entry.content === 'string' ? entry.content : null;
    if (text === null) return null;
    return added.find((t) => t.content === text)?.id ?? (Object.hasOwn(vocab, text) ? vocab[text]! : null);
  };
  const declared: DeclaredSpecials = { bos: idOf(cfg.bos_token), eos: idOf(cfg.eos_token) };
  // tokenizer_config.json's add_bos_token wins; otherwise the post-processor says (Llama 3's
  // TemplateProcessing starts every sequence with <|begin_of_text|>), as in gguf-py's SpecialVocab.
  const template = components(json.post_processor).find((c) => c.type === 'TemplateProcessing');
  const single = template && Array.isArray(template.single) ? (template.single as unknown[]) : [];
  const templateSpecial = (entry: unknown): number | null => (isObject(entry) && isObject(entry.SpecialToken) ? idOf(entry.SpecialToken.id) : null);
  const first = single.length > 1 ? templateSpecial(single[0]) : null;
  const last = single.length > 1 ? templateSpecial(single[single.length - 1]) : null;
  if (declared.bos === null && first !== null) declared.bos = first;
  const addBos = typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : first !== null && first === declared.bos;
  const addEos = typeof cfg.add_eos_token === 'boolean' ? cfg.add_eos_token : last !== null && last === declared.eos;

  const normalizers = components(json.normalizer);
  const preTokenizers = components(json.pre_tokenizer);
  const addsSpacePrefix =
    style === 'sentencePiece' &&
    (normalizers.some((c) => c.type === 'Prepend' && c.prepend === SPACE_MARK) ||
      preTokenizers.some((c) => c.type === 'Metaspace' && c.add_prefix_space !== false && c.prepend_scheme !== 'never'));

  return new BpeTokenizer({
    name: file,
    pieces,
    types,
    style,
    declared,
    addBos,
    addEos,
    strip,
    addsSpacePrefix,
    // type BPE whatever the file says: a model without one is BPE here, and the library would take it for another kind.
    pipeline: { normalizer: json.normalizer ?? null, pre_tokenizer: json.pre_tokenizer ?? null, model: { ...model, type: 'BPE' } as BpeModelJson },
  });
}

/** Byte-level (GPT-2's byte table) or SentencePiece-style (▁ and <0xXX>) pieces, from the pipeline's parts. */
function pieceStyle(json: Record<string, unknown>, model: Record<string, unknown>, file: string): PieceStyle {
  const parts = [...components(json.pre_tokenizer), ...components(json.decoder), ...components(json.normalizer)];
  if (parts.some((c) => c.type === 'ByteLevel')) return 'byteLevel';
  // Fields read one by one (not the whole part stringified: a field may nest deeply).
  const hasMark = (v: unknown): boolean => typeof v === 'string' && v.includes(SPACE_MARK);
  const metaspace = parts.some((c) => c.type === 'Metaspace' || (c.type === 'Replace' && (hasMark(c.content) || (isObject(c.pattern) && hasMark(c.pattern.String)))) || (c.type === 'Prepend' && hasMark(c.prepend)));
  if (metaspace || model.byte_fallback === true) return 'sentencePiece';
  throw new TokenizerError(`${file}: a BPE tokenizer with neither byte-level pieces (a ByteLevel pre-tokenizer or decoder) nor SentencePiece pieces (Metaspace, "▁") is not supported; ${DOWNLOAD}, or choose the model's GGUF file.`);
}
