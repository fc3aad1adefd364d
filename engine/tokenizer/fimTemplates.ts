// Fill-in-the-middle prompts belong to the model: which tokens mark the prefix, the suffix and
// the middle, in which order, where the file's path and other files' excerpts go, and which
// tokens end the answer. The editor side asks for "a completion between this prefix and this
// suffix" through a FimTemplate and never spells a special token.
//   limelight  Limelight's own layout (the starter model, p50k_edit): suffix before prefix, a
//              path header, other files as finished documents (promptFormats.ts)
//   psm        the layout of the open code models, as llama.cpp's /infill builds it:
//              [BOS] [<file_sep> path \n text]* [<file_sep> path \n] <PRE> prefix <SUF> suffix <MID>
//              with the model's own markers (Qwen2.5-Coder <|fim_prefix|>, StarCoder2 <fim_prefix>,
//              DeepSeek-Coder <｜fim▁begin｜>, CodeLlama ▁<PRE>; GGUF fim_*_token_id when given).
//              Other files' excerpts and the path need a file separator token (Qwen2.5-Coder,
//              StarCoder2); a model without one gets the bare prefix/suffix/middle.
import { contextChunkTokens, fileHeader, fimExampleTokens, fimPromptTokens, leftToRightTokens, STARTER_ENCODING } from './promptFormats';
import { TokenizerError, type Tokenizer } from './tokenizer';

export interface FimParts {
  path: string;
  prefix: string;
  suffix: string;
  /** Other files' excerpts, oldest first. */
  context?: ReadonlyArray<{ path: string; text: string }>;
}

/** Encodes one piece of plain text (a caller may pass a memoizing encoder). */
export type Encode = (text: string) => number[];

export interface FimTemplate {
  /** The model's plain-text encoder (special-token text stays text). */
  readonly encode: Encode;
  /**
   * Whether text cut after a line's end (before the last whitespace character of a run holding a
   * line feed) encodes to the same ids piece by piece as whole: true for GPT-2's pre-tokenizer
   * (gpt-tokenizer encodings), not for Qwen's or Llama 3's, whose pieces run across line ends.
   */
  readonly linesEncodeAlone: boolean;
  /** What the layout is, for messages and the Explain view. */
  readonly name: string;
  /** The layout in one line, e.g. "<|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|>". */
  readonly layout: string;
  /** Tokens that end an answer. */
  readonly stopIds: readonly number[];
  /** The token that closes a document and a FIM answer in training data. */
  readonly eot: number;
  /** Tokens the layout places around the file's pieces (markers, BOS), for budgets. */
  readonly markerCount: number;
  /** Whether other files' excerpts have a place in the prompt. */
  readonly takesContext: boolean;
  /** The tokens naming the file (empty when the layout has no place for it). */
  header(path: string, encode: Encode): number[];
  /** The tokens one other file's excerpt takes. */
  contextChunk(path: string, text: string, encode: Encode): number[];
  /** The whole prompt; the model writes the middle after it. */
  prompt(parts: FimParts, encode: Encode): number[];
  /** A whole file as a left-to-right training document, closed by eot. */
  document(path: string, text: string, encode: Encode): number[];
  /** A FIM training example: the prompt, the middle, eot. */
  example(parts: FimParts, middle: string, encode: Encode): number[];
}

function limelightTemplate(t: Tokenizer, eot: number, pre: number, suf: number, mid: number): FimTemplate {
  const tok = (encode: Encode): { encode: Encode; eot: number; fimPrefix: number; fimSuffix: number; fimMiddle: number } => ({ encode, eot, fimPrefix: pre, fimSuffix: suf, fimMiddle: mid });
  return {
    encode: (text) => t.encode(text),
    linesEncodeAlone: true,
    name: `Limelight (${t.name})`,
    layout: 'context chunks, then `<path: FILE>`, `<|fim_suffix|>` suffix, `<|fim_prefix|>` prefix, `<|fim_middle|>`',
    stopIds: [eot, pre, mid, suf],
    markerCount: 3,
    takesContext: true,
    header: (path, encode) => encode(fileHeader(path)),
    contextChunk: (path, text, encode) => contextChunkTokens(tok(encode), path, text),
    prompt: (parts, encode) => fimPromptTokens(tok(encode), parts),
    eot,
    document: (path, text, encode) => leftToRightTokens(tok(encode), path, text),
    example: (parts, middle, encode) => fimExampleTokens(tok(encode), parts, middle),
  };
}

function psmTemplate(t: Tokenizer, eot: number, pre: number, suf: number, mid: number): FimTemplate {
  const sep = t.special.fimSep;
  const bos = t.addsBos && t.bosId !== null ? [t.bosId] : [];
  const s = t.special;
  const stops = new Set<number>([...t.eosIds, pre, suf, mid]);
  for (const id of [s.eot, s.fimPad, s.fimRepo, s.fimSep]) if (id !== null) stops.add(id);
  const name = (id: number): string => t.tokenText(id);
  const fileLine = (path: string, encode: Encode): number[] => (sep === null ? [] : [sep, ...encode(`${path}\n`)]);
  const prompt = (parts: FimParts, encode: Encode): number[] => {
    const out = [...bos];
    if (sep !== null) for (const c of parts.context ?? []) out.push(sep, ...encode(`${c.path}\n${c.text}${c.text.endsWith('\n') ? '' : '\n'}`));
    out.push(...fileLine(parts.path, encode), pre, ...encode(parts.prefix), suf, ...encode(parts.suffix), mid);
    return out;
  };
  return {
    encode: (text) => t.encode(text),
    linesEncodeAlone: false,
    name: `${name(pre)} ${name(suf)} ${name(mid)} (${t.name})`,
    layout: `${bos.length > 0 ? 'BOS, ' : ''}${sep !== null ? `context chunks as \`${name(sep)}\` path and text, \`${name(sep)}\` FILE, ` : ''}\`${name(pre)}\` prefix \`${name(suf)}\` suffix \`${name(mid)}\``,
    stopIds: [...stops].sort((a, b) => a - b),
    markerCount: 3 + bos.length,
    takesContext: sep !== null,
    header: fileLine,
    contextChunk: (path, text, encode) => (sep === null ? [] : [sep, ...encode(`${path}\n${text}${text.endsWith('\n') ? '' : '\n'}`)]),
    prompt,
    eot,
    document: (path, text, encode) => [...bos, ...fileLine(path, encode), ...encode(text), eot],
    example: (parts, middle, encode) => [...prompt(parts, encode), ...encode(middle), eot],
  };
}

/**
 * The model's FIM template, or null when it has none (its vocabulary lacks FIM markers, or any
 * token to end an answer): completions are then off and Summarize Selection still works.
 */
export function fimTemplate(t: Tokenizer, encoding: string | null): FimTemplate | null {
  const { fimPrefix, fimSuffix, fimMiddle } = t.special;
  const eot = t.special.eot ?? t.eosIds[0] ?? null;
  if (fimPrefix === null || fimSuffix === null || fimMiddle === null || eot === null) return null;
  if (encoding === STARTER_ENCODING) return limelightTemplate(t, eot, fimPrefix, fimSuffix, fimMiddle);
  return psmTemplate(t, eot, fimPrefix, fimSuffix, fimMiddle);
}

/** The model's FIM template, or a TokenizerError saying that completions need one. */
export function requireFimTemplate(t: Tokenizer, encoding: string | null): FimTemplate {
  const template = fimTemplate(t, encoding);
  if (template === null) throw new TokenizerError(`${t.name} has no fill-in-the-middle tokens, so this model cannot complete code between a prefix and a suffix. Use a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama, or the starter model).`);
  return template;
}
