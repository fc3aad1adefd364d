// `limelight export-gguf`: writes a model (a fine-tuned one included) as a GGUF file for
// llama.cpp or Ollama, with the tokenizer's vocabulary inside: a GGUF model's own tokenizer
// keys, or a gpt-tokenizer encoding's vocabulary and merges (GPT-2, the starter model).
import { statSync } from 'node:fs';
import { writeGgufModel } from '../../model/ggufExport';
import type { WeightType } from '../../formats/formats';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { openModel } from '../modelOptions';
import { isGgufFile } from '../../io/ggufMagic';
import { openGguf } from '../../io/ggufRead';
import type { GgufValue } from '../../io/ggufTypes';

/** A GGUF file's tokenizer.* keys, to carry its vocabulary into the exported file. */
function ggufTokenizerKeys(path: string): Array<[string, GgufValue]> {
  const file = openGguf(path);
  try {
    return [...file.metadata].filter(([k]) => k.startsWith('tokenizer.'));
  } finally {
    file.close();
  }
}

const TYPES: Record<string, WeightType> = { f32: 'F32', f16: 'F16', bf16: 'BF16', q8_0: 'Q8_0', q4_0: 'Q4_0', q4_k: 'Q4_K', q5_k: 'Q5_K', q6_k: 'Q6_K' };

export const exportGgufCommand: CliCommand = {
  name: 'export-gguf',
  summary: 'Write a model as GGUF (llama.cpp, Ollama) with its tokenizer.',
  usage: `--model PATH --out FILE.gguf [--weights ${Object.keys(TYPES).join('|')}]`,
  options: [
    { name: 'model', kind: 'string', value: 'PATH', help: 'a .gguf file or a Hugging Face checkpoint folder (config.json + model.safetensors); default: the bundled starter model' },
    { name: 'out', kind: 'string', value: 'FILE', help: 'the .gguf file to write (required, must not exist)' },
    { name: 'weights', kind: 'string', value: 'TYPE', help: 'f32 (exact), f16, bf16, q8_0 (8-bit blocks of 32), q4_0, q4_k, q5_k or q6_k (256-weight super-blocks); norms and biases stay f32; default f16' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required, e.g. --out model.gguf.');
    const name = args.string('weights') ?? 'f16';
    const type = TYPES[name];
    if (!type) throw new UsageError(`--weights must be one of ${Object.keys(TYPES).join(', ')} (got "${name}").`);
    const model = openModel(args);
    const tokenizer = model.dir !== null && isGgufFile(model.dir) ? ggufTokenizerKeys(model.dir) : undefined;
    writeGgufModel(out, model, { weightType: type, name: model.dir ?? 'limelight', tokenizer });
    process.stdout.write(`wrote ${out} (${statSync(out).size} bytes), ${name} weights\n`);
    return 0;
  },
};
