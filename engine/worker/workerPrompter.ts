// The completion session's prompts built in the engine worker, where the model's tokenizer is
// loaded: the extension host never reads a tokenizer (a 150k-token tokenizer.json takes about a
// second to read) nor encodes on its own thread. The worker keeps the prefix window's start
// between requests, as a PromptBuilder in this thread would (complete/prompt.ts).
import type { BuiltPrompt, CompletionDocument, PromptBudget, Prompter } from '../complete/prompt';
import type { ContextChunk } from '../complete/contextRing';
import type { EngineClient } from './client';

export class WorkerPrompter implements Prompter {
  /** A new session chooses its window afresh: the worker's anchor may be an earlier session's. */
  private reset = true;

  constructor(
    private readonly client: EngineClient,
    /** The loaded model's FIM stop tokens (LoadResult.fimStopIds). */
    readonly stopTokenIds: readonly number[],
  ) {}

  async build(doc: CompletionDocument, budget: PromptBudget, excerpts: readonly ContextChunk[]): Promise<BuiltPrompt> {
    // Only the fields the wire knows: the worker refuses any other (the sides would be out of step).
    const built: BuiltPrompt = await this.client.buildPrompt({
      doc: { path: doc.path, languageId: doc.languageId, text: doc.text, offset: doc.offset },
      budget: { prefixTokens: budget.prefixTokens, suffixTokens: budget.suffixTokens, contextTokens: budget.contextTokens, maxPromptTokens: budget.maxPromptTokens },
      excerpts: excerpts.map((c) => ({ path: c.path, text: c.text })),
      ...(this.reset ? { resetAnchor: true } : {}),
    });
    this.reset = false;
    return built;
  }

  resetAnchor(): void {
    this.reset = true;
  }
}
