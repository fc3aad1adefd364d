// `limelight complete`: the suggestion the editor would show at a position in a file, with
// the same FIM prompt, context window and stop policy as the inline completion provider (an
// explicit request, as Alt+\ asks). The time budgets are off, so the answer does not depend on
// the machine's speed: a terminal evaluation of a model gets the full suggestion. With
// --backend remote the same session asks a team's inference server (limelight.remote.* as options).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { CompletionSession, DEFAULT_COMPLETION_OPTIONS, type CompletionOptions, type CompletionRecord } from '../../complete/session';
import { estimatedTemplate, RemoteEngine } from '../../remote/remoteEngine';
import { LocalEngine } from '../../complete/localEngine';
import { PromptBuilder } from '../../complete/prompt';
import { Generator } from '../../generate/generator';
import { loadModelPrompts } from '../../model/modelTokenizer';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { modelOptions, openBackend, openModel } from '../modelOptions';
import { refuseLocalOptions, remoteClient, REMOTE_OPTIONS, wantsRemote } from '../remoteOptions';

/** Offset of 1-based (line, column) in text; the column counts UTF-16 units, as VS Code's do. */
export function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) throw new UsageError(`--line ${line} is past the end of the file (it has ${l} lines).`);
    at = nl + 1;
  }
  const end = text.indexOf('\n', at);
  const width = (end < 0 ? text.length : end) - at;
  if (column > width + 1) throw new UsageError(`--column ${column} is past the end of line ${line} (${width} characters; the last position is ${width + 1}).`);
  return at + column - 1;
}

/** No debounce and no time budgets: the answer does not depend on the machine's (or the network's) speed. */
const UNTIMED: Partial<CompletionOptions> = { debounceMs: 0, singleLineMaxMs: Infinity, multiLineMaxMs: Infinity };

/** Prints the record; the exit code is 1 when the request failed (the reason is printed). */
function print(json: boolean, r: CompletionRecord): number {
  if (json) {
    process.stdout.write(JSON.stringify({ text: r.text, mode: r.mode, outcome: r.outcome, reason: r.reason, prompt_tokens: r.prompt?.ids.length ?? 0, new_ids: r.newIds, timings: r.timings }) + '\n');
  } else {
    process.stdout.write(r.text + '\n');
    if (r.text === '') process.stderr.write(`note: no suggestion (${r.outcome}: ${r.reason})\n`);
  }
  return r.outcome === 'error' ? 1 : 0;
}

export const completeCommand: CliCommand = {
  name: 'complete',
  summary: 'The completion the editor would show at a position in a file (same prompt and stop policy).',
  usage: '--model PATH --file F --line L --column C [--json]\n       limelight complete --backend remote --endpoint URL --api KIND [--remote-model NAME] --file F --line L --column C [--json]',
  options: [
    ...modelOptions('auto'),
    { name: 'file', kind: 'string', value: 'F', help: 'the source file' },
    { name: 'line', kind: 'int', value: 'L', help: 'the cursor line, from 1' },
    { name: 'column', kind: 'int', value: 'C', help: 'the cursor column, from 1 (UTF-16 units, as in VS Code)' },
    { name: 'context-length', kind: 'int', value: 'N', help: "KV-cache positions (default 1024, as limelight.maxContextTokens; capped by the model)" },
    { name: 'json', kind: 'flag', help: 'print one JSON object: text, mode, outcome, reason, prompt tokens, timings' },
    ...REMOTE_OPTIONS,
  ],
  async run(args: ParsedArgs): Promise<number> {
    const file = args.string('file');
    if (file === undefined) throw new UsageError('--file is required.');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    const line = args.int('line', 0);
    const column = args.int('column', 0);
    if (line < 1 || column < 1) throw new UsageError('--line and --column are required and count from 1.');
    const offset = offsetOf(text, line, column);
    const doc = { path: relative(process.cwd(), file), languageId: '', text, offset };
    if (wantsRemote(args)) {
      refuseLocalOptions(args, ['model', 'threads', 'weight-format']);
      const client = remoteClient(args);
      const session = new CompletionSession(new PromptBuilder(estimatedTemplate(client)), new RemoteEngine(client), { ...UNTIMED, contextLength: args.int('context-length', DEFAULT_COMPLETION_OPTIONS.contextLength) });
      return print(args.flag('json'), await session.complete(doc, 'invoke'));
    }
    const model = openModel(args);
    const prompts = loadModelPrompts(model.dir!, model.config);
    if (prompts === null || prompts.fim === null) {
      throw new UsageError(`${model.dir}: the model has no fill-in-the-middle tokens, so it cannot complete between a prefix and a suffix. Use a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeLlama).`);
    }
    const backend = await openBackend(args, model, 'auto', Math.min(args.int('context-length', DEFAULT_COMPLETION_OPTIONS.contextLength), model.config.maxPositions));
    try {
      const session = new CompletionSession(new PromptBuilder(prompts.fim), new LocalEngine(new Generator(backend), prompts.tokenizer), { ...UNTIMED, contextLength: backend.contextLength });
      return print(args.flag('json'), await session.complete(doc, 'invoke'));
    } finally {
      backend.dispose();
    }
  },
};
