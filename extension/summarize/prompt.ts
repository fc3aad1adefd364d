// The summarization prompt. A model trained on Limelight's layout (the starter model) gets the
// template it was trained with (promptFormats.summaryPromptTokens); any other model gets plain
// text it can continue (an instruct model: inside its chat template). Code longer than the context allows is cut
// at a line end, keeping its start, and the caller says so to the user.
import { ESTIMATED_CHARS_PER_TOKEN, estimateTokens } from '../../engine/remote/remoteEngine';
import { plainSummaryText, summaryPromptTokens, type PromptTokenizer } from '../../engine/tokenizer/promptFormats';

export interface SummaryPrompt {
  ids: number[];
  /** The template the starter model was trained with (else the plain-text prompt). */
  templated: boolean;
  /** Lines of code kept, and in the selection. */
  keptLines: number;
  totalLines: number;
  /** Some of the code was left out (whole lines, or the end of an overlong line). */
  cut: boolean;
}

export interface PlainEncoder {
  encode(text: string): number[];
}

/** The most characters one token is assumed to cover when bounding the code's text before encoding. */
const MAX_CHARS_PER_TOKEN = 12;

/**
 * The prompt for `code`, cut to at most `maxPromptTokens`: lines are dropped from the end
 * (halving the excess each round) until it fits.
 */
export function summaryPrompt(tok: PromptTokenizer | null, plain: PlainEncoder, path: string, code: string, maxPromptTokens: number): SummaryPrompt {
  maxPromptTokens = Math.max(1, Math.floor(maxPromptTokens));
  const lines = code.split('\n');
  // Only text that can fit is encoded: a whole minified file would cost seconds to tokenize.
  const maxChars = maxPromptTokens * MAX_CHARS_PER_TOKEN;
  let kept = 0;
  for (let chars = 0; kept < lines.length && chars + lines[kept]!.length <= maxChars; kept++) chars += lines[kept]!.length + 1;
  kept = Math.max(1, kept);
  const build = (n: number): number[] => {
    const part = lines.slice(0, n).join('\n').slice(0, maxChars);
    return tok ? summaryPromptTokens(tok, path, part) : plain.encode(plainSummaryText(part));
  };
  let ids = build(kept);
  while (ids.length > maxPromptTokens && kept > 1) {
    const over = ids.length - maxPromptTokens;
    const perLine = ids.length / kept;
    kept = Math.max(1, Math.min(kept - 1, kept - Math.ceil(over / Math.max(1, perLine))));
    ids = build(kept);
  }
  const cut = kept < lines.length || lines.slice(0, kept).join('\n').length > maxChars || ids.length > maxPromptTokens;
  if (ids.length > maxPromptTokens) ids = ids.slice(ids.length - maxPromptTokens);
  return { ids, templated: tok !== null, keptLines: kept, totalLines: lines.length, cut };
}

/**
 * The plain request for a remote server's chat turn, its code cut at line ends (dropping a
 * tenth of the lines a round) to `maxPromptTokens` as estimated: the server's tokenizer is not
 * on this side. A single overlong line is cut inside.
 */
export function remoteSummaryText(code: string, maxPromptTokens: number): { text: string; keptLines: number; totalLines: number; cut: boolean } {
  const lines = code.split('\n');
  const fits = (part: string): boolean => estimateTokens(plainSummaryText(part)) <= maxPromptTokens;
  let kept = lines.length;
  while (kept > 1 && !fits(lines.slice(0, kept).join('\n'))) kept = Math.max(1, Math.floor(kept * 0.9));
  const whole = lines.slice(0, kept).join('\n');
  const room = Math.max(1, maxPromptTokens - estimateTokens(plainSummaryText(''))) * ESTIMATED_CHARS_PER_TOKEN;
  const part = fits(whole) ? whole : whole.slice(0, room);
  return { text: plainSummaryText(part), keptLines: kept, totalLines: lines.length, cut: kept < lines.length || part.length < whole.length };
}
