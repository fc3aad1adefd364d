// Prompt layouts shared by the starter model's training data (tools/corpus), the inline
// completion provider and the summarize command. Training and inference must build token
// sequences the same way, piece by piece, so this file is the single definition of both.
//
// Every piece of user text is encoded on its own (header, suffix, prefix, middle, code,
// summary) and special tokens are placed between pieces as ids, never parsed out of text:
// a file that contains the string "<|endoftext|>" is just text.
//
// Fill-in-the-middle uses the SPM order (suffix before prefix). While the user types at
// the cursor only the prefix grows, and the prefix is the last piece before <|fim_middle|>,
// so the previous request's KV cache stays valid up to the end of the old prefix and each
// keystroke prefills only the new characters plus <|fim_middle|>:
//
//   [context chunk]* header <|fim_suffix|> suffix <|fim_prefix|> prefix <|fim_middle|> -> middle <|endoftext|>
//   context chunk:   header text <|endoftext|>          (another file's excerpt, a finished document)
//   left to right:   header code <|endoftext|>
//   summarization:   header code "\n" <|endoftext|> "Summary:" -> " " first sentence <|endoftext|>
//
// The header names the file, so the model knows the language from the extension:
// `<path: src/foo.ts>\n`. It is not a comment in any language, so it means the same thing
// in every file. Files without a path (untitled editors) use "untitled" plus the usual
// extension of their language, e.g. `<path: untitled.py>\n`.

import { type Tokenizer, TokenizerError } from './tokenizer';

/** The encoding the starter model is trained on, whose prompts are laid out by this file. */
export const STARTER_ENCODING = 'p50k_edit';

/** The ids and the text encoder a prompt needs; the p50k_edit tokenizer provides all of them. */
export interface PromptTokenizer {
  /** Encodes plain text; special-token strings inside it are encoded as ordinary text. */
  encode(text: string): number[];
  fimPrefix: number;
  fimMiddle: number;
  fimSuffix: number;
  eot: number;
}

/** The prompt view of a tokenizer; only encodings with FIM tokens (p50k_edit) have one. */
export function promptTokenizer(t: Tokenizer): PromptTokenizer {
  const { eot, fimPrefix, fimMiddle, fimSuffix } = t.special;
  if (eot === null || fimPrefix === null || fimMiddle === null || fimSuffix === null) {
    throw new TokenizerError(`encoding ${t.name} has no fill-in-the-middle tokens; Limelight's prompts need p50k_edit. Use a model trained with p50k_edit (config.json "limelight_encoding").`);
  }
  return { encode: (text) => t.encode(text), eot, fimPrefix, fimMiddle, fimSuffix };
}

export const HEADER_OPEN = '<path: ';
export const HEADER_CLOSE = '>\n';
/** Text that follows the code and its end-of-text token in a summarization prompt. */
export const SUMMARY_CUE = 'Summary:';

/** One header line; newlines and '>' in the path would break the line, so they become '_'. */
export function fileHeader(path: string): string {
  const clean = path.replace(/\\/g, '/').replace(/[\r\n>]/g, '_').trim();
  return `${HEADER_OPEN}${clean.length > 0 ? clean : 'untitled'}${HEADER_CLOSE}`;
}

/** An excerpt of another file placed before the FIM prompt, as a finished document. */
export function contextChunkTokens(tok: PromptTokenizer, path: string, text: string): number[] {
  return [...tok.encode(fileHeader(path)), ...tok.encode(text), tok.eot];
}

/** A whole file for left-to-right training: header, code, end of text. */
export function leftToRightTokens(tok: PromptTokenizer, path: string, code: string): number[] {
  return [...tok.encode(fileHeader(path)), ...tok.encode(code), tok.eot];
}

export interface FimParts {
  path: string;
  prefix: string;
  suffix: string;
  /** Other files' excerpts, oldest first; each becomes a context chunk. */
  context?: ReadonlyArray<{ path: string; text: string }>;
}

/** The FIM prompt, ending with <|fim_middle|>: the model writes the middle after it. */
export function fimPromptTokens(tok: PromptTokenizer, parts: FimParts): number[] {
  const out: number[] = [];
  for (const c of parts.context ?? []) out.push(...contextChunkTokens(tok, c.path, c.text));
  out.push(...tok.encode(fileHeader(parts.path)), tok.fimSuffix, ...tok.encode(parts.suffix));
  out.push(tok.fimPrefix, ...tok.encode(parts.prefix), tok.fimMiddle);
  return out;
}

/** A FIM training example: the prompt, the middle, end of text. */
export function fimExampleTokens(tok: PromptTokenizer, parts: FimParts, middle: string): number[] {
  return [...fimPromptTokens(tok, parts), ...tok.encode(middle), tok.eot];
}

/** Prompt tokens asking for a summary of `code` from the file at `path`, in some model's layout (summarize/summaryPrompt.ts picks it). */
export type SummaryEncode = (path: string, code: string) => number[];

/** The summarization prompt for a function's code (without its doc comment). */
export function summaryPromptTokens(tok: PromptTokenizer, path: string, code: string): number[] {
  const body = code.endsWith('\n') ? code : `${code}\n`;
  return [...tok.encode(fileHeader(path)), ...tok.encode(body), tok.eot, ...tok.encode(SUMMARY_CUE)];
}

/** A summarization training example; the answer is one sentence after a space. */
export function summaryExampleTokens(tok: PromptTokenizer, path: string, code: string, summary: string): number[] {
  return [...summaryPromptTokens(tok, path, code), ...tok.encode(` ${summary.trim()}`), tok.eot];
}
