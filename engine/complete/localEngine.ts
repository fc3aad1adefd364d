// The completion engine on a Generator in this thread: what the engine worker runs, and
// what the benchmark and the tests drive directly. Greedy decoding, so the same prompt
// always gives the same suggestion.
import type { Generator } from '../generate/generator';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { CompletionEngine, GenerationRequest, GenerationResult } from './session';

export class LocalEngine implements CompletionEngine {
  constructor(
    readonly generator: Generator,
    private readonly tokenizer: Tokenizer,
  ) {}

  async generate(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult> {
    const r = await this.generator.generate(req.promptIds, {
      maxNewTokens: req.maxNewTokens,
      stopTokenIds: [...new Set([...this.generator.backend.config.eosTokenIds, ...req.stopTokenIds])],
      stopStrings: req.stopStrings,
      maxTimeMs: req.maxTimeMs,
      signal,
      tokenizer: this.tokenizer,
      sampling: { temperature: 0 },
      onToken: (_id, delta) => {
        if (delta !== '') onText(delta);
      },
    });
    return { text: r.text, newIds: r.newIds, stopReason: r.stopReason, timings: r.timings };
  }
}
