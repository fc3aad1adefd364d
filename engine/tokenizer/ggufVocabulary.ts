// A byte-level BPE vocabulary as llama.cpp's GGUF stores it (tokenizer.ggml.tokens, token_type,
// merges), for exporting a model whose tokenizer is a gpt-tokenizer encoding (GPT-2, the
// starter model) or a byte-level tokenizer.json (Qwen, Llama 3, StarCoder2), as llama.cpp's
// convert_hf_to_gguf.py writes it. For an encoding, token strings use GPT-2's byte-to-character
// map and merges are recovered from the ranks, since an encoding's ids are its merge order.
import type { GgufValue } from '../io/ggufTypes';
import type { Tokenizer } from './tokenizer';
import { looksSpecial } from './vocabTokenizer';

/** GPT-2's byte -> printable character map (bytes_to_unicode), used for token and merge strings. */
function byteChars(): string[] {
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return map;
}

/**
 * The vocabulary as GGUF strings with types, and the BPE merges: a token's merge is the last
 * step of running BPE on its own bytes with the merges ranked before it.
 */
export function encodingVocabulary(tok: Tokenizer, V: number): { tokens: string[]; types: number[]; merges: string[] } {
  const chars = byteChars();
  const show = (b: Uint8Array): string => Array.from(b, (x) => chars[x]).join('');
  const tokens: string[] = [];
  const types: number[] = [];
  const rank = new Map<string, number>();
  for (let id = 0; id < V; id++) {
    if (id >= tok.vocabSize) {
      tokens.push(`[PAD${id}]`);
      types.push(3); // control
    } else if (tok.isSpecial(id)) {
      tokens.push(new TextDecoder().decode(tok.tokenBytes(id)));
      types.push(3);
    } else {
      const s = show(tok.tokenBytes(id));
      tokens.push(s);
      types.push(1); // normal
      rank.set(s, id);
    }
  }
  const merges: string[] = [];
  for (let id = 0; id < Math.min(V, tok.vocabSize); id++) {
    if (types[id] !== 1 || tokens[id]!.length < 2) continue;
    const parts = Array.from(tokens[id]!);
    while (parts.length > 2) {
      let best = -1;
      let bestRank = id;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rank.get(parts[i]! + parts[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best]! + parts[best + 1]!);
    }
    if (parts.length === 2) merges.push(`${parts[0]} ${parts[1]}`);
  }
  return { tokens, types, merges };
}

/** The tokenizer.ggml.* keys of a byte-level BPE tokenizer whose ids are its merge order (a gpt-tokenizer encoding). */
export function encodingGgufMetadata(tok: Tokenizer, vocabSize: number, bos: number | null, eos: number | null): Array<[string, GgufValue]> {
  const voc = encodingVocabulary(tok, vocabSize);
  const end = eos ?? tok.special.eot ?? 0;
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: voc.tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: voc.types }],
    ['tokenizer.ggml.merges', { type: 'array', of: 'string', value: voc.merges }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos ?? end }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: end }],
  ];
}

/** The parts of tokenizer.json and tokenizer_config.json a GGUF vocabulary is written from. */
export interface TokenizerJsonFiles {
  json: {
    model: { vocab: Record<string, number>; merges: ReadonlyArray<string | readonly [string, string]> };
    normalizer?: unknown;
    added_tokens?: ReadonlyArray<{ id: number; content: string; special?: boolean }>;
  };
  /** tokenizer_config.json ({} when the folder has none). */
  config: { bos_token?: unknown; eos_token?: unknown; add_bos_token?: unknown };
}

/**
 * The tokenizer.ggml.* keys of a byte-level BPE tokenizer.json, as llama.cpp's
 * convert_hf_to_gguf.py writes them: tokens in id order, padded to the model's embedding rows
 * with "[PADn]" (type unused), token types (added tokens control when special or special-looking,
 * else user-defined), merges as "a b" strings, `pre` (llama.cpp's pre-tokenizer name, e.g. qwen2
 * or llama-bpe), and gguf-py's SpecialVocab entries from tokenizer_config.json (bos, eos, add_bos).
 */
export function tokenizerJsonGgufMetadata(f: TokenizerJsonFiles, pre: string, rows: number): Array<[string, GgufValue]> {
  const byId = new Map<number, string>();
  for (const [piece, id] of Object.entries(f.json.model.vocab)) byId.set(id, piece);
  const addedList = f.json.added_tokens ?? [];
  const added = new Map(addedList.map((a) => [a.id, a]));
  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < rows; i++) {
    const a = added.get(i);
    const piece = a?.content ?? byId.get(i);
    if (piece === undefined) {
      tokens.push(`[PAD${i}]`);
      types.push(5); // unused
    } else {
      tokens.push(piece);
      types.push(a ? (a.special === true || looksSpecial(a.content) ? 3 : 4) : 1); // control, user-defined, normal
    }
  }
  const meta: Array<[string, GgufValue]> = [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: pre }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', of: 'string', value: f.json.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' '))) }],
  ];
  const idOf = (v: unknown): number | undefined => {
    const text = typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
    return text === undefined ? undefined : addedList.find((a) => a.content === text)?.id;
  };
  const bos = idOf(f.config.bos_token);
  const eos = idOf(f.config.eos_token);
  if (bos !== undefined) meta.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos }]);
  if (eos !== undefined) meta.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }]);
  if (typeof f.config.add_bos_token === 'boolean') meta.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: f.config.add_bos_token }]);
  return meta;
}

/** tokenizer.json split patterns of the byte-level families, by llama.cpp's pre-tokenizer name. */
const HF_SPLIT_PATTERNS: Readonly<Record<string, string>> = {
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  'llama-bpe': "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

/**
 * llama.cpp's tokenizer.ggml.pre name for a byte-level tokenizer.json's pre-tokenizer: qwen2 and
 * llama-bpe by their split pattern, gpt-2 (ByteLevel splitting with GPT-2's pattern), starcoder
 * (single digits, then GPT-2's pattern). Null for a pre-tokenizer it does not recognise
 * (convert_hf_to_gguf.py names those by hashing a test string's ids).
 */
export function tokenizerJsonPre(json: { pre_tokenizer?: unknown }): string | null {
  const steps: Array<Record<string, unknown>> = [];
  const walk = (p: unknown): void => {
    if (typeof p !== 'object' || p === null) return;
    const o = p as Record<string, unknown>;
    if (o.type === 'Sequence' && Array.isArray(o.pretokenizers)) o.pretokenizers.forEach(walk);
    else steps.push(o);
  };
  walk(json.pre_tokenizer);
  const splits = steps.filter((s) => s.type === 'Split').map((s) => (s.pattern as { Regex?: unknown } | undefined)?.Regex);
  const byteLevelSplits = steps.some((s) => s.type === 'ByteLevel' && s.use_regex !== false);
  const digits = steps.some((s) => s.type === 'Digits' && s.individual_digits === true);
  const others = steps.some((s) => !['Split', 'ByteLevel', 'Digits'].includes(String(s.type)));
  if (others) return null;
  if (splits.length === 1 && !byteLevelSplits && !digits) return Object.keys(HF_SPLIT_PATTERNS).find((k) => HF_SPLIT_PATTERNS[k] === splits[0]) ?? null;
  if (splits.length === 0 && byteLevelSplits) return digits ? 'starcoder' : 'gpt-2';
  return null;
}
