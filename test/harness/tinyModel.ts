// A tiny GPT-2-family checkpoint with Limelight's p50k_edit encoding, written as a Hugging Face
// folder (config.json + model.safetensors), for tests that need a real model folder: the
// fine-tune tests and the end-to-end suite. Random weights, seeded, so every run gets the same model.
import { writeRandomModel } from '../../tools/bench/latency';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';

export interface TinyModelShape {
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  nPositions?: number;
  seed?: number;
}

export function writeTinyModel(dir: string, shape: TinyModelShape = {}): string {
  const tok = getTokenizer('p50k_edit');
  const json = {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: tok.vocabSize,
    n_positions: shape.nPositions ?? 256,
    n_embd: shape.nEmbd ?? 32,
    n_layer: shape.nLayer ?? 2,
    n_head: shape.nHead ?? 2,
    bos_token_id: tok.special.eot,
    eos_token_id: tok.special.eot,
    limelight_encoding: 'p50k_edit',
  };
  writeRandomModel(dir, json, shape.seed ?? 7);
  return dir;
}
