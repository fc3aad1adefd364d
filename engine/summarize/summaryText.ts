// The summarization request as plain text, for models without Limelight's own layout: a base
// model continues it, an instruct model gets it as the one user message of its chat template,
// a remote server as its chat turn. A leaf: the extension host builds a server's request from it
// without loading a tokenizer.
export function plainSummaryText(code: string): string {
  return `Code:\n${code.endsWith('\n') ? code : `${code}\n`}\nA one-sentence summary of what the code above does:`;
}
