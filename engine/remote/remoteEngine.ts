// The remote backend under the completion session: the same session (typing-through cache,
// policy, debounce, windows, block end, post-processing, cancellation) with a server in place
// of the local model. The session hands over the prompt's text parts; the server tokenizes
// them, so the windows are measured here with an estimate (estimatedTemplate).
import type { CompletionEngine, CompletionOptions, GenerationRequest, GenerationResult } from '../complete/session';
import type { Encode, FimParts, FimTemplate } from '../tokenizer/fimTemplates';
import { fimPromptText, fimStopTexts } from '../tokenizer/fimMarkers';
import type { RemoteClient } from './client';

/**
 * Characters one token is taken to cover where the tokenizer is the server's. Code averages 3
 * to 4 characters per token in the BPE vocabularies of Qwen2.5-Coder, StarCoder2,
 * DeepSeek-Coder and CodeLlama; the low end errs toward sending less than the budgets allow,
 * never more.
 */
export const ESTIMATED_CHARS_PER_TOKEN = 3;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / ESTIMATED_CHARS_PER_TOKEN);
}

/**
 * A FimTemplate that measures instead of encoding: `encode` returns one placeholder id (0)
 * per estimated token, so the prompt builder's budgets, anchors and fitting run unchanged on
 * text the server will tokenize. Its ids are counts, never sent anywhere, and it has no
 * training layout (document and example are not part of a remote backend).
 */
export function estimatedTemplate(client: RemoteClient): FimTemplate {
  const count: Encode = (text) => new Array<number>(estimateTokens(text)).fill(0);
  const row = client.fimRow;
  const api = client.config.api;
  // What the request carries: llama.cpp's /infill takes other files as input_extra; a FIM text
  // built here takes them where the family has a file separator; Ollama's own template takes none.
  const takesContext = api === 'llama-infill' || (row !== null && row.fileSep !== null);
  const prompt = (parts: FimParts): number[] => (row !== null ? count(fimPromptText(row, parts)) : count(`${(parts.context ?? []).map((c) => `${c.path}\n${c.text}\n`).join('')}${parts.prefix}${parts.suffix}`));
  const notForTraining = (): number[] => {
    throw new Error('a remote backend has no training layout');
  };
  return {
    encode: count,
    linesEncodeAlone: false,
    name: `${api} (${row !== null ? `${row.name} markers` : 'the server builds the prompt'}; ~${ESTIMATED_CHARS_PER_TOKEN} characters per token)`,
    layout: row !== null ? `FIM text with ${row.name} markers, sent to ${client.description}` : `prefix, suffix${takesContext ? ' and other files' : ''} sent to ${client.description}`,
    stopIds: [],
    eot: -1,
    markerCount: 3,
    takesContext,
    header: (path) => (row !== null && row.fileSep !== null ? count(`${row.fileSep}${path}\n`) : []),
    contextChunk: (path, text) => count(`${path}\n${text}\n`),
    prompt,
    document: notForTraining,
    example: notForTraining,
  };
}

/**
 * What a session on a server sets over the user's completion settings. The debounce wait does
 * not shrink below limelight.completions.debounceMs when the server answers fast: the server's
 * time is shared by a team, and each request that the next keystroke aborts has still cost it
 * a prompt's processing.
 */
export const REMOTE_SESSION_OPTIONS: Partial<CompletionOptions> = { adaptiveDebounce: false };

export class RemoteEngine implements CompletionEngine {
  /** The server keeps its own prompt cache (cache_prompt); nothing is gained by sending prompts ahead. */
  readonly keepsPromptCache = false;
  private readonly stops: string[];

  constructor(readonly client: RemoteClient) {
    this.stops = client.fimRow !== null ? fimStopTexts(client.fimRow) : [];
  }

  async generate(req: GenerationRequest, signal: AbortSignal, onText: (delta: string) => void): Promise<GenerationResult> {
    const r = await this.client.infill(req.parts, { maxTokens: req.maxNewTokens, stop: [...req.stopStrings, ...this.stops], maxTimeMs: req.maxTimeMs, signal, onText });
    return { text: r.text, newIds: [], stopReason: r.stopReason, timings: r.timings };
  }
}
