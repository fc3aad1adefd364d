// The model owns its tokenizer and its prompt formats: a GGUF file carries its vocabulary
// (and chat template) in its metadata; a Hugging Face folder has tokenizer.json (and
// tokenizer_config.json with the chat template); Limelight's own checkpoints name a
// gpt-tokenizer encoding (limelight_encoding). This file finds them for a model path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openGguf } from '../io/ggufRead';
import { tokenizerFromGgufMetadata } from '../tokenizer/ggufTokenizer';
import { tokenizerFromHfFolder } from '../tokenizer/hfTokenizer';
import { getTokenizer, type Tokenizer } from '../tokenizer/tokenizer';
import { fimTemplate, type FimTemplate } from '../tokenizer/fimTemplates';
import { promptTokenizer, STARTER_ENCODING, type PromptTokenizer } from '../tokenizer/promptFormats';
import type { ModelConfig } from './config';

export interface ModelPrompts {
  tokenizer: Tokenizer;
  /** Fill-in-the-middle layout, or null when the model has no FIM tokens (completions off). */
  fim: FimTemplate | null;
  /** The Jinja chat template of an instruct model, or null (Summarize then uses a completion-style prompt). */
  chatTemplate: string | null;
  /** Limelight's own prompt layouts (summaries, training examples), for models trained on them (the starter's p50k_edit). */
  starterLayout: PromptTokenizer | null;
}

/** The starter layout of a model trained on it: its encoding has the FIM and end-of-text tokens the layout places. */
function starterLayout(t: Tokenizer, encoding: string | null): PromptTokenizer | null {
  return encoding === STARTER_ENCODING ? promptTokenizer(t) : null;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The tokenizer and prompt formats of the model at `path` (a .gguf file or a checkpoint folder); null when it names none. */
export function loadModelPrompts(path: string, config: ModelConfig): ModelPrompts | null {
  const opts = { modelVocabSize: config.vocabSize };
  if (!isFolder(path)) {
    const file = openGguf(path);
    try {
      const meta = new Map([...file.metadata].filter(([k]) => k.startsWith('tokenizer.')).map(([k, v]) => [k, v.value]));
      const tokenizer = tokenizerFromGgufMetadata(meta, path, opts);
      const template = file.optString('tokenizer.chat_template') ?? null;
      return { tokenizer, fim: fimTemplate(tokenizer, config.encoding), chatTemplate: template, starterLayout: starterLayout(tokenizer, config.encoding) };
    } finally {
      file.close();
    }
  }
  if (existsSync(join(path, 'tokenizer.json'))) {
    const tokenizer = tokenizerFromHfFolder(path, opts);
    return { tokenizer, fim: fimTemplate(tokenizer, config.encoding), chatTemplate: hfChatTemplate(path), starterLayout: starterLayout(tokenizer, config.encoding) };
  }
  if (config.encoding === null) return null;
  const tokenizer = getTokenizer(config.encoding);
  return { tokenizer, fim: fimTemplate(tokenizer, config.encoding), chatTemplate: null, starterLayout: starterLayout(tokenizer, config.encoding) };
}

/** tokenizer_config.json's chat_template: a string, or the "default" of a list of named ones. */
function hfChatTemplate(dir: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  } catch {
    return null;
  }
  const t = (json as { chat_template?: unknown } | null)?.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x: { name?: unknown; template?: unknown }) => x?.name === 'default' && typeof x.template === 'string') as { template: string } | undefined;
    return named?.template ?? null;
  }
  return null;
}
