// Words for a completion request: one log line per request, and the "Explain Last
// Completion" page (the prompt the model saw, what the KV cache saved, timings, outcome).
import type { CompletionRecord, Outcome } from './session';

const OUTCOME_WORDS: Record<Outcome, string> = {
  shown: 'shown',
  'typed-through': 'shown from the typing-through cache',
  empty: 'empty',
  duplicate: 'filtered as duplicate',
  cancelled: 'cancelled',
  debounced: 'debounced',
  'timed-out': 'timed out',
  error: 'error',
  skipped: 'not requested',
};

export function describeOutcome(o: Outcome): string {
  return OUTCOME_WORDS[o];
}

function ms(x: number): string {
  return `${Math.round(x)} ms`;
}

/** Tokens per second of the decode phase, or null without decoded tokens. */
export function decodeRate(r: CompletionRecord): number | null {
  const t = r.timings;
  if (t === null || t.new_tokens === 0 || t.decode_ms <= 0) return null;
  return (1000 * t.new_tokens) / t.decode_ms;
}

/** One line for the output channel. */
export function formatRecordLine(r: CompletionRecord): string {
  const parts = [`#${r.id} ${r.trigger} ${r.path || 'untitled'}: ${describeOutcome(r.outcome)}`];
  if (r.mode) parts.push(r.mode);
  parts.push(`${ms(r.latencyMs)} total`);
  if (r.debounceMs > 0) parts.push(`debounce ${ms(r.debounceMs)}`);
  const t = r.timings;
  if (t) {
    const rate = decodeRate(r);
    parts.push(`prompt ${t.prompt_tokens} tokens (${t.reused_tokens} reused, ${t.prefilled_tokens} prefilled in ${ms(t.prefill_ms)})`);
    parts.push(`${t.new_tokens} new${rate !== null ? ` at ${rate.toFixed(1)} tok/s` : ''}`);
    if (t.backend) parts.push(t.backend);
    if (t.prefill_engine !== undefined) parts.push(`prefill on ${t.prefill_engine || 'none'}, decode on ${t.decode_engine || 'none'}`);
  }
  if (r.text) parts.push(`${r.text.length} chars`);
  if (r.reason) parts.push(r.reason);
  return parts.join(', ');
}

/** A fenced block that the text itself cannot close. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
}

/** The Markdown page for "Limelight: Explain Last Completion". */
export function explainMarkdown(r: CompletionRecord | null): string {
  if (r === null) return '# Last completion\n\nNo completion has been requested yet. Type in a file (or press Alt+\\\\) and run this command again.\n';
  const out: string[] = [`# Last completion (#${r.id})`, ''];
  out.push(`- **Outcome:** ${describeOutcome(r.outcome)}${r.reason ? ` (${r.reason})` : ''}`);
  out.push(`- **File:** ${r.path || 'untitled'}; trigger: ${r.trigger === 'invoke' ? 'explicit' : 'typing'}${r.mode ? `; ${r.mode} suggestion` : ''}`);
  out.push(`- **Keystroke to result:** ${ms(r.latencyMs)} (debounce ${ms(r.debounceMs)}, engine ${ms(r.engineMs)})`);
  const t = r.timings;
  if (t) {
    const rate = decodeRate(r);
    out.push(`- **Prompt:** ${t.prompt_tokens} tokens; ${t.reused_tokens} reused from the KV cache of the previous request, ${t.prefilled_tokens} prefilled in ${ms(t.prefill_ms)}`);
    out.push(`- **Generated:** ${t.new_tokens} tokens in ${ms(t.decode_ms)}${rate !== null ? ` (${rate.toFixed(1)} tokens/s)` : ''} on ${t.backend || 'the engine'}; stopped by ${r.stopReason ?? 'n/a'}`);
    // A backend that splits the phases says which engine ran each (the last new token needs no forward pass).
    if (t.prefill_engine !== undefined) out.push(`- **Engines:** prefill on ${t.prefill_engine || 'no engine'}; decode on ${t.decode_engine || 'no engine (no forward pass after the prompt)'}`);
  }
  if (r.text) out.push('', '## Suggestion', '', fence(r.text));
  if (r.raw && r.raw !== r.text) out.push('', '## Model output before post-processing', '', fence(r.raw));
  const p = r.prompt;
  if (p) {
    out.push('', '## Prompt', '');
    out.push(`Layout: ${p.layout} (file \`${p.headerPath}\`).`);
    out.push(`Budgets (tokens): prefix ${p.budget.prefix}, suffix ${p.budget.suffix}, context ${p.budget.context}. Used: prefix ${p.tokens.prefix}, suffix ${p.tokens.suffix}, context ${p.tokens.context}, header ${p.tokens.header}.`);
    if (p.chunks.length === 0) out.push('', 'No context chunks from other files.');
    for (const c of p.chunks) out.push('', `### Context: ${c.path}`, '', fence(c.text));
    out.push('', '### Prefix (before the cursor)', '', fence(p.prefix));
    out.push('', '### Suffix (after the cursor)', '', fence(p.suffix));
  }
  return out.join('\n') + '\n';
}
