// Tokenizer wrapper: round trips on code, special tokens never produced from user text,
// FIM ids, and a streaming decoder that only emits whole characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EOT_TEXT,
  FIM_MIDDLE_TEXT,
  FIM_PREFIX_TEXT,
  FIM_SUFFIX_TEXT,
  SUPPORTED_ENCODINGS,
  TokenizerError,
  getTokenizer,
} from '../../engine/tokenizer/tokenizer';
import { encode as packageR50k } from 'gpt-tokenizer/encoding/r50k_base';
import { encode as packageP50kEdit } from 'gpt-tokenizer/encoding/p50k_edit';

const SAMPLES: Record<string, string> = {
  typescript: `export async function load(path: string): Promise<Map<string, number[]>> {\n  const out = new Map<string, number[]>();\n  for (const [k, v] of Object.entries(JSON.parse(await readFile(path, 'utf8')))) {\n    out.set(k, v as number[]); // ünïcödé comment\n  }\n  return out;\n}\n`,
  python: `def fib(n: int) -> int:\n    """Return the n-th Fibonacci number. π ≈ 3.14159"""\n    if n < 2:\n        return n\n\n\n    return fib(n - 1) + fib(n - 2)\n\nprint(f"{fib(10)=}")\t# tab\n`,
  go: `package main\n\nimport "fmt"\n\nfunc main() {\n\tch := make(chan int, 3)\n\tgo func() { ch <- 42 }()\n\tfmt.Println("こんにちは", <-ch)\n}\n`,
  rust: `fn main() {\n    let v: Vec<u8> = "héllo 🦀".bytes().collect();\n    match v.len() {\n        0 => println!("empty"),\n        n @ 1..=9 => println!("{n}"),\n        _ => {}\n    }\n}\n`,
  whitespace: `a\n\n\n        b\r\n\t\t\tc                                    d   \n \u00a0\u3000end`,
  emoji: `👨‍👩‍👧‍👦 🏳️‍🌈 😀😀 e\u0301 \u{1F9D1}\u{1F3FD}‍💻`,
};

test('every supported encoding round-trips code in several languages', () => {
  for (const enc of SUPPORTED_ENCODINGS) {
    const t = getTokenizer(enc);
    for (const [lang, text] of Object.entries(SAMPLES)) {
      const ids = t.encode(text);
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < t.vocabSize && !t.isSpecial(id)), `${enc} ${lang}`);
      assert.equal(t.decode(ids), text, `${enc} ${lang}`);
    }
  }
});

test('ids match the r50k_base and p50k_edit encoders of gpt-tokenizer itself', () => {
  for (const text of Object.values(SAMPLES)) {
    assert.deepEqual(getTokenizer('r50k_base').encode(text), packageR50k(text));
    assert.deepEqual(getTokenizer('p50k_edit').encode(text), packageP50kEdit(text));
  }
});

test('p50k encodings give whitespace runs their own tokens; r50k_base does not', () => {
  const indent = '        return x';
  const p50k = getTokenizer('p50k_edit').encode(indent);
  const r50k = getTokenizer('r50k_base').encode(indent);
  assert.ok(p50k.length < r50k.length, `${p50k.length} < ${r50k.length}`);
  assert.ok(p50k.some((id) => id > 50256 && id < 50281), 'a whitespace-run token is used');
});

test('vocabulary sizes and special ids come from the package', () => {
  const edit = getTokenizer('p50k_edit');
  assert.equal(edit.vocabSize, 50284);
  const noRepoFim = { fimPad: null, fimRepo: null, fimSep: null };
  assert.deepEqual(edit.special, { eot: 50256, fimPrefix: 50281, fimMiddle: 50282, fimSuffix: 50283, ...noRepoFim });
  const gpt2 = getTokenizer('r50k_base');
  assert.equal(gpt2.vocabSize, 50257);
  assert.deepEqual(gpt2.special, { eot: 50256, fimPrefix: null, fimMiddle: null, fimSuffix: null, ...noRepoFim });
  // The real-model additions of the Tokenizer interface, for the encodings: GPT-2 adds no BOS.
  assert.equal(edit.name, 'p50k_edit');
  assert.deepEqual([edit.bosId, edit.addsBos, edit.addsEos, edit.eosIds, edit.addsSpacePrefix], [50256, false, false, [50256], false]);
  assert.equal(edit.tokenId(FIM_PREFIX_TEXT), 50281);
  assert.equal(gpt2.tokenId(FIM_PREFIX_TEXT), null);
  assert.equal(edit.tokenText(50281), FIM_PREFIX_TEXT);
  assert.equal(edit.tokenText(edit.encode(' hello')[0]!), ' hello');
  assert.deepEqual(edit.encodeParsingSpecials(`a${FIM_PREFIX_TEXT}b${EOT_TEXT}`), [...edit.encode('a'), 50281, ...edit.encode('b'), 50256]);
  assert.equal(getTokenizer('p50k_base').special.fimPrefix, null);
  assert.equal(getTokenizer('p50k_edit'), edit, 'instances are cached');
  assert.equal(edit.decode([edit.special.fimPrefix as number]), FIM_PREFIX_TEXT);
});

test('special-token strings in user text are encoded as plain text', () => {
  const t = getTokenizer('p50k_edit');
  const specials = [EOT_TEXT, FIM_PREFIX_TEXT, FIM_MIDDLE_TEXT, FIM_SUFFIX_TEXT, '<|im_start|>'];
  const text = `x = 1 ${specials.join(' ')} <|endoftext|>`;
  const ids = t.encode(text);
  assert.ok(!ids.some((id) => t.isSpecial(id)), 'no special id');
  assert.equal(t.decode(ids), text);
  assert.ok(!getTokenizer('r50k_base').encode(EOT_TEXT).includes(50256));
});

test('encodeWithSpecials turns only the named special strings into special ids', () => {
  const t = getTokenizer('p50k_edit');
  const ids = t.encodeWithSpecials(`${FIM_PREFIX_TEXT}def f():${FIM_SUFFIX_TEXT}    return 1${EOT_TEXT}${FIM_MIDDLE_TEXT}`, [FIM_PREFIX_TEXT, FIM_SUFFIX_TEXT, FIM_MIDDLE_TEXT]);
  assert.equal(ids[0], t.special.fimPrefix);
  assert.equal(ids.at(-1), t.special.fimMiddle);
  assert.ok(ids.includes(t.special.fimSuffix as number));
  assert.ok(!ids.includes(t.special.eot), '<|endoftext|> was not named, so it stays text');
  assert.deepEqual(ids.slice(1, ids.indexOf(t.special.fimSuffix as number)), t.encode('def f():'));
  // Specials after ordinary text are found too (gpt-tokenizer 4.0.0's own allowedSpecial misses them).
  const s = t.special;
  assert.deepEqual(t.encodeWithSpecials(`a = 1${EOT_TEXT}b${EOT_TEXT}`, [EOT_TEXT]), [...t.encode('a = 1'), s.eot, ...t.encode('b'), s.eot]);
  assert.deepEqual(t.encodeWithSpecials('plain', []), t.encode('plain'));
  assert.throws(() => getTokenizer('r50k_base').encodeWithSpecials('x', [FIM_PREFIX_TEXT]), (e: unknown) => e instanceof TokenizerError && /not a special token of r50k_base/.test(e.message));
});

test('the stream decoder emits only complete characters, even when a token splits one', () => {
  const t = getTokenizer('p50k_edit');
  const text = `ok 😀🦀 日本語 ${SAMPLES.emoji} end`;
  const ids = t.encode(text);
  // The test is only meaningful if some token carries an incomplete UTF-8 sequence.
  const fatal = new TextDecoder('utf-8', { fatal: true });
  assert.ok(ids.some((id) => {
    try {
      fatal.decode(t.tokenBytes(id));
      return false;
    } catch {
      return true;
    }
  }), 'some token holds part of a character');
  const stream = t.streamDecoder();
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.flush());
  for (const p of pieces) assert.ok(!p.includes('\ufffd'), `piece ${JSON.stringify(p)} is whole characters`);
  assert.equal(pieces.join(''), text);
  assert.ok(pieces.includes(''), 'a piece that completes no character is held back');

  // A stream cut inside a character flushes a replacement character; a new stream starts clean.
  const emojiIds = t.encode('😀');
  assert.ok(emojiIds.length > 1);
  const cut = t.streamDecoder();
  assert.equal(cut.push(emojiIds[0]), '');
  assert.equal(cut.flush(), '\ufffd');
  assert.equal(t.decode(emojiIds.slice(0, 1)), '\ufffd');
  assert.equal(t.decode(t.encode('fresh')), 'fresh', 'a partial decode does not leak into the next call');
});

test('unknown encodings and token ids give a TokenizerError', () => {
  assert.throws(() => getTokenizer('cl100k'), (e: unknown) => e instanceof TokenizerError && /unknown tokenizer encoding "cl100k". Supported: r50k_base, p50k_base, p50k_edit/.test(e.message));
  const t = getTokenizer('r50k_base');
  for (const bad of [50257, -1, 1.5, 1e9]) {
    assert.throws(() => t.decode([bad]), (e: unknown) => e instanceof TokenizerError && new RegExp(`token id ${bad} is not in r50k_base`).test(e.message));
  }
  assert.throws(() => getTokenizer('p50k_base').tokenBytes(50281), TokenizerError);
});

test('minTokens is a lower bound on the encoded length that refuses megabytes of text without encoding them', () => {
  const t = getTokenizer('p50k_edit');
  const texts = [...Object.values(SAMPLES), ' '.repeat(5000), '='.repeat(3000), '😀'.repeat(700), 'a'.repeat(10_000), '\u0000\ufffd'.repeat(400)];
  for (const text of texts) {
    const least = t.minTokens(text);
    assert.ok(least >= 1 && least <= t.encode(text).length, `${least} <= ${t.encode(text).length} for ${JSON.stringify(text.slice(0, 20))}`);
  }
  // The bound is what refuses a 10 MB request; it must exceed any context there is.
  assert.ok(t.minTokens('x'.repeat(10_000_000)) > 32_768);
});
