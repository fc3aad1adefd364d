// A tiny GPT-2 with the p50k_edit vocabulary that writes one chosen token after any prompt:
// its final norm ignores the input (weight 0, a bias along one axis) and its head scores only
// that token on that axis. Real weights through the real engine, with known output, for the
// completion tests (unit and end-to-end).
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import type { Model } from '../../engine/model/model';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { writeModelFolder } from '../../tools/bench/latency';

/** config.json of the echo model. */
export const ECHO_MODEL_CONFIG = {
  model_type: 'gpt2',
  vocab_size: getTokenizer('p50k_edit').vocabSize,
  n_positions: 1024,
  n_embd: 32,
  n_layer: 1,
  n_head: 2,
  tie_word_embeddings: false,
  limelight_encoding: 'p50k_edit',
};

export function echoModel(token: number): Model {
  const model = randomModel(configFromHF(ECHO_MODEL_CONFIG), 7);
  const v = model.views;
  v.lnfw.fill(0);
  v.lnfb!.fill(0);
  v.lnfb![0] = 1;
  v.lmHead.fill(0);
  v.lmHead[token * model.config.hidden] = 10;
  return model;
}

/** Writes an echo model's checkpoint folder (config.json + model.safetensors) to `dir`; returns dir. */
export function writeEchoModel(dir: string, text = 'foo'): string {
  writeModelFolder(dir, ECHO_MODEL_CONFIG, echoModel(getTokenizer('p50k_edit').encode(text)[0]!));
  return dir;
}
