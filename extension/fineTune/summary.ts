// The pre-training summary the user confirms: files, tokens, languages, and what was skipped
// and why (no vscode import, so the text is tested directly).
import { SKIP_REASON_TEXT, type SkipReason, type WorkspaceSelection } from '../../engine/workspace/workspaceFiles';

export interface SelectionSummary {
  files: number;
  tokens: number;
  languages: [string, number][];
  skipped: [SkipReason, number][];
}

/** `tokens`: what the selected files take with the model's tokenizer (counted in the engine worker). */
export function summarizeSelection(sel: WorkspaceSelection, tokens: number): SelectionSummary {
  const langs = new Map<string, number>();
  for (const f of sel.files) langs.set(f.language, (langs.get(f.language) ?? 0) + 1);
  const skipped = new Map<SkipReason, number>();
  for (const s of sel.skipped) skipped.set(s.reason, (skipped.get(s.reason) ?? 0) + 1);
  const byCount = <K>(m: Map<K, number>): [K, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { files: sel.files.length, tokens, languages: byCount(langs), skipped: byCount(skipped) };
}

/** One line for the dialog's message. */
export function summaryHeadline(s: SelectionSummary): string {
  return `Fine-tune on ${s.files} files (${s.tokens.toLocaleString('en-US')} tokens)?`;
}

/** The dialog's detail: languages, then the skips by reason. */
export function summaryDetail(s: SelectionSummary, minutes: number): string {
  const langs = s.languages.map(([l, n]) => `${l} ${n}`).join(', ');
  const skips = s.skipped.filter(([r]) => r !== 'not-included').map(([r, n]) => `• ${n} × ${SKIP_REASON_TEXT[r]}`);
  const notIncluded = s.skipped.find(([r]) => r === 'not-included');
  return [
    `Languages: ${langs || 'none'}.`,
    '',
    skips.length > 0 ? 'Skipped:' : 'Nothing was skipped.',
    ...skips,
    ...(notIncluded ? [`(${notIncluded[1]} other files are not matched by limelight.fineTune.include.)`] : []),
    '',
    `Training takes at most ${minutes} minutes (limelight.fineTune.maxMinutes), in the background; completions keep working. 10 % of the files are held out to measure the gain.`,
  ].join('\n');
}

/** Markdown list of every skipped path with its reason (the "Show Skipped Files" view). */
export function skippedMarkdown(sel: WorkspaceSelection): string {
  const lines = ['# Files left out of fine-tuning', ''];
  for (const s of sel.skipped) lines.push(`- \`${s.path}${s.folder ? '/' : ''}\`: ${SKIP_REASON_TEXT[s.reason]}${s.detail ? ` (${s.detail})` : ''}`);
  return lines.join('\n') + '\n';
}
