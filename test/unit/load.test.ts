// Loading checkpoint folders: config errors and tensor mismatches say what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import { ModelConfigError } from '../../engine/model/config';
import { configFromHF } from '../../engine/model/families';
import { oracleDir } from './oracle';

function folderWith(config: unknown, weightsFrom = 'gpt2-tiny'): string {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-load-'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  copyFileSync(join(oracleDir(weightsFrom), 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

const gpt2Config = JSON.parse(readFileSync(join(oracleDir('gpt2-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;

test('missing folder or config.json names the path and what a model folder holds', () => {
  assert.throws(() => loadModel('/nonexistent/model'), (e: Error) => e instanceof ModelConfigError && /config\.json/.test(e.message));
});

test('config.json that is not JSON is reported as such', () => {
  assert.throws(() => loadModel(folderWith('{ not json')), /not valid JSON/);
});

test('unknown model_type lists the supported ones', () => {
  assert.throws(() => loadModel(folderWith({ ...gpt2Config, model_type: 'mamba' })), /"mamba" is not supported.*gpt2, llama/s);
});

test('a config that does not fit the weights lists the missing and mis-shaped tensors', () => {
  assert.throws(
    () => loadModel(folderWith({ ...gpt2Config, n_layer: 3 })),
    (e: Error) => /Missing tensors \(12\)/.test(e.message) && /transformer\.h\.2\.attn\.c_attn\.weight/.test(e.message),
  );
  assert.throws(() => loadModel(folderWith({ ...gpt2Config, n_embd: 32, n_head: 4 })), /wrong shape/);
  assert.throws(() => loadModel(folderWith(JSON.parse(readFileSync(join(oracleDir('llama-tiny'), 'config.json'), 'utf8')))), /holds none of the expected names/);
});

test('config fields are validated with the offending key named', () => {
  assert.throws(() => configFromHF({ ...gpt2Config, n_head: 0 }), /"n_head" must be a whole number/);
  assert.throws(() => configFromHF({ ...gpt2Config, n_embd: 'wide' }), /"n_embd" must be a number/);
  assert.throws(() => configFromHF({ ...gpt2Config, n_embd: 65 }), /divisible/);
  assert.throws(() => configFromHF({ ...gpt2Config, activation_function: 'relu' }), /not supported/);
  assert.throws(() => configFromHF([]), /JSON object/);
  const llama = { model_type: 'llama', vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 3, max_position_embeddings: 8 };
  assert.throws(() => configFromHF(llama), /must be a multiple of the key\/value head count/);
  assert.equal(configFromHF({ ...llama, num_key_value_heads: 2, rope_theta: 500000 }).ropeTheta, 500000);
  assert.equal(configFromHF({ ...llama, num_key_value_heads: 2, rope_parameters: { rope_theta: 1000, rope_type: 'default' } }).ropeTheta, 1000);
});
