// safetensors reader/writer, dtype conversions and checkpoint folders: round trips, the HF
// oracle files, and malformed files that must each give a SafetensorsError naming the fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsError, openSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../../engine/io/safetensors';
import { bf16ToF32, f16BitsToF32Bits, f16ToF32, f32BitsToF16Bits, f32ToF16 } from '../../engine/formats/half';
import { readCheckpointTensors } from '../../engine/io/hfCheckpoint';

const ORACLE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'oracle');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'limelight-st-'));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}
function floatOf(bits: number): number {
  u32[0] = bits;
  return f32[0];
}

/** A safetensors file from a header (object or raw text) and a data section. */
function makeFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseSafetensors(bytes, 'bad.safetensors'),
    (e: unknown) => e instanceof SafetensorsError && e.message.startsWith('bad.safetensors: ') && pattern.test(e.message),
  );
}

test('F32, I64, I32 and metadata survive a write/read round trip', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'a.safetensors');
    const w = new Float32Array([1.5, -2.25, 3e-7, 1e30, -0, 7]);
    const ids = [0, 50256, -3, 2 ** 40];
    writeSafetensors(
      path,
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], data: w },
        { name: 'ids', dtype: 'I64', shape: [4], data: ids },
        { name: 'i32', dtype: 'I32', shape: [2], data: new Int32Array([-7, 2 ** 31 - 1]) },
        { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
        { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'round trip' },
    );
    const f = readSafetensors(path);
    assert.deepEqual(f.metadata, { format: 'pt', note: 'round trip' });
    assert.deepEqual(f.info('w').shape, [2, 3]);
    assert.deepEqual(f.tensorToFloat32('w'), w);
    assert.deepEqual([...f.tensorToFloat32('ids')], ids);
    assert.deepEqual([...f.tensorToInt32('i32')], [-7, 2 ** 31 - 1]);
    assert.deepEqual([...f.tensorToFloat32('scalar')], [42]);
    assert.equal(f.tensorToFloat32('empty').length, 0);
    assert.throws(() => f.tensorToInt32('ids'), (e: unknown) => e instanceof SafetensorsError && /element 3 is 1099511627776, outside the 32-bit range/.test(e.message));
    assert.deepEqual(readdirSync(dir), ['a.safetensors'], 'no temporary file is left behind');
    // The header is padded to 8 bytes and every tensor is aligned to its element size.
    const bytes = readFileSync(path);
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    for (const t of f.tensors) assert.equal(t.begin % (t.dtype === 'I64' ? 8 : 4), 0, t.name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16 is written with round-to-nearest-even and read back exactly', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'h.safetensors');
    const src = new Float32Array([1, -2, 0.1, 65504, 1e-7, 70000, 1 + 2 ** -11, Number.NaN]);
    writeSafetensors(path, [
      { name: 'h', dtype: 'F16', shape: [8], data: src },
      { name: 'bits', dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0x7bff]) },
    ]);
    const f = readSafetensors(path);
    assert.equal(f.info('h').dtype, 'F16');
    const bits = f.halfBits('h');
    for (let i = 0; i < src.length; i++) assert.equal(bits[i], f32BitsToF16Bits(bitsOf(src[i])), `element ${i}`);
    const back = f.tensorToFloat32('h');
    for (let i = 0; i < src.length; i++) assert.equal(bitsOf(back[i]), f16BitsToF32Bits(bits[i]), `element ${i}`);
    assert.equal(back[0], 1);
    assert.equal(back[3], 65504);
    assert.equal(back[5], Infinity);
    assert.equal(back[6], 1, '1 + 2^-11 is a tie and goes to the even neighbour 1');
    assert.ok(Number.isNaN(back[7]));
    assert.deepEqual([...f.tensorToFloat32('bits')], [1, 65504]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the writer refuses bad input and leaves the target untouched', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'keep.safetensors');
    writeFileSync(path, 'original');
    const bad = (t: Parameters<typeof writeSafetensors>[1], pattern: RegExp): void =>
      assert.throws(() => writeSafetensors(path, t), (e: unknown) => e instanceof SafetensorsError && pattern.test(e.message));
    bad([{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }], /shape \[3\] has 3 elements but the data has 2/);
    bad([{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }, { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }], /given twice/);
    bad([{ name: '__metadata__', dtype: 'F32', shape: [1], data: new Float32Array(1) }], /reserved/);
    bad([{ name: 'x', dtype: 'I32', shape: [1], data: new Float32Array(1) }], /I32 cannot be written from Float32Array/);
    bad([{ name: 'x', dtype: 'I64', shape: [1], data: [1.5] }], /whole numbers/);
    assert.equal(readFileSync(path, 'utf8'), 'original');
    assert.throws(() => writeSafetensors(join(dir, 'missing', 'x.safetensors'), []), (e: unknown) => e instanceof SafetensorsError && /cannot create a file/.test(e.message));
    assert.deepEqual(readdirSync(dir), ['keep.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reads the Hugging Face oracle files', () => {
  for (const model of ['gpt2-tiny', 'llama-tiny']) {
    const path = join(ORACLE, model, 'model.safetensors');
    const f = readSafetensors(path);
    assert.equal(f.metadata.format, 'pt');
    const config = JSON.parse(readFileSync(join(ORACLE, model, 'config.json'), 'utf8')) as { vocab_size: number; n_embd?: number; hidden_size?: number };
    const emb = model === 'gpt2-tiny' ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
    assert.deepEqual(f.info(emb).shape, [config.vocab_size, config.n_embd ?? config.hidden_size]);
    // Every tensor decodes to the same numbers as an independent DataView read of the file.
    const file = readFileSync(path);
    const dataStart = 8 + Number(file.readBigUInt64LE(0));
    const header = JSON.parse(file.subarray(8, dataStart).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    for (const name of f.names()) {
      const values = f.tensorToFloat32(name);
      const [begin] = header[name].data_offsets;
      assert.equal(header[name].dtype, 'F32');
      for (let i = 0; i < values.length; i += 97) assert.equal(values[i], file.readFloatLE(dataStart + begin + 4 * i), `${model} ${name}[${i}]`);
    }
    const ref = readSafetensors(join(ORACLE, model, 'reference.safetensors'));
    const ids = ref.tensorToInt32('input_ids');
    assert.deepEqual(ref.info('input_ids').dtype, 'I64');
    assert.ok(ids.length > 0 && ids.every((id) => id >= 0 && id < config.vocab_size));
    assert.deepEqual([...ref.tensorToFloat32('input_ids')], [...ids]);
  }
});

test('openSafetensors reads tensors on demand, equal to the in-memory reader, and refuses a changed file', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'lazy.safetensors');
    const w = new Float32Array([0.5, -1, 3.25, 1e-3]);
    writeSafetensors(path, [
      { name: 'w', dtype: 'F32', shape: [2, 2], data: w },
      { name: 'h', dtype: 'F16', shape: [4], data: w },
      { name: 'ids', dtype: 'I64', shape: [3], data: [5, -1, 50256] },
    ]);
    const lazy = openSafetensors(path);
    const eager = readSafetensors(path);
    assert.deepEqual(lazy.tensors, eager.tensors);
    for (const name of lazy.names()) {
      assert.deepEqual(lazy.raw(name), eager.raw(name), name);
      assert.deepEqual(lazy.tensorToFloat32(name), eager.tensorToFloat32(name), name);
    }
    const out = new Float32Array(4);
    lazy.tensorToFloat32('w', out);
    assert.deepEqual(out, w);
    assert.deepEqual(lazy.halfBits('h'), eager.halfBits('h'));
    assert.deepEqual([...lazy.tensorToInt32('ids')], [5, -1, 50256]);
    writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    assert.throws(() => lazy.tensorToFloat32('w'), (e: unknown) => e instanceof SafetensorsError && /changed on disk after its header was checked/.test(e.message));
    rmSync(path);
    assert.throws(() => lazy.raw('w'), (e: unknown) => e instanceof SafetensorsError && /cannot reopen/.test(e.message));
    assert.throws(() => openSafetensors(dir), (e: unknown) => e instanceof SafetensorsError && /is not a regular file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F32 data at an unaligned offset is copied, not misread', () => {
  const values = new Float32Array([1.25, -3.5, 1e-20]);
  // A 3-byte header padding puts the data section at an odd offset.
  const header = JSON.stringify({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }) + '   ';
  const bytes = makeFile(header, new Uint8Array(values.buffer));
  assert.notEqual((8 + header.length) % 4, 0);
  const f = parseSafetensors(bytes, 'unaligned');
  assert.deepEqual(f.tensorToFloat32('x'), values);
  const out = new Float32Array(3);
  assert.equal(f.tensorToFloat32('x', out), out);
  assert.deepEqual(out, values);
  assert.throws(() => f.tensorToFloat32('x', new Float32Array(4)), /has 3 elements .* has 4/);
  assert.throws(() => f.info('y'), (e: unknown) => e instanceof SafetensorsError && /no tensor named "y"/.test(e.message));
});

test('every readable dtype converts to float32, and integer dtypes to int32', () => {
  const parts: Array<[string, string, ArrayBufferView, number[]]> = [
    ['f64', 'F64', new Float64Array([1.5, -1e300, 2 ** -30]), [1.5, -Infinity, 2 ** -30]],
    ['bf16', 'BF16', new Uint16Array([0x3f80, 0xbfc0, 0x7f80]), [1, -1.5, Infinity]],
    ['i32', 'I32', new Int32Array([-5, -(2 ** 31), 0]), [-5, -(2 ** 31), 0]],
    ['u16', 'U16', new Uint16Array([0, 65535, 7]), [0, 65535, 7]],
    ['i8', 'I8', new Int8Array([-128, 127, 0]), [-128, 127, 0]],
    ['u8', 'U8', new Uint8Array([255, 1, 0]), [255, 1, 0]],
    ['bool', 'BOOL', new Uint8Array([1, 0, 1]), [1, 0, 1]],
    ['i64', 'I64', new BigInt64Array([-2n, 2n ** 40n, 9n]), [-2, 2 ** 40, 9]],
  ];
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, dtype, data] of parts) {
    header[name] = { dtype, shape: [3], data_offsets: [offset, offset + data.byteLength] };
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    offset += data.byteLength;
  }
  const data = new Uint8Array(offset);
  chunks.reduce((at, c) => (data.set(c, at), at + c.length), 0);
  for (const pad of ['', ' ']) {
    const f = parseSafetensors(makeFile(JSON.stringify(header) + pad, data), 'dtypes');
    for (const [name, dtype, , expected] of parts) {
      assert.deepEqual([...f.tensorToFloat32(name)], expected, `${name} pad ${pad.length}`);
      if (dtype === 'F64' || dtype === 'BF16') {
        assert.throws(() => f.tensorToInt32(name), /not an integer tensor/);
      } else if (dtype !== 'I64') {
        assert.deepEqual([...f.tensorToInt32(name)], expected, name);
      }
    }
    assert.throws(() => f.tensorToInt32('i64'), /element 1 is 1099511627776, outside the 32-bit range/);
    assert.throws(() => f.halfBits('u16'), /is U16, not F16 or BF16/);
    assert.deepEqual([...f.halfBits('bf16')], [0x3f80, 0xbfc0, 0x7f80]);
  }
});

test('malformed files give a SafetensorsError that names the problem', () => {
  const four = new Uint8Array(16);
  const entry = (o: Record<string, unknown>): Record<string, unknown> => ({ dtype: 'F32', shape: [4], data_offsets: [0, 16], ...o });
  rejects(new Uint8Array(5), /5 bytes long, too short/);
  rejects(makeFile('{}', four, 1n << 40n), /header length field says 1099511627776 bytes/);
  rejects(makeFile('{}', four, 0n), /header length field says 0 bytes/);
  rejects(makeFile('{}', four, 100n), /header length field says 100 bytes but only 18 follow/);
  rejects(makeFile('{"x": ', four), /not valid JSON/);
  const badUtf8 = makeFile('{"x":1}', four);
  badUtf8[10] = 0xff;
  rejects(badUtf8, /not valid UTF-8/);
  rejects(makeFile([1, 2], four), /an array, not a JSON object/);
  rejects(makeFile({ x: 3 }, four), /tensor "x": entry must be an object/);
  rejects(makeFile({ x: entry({ data_offsets: [0, 32] }) }, four), /tensor "x": data_offsets \[0, 32\] run past the end of the data section \(16 bytes\)/);
  rejects(makeFile({ x: entry({ data_offsets: [8, 4] }) }, four), /end before they begin/);
  rejects(makeFile({ x: entry({ data_offsets: [0] }) }, four), /data_offsets must be \[begin, end\]/);
  rejects(makeFile({ x: entry({ data_offsets: [-4, 12] }) }, four), /data_offsets must be \[begin, end\]/);
  rejects(
    makeFile({ a: entry({ shape: [3], data_offsets: [0, 12] }), b: entry({ shape: [2], data_offsets: [8, 16] }) }, four),
    /tensors "a" \[0, 12\] and "b" \[8, 16\] overlap/,
  );
  rejects(makeFile({ x: entry({ dtype: 'Q4_K' }) }, four), /tensor "x": dtype "Q4_K" is not supported \(supported: F64, F32, F16, BF16/);
  rejects(makeFile({ x: entry({ dtype: 'F8_E4M3' }) }, four), /dtype "F8_E4M3" is not supported.*Convert the checkpoint/);
  rejects(makeFile({ x: entry({ shape: [3] }) }, four), /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 16\] hold 16/);
  rejects(makeFile({ x: entry({ shape: [1e15, 1e15] }) }, four), /needs more bytes than the whole data section/);
  rejects(makeFile({ x: entry({ shape: [2 ** 62, 4] }) }, four), /shape must be an array of at most 64 non-negative integers/);
  rejects(makeFile({ x: entry({ shape: [-1, -4] }) }, four), /non-negative integers/);
  rejects(makeFile({ x: entry({ shape: [4.5] }) }, four), /non-negative integers/);
  rejects(makeFile({ x: entry({ shape: 'big' }) }, four), /shape must be an array/);
  rejects(makeFile({ __metadata__: { format: 1 } }, four), /"__metadata__"."format" must be a string/);
  // A checkpoint cut short in its data section.
  const good = readFileSync(join(ORACLE, 'gpt2-tiny', 'model.safetensors'));
  rejects(good.subarray(0, good.length - 1000), /run past the end of the data section/);
  rejects(good.subarray(0, 100), /header length field says \d+ bytes but only 92 follow/);
});

test('random corruption never escapes as anything but a SafetensorsError', () => {
  const good = new Uint8Array(readFileSync(join(ORACLE, 'gpt2-tiny', 'reference.safetensors')));
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const headerEnd = 8 + Number(new DataView(good.buffer).getBigUint64(0, true));
  let rejected = 0;
  for (let trial = 0; trial < 300; trial++) {
    const bytes = good.slice(0, trial % 3 === 0 ? rand(good.length) : good.length);
    for (let k = 0; k < 1 + rand(4); k++) if (bytes.length > 0) bytes[rand(Math.min(bytes.length, headerEnd))] = rand(256);
    try {
      const f = parseSafetensors(bytes, 'fuzz');
      for (const name of f.names()) f.tensorToFloat32(name);
    } catch (e) {
      assert.ok(e instanceof SafetensorsError, `trial ${trial}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 100, `most corrupted files are rejected (${rejected})`);
});

test('F16 -> F32 is exact for all 65536 patterns, including subnormals, infinities and NaN', () => {
  const all = new Uint16Array(65536);
  for (let h = 0; h < 65536; h++) all[h] = h;
  const out = new Float32Array(65536);
  f16ToF32(out, all);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    const expected = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant === 0 ? sign * Infinity : NaN) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(out[h]), `0x${h.toString(16)}`);
    else assert.ok(Object.is(out[h], expected), `0x${h.toString(16)}: ${out[h]} != ${expected}`);
    if (!Number.isNaN(expected)) assert.equal(f32BitsToF16Bits(bitsOf(out[h])), h, 'F16 -> F32 -> F16 is the identity');
  }
  assert.equal(out[0x0001], 2 ** -24);
  assert.equal(out[0x03ff], 1023 * 2 ** -24);
  assert.equal(out[0x0400], 2 ** -14);
  assert.equal(out[0x7bff], 65504);
  assert.ok(Object.is(out[0x8000], -0));
  assert.equal(out[0xfc00], -Infinity);
});

test('BF16 -> F32 keeps the top 16 bits', () => {
  const src = new Uint16Array([0x3f80, 0xc000, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x4049]);
  const out = new Float32Array(src.length);
  bf16ToF32(out, src);
  assert.deepEqual([...out.slice(0, 5)], [1, -2, floatOf(0x00010000), Infinity, -Infinity]);
  assert.ok(Number.isNaN(out[5]));
  assert.equal(out[6], floatOf(0x40490000));
});

test('F32 -> F16 rounds to nearest, ties to even, at every range boundary', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00],
    [1 + 2 ** -11, 0x3c00], // tie, even is down
    [1 + 3 * 2 ** -11, 0x3c02], // tie, even is up
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just past the tie
    [65504, 0x7bff],
    [65519.996, 0x7bff],
    [65520, 0x7c00], // tie between 65504 and 2^16: even is 2^16, out of range
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -14 - 2 ** -25, 0x0400], // tie just below the smallest normal rounds up into it
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie, even is zero
    [2 ** -25 + 2 ** -40, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: even is 2
    [1e-10, 0x0000],
    [-1e-10, 0x8000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
  ];
  for (const [x, h] of cases) assert.equal(f32BitsToF16Bits(bitsOf(x)), h, `${x} -> 0x${h.toString(16)}`);
  assert.equal(f32BitsToF16Bits(0x7fc00000) & 0x7e00, 0x7e00, 'NaN stays NaN');
  assert.equal(f32BitsToF16Bits(0x7f800001) & 0x7c00, 0x7c00, 'a signalling NaN with payload only in low bits stays NaN');
  assert.notEqual(f32BitsToF16Bits(0x7f800001) & 0x3ff, 0);

  // Property check on random finite inputs: the result is a nearest F16, ties to even.
  let seed = 7;
  const src = new Float32Array(20000);
  for (let i = 0; i < src.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    src[i] = floatOf((seed & 0x807fffff) | ((((seed >>> 23) % 40) + 97) << 23)); // exponents around the F16 range
  }
  const out = new Uint16Array(src.length);
  f32ToF16(out, src);
  const val = (h: number): number => floatOf(f16BitsToF32Bits(h));
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    const h = out[i];
    const mag = h & 0x7fff;
    const err = Math.abs(val(h) - x);
    if (mag >= 0x7c00) {
      assert.ok(Math.abs(x) >= 65520, `${x} overflowed to infinity`);
      continue;
    }
    for (const n of [mag - 1, mag + 1]) {
      if (n < 0 || n > 0x7bff) continue;
      const other = Math.abs(val((h & 0x8000) | n) - x);
      assert.ok(err < other || (err === other && (mag & 1) === 0), `${x} -> 0x${h.toString(16)} is not the nearest-even F16`);
    }
  }
});

test('a single-file and a sharded checkpoint folder give the same lookup', () => {
  const dir = tempDir();
  try {
    const single = readCheckpointTensors(join(ORACLE, 'llama-tiny'));
    assert.equal(single.files.length, 1);
    const names = single.names();
    // Split the oracle checkpoint into two shards with an index, as save_pretrained does.
    const half = Math.ceil(names.length / 2);
    const shardOf = (i: number): string => (i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors');
    for (const shard of [0, 1]) {
      const part = names.filter((_, i) => (i < half) === (shard === 0));
      writeSafetensors(
        join(dir, shardOf(shard === 0 ? 0 : half)),
        part.map((n) => ({ name: n, dtype: 'F32' as const, shape: single.require(n).info.shape, data: single.toFloat32(n) })),
      );
    }
    const weightMap = Object.fromEntries(names.map((n, i) => [n, shardOf(i)]));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const sharded = readCheckpointTensors(dir);
    assert.equal(sharded.files.length, 2);
    assert.deepEqual(sharded.names().sort(), names.slice().sort());
    for (const n of names) {
      assert.deepEqual(sharded.shape(n), single.shape(n));
      assert.deepEqual(sharded.toFloat32(n), single.toFloat32(n));
    }
    assert.equal(sharded.shape('nope'), undefined);
    assert.throws(() => sharded.require('nope'), (e: unknown) => e instanceof SafetensorsError && /no tensor "nope" \(searched model-00001-of-00002.safetensors, model-00002-of-00002.safetensors\)/.test(e.message));

    // Shard names that leave the folder are refused before anything is opened.
    for (const evil of ['../model.safetensors', '/etc/passwd', 'sub/x.safetensors', '..', 'a\\b.safetensors']) {
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [names[0]]: evil } }));
      assert.throws(() => readCheckpointTensors(dir), (e: unknown) => e instanceof SafetensorsError && /must be plain file names inside/.test(e.message), evil);
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'not.there': shardOf(0) } }));
    assert.throws(() => readCheckpointTensors(dir), /says "not.there" is in model-00001-of-00002.safetensors, but that shard has no such tensor/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": ');
    assert.throws(() => readCheckpointTensors(dir), /cannot be read as JSON/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"metadata": {}}');
    assert.throws(() => readCheckpointTensors(dir), /has no "weight_map" object/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder without safetensors weights says what was expected and what is there', () => {
  const dir = tempDir();
  try {
    copyFileSync(join(ORACLE, 'gpt2-tiny', 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    assert.throws(
      () => readCheckpointTensors(dir),
      (e: unknown) => e instanceof SafetensorsError && /expected model.safetensors or model.safetensors.index.json .* it holds config.json, pytorch_model.bin/.test(e.message),
    );
    assert.throws(() => readCheckpointTensors(join(dir, 'absent')), (e: unknown) => e instanceof SafetensorsError && /cannot list this folder/.test(e.message));
    assert.throws(() => readSafetensors(join(dir, 'absent.safetensors')), (e: unknown) => e instanceof SafetensorsError && /cannot open \(ENOENT\)/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
