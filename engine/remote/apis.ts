// The three server APIs as requests and answers: for each, the path and body of a
// fill-in-the-middle request, of a plain continuation and of a chat (summaries), and how one
// streamed (or whole) answer message reads as text, an end and the server's own counts.
//   llama-infill        llama.cpp server: POST /infill, /completion, /v1/chat/completions (SSE)
//   ollama              POST /api/generate, /api/chat (NDJSON)
//   openai-completions  POST {endpoint}/completions, {endpoint}/chat/completions (SSE), as vLLM,
//                       SGLang, TGI, LM Studio and llama.cpp serve under /v1
import type { StopReason } from '../generate/stops';
import { fimPromptText, type FimMarkerRow, type FimTextParts } from '../tokenizer/fimMarkers';
import type { RemoteApi } from './endpoint';
import type { Framing } from './http';

/** Most stop sequences an OpenAI-style request may carry (OpenAI's limit; vLLM takes more). */
export const OPENAI_MAX_STOPS = 4;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What the request asks besides the prompt. */
export interface Limits {
  model: string;
  maxTokens: number;
  stop: string[];
  stream: boolean;
}

/** One answer message read: new text, and at the end why it ended and the server's counts. */
export interface Piece {
  text: string;
  end: StopReason | null;
  counts: ServerCounts | null;
}

/** Token counts and times the server reports with its last message (what it reports of them). */
export interface ServerCounts {
  promptTokens?: number;
  cachedTokens?: number;
  prefilledTokens?: number;
  prefillMs?: number;
  newTokens?: number;
  decodeMs?: number;
}

export interface ApiRequest {
  path: string;
  body: Record<string, unknown>;
  framing: Framing;
  read: (message: unknown) => Piece;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Why a message does not fit the API: thrown, and reported as a protocol error. */
export class ShapeError extends Error {}

// llama.cpp server: {content, stop, stop_type | stopped_eos/stopped_word/stopped_limit, timings, tokens_evaluated}.
function readLlama(message: unknown): Piece {
  const m = obj(message);
  if (typeof m.content !== 'string') throw new ShapeError('a llama.cpp answer carries a "content" string');
  if (m.stop !== true) return { text: m.content, end: null, counts: null };
  const type = str(m.stop_type);
  const end: StopReason = type === 'limit' || m.stopped_limit === true ? 'max-tokens' : type === 'word' || m.stopped_word === true ? 'stop-string' : 'eos';
  const t = obj(m.timings);
  const prompt = num(m.tokens_evaluated);
  const prefilled = num(t.prompt_n);
  const cached = num(t.cache_n) ?? (prompt !== undefined && prefilled !== undefined ? prompt - prefilled : undefined);
  return { text: m.content, end, counts: { promptTokens: prompt, cachedTokens: cached, prefilledTokens: prefilled, prefillMs: num(t.prompt_ms), newTokens: num(t.predicted_n), decodeMs: num(t.predicted_ms) } };
}

// Ollama: {response | message.content, done, done_reason, prompt_eval_count, prompt_eval_duration (ns), eval_count, eval_duration}.
function readOllama(message: unknown): Piece {
  const m = obj(message);
  const text = typeof m.response === 'string' ? m.response : typeof obj(m.message).content === 'string' ? str(obj(m.message).content) : null;
  if (typeof m.error === 'string') throw new ShapeError(`Ollama reported an error: ${m.error}`);
  if (text === null) throw new ShapeError('an Ollama answer carries "response" or "message.content"');
  if (m.done !== true) return { text, end: null, counts: null };
  const ns = (v: unknown): number | undefined => (num(v) !== undefined ? (v as number) / 1e6 : undefined);
  return { text, end: m.done_reason === 'length' ? 'max-tokens' : 'eos', counts: { promptTokens: num(m.prompt_eval_count), prefilledTokens: num(m.prompt_eval_count), prefillMs: ns(m.prompt_eval_duration), newTokens: num(m.eval_count), decodeMs: ns(m.eval_duration) } };
}

// OpenAI-style: {choices: [{text | delta.content | message.content, finish_reason}], usage}.
function readOpenAi(message: unknown): Piece {
  const m = obj(message);
  if (m.error !== undefined) throw new ShapeError(`the server reported an error: ${str(obj(m.error).message) || JSON.stringify(m.error).slice(0, 200)}`);
  const choices = m.choices;
  const usage = obj(m.usage);
  const counts: ServerCounts | null = m.usage !== undefined && m.usage !== null ? { promptTokens: num(usage.prompt_tokens), newTokens: num(usage.completion_tokens), cachedTokens: num(obj(usage.prompt_tokens_details).cached_tokens) } : null;
  if (!Array.isArray(choices)) throw new ShapeError('an OpenAI-style answer carries a "choices" list');
  // The last message of a stream with usage has no choices.
  if (choices.length === 0) return { text: '', end: null, counts };
  const c = obj(choices[0]);
  const text = typeof c.text === 'string' ? c.text : str(obj(c.delta).content) || str(obj(c.message).content);
  const finish = c.finish_reason;
  const end: StopReason | null = finish === null || finish === undefined ? null : finish === 'length' ? 'max-tokens' : 'eos';
  return { text, end, counts };
}

/** The fill-in-the-middle request. `row` is the FIM template for openai-completions (required) and raw Ollama (optional). */
export function infillRequest(api: RemoteApi, parts: FimTextParts, l: Limits, row: FimMarkerRow | null): ApiRequest {
  switch (api) {
    case 'llama-infill':
      return {
        path: 'infill',
        framing: l.stream ? 'sse' : 'json',
        read: readLlama,
        body: {
          input_prefix: parts.prefix,
          input_suffix: parts.suffix,
          input_extra: (parts.context ?? []).map((c) => ({ filename: c.path, text: c.text })),
          n_predict: l.maxTokens,
          stream: l.stream,
          cache_prompt: true,
          temperature: 0,
          ...(l.stop.length > 0 ? { stop: l.stop } : {}),
          ...(l.model !== '' ? { model: l.model } : {}),
        },
      };
    case 'ollama':
      // Without a template named, Ollama's model template places prompt and suffix (it
      // applies its FIM template only when the suffix is not empty: an empty one would turn
      // the request into a chat turn, so the end of the file is sent as a line end). With a
      // template named, the whole FIM text goes raw, other files' excerpts included.
      return {
        path: 'api/generate',
        framing: l.stream ? 'ndjson' : 'json',
        read: readOllama,
        body: {
          model: l.model,
          ...(row !== null ? { prompt: fimPromptText(row, parts), raw: true } : { prompt: parts.prefix, suffix: parts.suffix === '' ? '\n' : parts.suffix }),
          stream: l.stream,
          options: { num_predict: l.maxTokens, temperature: 0, ...(l.stop.length > 0 ? { stop: l.stop } : {}) },
        },
      };
    case 'openai-completions':
      if (row === null) throw new Error('openai-completions needs a FIM template');
      return openAiCompletion(fimPromptText(row, parts), l);
  }
}

function openAiCompletion(prompt: string, l: Limits): ApiRequest {
  return {
    path: 'completions',
    framing: l.stream ? 'sse' : 'json',
    read: readOpenAi,
    body: { model: l.model, prompt, max_tokens: l.maxTokens, temperature: 0, stream: l.stream, ...(l.stop.length > 0 ? { stop: l.stop.slice(0, OPENAI_MAX_STOPS) } : {}) },
  };
}

/** A plain continuation of `prompt` (no suffix). */
export function continueRequest(api: RemoteApi, prompt: string, l: Limits): ApiRequest {
  switch (api) {
    case 'llama-infill':
      return { path: 'completion', framing: l.stream ? 'sse' : 'json', read: readLlama, body: { prompt, n_predict: l.maxTokens, stream: l.stream, cache_prompt: true, temperature: 0, ...(l.stop.length > 0 ? { stop: l.stop } : {}) } };
    case 'ollama':
      return { path: 'api/generate', framing: l.stream ? 'ndjson' : 'json', read: readOllama, body: { model: l.model, prompt, raw: true, stream: l.stream, options: { num_predict: l.maxTokens, temperature: 0, ...(l.stop.length > 0 ? { stop: l.stop } : {}) } } };
    case 'openai-completions':
      return openAiCompletion(prompt, l);
  }
}

/** A chat turn (Summarize Selection): the server applies the model's chat template. */
export function chatRequest(api: RemoteApi, messages: ChatMessage[], l: Limits): ApiRequest {
  if (api === 'ollama') {
    return { path: 'api/chat', framing: l.stream ? 'ndjson' : 'json', read: readOllama, body: { model: l.model, messages, stream: l.stream, options: { num_predict: l.maxTokens, temperature: 0, ...(l.stop.length > 0 ? { stop: l.stop } : {}) } } };
  }
  // llama.cpp's server serves the OpenAI chat route under /v1 of its base URL.
  return {
    path: api === 'llama-infill' ? 'v1/chat/completions' : 'chat/completions',
    framing: l.stream ? 'sse' : 'json',
    read: readOpenAi,
    body: { ...(l.model !== '' ? { model: l.model } : {}), messages, max_tokens: l.maxTokens, temperature: 0, stream: l.stream, ...(l.stop.length > 0 ? { stop: l.stop.slice(0, OPENAI_MAX_STOPS) } : {}) },
  };
}
