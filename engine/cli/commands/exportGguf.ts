// `limelight export-gguf`: writes a GPT-2-family checkpoint (a fine-tuned one included) as a
// GGUF file for llama.cpp or Ollama, with the tokenizer's vocabulary and merges inside.
import { statSync } from 'node:fs';
import { writeGgufModel, type GgufWeightType } from '../../io/gguf';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { openModel } from '../modelOptions';

const TYPES: Record<string, GgufWeightType> = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0' };

export const exportGgufCommand: CliCommand = {
  name: 'export-gguf',
  summary: 'Write a GPT-2 model as GGUF (llama.cpp, Ollama) with its tokenizer.',
  usage: '--model DIR --out FILE.gguf [--weights f32|f16|q8_0]',
  options: [
    { name: 'model', kind: 'string', value: 'DIR', help: 'Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' },
    { name: 'out', kind: 'string', value: 'FILE', help: 'the .gguf file to write (required, must not exist)' },
    { name: 'weights', kind: 'string', value: 'TYPE', help: 'f32 (exact), f16 or q8_0 (8-bit blocks of 32); norms and biases stay f32; default f16' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required, e.g. --out model.gguf.');
    const name = args.string('weights') ?? 'f16';
    const type = TYPES[name];
    if (!type) throw new UsageError(`--weights must be one of ${Object.keys(TYPES).join(', ')} (got "${name}").`);
    const model = openModel(args);
    writeGgufModel(out, model, { weightType: type, name: model.dir ?? 'limelight' });
    process.stdout.write(`wrote ${out} (${statSync(out).size} bytes), ${name} weights\n`);
    return 0;
  },
};
