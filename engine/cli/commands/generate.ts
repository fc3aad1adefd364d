// `limelight generate`: continue a prompt (token ids or text) on the engine, streaming the
// new text to stdout, or printing one JSON object with the ids and timings (--json). With
// --suffix it fills in the middle between the prompt and the suffix (the model's FIM
// template); with --backend remote a team's inference server generates, and the JSON is the
// same (its ids empty: the server's tokenizer is not on this side).
import { Generator, type GenerateResult } from '../../generate/generator';
import { resolveSampling, SamplingOptionsError, type SamplingOptions } from '../../generate/sampler';
import { checkStopRules, StopRulesError } from '../../generate/stops';
import type { Tokenizer } from '../../tokenizer/tokenizer';
import { loadModelPrompts } from '../../model/modelTokenizer';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { modelOptions, openBackend, openModel } from '../modelOptions';
import { refuseLocalOptions, remoteClient, REMOTE_OPTIONS, wantsRemote } from '../remoteOptions';

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The JSON printed by --json: ids are the prompt ids followed by the new ids. */
function toJson(r: GenerateResult, seed: number, withText: boolean): Record<string, unknown> {
  const t = r.timings;
  // The first new token comes from the prefill's logits; each later one costs one decode step.
  const steps = Math.max(0, t.new_tokens - 1);
  return {
    ids: r.ids,
    new_ids: r.newIds,
    ...(withText ? { text: r.text } : {}),
    stop_reason: r.stopReason,
    context_limited: r.contextLimited,
    seed,
    timings: {
      ...t,
      prefill_ms: round2(t.prefill_ms),
      decode_ms: round2(t.decode_ms),
      decode_tokens_per_s: steps > 0 && t.decode_ms > 0 ? round2((steps * 1000) / t.decode_ms) : null,
    },
  };
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Continue a prompt: stream the new text, or print ids and timings as JSON.',
  usage: '--model DIR (--ids 1,2,3 | --prompt TEXT [--suffix TEXT]) [--max-new-tokens N] [--temperature T] [--json] ...\n       limelight generate --backend remote --endpoint URL --api KIND [--remote-model NAME] --prompt TEXT [--suffix TEXT] [--max-new-tokens N] [--json]',
  options: [
    ...modelOptions('auto'),
    { name: 'ids', kind: 'string', value: 'LIST', help: 'prompt token ids, comma-separated' },
    { name: 'prompt', kind: 'string', value: 'TEXT', help: "prompt text, encoded with the model's tokenizer (BOS first where the model adds one)" },
    { name: 'suffix', kind: 'string', value: 'TEXT', help: "text after the gap: fill in the middle between --prompt and this, in the model's FIM layout" },
    { name: 'max-new-tokens', kind: 'int', value: 'N', help: 'most tokens to generate (default 64; lowered to what the context holds)' },
    { name: 'temperature', kind: 'number', value: 'T', help: '0 for greedy (default), higher for more varied text' },
    { name: 'top-k', kind: 'int', value: 'K', help: 'sample among the K most likely tokens (default 0: all)' },
    { name: 'top-p', kind: 'number', value: 'P', help: 'sample among the most likely tokens holding probability P (default 1: all)' },
    { name: 'repetition-penalty', kind: 'number', value: 'R', help: 'penalise tokens already seen, as Hugging Face does (default 1: off)' },
    { name: 'seed', kind: 'int', value: 'S', help: 'sampler seed; the same seed gives the same text (default 0)' },
    { name: 'stop', kind: 'string', value: 'TEXT', help: 'stop before this text (needs a tokenizer)', repeat: true },
    { name: 'ignore-eos', kind: 'flag', help: "keep going past the model's end-of-sequence token" },
    { name: 'max-time-ms', kind: 'number', value: 'MS', help: 'stop after this many milliseconds' },
    { name: 'context-length', kind: 'int', value: 'N', help: "KV-cache positions (default: the model's maximum)" },
    { name: 'json', kind: 'flag', help: 'print one JSON object: ids (prompt + new), new_ids, text, stop_reason, timings' },
    ...REMOTE_OPTIONS,
  ],
  async run(args: ParsedArgs): Promise<number> {
    if (wantsRemote(args)) return runRemote(args);
    const idsArg = args.ids('ids');
    const promptArg = args.string('prompt');
    const suffixArg = args.string('suffix');
    if ((idsArg === undefined) === (promptArg === undefined)) throw new UsageError('give exactly one of --ids 1,2,3 or --prompt "text".');
    if (suffixArg !== undefined && promptArg === undefined) throw new UsageError('--suffix goes with --prompt (the text before the gap).');
    const stopStrings = args.list('stop');
    const maxNewTokens = args.int('max-new-tokens', 64);
    const maxTimeMs = args.number('max-time-ms', Infinity);
    let sampling: SamplingOptions;
    try {
      sampling = resolveSampling({
        temperature: args.number('temperature', 0),
        topK: args.int('top-k', 0),
        topP: args.number('top-p', 1),
        repetitionPenalty: args.number('repetition-penalty', 1),
        seed: args.int('seed', 0),
      });
      checkStopRules({ stopTokenIds: [], stopStrings, maxNewTokens, maxTimeMs });
    } catch (e) {
      if (e instanceof SamplingOptionsError || e instanceof StopRulesError) throw new UsageError(e.message);
      throw e;
    }
    const contextLength = args.has('context-length') ? args.int('context-length', 0) : undefined;
    if (contextLength !== undefined && contextLength < 1) throw new UsageError('--context-length must be at least 1.');

    const model = openModel(args);
    const prompts = model.dir !== null ? loadModelPrompts(model.dir, model.config) : null;
    const tokenizer: Tokenizer | undefined = prompts?.tokenizer ?? undefined;
    if (tokenizer === undefined && (promptArg !== undefined || stopStrings.length > 0)) {
      throw new UsageError(`${model.dir}: the model carries no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding), so text cannot be encoded. Pass --ids.`);
    }
    // Text is encoded as the model expects a sequence to start: BOS first where its tokenizer adds one (Llama), never for --ids.
    const bos = tokenizer !== undefined && tokenizer.addsBos && tokenizer.bosId !== null ? [tokenizer.bosId] : [];
    let promptIds = idsArg ?? [...bos, ...(tokenizer as Tokenizer).encode(promptArg as string)];
    const fim = suffixArg !== undefined ? prompts?.fim ?? null : null;
    if (suffixArg !== undefined) {
      if (fim === null) throw new UsageError(`${model.dir}: the model has no fill-in-the-middle tokens, so --suffix cannot be used. Use a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama).`);
      promptIds = fim.prompt({ path: '', prefix: promptArg as string, suffix: suffixArg }, fim.encode);
    }
    const json = args.flag('json');

    const backend = await openBackend(args, model, 'auto', contextLength);
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const r = await new Generator(backend).generate(promptIds, {
        maxNewTokens,
        sampling,
        stopTokenIds: args.flag('ignore-eos') ? [] : [...new Set([...model.config.eosTokenIds, ...(tokenizer?.eosIds ?? []), ...(fim?.stopIds ?? [])])],
        stopStrings,
        maxTimeMs,
        signal: ac.signal,
        tokenizer,
        onToken: json || !tokenizer ? undefined : (_id, delta) => process.stdout.write(delta),
      });
      if (json) process.stdout.write(JSON.stringify(toJson(r, sampling.seed, tokenizer !== undefined)) + '\n');
      else process.stdout.write(tokenizer ? '\n' : r.newIds.join(' ') + '\n');
      if (r.contextLimited) process.stderr.write(`note: the context holds ${backend.contextLength} positions, so at most ${backend.contextLength - promptIds.length + 1} new tokens fit after this prompt.\n`);
      return r.stopReason === 'cancelled' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      backend.dispose();
    }
  },
};

/** The options that choose or shape a local model's run, which a server does not take. */
const LOCAL_ONLY = ['model', 'ids', 'threads', 'weight-format', 'context-length', 'temperature', 'top-k', 'top-p', 'repetition-penalty', 'seed', 'ignore-eos'];

/** generate on a server: the same output, greedy as completions are. */
async function runRemote(args: ParsedArgs): Promise<number> {
  refuseLocalOptions(args, LOCAL_ONLY);
  const prompt = args.string('prompt');
  if (prompt === undefined) throw new UsageError('--backend remote needs --prompt "text" (token ids are the local model\'s).');
  const suffix = args.string('suffix');
  const maxNewTokens = args.int('max-new-tokens', 64);
  const maxTimeMs = args.number('max-time-ms', Infinity);
  const stop = args.list('stop');
  try {
    checkStopRules({ stopTokenIds: [], stopStrings: stop, maxNewTokens, maxTimeMs });
  } catch (e) {
    if (e instanceof StopRulesError) throw new UsageError(e.message);
    throw e;
  }
  const client = remoteClient(args);
  const json = args.flag('json');
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const run = { maxTokens: maxNewTokens, stop, maxTimeMs, signal: ac.signal, onText: json ? undefined : (d: string) => void process.stdout.write(d) };
    const r = suffix !== undefined ? await client.infill({ path: '', prefix: prompt, suffix }, run) : await client.continue(prompt, run);
    if (json) process.stdout.write(JSON.stringify(toJson({ ids: [], newIds: [], text: r.text, stopReason: r.stopReason, contextLimited: false, timings: r.timings }, 0, true)) + '\n');
    else process.stdout.write('\n');
    return r.stopReason === 'cancelled' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
