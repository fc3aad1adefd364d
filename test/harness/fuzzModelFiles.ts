// A seeded mutation fuzzer for every model file the engine reads. It starts from real files
// (the harness's tiny model, the oracle fixtures and a sharded copy, LoRA adapters saved by
// engine/train/lora.ts, an ONNX export cached by engine/onnx/cache.ts, training checkpoints
// saved by engine/train/checkpoint.ts, GGUF files from the GPT-2 export and from writeGguf, a
// small byte-level BPE tokenizer.json and tokenizer_config.json in a Qwen-style model folder),
// corrupts one file per case (fuzzMutations.ts) and runs the loading path the worker, the
// fine-tune command and the CLI use:
//   model       loadModel(dir)
//   gguf        openGguf + every tensor's bytes read (model loading from GGUF comes later)
//   adapter     loadModel(base) + loadAdapter(dir) + mergeLora
//   onnx        exportCached(model, cacheDir): a corrupt entry must be rebuilt, never used
//   checkpoint  readTrainerState + resumeLora + TokenDataset + Trainer + restoreCheckpoint (as the
//               fine-tune command and `limelight train --resume` do; training itself is not run:
//               a step's cost grows with the saved batch sizes, which are legal up to the limits)
//   tokenizer   readModelConfig + loadModelPrompts(dir, config) (tokenizerFromHfFolder), then a
//               short text encoded (plain and parsing specials) and decoded: every id must be a
//               row of the model's embedding
// Every case must end in success or in a clear error (judgeError), within a time limit and
// without allocating far more than the files hold. Cases run in a worker thread that a
// watchdog terminates on a hang; a worker that dies (crash, heap exhaustion) is replaced and
// the case recorded as a failure.
import { Worker } from 'node:worker_threads';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadModel } from '../../engine/model/load';
import type { Model } from '../../engine/model/model';
import { mulberry32 } from '../../engine/model/init';
import { createLora, defaultLoraOptions, loadAdapter, mergeLora, saveAdapter } from '../../engine/train/lora';
import { exportCached, MODEL_FILE, DATA_FILE } from '../../engine/onnx/cache';
import { prepareOutDir, readTrainerState, restoreCheckpoint, resumeLora, saveCheckpoint } from '../../engine/train/checkpoint';
import { TokenDataset } from '../../engine/train/data';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { writeGguf } from '../../engine/io/ggufWrite';
import { openGguf } from '../../engine/io/ggufRead';
import { readModelConfig } from '../../engine/model/load';
import { loadModelPrompts } from '../../engine/model/modelTokenizer';
import { byteLevelChar } from '../../engine/tokenizer/vocabTokenizer';
import { writeTinyModel } from './tinyModel';
import { decodeTensors, encodeTensors, mutateBinary, mutateGguf, mutateJson, mutateSafetensors, mutateTokenizerConfig, mutateTokenizerJson, pick, type Mutated, type Rng } from './fuzzMutations';

export type Group = 'model' | 'adapter' | 'onnx' | 'checkpoint' | 'gguf' | 'tokenizer';

/** One file of one seed that a case may corrupt. */
interface Target {
  group: Group;
  seed: string;
  /** Folder copied into the case (the model, adapter, cache or run folder). */
  dir: string;
  /** The corrupted file, relative to dir. */
  file: string;
  format: 'safetensors' | 'json' | 'binary' | 'gguf' | 'tokenizer.json' | 'tokenizer_config.json';
  /** Fields the loaders read: mutated more often. */
  hot: readonly string[];
  /** Base model folder (adapter, onnx, checkpoint). */
  base?: string;
}

export interface Seeds {
  root: string;
  targets: Target[];
}

const GPT2_HOT = ['model_type', 'vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'layer_norm_epsilon', 'activation_function', 'tie_word_embeddings', 'eos_token_id', 'bos_token_id', 'limelight_encoding'];
const LLAMA_HOT = ['model_type', 'vocab_size', 'max_position_embeddings', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size', 'hidden_act', 'rms_norm_eps', 'rope_parameters', 'rope_parameters.rope_theta', 'rope_parameters.rope_type', 'tie_word_embeddings', 'attention_bias', 'mlp_bias'];
const ADAPTER_HOT = ['peft_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'target_modules.0', 'fan_in_fan_out', 'use_dora', 'bias'];
const STATE_HOT = ['format', 'version', 'step', 'adamStep', 'position', 'position.epoch', 'position.index', 'options', 'options.steps', 'options.batchSize', 'options.seqLen', 'options.gradAccum', 'options.lr', 'options.minLr', 'options.warmupSteps', 'options.beta1', 'options.beta2', 'options.eps', 'options.clipNorm', 'options.recompute', 'options.seed', 'lora', 'lora.rank', 'lora.alpha', 'lora.dropout', 'lora.targetModules', 'datasetTokens', 'losses', 'losses.0'];
const MANIFEST_HOT = ['key', 'exporterVersion', 'files'];

/** The token documents the seed checkpoints were trained on: a resumed run must see the same. */
export function checkpointDocs(): Int32Array[] {
  const rand = mulberry32(99);
  return Array.from({ length: 6 }, (_, d) => Int32Array.from({ length: 40 + 7 * d }, () => Math.floor(rand() * 500)));
}

// Words whose byte-level pieces the seed tokenizer merges, left to right (code and prose, runs of spaces).
const SEED_WORDS = [
  'ĠĠĠĠĠĠĠĠ', 'ĊĠĠĠĠĠĠĠ', 'ĊĊ', 'ĉĉ', 'Ġthe', 'Ġreturn', 'Ġfunction', 'Ġconst', 'Ġlet', 'Ġif', 'Ġelse', 'Ġfor', 'Ġin', 'Ġimport', 'Ġfrom', 'Ġdef', 'Ġself', 'Ġclass',
  'Ġint', 'Ġstr', 'Ġnew', 'Ġnull', 'Ġtrue', 'Ġfalse', 'Ġasync', 'Ġawait', 'Ġhello', 'Ġworld', 'hello', 'world', 'ing', 'er', 'ed', 'tion', '():', '();', '=>', 'Ġ=',
  'Ġ===', 'Ġ//', '{Ċ', '}Ċ', 'ĠÃ©', 'ðŁĻĤ',
];

/** Merges that build each word left to right (its pieces added to the vocabulary after the existing ids). */
function wordMerges(vocab: Record<string, number>, words: readonly string[]): [string, string][] {
  const merges: [string, string][] = [];
  let next = Object.keys(vocab).length;
  for (const w of words) {
    const chars = [...w];
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('');
      const piece = left + chars[i];
      if (Object.hasOwn(vocab, piece)) continue;
      merges.push([left, chars[i]!]);
      vocab[piece] = next++;
    }
  }
  return merges;
}

/**
 * A small byte-level BPE tokenizer as Qwen writes it (NFC, its Split pattern, ByteLevel, pair
 * merges, special and FIM tokens after the vocabulary) and its tokenizer_config.json; returns
 * the number of ids. Small, so that a case costs milliseconds.
 */
function writeTokenizerSeed(dir: string): number {
  const vocab: Record<string, number> = {};
  const bytes = Array.from({ length: 256 }, (_, b) => byteLevelChar(b)).sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  bytes.forEach((c, id) => (vocab[c] = id));
  const merges = wordMerges(vocab, SEED_WORDS);
  let next = Object.keys(vocab).length;
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'];
  const added = [...specials.map((content) => ({ content, special: true })), { content: '<think>', special: false }, { content: '</think>', special: false }].map((t) => ({ id: next++, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: !t.special, special: t.special }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    bos_token: null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: null,
    chat_template: "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
    clean_up_tokenization_spaces: false,
    model_max_length: 32768,
    tokenizer_class: 'Qwen2Tokenizer',
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 2));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  return next;
}

/**
 * A small SentencePiece-style BPE tokenizer.json as Llama 2 and CodeLlama write it (<unk>, <s>,
 * </s>, 256 <0xXX> byte pieces, "▁" for spaces by a Prepend and Replace normalizer, byte
 * fallback, "a b" string merges, a TemplateProcessing post-processor) and its
 * tokenizer_config.json (BOS added, tokens as {content} objects); returns the number of ids.
 */
function writeSpmTokenizerSeed(dir: string): number {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  ['\u2581', ...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)), 'é', 'ö'].forEach((c, i) => (vocab[c] = 259 + i));
  const words = ['▁the', '▁return', '▁def', '▁hello', '▁world', '▁if', '▁in', '▁for', '▁self', '▁▁▁▁', '▁▁▁▁▁▁▁▁', 'in', 'er', 'ing', '():', '▁=', '▁h', '▁w'];
  const merges = wordMerges(vocab, words).map(([a, b]) => `${a} ${b}`);
  const n = Object.keys(vocab).length;
  const added = ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
  const token = (content: string): Record<string, unknown> => ({ __type: 'AddedToken', content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: token('<s>'),
    eos_token: token('</s>'),
    unk_token: token('<unk>'),
    pad_token: null,
    legacy: false,
    chat_template: "{% for message in messages %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}",
    model_max_length: 4096,
    tokenizer_class: 'LlamaTokenizer',
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 2));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  return n;
}

/** What a loaded tokenizer encodes and decodes: code, accents, an emoji, special-token text. */
const TOKENIZER_TEXT = 'def hello():\n    return "héllo wörld" 🙂\t<think>x</think> <|im_end|><|fim_prefix|>';

const CKPT_OPTIONS = { ...TRAINER_DEFAULTS, steps: 4, batchSize: 1, seqLen: 8, warmupSteps: 1, seed: 5 };

function copyFolder(from: string, to: string, link: boolean): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory()) copyFolder(a, b, link);
    else if (link) linkSync(a, b);
    else copyFileSync(a, b);
  }
}

/** Writes every seed file under `root` (a few seconds) and lists what the cases corrupt. */
export function buildSeeds(root: string): Seeds {
  const targets: Target[] = [];
  const models = join(root, 'models');
  const tiny = writeTinyModel(join(models, 'tiny'), { nEmbd: 16, nLayer: 2, nHead: 2, nPositions: 64 });
  const oracle = join(process.cwd(), 'test', 'fixtures', 'oracle');
  const gpt2 = join(models, 'gpt2-oracle');
  const llama = join(models, 'llama-oracle');
  for (const [from, to] of [[join(oracle, 'gpt2-tiny'), gpt2], [join(oracle, 'llama-tiny'), llama]] as const) {
    mkdirSync(to, { recursive: true });
    for (const f of ['config.json', 'model.safetensors']) writeFileSync(join(to, f), readFileSync(join(from, f)));
  }
  // A sharded copy of the Llama model: two shards and model.safetensors.index.json.
  const sharded = join(models, 'llama-sharded');
  mkdirSync(sharded, { recursive: true });
  copyFileSync(join(llama, 'config.json'), join(sharded, 'config.json'));
  const { tensors } = decodeTensors(readFileSync(join(llama, 'model.safetensors')));
  const half = Math.ceil(tensors.length / 2);
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  [tensors.slice(0, half), tensors.slice(half)].forEach((part, i) => {
    writeFileSync(join(sharded, shardNames[i]!), encodeTensors(part, { format: 'pt' }));
    for (const t of part) weightMap[t.name] = shardNames[i]!;
  });
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));

  for (const [seed, dir, hot] of [['tiny', tiny, GPT2_HOT], ['gpt2-oracle', gpt2, GPT2_HOT], ['llama-oracle', llama, LLAMA_HOT]] as const) {
    targets.push({ group: 'model', seed, dir, file: 'config.json', format: 'json', hot });
    targets.push({ group: 'model', seed, dir, file: 'model.safetensors', format: 'safetensors', hot: [] });
  }
  targets.push({ group: 'model', seed: 'llama-sharded', dir: sharded, file: 'model.safetensors.index.json', format: 'json', hot: ['weight_map', ...Object.keys(weightMap).slice(0, 6).map((k) => `weight_map.${k}`)] });
  for (const s of shardNames) targets.push({ group: 'model', seed: 'llama-sharded', dir: sharded, file: s, format: 'safetensors', hot: [] });

  // GGUF files: the GPT-2 export (Q8_0, its 50k-token vocabulary) and one holding every metadata
  // value type with tensors in several formats at alignment 64.
  const ggufDir = join(models, 'gguf');
  mkdirSync(ggufDir, { recursive: true });
  writeGgufModel(join(ggufDir, 'gpt2-q8_0.gguf'), loadModel(gpt2), { weightType: 'Q8_0' });
  const rand = mulberry32(7);
  const raw = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  writeGguf(join(ggufDir, 'every-type.gguf'), {
    alignment: 64,
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['llama.block_count', { type: 'u32', value: 2 }],
      ['t.i8', { type: 'i8', value: -3 }],
      ['t.u16', { type: 'u16', value: 9 }],
      ['t.f64', { type: 'f64', value: 0.5 }],
      ['t.u64', { type: 'u64', value: 7n }],
      ['t.i64', { type: 'i64', value: -7n }],
      ['t.bool', { type: 'bool', value: true }],
      ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: ['<s>', 'a', 'b', 'ab'] }],
      ['tokenizer.ggml.scores', { type: 'array', of: 'f32', value: [0, -1, -2, -3] }],
      ['t.nested', { type: 'array', of: 'array', value: [{ type: 'array', of: 'bool', value: [true, false] }, { type: 'array', of: 'i64', value: [1n] }] }],
    ],
    tensors: [
      { name: 'token_embd.weight', ne: [64, 4], type: 'Q8_0', data: raw(4 * 2 * 34) },
      { name: 'blk.0.attn_norm.weight', ne: [64], type: 'F32', data: raw(256) },
      { name: 'blk.0.ffn_up.weight', ne: [256, 2], type: 'Q4_K', data: raw(2 * 144) },
      { name: 'blk.0.ffn_down.weight', ne: [256, 2], type: 'Q6_K', data: raw(2 * 210) },
      { name: 'blk.0.attn_q.weight', ne: [64, 3], type: 'F16', data: raw(64 * 3 * 2) },
    ],
  });
  for (const file of ['gpt2-q8_0.gguf', 'every-type.gguf']) targets.push({ group: 'gguf', seed: file.replace(/\.gguf$/, ''), dir: ggufDir, file, format: 'gguf', hot: [] });

  // Model folders with their tokenizers: config.json (vocab_size the tokenizer's ids) and no
  // weights. Byte-level BPE (Qwen-style) with both files corrupted; SentencePiece-style BPE
  // (Llama 2-style) with its tokenizer.json corrupted.
  const llamaConfig = JSON.parse(readFileSync(join(llama, 'config.json'), 'utf8')) as Record<string, unknown>;
  const qwenTok = join(models, 'qwen-tokenizer');
  const qwenIds = writeTokenizerSeed(qwenTok);
  writeFileSync(join(qwenTok, 'config.json'), JSON.stringify({ ...llamaConfig, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: qwenIds }));
  targets.push({ group: 'tokenizer', seed: 'qwen-tokenizer', dir: qwenTok, file: 'tokenizer.json', format: 'tokenizer.json', hot: [] });
  targets.push({ group: 'tokenizer', seed: 'qwen-tokenizer', dir: qwenTok, file: 'tokenizer_config.json', format: 'tokenizer_config.json', hot: [] });
  const spmTok = join(models, 'llama-spm-tokenizer');
  const spmIds = writeSpmTokenizerSeed(spmTok);
  writeFileSync(join(spmTok, 'config.json'), JSON.stringify({ ...llamaConfig, vocab_size: spmIds }));
  targets.push({ group: 'tokenizer', seed: 'llama-spm-tokenizer', dir: spmTok, file: 'tokenizer.json', format: 'tokenizer.json', hot: [] });

  // LoRA adapters as training saves them, with trained (nonzero) weights.
  for (const [seed, base, modules] of [['gpt2-lora', gpt2, ['c_attn', 'c_proj']], ['llama-lora', llama, ['q_proj', 'v_proj', 'down_proj']]] as const) {
    const model = loadModel(base);
    const lora = createLora(model.config, { ...defaultLoraOptions(model.config, 4), targetModules: [...modules] }, 3);
    const rand = mulberry32(4);
    for (let i = 0; i < lora.params.length; i++) lora.params[i] = (rand() - 0.5) * 0.02;
    const dir = join(root, 'adapters', seed);
    mkdirSync(dir, { recursive: true });
    saveAdapter(dir, model.config, lora, base);
    targets.push({ group: 'adapter', seed, dir, file: 'adapter_config.json', format: 'json', hot: ADAPTER_HOT, base });
    targets.push({ group: 'adapter', seed, dir, file: 'adapter_model.safetensors', format: 'safetensors', hot: [], base });
  }

  // An ONNX export in its cache folder.
  const cacheDir = join(root, 'onnx');
  const entry = exportCached(loadModel(gpt2), cacheDir);
  for (const [file, format] of [[MODEL_FILE, 'binary'], [DATA_FILE, 'binary'], ['manifest.json', 'json']] as const) {
    targets.push({ group: 'onnx', seed: 'gpt2-onnx', dir: cacheDir, file: join(entry.key, file), format, hot: MANIFEST_HOT, base: gpt2 });
  }

  // Training checkpoints: LoRA on Llama, full fine-tuning on GPT-2, one step each.
  for (const [seed, base, mode] of [['llama-lora-run', llama, 'lora'], ['gpt2-full-run', gpt2, 'full']] as const) {
    const model = loadModel(base);
    const lora = mode === 'lora' ? createLora(model.config, defaultLoraOptions(model.config, 4), CKPT_OPTIONS.seed) : null;
    const trainer = new Trainer(model, new TokenDataset(checkpointDocs(), 0, CKPT_OPTIONS.seqLen, CKPT_OPTIONS.seed), CKPT_OPTIONS, lora);
    const out = join(root, 'runs', seed);
    prepareOutDir(out, base);
    trainer.trainStep();
    const stepDir = basename(saveCheckpoint(out, trainer, base));
    targets.push({ group: 'checkpoint', seed, dir: out, file: join('checkpoints', 'latest.json'), format: 'json', hot: ['stepDir'], base });
    targets.push({ group: 'checkpoint', seed, dir: out, file: join('checkpoints', stepDir, 'trainer_state.json'), format: 'json', hot: STATE_HOT, base });
    targets.push({ group: 'checkpoint', seed, dir: out, file: join('checkpoints', stepDir, 'state.safetensors'), format: 'safetensors', hot: [], base });
  }
  return { root, targets };
}

// ---------------------------------------------------------------- judging outcomes

/** The engine's error classes: each message says which file was wrong and what to do. */
export const CLEAR_ERRORS = ['SafetensorsError', 'ModelConfigError', 'LoraError', 'CheckpointError', 'OnnxCacheError', 'GgufError', 'TokenizerError'];

/** Signs that a JavaScript value or a runtime failure leaked into the message instead of a sentence for the user. */
const LEAKS: readonly RegExp[] = [
  /\bundefined\b/,
  /\bNaN\b/,
  /\[object Object\]/,
  /Cannot read propert/,
  /Cannot set propert/,
  /is not a function/,
  /is not iterable/,
  /Maximum call stack/,
  /Invalid (typed )?array length/,
  /Array buffer allocation failed/,
  /out of memory/i,
  /Cannot convert/,
  /The "\w+" argument must be/,
  /\n\s+at .+:\d+:\d+/,
];

/** At least one sentence that tells the user what to do. */
const ADVICE = /\b(check|export|download|save|fix|restore|regenerate|convert|use|point|choose|start|remove|delete|add|lower|pass|train|load|run|set|make|reinstall)\b/i;

const MAX_MESSAGE = 4000;

/**
 * The rule for a clear error: an engine error class, a message that names the folder (or a
 * file in it) given to the loader, says what to do, leaks no JavaScript internals, and is short
 * enough to show. Returns why the error is not clear, or null when it is.
 */
export function judgeError(e: unknown, folder: string): string | null {
  if (!(e instanceof Error)) return `threw a non-Error ${typeof e}: ${String(e).slice(0, 100)}`;
  const head = `${e.name}: ${e.message.slice(0, 160)}`;
  if (!CLEAR_ERRORS.includes(e.name)) return `not an engine error (${head})`;
  if (!e.message.includes(folder)) return `the message does not name ${folder} (${head})`;
  const leak = LEAKS.find((r) => r.test(e.message));
  if (leak) return `the message leaks ${leak} (${head})`;
  if (!ADVICE.test(e.message)) return `the message says nothing to do (${head})`;
  if (e.message.length > MAX_MESSAGE) return `the message is ${e.message.length} characters long (${head})`;
  return null;
}

// ---------------------------------------------------------------- one case

export interface CaseResult {
  index: number;
  group: Group;
  seed: string;
  /** The kind of file corrupted (its name; shards and step folders folded). */
  kind: string;
  what: string;
  /** 'ok' or the error's class name. */
  outcome: string;
  /** Why the case failed (unclear error, crash, hang, memory, corrupt cache used), or null. */
  failure: string | null;
  message?: string;
  ms: number;
  /** Growth of resident memory or ArrayBuffer memory across the case, bytes. */
  memDelta: number;
  /** Resident memory of the process after the case, bytes. */
  rss: number;
}

function kindOf(t: Target): string {
  const name = basename(t.file);
  if (t.group === 'onnx') return `onnx cache ${name}`;
  if (t.group === 'gguf') return 'model .gguf';
  if (/^model-\d+-of-\d+\.safetensors$/.test(name)) return 'model shard .safetensors';
  return `${t.group === 'adapter' || t.group === 'model' || t.group === 'tokenizer' ? '' : t.group + ' '}${name}`;
}

function caseRng(seed: number, index: number): Rng {
  return mulberry32(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
}

function folderBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0;
  } catch {
    // a mutation may have replaced the folder by a file
  }
  return n;
}

interface Prepared {
  target: Target;
  /** The case's copy of target.dir. */
  dir: string;
  what: string;
  /** Whether the bytes of an ONNX graph or weights file changed (the entry must then be rebuilt). */
  onnxChanged: boolean;
}

/** Writes the case's folder: the seed folder hard-linked, the target file replaced by its mutation. */
function prepare(seeds: Seeds, index: number, seed: number, caseRoot: string): Prepared {
  const rng = caseRng(seed, index);
  const target = pick(rng, seeds.targets);
  rmSync(caseRoot, { recursive: true, force: true });
  const dir = join(caseRoot, basename(target.dir));
  copyFolder(target.dir, dir, true);
  const path = join(dir, target.file);
  const original = new Uint8Array(readFileSync(path)); // a copy: Buffer's slice() would share memory with it
  unlinkSync(path); // never write through the link into the seed
  const r = rng();
  let m: Mutated;
  if (r < 0.03) return { target, dir, what: 'file deleted', onnxChanged: target.group === 'onnx' && target.format === 'binary' };
  if (r < 0.05) {
    mkdirSync(path);
    return { target, dir, what: 'file replaced by a folder', onnxChanged: target.group === 'onnx' && target.format === 'binary' };
  }
  if (r < 0.06 && target.group === 'onnx') {
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a folder');
    return { target, dir, what: 'cache folder replaced by a file', onnxChanged: true };
  }
  if (target.format === 'safetensors') m = mutateSafetensors(rng, original);
  else if (target.format === 'json') m = mutateJson(rng, original, target.hot);
  else if (target.format === 'gguf') m = mutateGguf(rng, original);
  else if (target.format === 'tokenizer.json') m = mutateTokenizerJson(rng, original);
  else if (target.format === 'tokenizer_config.json') m = mutateTokenizerConfig(rng, original);
  else m = mutateBinary(rng, original);
  writeFileSync(path, m.bytes);
  const changed = m.bytes.length !== original.length || !Buffer.from(m.bytes).equals(original);
  return { target, dir, what: m.what, onnxChanged: target.group === 'onnx' && target.format === 'binary' && changed };
}

/** The base models cases share (read-only: each loading path loads its own copy when it changes it). */
const baseModels = new Map<string, Model>();

function sharedBase(dir: string): Model {
  let m = baseModels.get(dir);
  if (m === undefined) {
    m = loadModel(dir);
    baseModels.set(dir, m);
  }
  return m;
}

/** Runs the loading path of the case's group; returns a note on success or a failure that is not an error. */
function load(p: Prepared): { note: string; failure: string | null } {
  const { target, dir } = p;
  switch (target.group) {
    case 'model': {
      const m = loadModel(dir);
      return { note: `${m.params.length} parameters`, failure: null };
    }
    case 'adapter': {
      const model = loadModel(target.base!);
      mergeLora(model, loadAdapter(dir, model.config));
      return { note: 'adapter merged', failure: null };
    }
    case 'onnx': {
      const r = exportCached(sharedBase(target.base!), dir);
      if (r.reused && p.onnxChanged) return { note: '', failure: `a corrupt cache entry was used (${p.what})` };
      const seedEntry = join(target.dir, dirname(target.file));
      for (const f of [MODEL_FILE, DATA_FILE]) {
        if (!readFileSync(join(r.dir, f)).equals(readFileSync(join(seedEntry, f)))) return { note: '', failure: `the rebuilt entry's ${f} differs from a fresh export` };
      }
      return { note: r.reused ? 'entry reused' : `rebuilt: ${r.rebuiltBecause ?? 'no entry'}`, failure: null };
    }
    case 'gguf': {
      const g = openGguf(join(dir, target.file));
      try {
        let bytes = 0;
        for (const t of g.tensors) bytes += g.readTensorBytes(t.name).byteLength;
        const vocab = g.optStringArray('tokenizer.ggml.tokens')?.length ?? 0;
        return { note: `${g.optString('general.architecture') ?? 'no architecture'}: ${g.tensors.length} tensors, ${bytes} bytes, ${vocab} tokens`, failure: null };
      } finally {
        g.close();
      }
    }
    case 'checkpoint': {
      const model = loadModel(target.base!);
      const saved = readTrainerState(dir);
      if (saved === null) return { note: 'no checkpoint: a new run would start', failure: null };
      const options = saved.options;
      const trainer = new Trainer(model, new TokenDataset(checkpointDocs(), 0, options.seqLen, options.seed), options, resumeLora(dir, saved, model.config));
      restoreCheckpoint(dir, trainer);
      return { note: `resumed at step ${trainer.step}`, failure: null };
    }
    case 'tokenizer': {
      const config = readModelConfig(dir);
      const prompts = loadModelPrompts(dir, config);
      if (prompts === null) return { note: 'no tokenizer', failure: null };
      const t = prompts.tokenizer;
      const plain = t.encode(TOKENIZER_TEXT);
      const parsed = t.encodeParsingSpecials(TOKENIZER_TEXT);
      const outside = [...plain, ...parsed].find((id) => !Number.isInteger(id) || id < 0 || id >= config.vocabSize);
      if (outside !== undefined) return { note: '', failure: `encoding gave id ${outside}, outside the model's ${config.vocabSize} embedding rows` };
      const text = t.decode(plain);
      t.decode(parsed);
      const stream = t.streamDecoder();
      for (const id of parsed) stream.push(id);
      return { note: `${t.vocabSize} ids, ${plain.length} tokens${text === (t.addsSpacePrefix ? ' ' : '') + TOKENIZER_TEXT ? '' : ', no round trip'}${prompts.fim ? ', FIM' : ''}${prompts.chatTemplate !== null ? ', chat template' : ''}`, failure: null };
    }
  }
}

/** Memory a case may add beyond the files it reads: a few copies of them plus a fixed allowance. */
const MEM_FIXED = 160 << 20;
const MEM_PER_BYTE = 6;

/**
 * Runs case `index` of the seeded sequence in this thread. Memory is measured without a forced
 * collection (one per case cost more than the cases): what a case allocates stays counted
 * unless a collection runs during it, and allocations far over budget cannot hide that way.
 */
export function runCase(seeds: Seeds, index: number, seed: number, caseRoot: string): CaseResult {
  const p = prepare(seeds, index, seed, caseRoot);
  const { target } = p;
  const inputBytes = folderBytes(p.dir) + (target.base ? folderBytes(target.base) : 0);
  const before = process.memoryUsage();
  const t0 = performance.now();
  let outcome = 'ok';
  let failure: string | null = null;
  let message: string | undefined;
  try {
    const r = load(p);
    failure = r.failure;
    message = r.note;
  } catch (e) {
    outcome = e instanceof Error ? e.name : typeof e;
    message = e instanceof Error ? e.message : String(e);
    failure = judgeError(e, p.dir);
  }
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  const memDelta = Math.max(after.rss - before.rss, after.arrayBuffers - before.arrayBuffers);
  const budget = MEM_FIXED + MEM_PER_BYTE * inputBytes;
  if (failure === null && memDelta > budget) failure = `allocated ${(memDelta / 2 ** 20).toFixed(0)} MiB for ${(inputBytes / 2 ** 20).toFixed(1)} MiB of files (budget ${(budget / 2 ** 20).toFixed(0)} MiB)`;
  return { index, group: target.group, seed: target.seed, kind: kindOf(target), what: p.what, outcome, failure, message, ms, memDelta, rss: after.rss };
}

// ---------------------------------------------------------------- the run

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** A case running longer than this is a hang: its worker is terminated. */
  caseTimeoutMs: number;
  /** Heap limit of the worker that runs the cases. */
  heapMb?: number;
  /** Only cases of these loading paths (all when absent): to fuzz one file kind at length. */
  groups?: readonly Group[];
}

export interface FuzzSummary {
  cases: number;
  /** Every kind of file the seeds offer to corrupt. */
  kinds: string[];
  results: CaseResult[];
  failures: CaseResult[];
  seconds: number;
  peakRss: number;
}

/** Messages between the fuzz worker and runFuzz. */
export type WorkerMessage = { kind: 'result'; result: CaseResult } | { kind: 'done' };

export interface WorkerInput {
  seeds: Seeds;
  seed: number;
  start: number;
  end: number;
  caseRoot: string;
}

/** Builds the seeds, then runs cases [0, cases) in a worker thread under a watchdog. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const t0 = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'limelight-fuzz-'));
  try {
    const seeds = buildSeeds(join(root, 'seeds'));
    if (o.groups !== undefined) seeds.targets = seeds.targets.filter((t) => o.groups!.includes(t.group));
    const results: CaseResult[] = [];
    let next = 0;
    while (next < o.cases) {
      const input: WorkerInput = { seeds, seed: o.seed, start: next, end: o.cases, caseRoot: join(root, 'case') };
      const lost = await runWorker(input, o, (r) => {
        results.push(r);
        next = r.index + 1;
      });
      if (lost !== null) {
        results.push({ index: next, group: 'model', seed: '?', kind: '?', what: '?', outcome: lost.outcome, failure: lost.failure, ms: lost.ms, memDelta: 0, rss: 0 });
        next++;
      }
    }
    const failures = results.filter((r) => r.failure !== null);
    return { cases: results.length, kinds: [...new Set(seeds.targets.map(kindOf))], results, failures, seconds: (performance.now() - t0) / 1000, peakRss: Math.max(0, ...results.map((r) => r.rss)) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs one worker until it finishes (null) or loses the case it was on (a hang or a crash). */
function runWorker(input: WorkerInput, o: FuzzOptions, onResult: (r: CaseResult) => void): Promise<{ outcome: string; failure: string; ms: number } | null> {
  return new Promise((resolve) => {
    const worker = new Worker(join(__dirname, 'fuzzModelFilesWorker.js'), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: o.heapMb ?? 1024 },
    });
    let settled = false;
    let caseStart = performance.now();
    const finish = (v: { outcome: string; failure: string; ms: number } | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(v);
    };
    // The first case also loads the engine's modules in the worker.
    let timer = setTimeout(onTimeout, o.caseTimeoutMs + 20_000);
    function onTimeout(): void {
      const ms = performance.now() - caseStart;
      finish({ outcome: 'hang', failure: `no result after ${ms.toFixed(0)} ms (case limit ${o.caseTimeoutMs} ms)`, ms });
    }
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'done') return finish(null);
      onResult(m.result);
      caseStart = performance.now();
      clearTimeout(timer);
      timer = setTimeout(onTimeout, o.caseTimeoutMs);
    });
    worker.on('error', (e) => finish({ outcome: 'crash', failure: `the worker died: ${e.name}: ${e.message.slice(0, 200)}`, ms: performance.now() - caseStart }));
    worker.on('exit', (code) => finish({ outcome: 'crash', failure: `the worker exited with code ${code}`, ms: performance.now() - caseStart }));
  });
}

/** The printed summary: cases per file kind, outcomes per error class, slowest case, peak memory, failures. */
export function formatSummary(s: FuzzSummary): string {
  const count = (key: (r: CaseResult) => string): string[] => {
    const m = new Map<string, number>();
    for (const r of s.results) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
  };
  const slowest = s.results.reduce<CaseResult | null>((a, r) => (a === null || r.ms > a.ms ? r : a), null);
  const maxMem = s.results.reduce<CaseResult | null>((a, r) => (a === null || r.memDelta > a.memDelta ? r : a), null);
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const lines = [
    `model-file fuzz: ${s.cases} cases in ${s.seconds.toFixed(1)} s, ${s.failures.length} failures`,
    'cases per file kind:',
    ...count((r) => r.kind),
    'outcomes (ok / error class):',
    ...count((r) => (r.failure !== null ? `FAILED (${r.outcome})` : r.outcome)),
    'outcomes per loading path:',
    ...count((r) => `${r.group}: ${r.failure !== null ? 'FAILED' : r.outcome}`),
  ];
  if (slowest) lines.push(`slowest case: #${slowest.index} ${slowest.ms.toFixed(0)} ms (${slowest.kind}: ${slowest.what} -> ${slowest.outcome})`);
  if (maxMem) lines.push(`largest memory growth in a case: ${mib(maxMem.memDelta)} (#${maxMem.index} ${maxMem.kind}: ${maxMem.what})`);
  lines.push(`peak RSS: ${mib(s.peakRss)}`);
  for (const f of s.failures.slice(0, 30)) lines.push(`FAIL #${f.index} ${f.kind} [${f.seed}] ${f.what}: ${f.failure}`);
  if (s.failures.length > 30) lines.push(`... and ${s.failures.length - 30} more failures`);
  return lines.join('\n');
}
