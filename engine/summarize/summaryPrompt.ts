// The Summarize Selection prompt of a local model, built with the model's own tokenizer (in the
// engine worker for the extension; in the CLI for `limelight eval --task summarize`). A model
// trained on Limelight's layout (the starter model) gets the template it was trained with
// (promptFormats.summaryPromptTokens); an instruct model gets the plain request as the one user
// message of its chat template; any other model gets plain text it can continue. Code longer
// than the context allows is cut at a line end, keeping its start, and the caller says so.
import type { ModelPrompts } from '../model/modelTokenizer';
import { ChatTemplate } from '../tokenizer/chatTemplate';
import { summaryPromptTokens, type SummaryEncode } from '../tokenizer/promptFormats';
import { plainSummaryText } from './summaryText';

export interface SummaryLayout {
  /** starter: the layout Limelight's models were trained with; chat: the model's chat template; plain: text to continue. */
  kind: 'starter' | 'chat' | 'plain';
  encode: SummaryEncode;
  /** End of text (and the starter's end of document): the answer ends there. */
  stopTokenIds: number[];
  /** A chat answer may run over lines to its blank line; a continuation ends with its line. */
  stopStrings: string[];
  /** Why the chat template was not used (null when nothing went wrong). */
  note: string | null;
}

/** How the model at hand is asked for a summary. */
export function summaryLayout(prompts: ModelPrompts): SummaryLayout {
  const { tokenizer, starterLayout } = prompts;
  const eos = [...new Set([...tokenizer.eosIds, ...(tokenizer.special.eot !== null ? [tokenizer.special.eot] : [])])];
  if (starterLayout !== null) {
    return { kind: 'starter', encode: (path, code) => summaryPromptTokens(starterLayout, path, code), stopTokenIds: [...new Set([...eos, starterLayout.eot])], stopStrings: ['\n'], note: null };
  }
  let note: string | null = null;
  if (prompts.chatTemplate !== null) {
    try {
      const chat = new ChatTemplate(prompts.chatTemplate, tokenizer);
      chat.encode([{ role: 'user', content: 'x' }]);
      return { kind: 'chat', encode: (_path, code) => chat.encode([{ role: 'user', content: plainSummaryText(code) }]), stopTokenIds: eos, stopStrings: ['\n\n'], note: null };
    } catch (e) {
      note = `Summaries use a plain prompt: the model's chat template does not render (${(e as Error).message}).`;
    }
  }
  const bos = tokenizer.addsBos && tokenizer.bosId !== null ? [tokenizer.bosId] : [];
  return { kind: 'plain', encode: (_path, code) => [...bos, ...tokenizer.encode(plainSummaryText(code))], stopTokenIds: eos, stopStrings: ['\n'], note };
}

export interface SummaryPrompt {
  ids: number[];
  /** Lines of code kept, and in the selection. */
  keptLines: number;
  totalLines: number;
  /** Some of the code was left out (whole lines, or the end of an overlong line). */
  cut: boolean;
}

/** The most characters one token is assumed to cover when bounding the code's text before encoding. */
const MAX_CHARS_PER_TOKEN = 12;

/**
 * The prompt for `code`, cut to at most `maxPromptTokens`: lines are dropped from the end
 * (halving the excess each round) until it fits.
 */
export function summaryPrompt(encode: SummaryEncode, path: string, code: string, maxPromptTokens: number): SummaryPrompt {
  maxPromptTokens = Math.max(1, Math.floor(maxPromptTokens));
  const lines = code.split('\n');
  // Only text that can fit is encoded: a whole minified file would cost seconds to tokenize.
  const maxChars = maxPromptTokens * MAX_CHARS_PER_TOKEN;
  let kept = 0;
  for (let chars = 0; kept < lines.length && chars + lines[kept]!.length <= maxChars; kept++) chars += lines[kept]!.length + 1;
  kept = Math.max(1, kept);
  const build = (n: number): number[] => encode(path, lines.slice(0, n).join('\n').slice(0, maxChars));
  let ids = build(kept);
  while (ids.length > maxPromptTokens && kept > 1) {
    const over = ids.length - maxPromptTokens;
    const perLine = ids.length / kept;
    kept = Math.max(1, Math.min(kept - 1, kept - Math.ceil(over / Math.max(1, perLine))));
    ids = build(kept);
  }
  const cut = kept < lines.length || lines.slice(0, kept).join('\n').length > maxChars || ids.length > maxPromptTokens;
  if (ids.length > maxPromptTokens) ids = ids.slice(ids.length - maxPromptTokens);
  return { ids, keptLines: kept, totalLines: lines.length, cut };
}

/** The prompt for `code` in the model's layout, cut to fit, with what ends its answer. */
export function summaryPlan(prompts: ModelPrompts, path: string, code: string, maxPromptTokens: number): SummaryPrompt & Omit<SummaryLayout, 'encode'> {
  const { encode, ...layout } = summaryLayout(prompts);
  return { ...summaryPrompt(encode, path, code, maxPromptTokens), ...layout };
}
