// The GGUF writer: header, metadata, tensor table and data read back with a small reader
// written from the format description (ggml docs/gguf.md); Q8_0 blocks decode to the weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { writeGguf } from '../../engine/io/ggufWrite';
import type { GgufValue } from '../../engine/io/ggufTypes';
import { encodingGgufMetadata } from '../../engine/tokenizer/ggufVocabulary';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { loadModel } from '../../engine/model/load';
import { f16BitsToF32Bits } from '../../engine/formats/half';
import { oracleDir } from './oracle';
import { ReferenceBackend } from '../../engine/runtime/referenceBackend';
import { FastBackend } from '../../engine/runtime/fastBackend';
import { exportGgufCommand } from '../../engine/cli/commands/exportGguf';
import { parseArgs } from '../../engine/cli/args';

interface Parsed {
  meta: Map<string, unknown>;
  tensors: Map<string, { ne: number[]; type: number; offset: number }>;
  dataStart: number;
  buf: Buffer;
}

function parse(buf: Buffer): Parsed {
  let p = 0;
  const u32 = (): number => ((p += 4), buf.readUInt32LE(p - 4));
  const u64 = (): number => ((p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const str = (): string => {
    const n = u64();
    p += n;
    return buf.toString('utf8', p - n, p);
  };
  const value = (t: number): unknown => {
    if (t === 4) return u32();
    if (t === 5) return ((p += 4), buf.readInt32LE(p - 4));
    if (t === 6) return ((p += 4), buf.readFloatLE(p - 4));
    if (t === 8) return str();
    if (t === 9) {
      const et = u32();
      return Array.from({ length: u64() }, () => value(et));
    }
    throw new Error(`unexpected type ${t}`);
  };
  assert.equal(buf.toString('latin1', 0, 4), 'GGUF');
  p = 4;
  assert.equal(u32(), 3);
  const nt = u64();
  const nk = u64();
  const meta = new Map<string, unknown>();
  for (let i = 0; i < nk; i++) {
    const k = str();
    meta.set(k, value(u32()));
  }
  const tensors = new Map<string, { ne: number[]; type: number; offset: number }>();
  for (let i = 0; i < nt; i++) {
    const name = str();
    const ne = Array.from({ length: u32() }, () => u64());
    tensors.set(name, { ne, type: u32(), offset: u64() });
  }
  return { meta, tensors, dataStart: Math.ceil(p / 32) * 32, buf };
}

test('GGUF export of a GPT-2 model: metadata, tensors, F32 bytes and Q8_0 blocks', () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const c = model.config;
  const dir = mkdtempSync(join(tmpdir(), 'gguf-'));
  try {
    for (const weightType of ['F32', 'F16', 'Q8_0'] as const) {
      const path = join(dir, `m-${weightType}.gguf`);
      writeGgufModel(path, model, { weightType });
      const g = parse(readFileSync(path));
      assert.equal(g.meta.get('general.architecture'), 'gpt2');
      assert.equal(g.meta.get('gpt2.block_count'), c.nLayer);
      assert.equal(g.meta.get('gpt2.embedding_length'), c.hidden);
      assert.equal((g.meta.get('tokenizer.ggml.tokens') as string[]).length, c.vocabSize);
      assert.ok((g.meta.get('tokenizer.ggml.merges') as string[]).includes('Ġ t'), 'the first GPT-2 merge');
      assert.equal(g.tensors.size, 4 + 12 * c.nLayer);
      const qkv = g.tensors.get('blk.0.attn_qkv.weight')!;
      assert.deepEqual(qkv.ne, [c.hidden, 3 * c.hidden]);
      assert.equal(qkv.type, { F32: 0, F16: 1, Q8_0: 8 }[weightType]);
      const w = model.views.layers[0]!.qkvw;
      const at = g.dataStart + qkv.offset;
      if (weightType === 'F32') {
        assert.deepEqual(new Float32Array(g.buf.buffer.slice(g.buf.byteOffset + at, g.buf.byteOffset + at + w.length * 4)), w);
      } else if (weightType === 'Q8_0') {
        const f = new Float32Array(1);
        const bits = new Uint32Array(f.buffer);
        let maxErr = 0;
        for (let b = 0; b < w.length / 32; b++) {
          bits[0] = f16BitsToF32Bits(g.buf.readUInt16LE(at + b * 34));
          for (let i = 0; i < 32; i++) maxErr = Math.max(maxErr, Math.abs(g.buf.readInt8(at + b * 34 + 2 + i) * f[0]! - w[b * 32 + i]!));
        }
        assert.ok(maxErr < 0.01 * Math.max(...w.map(Math.abs)), `Q8_0 decodes within one step: ${maxErr}`);
      }
      const bias = g.tensors.get('blk.0.attn_qkv.bias')!;
      assert.equal(bias.type, 0);
    }
    const existing = join(dir, 'user.gguf');
    writeFileSync(existing, 'mine');
    assert.throws(() => writeGgufModel(existing, model, { weightType: 'F32' }), /already exists/);
    assert.equal(readFileSync(existing, 'utf8'), 'mine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('limelight export-gguf writes the file and rejects a bad type or an existing path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-cli-'));
  const out = join(dir, 'tiny.gguf');
  const run = (argv: string[]): Promise<number> => exportGgufCommand.run(parseArgs(argv, exportGgufCommand.options));
  try {
    await assert.rejects(run(['--model', oracleDir('gpt2-tiny'), '--out', out, '--weights', 'q4']), /--weights must be one of/);
    assert.equal(await run(['--model', oracleDir('gpt2-tiny'), '--out', out, '--weights', 'q8_0']), 0);
    assert.equal(parse(readFileSync(out)).tensors.get('token_embd.weight')!.type, 8);
    await assert.rejects(run(['--model', oracleDir('gpt2-tiny'), '--out', out]), /already exists/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model exported as GGUF loads back with the same logits (Q/K rows interleaved and restored for llama)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-trip-'));
  try {
    for (const name of ['gpt2-tiny', 'llama-tiny']) {
      const hf = loadModel(oracleDir(name));
      const ids = Int32Array.from([1, 7, 42, 3, 99, 5]);
      const want = new ReferenceBackend(hf).forwardSync(ids, 0, { allLogits: true }).logits;
      const f32 = join(dir, `${name}-f32.gguf`);
      writeGgufModel(f32, hf, { weightType: 'F32' });
      const back = loadModel(f32);
      assert.equal(back.config.family, hf.config.family);
      const got = new ReferenceBackend(back).forwardSync(ids, 0, { allLogits: true }).logits;
      let d = 0;
      for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - got[i]!));
      assert.ok(d < 1e-5, `${name} F32 round trip: max diff ${d}`);
      // Q8_0 matrices stay Q8_0 in memory and run on the fast backend's Q8_0 kernels.
      const q8 = join(dir, `${name}-q8.gguf`);
      writeGgufModel(q8, hf, { weightType: 'Q8_0' });
      const qm = loadModel(q8);
      assert.equal(qm.isFloat32, false);
      assert.ok(qm.formats().has('Q8_0'), `${name}: Q8_0 parts kept`);
      const be = await FastBackend.create(qm, { threads: 1, weightFormat: 'auto' });
      try {
        const q = be.forwardSync(ids, 0, { allLogits: true }).logits;
        // 8-bit blocks move the logits by up to 1.3% (gpt2-tiny) and 2.8% (llama-tiny) of their range here.
        let e = 0;
        let range = 0;
        for (let i = 0; i < want.length; i++) {
          e = Math.max(e, Math.abs(want[i]! - q[i]!));
          range = Math.max(range, Math.abs(want[i]!));
        }
        assert.ok(e < 0.05 * range, `${name} Q8_0: max diff ${e} against logits up to ${range}`);
      } finally {
        be.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a GGUF model holds no copy of its matrices: they are read when packed, and a file changed since loading is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-lazy-'));
  try {
    const path = join(dir, 'm.gguf');
    writeGgufModel(path, loadModel(oracleDir('llama-tiny')), { weightType: 'Q8_0' });
    const model = loadModel(path);
    const part = model.parts('h.0.qkv.w')[0]!;
    assert.notEqual(part.data, part.data, 'each read of a matrix part reads the file afresh');
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(64)]));
    await assert.rejects(FastBackend.create(model, { threads: 1, weightFormat: 'auto' }), /changed on disk after it was loaded\. Load the model again/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a GGUF file of an architecture Limelight does not run is refused by name, with the supported list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-arch-'));
  try {
    const path = join(dir, 'mamba.gguf');
    writeGguf(path, { metadata: [['general.architecture', { type: 'string', value: 'mamba' }]], tensors: [] });
    assert.throws(() => loadModel(path), /mamba\.gguf: architecture "mamba" is not supported\. Supported: gpt2, llama, qwen2, starcoder2\. Use a GGUF file of one of these architectures/);
    const noArch = join(dir, 'none.gguf');
    writeGguf(noArch, { metadata: [['general.name', { type: 'string', value: 'x' }]], tensors: [] });
    assert.throws(() => loadModel(noArch), (e: Error) => e.name === 'GgufError' && /general\.architecture/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Q8_0 matrices whose rows are not a multiple of 4 load through the staging area and the threads exactly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-odd-'));
  try {
    const config = configFromHF({ model_type: 'gpt2', vocab_size: 97, n_positions: 32, n_embd: 64, n_layer: 2, n_head: 2, tie_word_embeddings: false });
    const path = join(dir, 'odd.gguf');
    writeGgufModel(path, randomModel(config, 5), { weightType: 'Q8_0' });
    const ids = Int32Array.from([1, 96, 3, 50, 7]);
    // The reference runs on the same Q8_0 weights, dequantized: the packed kernels differ from it only by their arithmetic.
    const want = new ReferenceBackend(loadModel(path)).forwardSync(ids, 0, { allLogits: true }).logits;
    for (const threads of [1, 2]) {
      const be = await FastBackend.create(loadModel(path), { threads, weightFormat: 'auto' });
      try {
        const got = be.forwardSync(ids, 0, { allLogits: true }).logits;
        let d = 0;
        for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - got[i]!));
        assert.ok(d < 2e-2, `${threads} threads: max diff ${d}`);
      } finally {
        be.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16, Q4_K and Q6_K matrices taller than a packing chunk (256 rows) load on the fast backend as the reference runs them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-tall-'));
  try {
    // 600-row LM head and 1024-row fc: each matrix is read in several chunks through one buffer.
    const config = configFromHF({ model_type: 'gpt2', vocab_size: 600, n_positions: 32, n_embd: 256, n_layer: 1, n_head: 4, tie_word_embeddings: false });
    const ids = Int32Array.from([1, 599, 3, 300, 7]);
    // Max |diff| against the reference on the same dequantized weights (measured 5e-7, 0.018, 0.018): f16 products in f32, the K-quants on 8-bit activations.
    for (const [weightType, bound] of [['F16', 1e-5], ['Q4_K', 5e-2], ['Q6_K', 5e-2]] as const) {
      const path = join(dir, `${weightType}.gguf`);
      writeGgufModel(path, randomModel(config, 9), { weightType });
      const want = new ReferenceBackend(loadModel(path)).forwardSync(ids, 0, { allLogits: true }).logits;
      const be = await FastBackend.create(loadModel(path), { threads: 2, weightFormat: 'auto' });
      try {
        const got = be.forwardSync(ids, 0, { allLogits: true }).logits;
        let d = 0;
        for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i]! - got[i]!));
        assert.ok(d < bound, `${weightType}: max diff ${d}`);
      } finally {
        be.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export-gguf from a GGUF blob without a .gguf name (an Ollama blob) carries the blob\'s own tokenizer keys', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-blob-'));
  const run = (argv: string[]): Promise<number> => exportGgufCommand.run(parseArgs(argv, exportGgufCommand.options));
  try {
    const first = join(dir, 'first.gguf');
    writeGgufModel(first, loadModel(oracleDir('gpt2-tiny')), { weightType: 'F32', tokenizer: [['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }], ['tokenizer.ggml.pre', { type: 'string', value: 'marker-pre' }], ...encodingKeys()] });
    const blob = join(dir, 'sha256-0123abcd');
    writeFileSync(blob, readFileSync(first));
    const out = join(dir, 'again.gguf');
    assert.equal(await run(['--model', blob, '--out', out, '--weights', 'f16']), 0);
    assert.equal(parse(readFileSync(out)).meta.get('tokenizer.ggml.pre'), 'marker-pre');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The gpt2-tiny encoding's tokenizer keys other than model and pre. */
function encodingKeys(): Array<[string, GgufValue]> {
  const c = loadModel(oracleDir('gpt2-tiny')).config;
  return encodingGgufMetadata(getTokenizer(c.encoding ?? 'r50k_base'), c.vocabSize, c.bosTokenId, c.eosTokenIds[0] ?? null).filter(([k]) => k !== 'tokenizer.ggml.model' && k !== 'tokenizer.ggml.pre');
}
