// The completion engine behind the engine worker (EngineClient): what the extension uses,
// so the model never runs on the extension host's thread. Streams the text as it comes and
// turns a cancellation, whether it lands before or during the generation, into a result
// with stopReason 'cancelled' (the session treats both alike).
import type { GenerateTimings } from '../generate/generator';
import type { BusySignal } from '../runtime/busySignal';
import type { EngineClient } from './client';
import type { CompletionEngine, GenerationRequest, GenerationResult } from '../complete/session';

export class WorkerEngine implements CompletionEngine {
  /** `busy` is raised while a generation runs, so a fine-tune elsewhere waits (see BusySignal). */
  constructor(
    private readonly client: EngineClient,
    private readonly busy?: BusySignal,
  ) {}

  generate(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult> {
    return this.busy ? this.busy.during(() => this.run(req, signal, onText)) : this.run(req, signal, onText);
  }

  private async run(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult> {
    try {
      const r = await this.client.generate(
        {
          promptIds: req.promptIds,
          maxNewTokens: req.maxNewTokens,
          stopStrings: req.stopStrings,
          stopTokenIds: req.stopTokenIds,
          maxTimeMs: req.maxTimeMs,
          sampling: { temperature: 0 },
        },
        {
          signal,
          onToken: (_id, text) => {
            if (text !== '') onText(text);
          },
        },
      );
      return { text: r.text, newIds: r.newIds, stopReason: r.stopReason, timings: r.timings };
    } catch (e) {
      if (!signal.aborted) throw e;
      const none: GenerateTimings = { prompt_tokens: req.promptIds.length, reused_tokens: 0, prefilled_tokens: 0, new_tokens: 0, prefill_ms: 0, decode_ms: 0, backend: '' };
      return { text: '', newIds: [], stopReason: 'cancelled', timings: none };
    }
  }
}
