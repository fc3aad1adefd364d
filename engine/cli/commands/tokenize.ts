// `limelight tokenize`: the model's token ids for a text, as llama.cpp and transformers give
// them: special-token text is parsed as the special token, and no BOS is added unless the
// model's tokenizer adds one.
import { readFileSync } from 'node:fs';
import { readModelConfig } from '../../model/load';
import { loadModelPrompts } from '../../model/modelTokenizer';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_PATH_OPTION, modelDir } from '../modelOptions';

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  summary: "Print the model's token ids for a text (special tokens parsed, BOS only if the model adds it).",
  usage: '--model PATH (--text S | --file F) [--json]',
  options: [
    MODEL_PATH_OPTION,
    { name: 'text', kind: 'string', value: 'S', help: 'the text to tokenize' },
    { name: 'file', kind: 'string', value: 'F', help: 'a UTF-8 file to tokenize' },
    { name: 'json', kind: 'flag', help: 'print {"ids": [...]}' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const text = args.string('text');
    const file = args.string('file');
    if ((text === undefined) === (file === undefined)) throw new UsageError('give exactly one of --text "..." or --file PATH.');
    let input = text;
    if (file !== undefined) {
      try {
        input = readFileSync(file, 'utf8');
      } catch (e) {
        throw new UsageError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
      }
    }
    const path = modelDir(args);
    const prompts = loadModelPrompts(path, readModelConfig(path));
    if (prompts === null) throw new UsageError(`${path}: the model carries no tokenizer (no tokenizer.json, GGUF vocabulary or limelight_encoding).`);
    const t = prompts.tokenizer;
    const ids = [...(t.addsBos && t.bosId !== null ? [t.bosId] : []), ...t.encodeParsingSpecials(input as string)];
    if (args.flag('json')) process.stdout.write(JSON.stringify({ ids }) + '\n');
    else process.stdout.write(ids.map((id) => `${id}\t${JSON.stringify(t.tokenText(id))}`).join('\n') + '\n');
    return 0;
  },
};
