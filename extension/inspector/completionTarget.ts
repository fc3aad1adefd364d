// The last completion as an inspection target: its real prompt ids followed by the ids the
// model generated, with the prompt's prefix and suffix tied back to where they sit in the
// document so hovering a token highlights its code.
import * as vscode from 'vscode';
import type { CompletionRecord } from '../../engine/complete/session';
import type { InspectTarget } from './panel';

export function completionTarget(record: CompletionRecord, documentUri: vscode.Uri): InspectTarget | undefined {
  const prompt = record.prompt;
  if (prompt === null || record.newIds.length === 0) return undefined;
  const name = documentUri.path.split('/').pop() ?? record.path;
  return {
    label: `the last completion in ${name} (${record.newIds.length} generated tokens)`,
    documentUri,
    ids: [...prompt.ids, ...record.newIds],
    promptLength: prompt.ids.length,
    spans: [
      { text: prompt.prefix, docOffset: prompt.prefixStart },
      { text: prompt.suffix, docOffset: prompt.prefixStart + prompt.prefix.length },
    ],
  };
}
