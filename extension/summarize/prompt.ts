// The summarization request for a remote server. A local model's prompt is built in the engine
// worker with the model's tokenizer (engine/summarize/summaryPrompt.ts); the server's tokenizer
// is not on this side, so here the code is cut to an estimated token budget.
import { ESTIMATED_CHARS_PER_TOKEN, estimateTokens } from '../../engine/remote/remoteEngine';
import { plainSummaryText } from '../../engine/summarize/summaryText';

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
