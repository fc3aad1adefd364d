// `limelight eval`: how well a model (the starter, a GGUF file, a checkpoint folder, a
// fine-tune) knows a folder of source code, beside a baseline, on one of four tasks: lm (loss,
// perplexity, bits per byte), line and fim (exact match, edit similarity), summarize (BLEU-4,
// ROUGE-L against doc comments). The folder's files are chosen as Fine-tune on Workspace
// chooses them, with limelight.fineTune.include and .exclude at their defaults (read from the
// extension's package.json), and the samples are drawn from --seed (finetune/evalTasks.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { answer, BLOCK_MAX_TOKENS, EVAL_TASKS, fimEvalTasks, lineEvalTasks, lmEval, scoreCompletions, scoreSummaries, summaryEvalTasks, type EvalTaskName, type GapPrompt } from '../../finetune/evalTasks';
import { LINE_MAX_TOKENS } from '../../finetune/workspaceEval';
import { Generator } from '../../generate/generator';
import { loadModelPrompts } from '../../model/modelTokenizer';
import { summaryLayout } from '../../summarize/summaryPrompt';
import { selectWorkspaceFiles, SKIP_REASON_TEXT } from '../../workspace/workspaceFiles';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_OPTIONS, openBackend, openModel } from '../modelOptions';

const DEFAULT_LIMIT = 100;
/** lm's samples are windows of --context-length tokens: 16 of 1024 are 16k tokens to run. */
const DEFAULT_LM_LIMIT = 16;
const DEFAULT_CONTEXT = 1024;
/** New tokens a summary may take: one sentence, after an instruct model's preamble. */
const SUMMARY_MAX_TOKENS = 64;

/** limelight.fineTune.include and .exclude at their defaults, from the package.json beside dist/ (or the repository's, for the transpiled tests). */
function fineTuneFileDefaults(): { include: string[]; exclude: string[] } {
  for (const up of [['..'], ['..', '..', '..', '..']]) {
    const path = join(__dirname, ...up, 'package.json');
    if (!existsSync(path)) continue;
    const props = (JSON.parse(readFileSync(path, 'utf8')) as { contributes?: { configuration?: { properties?: Record<string, { default?: unknown }> } } }).contributes?.configuration?.properties;
    const include = props?.['limelight.fineTune.include']?.default;
    const exclude = props?.['limelight.fineTune.exclude']?.default;
    if (Array.isArray(include) && Array.isArray(exclude)) return { include: include as string[], exclude: exclude as string[] };
  }
  throw new Error(`the extension's package.json (with limelight.fineTune.include) is not beside ${__dirname}; reinstall Limelight.`);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function rounded(scores: object): Record<string, number> {
  return Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, round(v as number)]));
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Score a model on a folder of source code beside a baseline: lm, line, fim or summarize.',
  usage: '[--model PATH] --task lm|line|fim|summarize --data DIR [--json] [--seed N] [--limit N]',
  options: [
    ...MODEL_OPTIONS,
    { name: 'task', kind: 'string', value: 'T', help: 'lm (loss, perplexity, bits per byte), line (line completion), fim (a span cut from a line, or a block of lines), summarize (doc comments: BLEU-4, ROUGE-L)' },
    { name: 'data', kind: 'string', value: 'DIR', help: 'a folder of source files, chosen as Fine-tune on Workspace chooses them' },
    { name: 'seed', kind: 'int', value: 'N', help: 'which samples are drawn; the same seed draws the same (default 0)' },
    { name: 'limit', kind: 'int', value: 'N', help: `most samples: windows of --context-length tokens for lm (default ${DEFAULT_LM_LIMIT}); lines, spans or functions for the others (default ${DEFAULT_LIMIT})` },
    { name: 'context-length', kind: 'int', value: 'N', help: `tokens a prompt and its answer (lm: one window) may take (default ${DEFAULT_CONTEXT}; capped by the model)` },
    { name: 'json', kind: 'flag', help: 'print one JSON object: task, model and baseline metrics, samples' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const task = args.string('task');
    if (task === undefined) throw new UsageError(`--task is required: ${EVAL_TASKS.join(', ')}.`);
    if (!(EVAL_TASKS as readonly string[]).includes(task)) throw new UsageError(`unknown task "${task}". Tasks: ${EVAL_TASKS.join(', ')}.`);
    const data = args.string('data');
    if (data === undefined) throw new UsageError('--data DIR is required: a folder of source files to evaluate on.');
    if (!statSync(data, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--data ${data} is not a folder; give a folder of source files.`);
    const limit = args.int('limit', task === 'lm' ? DEFAULT_LM_LIMIT : DEFAULT_LIMIT);
    if (limit < 1) throw new UsageError('--limit must be at least 1.');
    const seed = args.int('seed', 0);
    const contextArg = args.int('context-length', DEFAULT_CONTEXT);
    if (contextArg < 2) throw new UsageError('--context-length must be at least 2.');
    const json = args.flag('json');

    const selection = await selectWorkspaceFiles([{ name: basename(resolve(data)), path: resolve(data) }], fineTuneFileDefaults());
    if (selection.files.length === 0) {
      const why = [...new Set(selection.skipped.map((s) => SKIP_REASON_TEXT[s.reason]))];
      throw new UsageError(`${data} holds no source files to evaluate on${why.length > 0 ? ` (left out: ${why.join('; ')})` : ''}. Give a folder with code (the files Fine-tune on Workspace would read).`);
    }
    const files = selection.files.map((f) => ({ path: f.path, text: f.text }));

    const model = openModel(args);
    const prompts = model.dir !== null ? loadModelPrompts(model.dir, model.config) : null;
    if (prompts === null) throw new UsageError(`${model.dir}: the model carries no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding), so text cannot be encoded.`);
    const { tokenizer, fim } = prompts;
    const bos = tokenizer.addsBos && tokenizer.bosId !== null ? [tokenizer.bosId] : [];
    const encode = (text: string): number[] => [...bos, ...tokenizer.encode(text)];
    const contextLength = Math.min(contextArg, model.config.maxPositions);
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await runTask(task as EvalTaskName);
      if (json) process.stdout.write(JSON.stringify({ task, model: rounded(result.model), baseline: rounded(result.baseline), samples: result.samples }) + '\n');
      else printTable(task, data, result);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }

    async function runTask(name: EvalTaskName): Promise<{ model: object; baseline: object; samples: number }> {
      const stopIds = [...model.config.eosTokenIds, ...tokenizer.eosIds, ...(fim?.stopIds ?? [])];
      if (name === 'fim' && fim === null) throw new UsageError(`${model.dir}: the model has no fill-in-the-middle tokens, so it cannot fill a span between a prefix and a suffix. Use a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama), or --task line.`);
      const maxNew = name === 'summarize' ? SUMMARY_MAX_TOKENS : name === 'fim' ? BLOCK_MAX_TOKENS : LINE_MAX_TOKENS;
      const maxPrompt = contextLength - maxNew;
      if (name !== 'lm' && maxPrompt < 1) throw new UsageError(`--context-length ${contextLength} leaves no room for a prompt before a ${maxNew}-token answer; give more.`);
      const separator = model.config.eosTokenIds[0] ?? tokenizer.eosIds[0] ?? fim?.eot;
      if (name === 'lm' && separator === undefined) throw new UsageError(`${model.dir}: the model names no end-of-sequence token to put between files.`);
      const backend = await openBackend(args, model, 'auto', contextLength);
      try {
        if (name === 'lm') {
          const r = await lmEval(backend, model.config.vocabSize, encode, files, separator!, seed, limit, ac.signal);
          return { model: r.model, baseline: r.baseline, samples: r.windows };
        }
        const generator = new Generator(backend);
        if (name === 'summarize') {
          const layout = summaryLayout(prompts!);
          if (layout.note !== null) process.stderr.write(`${layout.note}\n`);
          const tasks = summaryEvalTasks(layout.encode, files, seed, limit, maxPrompt);
          if (tasks.length === 0) throw new UsageError(`${data} has no documented functions to summarize (Python docstrings, JSDoc comments before JavaScript/TypeScript functions, Go doc comments).`);
          const answers = await answer(generator, tasks, { stopIds: [...stopIds, ...layout.stopTokenIds], tokenizer, oneLine: layout.kind !== 'chat', maxNewTokens: maxNew, signal: ac.signal });
          return { ...scoreSummaries(tasks, answers), samples: tasks.length };
        }
        const prompt: GapPrompt = fim !== null ? (path, prefix, suffix) => fim.prompt({ path, prefix, suffix }, fim.encode) : (_path, prefix) => encode(prefix);
        const tasks = (name === 'line' ? lineEvalTasks : fimEvalTasks)(prompt, files, seed, limit, maxPrompt);
        if (tasks.length === 0) throw new UsageError(`${data} has no lines with code to complete (a line needs at least 6 characters after its indentation, and its prompt must fit ${maxPrompt} tokens).`);
        const answers = await answer(generator, tasks, { stopIds, tokenizer, oneLine: true, maxNewTokens: maxNew, signal: ac.signal });
        return { ...scoreCompletions(tasks, answers, name === 'line'), samples: tasks.length };
      } finally {
        backend.dispose();
      }
    }
  },
};

function printTable(task: string, data: string, r: { model: object; baseline: object; samples: number }): void {
  const rows = Object.keys(r.model);
  const width = Math.max(...rows.map((k) => k.length));
  const cell = (x: number): string => x.toFixed(4).padStart(10);
  const lines = [`${task} on ${r.samples} samples from ${data}`, `${''.padEnd(width)}  ${'model'.padStart(10)}  ${'baseline'.padStart(10)}`];
  for (const k of rows) lines.push(`${k.padEnd(width)}  ${cell((r.model as Record<string, number>)[k]!)}  ${cell((r.baseline as Record<string, number>)[k]!)}`);
  process.stdout.write(lines.join('\n') + '\n');
}
