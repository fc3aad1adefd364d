// llama.cpp as the oracle for every family. tools/oracle/llamaCppFixtures.ts ran llama.cpp
// (node-llama-cpp 3.22.1, CPU, F32 KV cache) on tiny seeded models of each family written as
// GGUF in F32, Q8_0 and a Q4_K_M-like mix, and on the Qwen3 and Llama 3 vocabularies; its
// numbers are in test/fixtures/llamacpp/. This test rebuilds the same models from their seeds
// (tools/oracle/oracleModels.ts; no llama.cpp needed), loads them as GGUF and as Hugging Face
// folders, and checks that both backends give llama.cpp's logits and greedy ids, and both
// tokenizer paths llama.cpp's ids.
// Regenerate the fixtures: node tools/build.mjs --tests && node out/tools/oracle/llamaCppFixtures.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORACLE_HEAD_TYPES, ORACLE_MODELS, ORACLE_VOCABS, oracleIds, oracleModel, oracleVocabMetadata, vocabFiles, writeOracleGguf, writeOracleHeadGguf, writeOracleHfFolder, type OracleFormat, type OracleModelSpec } from '../../tools/oracle/oracleModels';
import { loadModel } from '../../engine/model/load';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { openGguf } from '../../engine/io/ggufRead';
import type { Model } from '../../engine/model/model';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import type { InferenceBackend } from '../../engine/runtime/backend';
import { tokenizerJsonGgufMetadata, tokenizerJsonPre } from '../../engine/tokenizer/ggufVocabulary';
import { tokenizerFromGgufMetadata } from '../../engine/tokenizer/ggufTokenizer';
import { tokenizerFromHfJson } from '../../engine/tokenizer/hfTokenizer';
import { TOKENIZER_STRINGS } from '../fixtures/tokenizerStrings';
import { f16ToF32Scalar, f32ToF16Scalar } from '../../engine/formats/half';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'llamacpp');
const REGENERATE = 'node tools/build.mjs --tests && node out/tools/oracle/llamaCppFixtures.js';

interface FormatRef {
  /** Per position: [top ids, their logits], highest first. */
  top: Array<[number[], number[]]>;
  /** F32 only: whole rows at fullRowPositions. */
  full?: number[][];
  greedy: number[];
}
interface ModelFixture {
  llamaCpp: Record<string, string>;
  seed: number;
  config: unknown;
  ids: number[];
  prompt: number[];
  fullRowPositions: number[];
  formats: Record<OracleFormat, FormatRef>;
  /** Untied models: logits of files whose LM head alone is in a quantized format. */
  headOnly?: Record<(typeof ORACLE_HEAD_TYPES)[number], { top: Array<[number[], number[]]> }>;
}

function fixture(spec: OracleModelSpec): ModelFixture {
  const f = JSON.parse(readFileSync(join(FIXTURES, `${spec.name}.json`), 'utf8')) as ModelFixture;
  // The fixture was made from this seed, config and id sequence; if any changed, the numbers are stale.
  const stale = `HINT: tools/oracle/oracleModels.ts changed since the fixtures were made; regenerate them: ${REGENERATE}`;
  assert.equal(f.seed, spec.seed, stale);
  assert.deepEqual(f.config, JSON.parse(JSON.stringify(spec.config)), stale);
  assert.deepEqual(f.ids, oracleIds(), stale);
  return f;
}

/**
 * Distances of our (T, V) logits from llama.cpp's: the largest over every top-20 entry and
 * every stored full row, how many positions have llama.cpp's top-1 as our argmax, and the
 * positions that do not although llama.cpp's top-1 leads its runner-up by more than `clearGap`
 * (with llama.cpp's lead there).
 */
function compare(ours: Float32Array, ref: FormatRef, V: number, fullRows: number[], clearGap = 0): { maxDiff: number; top1: number; clearMisses: string[] } {
  let maxDiff = 0;
  let top1 = 0;
  const clearMisses: string[] = [];
  ref.top.forEach(([ids, vals], t) => {
    ids.forEach((id, k) => (maxDiff = Math.max(maxDiff, Math.abs(ours[t * V + id]! - vals[k]!))));
    let best = 0;
    for (let v = 1; v < V; v++) if (ours[t * V + v]! > ours[t * V + best]!) best = v;
    if (best === ids[0]) top1++;
    else if (vals[0]! - vals[1]! > clearGap) clearMisses.push(`${t} (lead ${(vals[0]! - vals[1]!).toFixed(3)})`);
  });
  ref.full?.forEach((row, i) => row.forEach((x, v) => (maxDiff = Math.max(maxDiff, Math.abs(ours[fullRows[i]! * V + v]! - x)))));
  return { maxDiff, top1, clearMisses };
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
  return best;
}

/** Greedy ids after the prompt, one token at a time through the KV cache (as llama.cpp decodes). */
async function greedy(be: InferenceBackend, prompt: number[], steps: number): Promise<number[]> {
  const out: number[] = [];
  let logits = (await be.forward(Int32Array.from(prompt), 0)).logits;
  for (let i = 0; i < steps; i++) {
    const next = argmax(logits);
    out.push(next);
    if (i + 1 < steps) logits = (await be.forward(Int32Array.from([next]), prompt.length + i)).logits;
  }
  be.releaseCache();
  return out;
}

/**
 * The backends over one loaded model: the reference (js), the fast backend with its portable
 * kernels, and with relaxed SIMD (its int8 prefill tiles); all-position logits and greedy ids.
 */
async function run(model: Model, f: ModelFixture): Promise<Array<{ backend: Backend; logits: Float32Array; greedy: number[] }>> {
  const js = new ReferenceBackend(model);
  const portable = await FastBackend.create(model, { threads: 1, weightFormat: 'auto', relaxedSimd: false });
  const relaxed = await FastBackend.create(model, { threads: 1, weightFormat: 'auto', relaxedSimd: true });
  try {
    const out = [];
    for (const [backend, be] of [['js', js], ['fast', portable], ['fast-relaxed', relaxed]] as const) {
      const logits = (await be.forward(Int32Array.from(f.ids), 0, { allLogits: true })).logits;
      be.releaseCache();
      out.push({ backend, logits, greedy: await greedy(be, f.prompt, f.formats.F32.greedy.length) });
    }
    return out;
  } finally {
    portable.dispose();
    relaxed.dispose();
  }
}

type Backend = 'js' | 'fast' | 'fast-relaxed';

/**
 * F32 files: llama.cpp's logits within this much (absolute; the logits here are about +-5).
 * Measured: 3.5e-6 for the SwiGLU families (llama, llama3 scaling, qwen2) on both backends and
 * both file kinds. The GELU families (starcoder2, gpt2) differ by up to 2.0e-3, and that is
 * llama.cpp's rounding, not ours: its CPU GELU (ggml_vec_gelu_f32 under GGML_GELU_FP16) rounds
 * the input to F16 and reads an F16 table of the tanh formula. A float64 reference forward with
 * that table comes within 3.3e-4 of llama.cpp; with the exact formula (which transformers uses,
 * and test/fixtures/oracle checks the engine against) it is 2.0e-3 away, as the engine is.
 */
const F32_TOL = { swiglu: 1e-3, gelu_tanh: 3e-3 } as const;
/**
 * Quantized files, largest |ours - llama.cpp| measured over the 5 models (top-20 entries at 24
 * positions), with a margin: Q8_0 0.111 (js and fast), Q4_K_M 0.152 (js) and 0.164 (fast).
 * The weights are the same bytes on both sides (our dequantizers agree bit for bit with
 * gguf-py's); the distance is llama.cpp rounding every matmul's activations to 8 bits (Q8_0
 * blocks of 32 for Q8_0 weights, Q8_K blocks of 256 for K-quants) where the engine multiplies
 * dequantized weights by float activations. On a lone LM head that rounding, reproduced, gives
 * llama.cpp's logits to 2.4e-6 (the 'LM head' test below); through 2 layers it compounds. These
 * random 2-layer models amplify such rounding a lot (quantizing llama.cpp's Q8_0 file moves its
 * own logits by 0.15 from its F32 ones).
 */
const QUANT_TOL: Record<Exclude<OracleFormat, 'F32'>, number> = { Q8_0: 0.15, Q4_K_M: 0.22 };
/**
 * The fast backend with relaxed SIMD prefills Q8_0, Q4_K and Q6_K matrices in int8 tiles whose
 * dot instruction takes one operand in 0..127: the activations are rounded to 7 bits (+-63)
 * there, where llama.cpp rounds them to 8, so the rounding noise doubles. The K-quants' decode
 * kernels keep 8 bits (their codes fit the 7-bit operand) and, with relaxed SIMD, run prompts up
 * to 20-32 tokens, so these 24-token prompts take the tiles only for Q8_0 and Q6_K matrices.
 * Measured over the 5 models: Q8_0 0.29, Q4_K_M 0.25.
 */
const RELAXED_QUANT_TOL: Record<Exclude<OracleFormat, 'F32'>, number> = { Q8_0: 0.35, Q4_K_M: 0.38 };
/**
 * Top-1 in the quantized formats: where llama.cpp's top-1 leads its runner-up by more than the
 * tolerance, noise within the tolerance cannot swap them, so our argmax must be llama.cpp's
 * there; nearer ties (the random oracle models have a few: 19 to 24 of 24 positions agree) may
 * go either way.
 */

/** Each model is built once for its two tests (the fill is the same either way). */
const models = new Map<string, Model>();
function built(spec: OracleModelSpec): Model {
  let m = models.get(spec.name);
  if (!m) models.set(spec.name, (m = oracleModel(spec)));
  return m;
}

const dirs: string[] = [];
process.on('exit', () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const spec of ORACLE_MODELS) {
  test(`${spec.name}: F32 GGUF and HF folder give llama.cpp's logits (js and fast backends) and greedy ids`, async () => {
    const f = fixture(spec);
    const dir = mkdtempSync(join(tmpdir(), `limelight-llamacpp-${spec.name}-`));
    dirs.push(dir);
    const model = built(spec);
    const gguf = join(dir, 'f32.gguf');
    writeOracleGguf(gguf, model, 'F32');
    writeOracleHfFolder(join(dir, 'hf'), spec, model);
    const V = spec.config.vocabSize;
    for (const [source, loaded] of [['gguf', loadModel(gguf)], ['hf', loadModel(join(dir, 'hf'))]] as const) {
      assert.deepEqual(loaded.config.ropeScaling?.kind ?? null, source === 'gguf' && spec.config.ropeScaling ? 'freq_factors' : (spec.config.ropeScaling?.kind ?? null));
      for (const r of await run(loaded, f)) {
        const { maxDiff, top1 } = compare(r.logits, f.formats.F32, V, f.fullRowPositions);
        const what = `${spec.name} F32 ${source} ${r.backend}`;
        console.log(`${what}: max |diff| ${maxDiff.toExponential(2)}, top-1 ${top1}/${f.ids.length}, greedy ${r.greedy.join(' ') === f.formats.F32.greedy.join(' ') ? 'same' : r.greedy.join(' ')}`);
        assert.ok(maxDiff < F32_TOL[spec.config.mlp], `${what}: logits differ from llama.cpp's by ${maxDiff} (tolerance ${F32_TOL[spec.config.mlp]})`);
        assert.equal(top1, f.ids.length, `${what}: top-1`);
        assert.deepEqual(r.greedy, f.formats.F32.greedy, `${what}: greedy ids`);
      }
    }
  });

  test(`${spec.name}: Q8_0 and Q4_K_M GGUF stay within the measured distance of llama.cpp's logits`, async () => {
    const f = fixture(spec);
    const dir = mkdtempSync(join(tmpdir(), `limelight-llamacpp-${spec.name}-q-`));
    dirs.push(dir);
    const model = built(spec);
    const failures: string[] = [];
    for (const format of ['Q8_0', 'Q4_K_M'] as const) {
      const path = join(dir, `${format}.gguf`);
      writeOracleGguf(path, model, format);
      const loaded = loadModel(path);
      assert.equal(loaded.isFloat32, false, 'the matrices stay in their file format');
      for (const r of await run(loaded, f)) {
        const ref = f.formats[format];
        const tol = (r.backend === 'fast-relaxed' ? RELAXED_QUANT_TOL : QUANT_TOL)[format];
        const { maxDiff, top1, clearMisses } = compare(r.logits, ref, spec.config.vocabSize, [], tol);
        const what = `${spec.name} ${format} ${r.backend}`;
        let same = 0;
        while (same < ref.greedy.length && r.greedy[same] === ref.greedy[same]) same++;
        console.log(`${what}: max |diff| ${maxDiff.toExponential(2)}, top-1 ${top1}/${f.ids.length}, greedy same for ${same}/${ref.greedy.length}`);
        if (!(maxDiff < tol)) failures.push(`${what}: logits differ from llama.cpp's by ${maxDiff} (tolerance ${tol})`);
        if (clearMisses.length > 0) failures.push(`${what}: our argmax is not llama.cpp's top-1 at positions ${clearMisses.join(', ')}, where it leads by more than the tolerance ${tol}`);
      }
    }
    assert.deepEqual(failures, []);
  });
}

/** Round half to even, as ggml's nearest_int and _mm256_round_ps do. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Activations as llama.cpp's CPU backend rounds them before a quantized matmul, dequantized:
 * Q8_0 blocks of 32 for Q8_0 weights (quantize_row_q8_0: d = max|x| / 127 stored as F16,
 * q = round(x * 127 / max|x|)), Q8_K blocks of 256 for K-quants (quantize_row_q8_K_ref:
 * iscale = -127 / (the x of largest magnitude), q = min(127, round(iscale * x)), d = 1 / iscale).
 */
function llamaCppActivations(x: Float32Array, weightType: (typeof ORACLE_HEAD_TYPES)[number]): Float64Array {
  const out = new Float64Array(x.length);
  const f = Math.fround;
  const block = weightType === 'Q8_0' ? 32 : 256;
  for (let b = 0; b < x.length; b += block) {
    let amax = 0;
    let max = 0;
    for (let i = b; i < b + block; i++) if (Math.abs(x[i]!) > amax) [amax, max] = [Math.abs(x[i]!), x[i]!];
    if (amax === 0) continue;
    if (weightType === 'Q8_0') {
      const d = f16ToF32Scalar(f32ToF16Scalar(f(amax / 127)));
      const id = f(127 / amax);
      for (let i = b; i < b + block; i++) out[i] = roundEven(f(x[i]! * id)) * d;
    } else {
      const iscale = f(-127 / max);
      const d = f(1 / iscale);
      for (let i = b; i < b + block; i++) out[i] = Math.min(127, roundEven(f(iscale * x[i]!))) * d;
    }
  }
  return out;
}

test("an LM head in Q8_0, Q4_K or Q6_K: llama.cpp's logits are the engine's dequantized weights times llama.cpp's 8-bit activations", () => {
  // The one matmul whose every rounding is reproduced here, so the quantized formats are checked
  // tightly (the whole-model tolerances above are the same rounding, compounded over 2 layers).
  const dir = mkdtempSync(join(tmpdir(), 'limelight-llamacpp-head-'));
  dirs.push(dir);
  for (const spec of ORACLE_MODELS.filter((s) => !s.config.tiedEmbeddings)) {
    const f = fixture(spec);
    assert.ok(f.headOnly, `${spec.name}.json has headOnly logits; regenerate: ${REGENERATE}`);
    const { vocabSize: V, hidden: C, nLayer: L } = spec.config;
    const T = f.ids.length;
    for (const type of ORACLE_HEAD_TYPES) {
      const path = join(dir, `${spec.name}-${type}.gguf`);
      writeOracleHeadGguf(path, built(spec), type);
      const model = loadModel(path);
      assert.deepEqual([...model.formats().keys()].sort(), ['F32', type].sort(), 'the head stays in its format');
      const r = new ReferenceBackend(model).forwardSync(Int32Array.from(f.ids), 0, { allLogits: true, captureHidden: true });
      const head = model.params.subarray(model.layout.byName.get('lm_head')!.offset);
      let emulated = 0;
      let plain = 0;
      f.headOnly[type].top.forEach(([ids, vals], t) => {
        const xq = llamaCppActivations(r.hidden!.subarray((L * T + t) * C, (L * T + t + 1) * C), type);
        ids.forEach((id, k) => {
          let dot = 0;
          for (let i = 0; i < C; i++) dot += head[id * C + i]! * xq[i]!;
          emulated = Math.max(emulated, Math.abs(dot - vals[k]!));
          plain = Math.max(plain, Math.abs(r.logits[t * V + id]! - vals[k]!));
        });
      });
      console.log(`${spec.name} head ${type}: max |diff| ${emulated.toExponential(2)} with llama.cpp's activation rounding, ${plain.toExponential(2)} without`);
      assert.ok(emulated < 1e-4, `${spec.name} head ${type}: ${emulated} from llama.cpp's logits with its activation rounding reproduced`);
    }
  }
});

interface TokenizerFixture {
  vocabs: Record<string, { pre: string; rows: number; bos: number | null; shouldPrependBos: boolean; strings: Record<string, number[]> }>;
}

test("Qwen3 and Llama 3 vocabularies: llama.cpp's ids for every shared string, through tokenizer.json and through a GGUF vocabulary", () => {
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'tokenizers.json'), 'utf8')) as TokenizerFixture;
  for (const v of ORACLE_VOCABS) {
    const want = ref.vocabs[v.name]!;
    assert.ok(want, `tokenizers.json has ${v.name}; regenerate: ${REGENERATE}`);
    const files = vocabFiles(v.pkg);
    assert.equal(tokenizerJsonPre(files.json as { pre_tokenizer?: unknown }), v.pre, `${v.name}: llama.cpp's pre-tokenizer name read from tokenizer.json`);
    // The keys as a GGUF file holds them (the script wrote exactly these into the vocab-only file llama.cpp read).
    const meta = new Map(tokenizerJsonGgufMetadata(files, v.pre, v.rows).map(([k, x]) => [k, x.value]));
    const fromGguf = tokenizerFromGgufMetadata(meta, `${v.name}.gguf`, { modelVocabSize: v.rows });
    // tokenizerFromHfFolder's own path, on the files already parsed (a 150k vocabulary costs about 0.4 s to parse).
    const fromJson = tokenizerFromHfJson(files.json, files.config, join(files.dir, 'tokenizer.json'), { modelVocabSize: v.rows });
    for (const { name, text } of TOKENIZER_STRINGS) {
      const ids = want.strings[name];
      assert.ok(ids, `tokenizers.json has '${name}'; regenerate: ${REGENERATE}`);
      assert.deepEqual(fromGguf.encodeParsingSpecials(text), ids, `${v.name} '${name}': GGUF vocabulary`);
      // Qwen's tokenizer.json normalizes to NFC before anything else (llama.cpp has no normalizer), so
      // on the one string that is not in NFC it gives llama.cpp's ids for the NFC form.
      const nfc = JSON.stringify(files.json.normalizer ?? null).includes('NFC') && text.normalize('NFC') !== text;
      assert.deepEqual(fromJson.encodeParsingSpecials(text), nfc ? want.strings[`${name} (NFC)`] : ids, `${v.name} '${name}': tokenizer.json`);
    }
    // llama.cpp adds BOS only when asked to add specials and the vocabulary's add_bos flag says so.
    assert.equal(fromGguf.addsBos, want.shouldPrependBos, `${v.name}: adds BOS as llama.cpp would`);
    assert.equal(fromGguf.bosId, want.bos, `${v.name}: BOS id`);
  }
});

test('GGUF export of a checkpoint folder carries its tokenizer.json vocabulary as convert_hf_to_gguf.py writes it', () => {
  const spec = ORACLE_MODELS[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'limelight-llamacpp-export-'));
  dirs.push(dir);
  // The oracle models' own vocabulary as a byte-level tokenizer.json (GPT-2's pre-tokenizer).
  const meta = new Map(oracleVocabMetadata().map(([k, x]) => [k, x.value]));
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const json = {
    model: { type: 'BPE', vocab: Object.fromEntries(tokens.slice(0, -1).map((t, i) => [t, i])), merges: meta.get('tokenizer.ggml.merges') as string[] },
    added_tokens: [{ id: tokens.length - 1, content: tokens[tokens.length - 1]!, special: true }],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
  };
  const folder = join(dir, 'hf');
  writeOracleHfFolder(folder, spec, built(spec));
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', add_bos_token: false }));
  const out = join(dir, 'exported.gguf');
  writeGgufModel(out, loadModel(folder), { weightType: 'F32' });
  const file = openGguf(out);
  try {
    for (const key of ['tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.tokens', 'tokenizer.ggml.token_type', 'tokenizer.ggml.merges', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.add_bos_token']) {
      const want = key === 'tokenizer.ggml.pre' ? 'gpt-2' : meta.get(key);
      assert.deepEqual(file.metadata.get(key)?.value, want, key);
    }
  } finally {
    file.close();
  }
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify({ ...json, pre_tokenizer: { type: 'Metaspace' } }));
  assert.throws(() => writeGgufModel(join(dir, 'spm.gguf'), loadModel(folder), { weightType: 'F32' }), /tokenizer\.json: GGUF export writes byte-level BPE vocabularies.*convert_hf_to_gguf\.py/);
});
