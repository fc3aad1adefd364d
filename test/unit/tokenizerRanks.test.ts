// gpt-tokenizer's merges (13 MB resident once loaded) load with the first encoding tokenizer
// asked for: a worker that runs a model with a vocabulary of its own (a GGUF file,
// tokenizer.json) never holds them. Each test file runs in its own process, so nothing
// before this file has loaded them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { loadModelPrompts } from '../../engine/model/modelTokenizer';
import { loadModel } from '../../engine/model/load';

test('the merges load with the first encoding tokenizer, not with the modules that load models and their vocabularies', () => {
  const merges = require.resolve('gpt-tokenizer/bpeRanks/p50k_base');
  assert.equal(typeof loadModel, 'function');
  assert.equal(typeof loadModelPrompts, 'function');
  assert.equal(require.cache[merges], undefined, 'importing the tokenizer and the model loaders loads no merges');
  assert.deepEqual(getTokenizer('r50k_base').encode('hello world'), [31373, 995]);
  assert.notEqual(require.cache[merges], undefined, 'the first encoding tokenizer loaded them');
  const spaces = 'if x:\n        return y';
  assert.ok(getTokenizer('p50k_base').encode(spaces).length < getTokenizer('r50k_base').encode(spaces).length, 'p50k_base has the whitespace runs r50k_base lacks');
});
