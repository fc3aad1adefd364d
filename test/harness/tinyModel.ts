// A tiny GPT-2-family checkpoint with Limelight's p50k_edit encoding, written as a Hugging Face
// folder (config.json + model.safetensors), for tests that need a real model folder: the
// fine-tune tests and the end-to-end suite. Random weights, seeded, so every run gets the same model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromHF } from '../../engine/model/config';
import { randomModel } from '../../engine/model/init';
import { hfTensors } from '../../engine/train/hfExport';
import { writeSafetensors } from '../../engine/io/safetensors';
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
  const config = configFromHF(json);
  const model = randomModel(config, shape.seed ?? 7);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json, null, 2) + '\n');
  writeSafetensors(join(dir, 'model.safetensors'), hfTensors(config, model.layout, model.params), { format: 'pt' });
  return dir;
}
