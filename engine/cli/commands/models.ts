// `limelight models`: the models already on this machine (Hugging Face cache, Ollama, LM Studio,
// llama.cpp's cache, a Limelight downloads folder), each with its family, format, FIM, size and
// memory at a context, or the reason it cannot be used. Reads headers only.
import { discoverModels, type FoundModel } from '../../model/discover';
import type { ParsedArgs } from '../args';
import type { CliCommand } from '../command';

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
}

function row(m: FoundModel): string[] {
  return [
    m.name,
    m.source,
    m.family ?? '',
    m.format ?? '',
    m.fim === undefined ? '' : m.fim ? 'yes' : 'no',
    size(m.bytes),
    m.memoryBytes === undefined ? '' : `${size(m.memoryBytes)}${m.fits === false ? ' (more than this machine has)' : ''}`,
    m.error ?? '',
  ];
}

/** The models as an aligned text table, one line each. */
export function modelsTable(models: readonly FoundModel[]): string {
  const rows = [['NAME', 'SOURCE', 'FAMILY', 'FORMAT', 'FIM', 'SIZE', 'MEMORY', 'ERROR'], ...models.map(row)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'List the models already on this machine (Hugging Face cache, Ollama, LM Studio, llama.cpp), reading headers only.',
  usage: '[--context-length N] [--dir DIR] [--json]',
  options: [
    { name: 'context-length', kind: 'int', value: 'N', help: "positions to size each model's KV cache for (default: each model's own context)" },
    { name: 'dir', kind: 'string', value: 'DIR', help: 'also list the models in DIR (a folder of downloads: hub layout, model folders or .gguf files)' },
    { name: 'json', kind: 'flag', help: 'print {"models": [...]}' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const ctx = args.has('context-length') ? args.int('context-length', 0) : undefined;
    const dir = args.string('dir');
    const models = discoverModels({ ...(ctx !== undefined ? { contextLength: ctx } : {}), ...(dir !== undefined ? { limelightDir: dir } : {}) });
    if (args.flag('json')) {
      process.stdout.write(JSON.stringify({ models }) + '\n');
      return 0;
    }
    if (models.length === 0) {
      process.stdout.write('No models found in the Hugging Face cache, Ollama, LM Studio or llama.cpp folders.\n');
      return 0;
    }
    process.stdout.write(modelsTable(models));
    return 0;
  },
};
