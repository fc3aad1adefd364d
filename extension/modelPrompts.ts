// The loaded model's tokenizer and prompt formats on the extension's side, read once per
// model from its files (the engine does the same in its worker): the completion session
// builds FIM prompts with them and Summarize Selection its prompt. A Hugging Face tokenizer.json
// of 150k tokens takes about a second to read, once per model load, not per keystroke.
import { readModelConfig } from '../engine/model/load';
import { loadModelPrompts, type ModelPrompts } from '../engine/model/modelTokenizer';
import type { LoadResult } from '../engine/worker/protocol';

let cached: { modelDir: string; prompts: ModelPrompts | null } | null = null;

/** The prompts of the model `info` describes (null when it carries no tokenizer); throws what is wrong with its tokenizer files. */
export function modelPrompts(info: LoadResult): ModelPrompts | null {
  if (cached?.modelDir !== info.modelDir) cached = { modelDir: info.modelDir, prompts: loadModelPrompts(info.modelDir, readModelConfig(info.modelDir)) };
  return cached.prompts;
}
