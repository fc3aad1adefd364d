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
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TokenizerError(`${file} does not exist: ${missing}.`);
    throw new TokenizerError(`${file} cannot be read: ${e instanceof Error ? e.message : String(e)}.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); download it again.`);
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
  if (!isObject(json) || !isObject(json.model)) throw new TokenizerError(`${file} has no "model" object: it is not a Hugging Face tokenizer.json.`);
  const model = json.model;
  const type = typeof model.type === 'string' ? model.type : isObject(model.vocab) && Array.isArray(model.merges) ? 'BPE' : 'unknown';
  if (type !== 'BPE') {
    throw new TokenizerError(`${file}: the tokenizer model is ${type}, not BPE. Limelight runs byte-pair vocabularies (Qwen, Llama, DeepSeek-Coder, StarCoder, CodeLlama); ${type} models (T5, BERT-style vocabularies) are not supported.`);
  }
  if (!isObject(model.vocab) || !Array.isArray(model.merges)) throw new TokenizerError(`${file}: the BPE model has no vocab object or merges list.`);
  const cfg: TokenizerConfigJson = isObject(config) ? config : {};
  const vocab = model.vocab as Record<string, number>;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as AddedTokenJson[]) : [];

  // One pass over the vocabulary object (151k keys for Qwen): Object.entries would build an array a key.
  const pieces: (string | undefined)[] = [];
  for (const piece in vocab) {
    const id = vocab[piece];
    if (!Number.isInteger(id) || id! < 0 || id! >= MAX_IDS) throw new TokenizerError(`${file}: the vocabulary has an invalid id ${JSON.stringify(id)} for ${JSON.stringify(piece)}.`);
    pieces[id!] = piece;
  }
  let size = pieces.length;
  for (const t of added) {
    if (!Number.isInteger(t.id) || t.id < 0 || t.id >= MAX_IDS || typeof t.content !== 'string') throw new TokenizerError(`${file}: invalid added token ${JSON.stringify(t)}.`);
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
    pipeline: { normalizer: json.normalizer ?? null, pre_tokenizer: json.pre_tokenizer ?? null, model: model as BpeModelJson },
  });
}

/** Byte-level (GPT-2's byte table) or SentencePiece-style (▁ and <0xXX>) pieces, from the pipeline's parts. */
function pieceStyle(json: Record<string, unknown>, model: Record<string, unknown>, file: string): PieceStyle {
  const parts = [...components(json.pre_tokenizer), ...components(json.decoder), ...components(json.normalizer)];
  if (parts.some((c) => c.type === 'ByteLevel')) return 'byteLevel';
  const metaspace = parts.some((c) => c.type === 'Metaspace' || ((c.type === 'Replace' || c.type === 'Prepend') && JSON.stringify(c).includes(SPACE_MARK)));
  if (metaspace || model.byte_fallback === true) return 'sentencePiece';
  throw new TokenizerError(`${file}: a BPE tokenizer with neither byte-level pieces (a ByteLevel pre-tokenizer or decoder) nor SentencePiece pieces (Metaspace, "▁") is not supported.`);
}
