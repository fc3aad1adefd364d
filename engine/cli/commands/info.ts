// `limelight info`: what a model is (family, size, formats, context, vocabulary, FIM and chat
// templates, memory at a context), read from its headers without loading the weights.
import { describeModel } from '../../model/describe';
import type { ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_PATH_OPTION, modelDir } from '../modelOptions';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export const infoCommand: CliCommand = {
  name: 'info',
  summary: "Describe a model: family, parameters, formats, context, FIM and chat templates, memory needed.",
  usage: '--model PATH [--context-length N] [--json]',
  options: [
    MODEL_PATH_OPTION,
    { name: 'context-length', kind: 'int', value: 'N', help: "positions to size the KV cache for (default: the model's context, as limelight.maxContextTokens would cap it)" },
    { name: 'json', kind: 'flag', help: 'print one JSON object' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const ctx = args.has('context-length') ? args.int('context-length', 0) : undefined;
    const d = describeModel(modelDir(args), ctx);
    if (args.flag('json')) {
      process.stdout.write(JSON.stringify(d) + '\n');
      return 0;
    }
    const formats = Object.entries(d.formats).map(([t, n]) => `${t} ${((100 * (n as number)) / d.parameters).toFixed(1)}%`).join(', ');
    const lines = [
      `model         ${d.path}`,
      `family        ${d.family} (${d.modelType})`,
      `parameters    ${(d.parameters / 1e6).toFixed(1)} M; ${d.layers} layers, width ${d.hidden}, ${d.heads} heads / ${d.kvHeads} key-value heads`,
      `weights       ${mib(d.weightBytes)}: ${formats}`,
      `context       ${d.contextLength} positions; vocabulary ${d.vocabSize}`,
      `FIM           ${d.fim ?? 'none (completions are off for this model; Summarize works)'}`,
      `chat template ${d.chatTemplate ? 'yes (instruct model)' : 'none (base model)'}`,
      `memory        ${mib(d.memoryBytes)} at ${d.atContext} positions (KV cache ${mib(d.kvBytesPerPosition * d.atContext)})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
