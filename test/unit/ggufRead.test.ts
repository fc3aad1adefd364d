// GGUF reader and writer: round trips of every metadata value type and of tensors in several
// formats and alignments, version 2 files, hand-built damaged files that must each give a
// GgufError naming the fault and what to do, a truncation sweep over every byte of a small
// file, reads into a caller's buffer, the GPT-2 export read back, a 150k-token header, and
// long arrays read from the file only when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GgufError, openGguf, type GgufFile } from '../../engine/io/ggufRead';
import { writeGguf, type GgufTensorOut } from '../../engine/io/ggufWrite';
import type { GgufValue } from '../../engine/io/ggufTypes';
import { writeGgufModel } from '../../engine/model/ggufExport';
import { loadModel } from '../../engine/model/load';
import { bytesFor, type WeightType } from '../../engine/formats/formats';
import { mulberry32 } from '../../engine/model/init';
import { oracleDir } from './oracle';

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-gguf-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

function tensorOf(name: string, ne: number[], type: WeightType, seed: number): GgufTensorOut & { data: Uint8Array } {
  return { name, ne, type, data: randomBytes(bytesFor(type, ne.reduce((a, d) => a * d, 1)), seed) };
}

const ARCH_VALUE: [string, GgufValue] = ['general.architecture', { type: 'string', value: 'llama' }];

/** One metadata entry of every value type, arrays of each, nested and empty arrays. */
const EVERY_VALUE: Array<[string, GgufValue]> = [
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['t.u8', { type: 'u8', value: 255 }],
  ['t.i8', { type: 'i8', value: -128 }],
  ['t.u16', { type: 'u16', value: 65535 }],
  ['t.i16', { type: 'i16', value: -32768 }],
  ['t.u32', { type: 'u32', value: 0xffffffff }],
  ['t.i32', { type: 'i32', value: -0x80000000 }],
  ['t.f32', { type: 'f32', value: Math.fround(1e-5) }],
  ['t.bool.true', { type: 'bool', value: true }],
  ['t.bool.false', { type: 'bool', value: false }],
  ['t.string', { type: 'string', value: 'héllo, 世界 🙂\n{% if x %}' }],
  ['t.string.empty', { type: 'string', value: '' }],
  ['t.u64', { type: 'u64', value: 2n ** 64n - 1n }],
  ['t.u64.small', { type: 'u64', value: 4096n }],
  ['t.i64', { type: 'i64', value: -(2n ** 63n) }],
  ['t.f64', { type: 'f64', value: Math.PI }],
  ['a.u8', { type: 'array', of: 'u8', value: [0, 1, 255] }],
  ['a.i8', { type: 'array', of: 'i8', value: [-128, 0, 127] }],
  ['a.u16', { type: 'array', of: 'u16', value: [0, 65535] }],
  ['a.i16', { type: 'array', of: 'i16', value: [-32768, 32767] }],
  ['a.u32', { type: 'array', of: 'u32', value: [0, 0xffffffff] }],
  ['a.i32', { type: 'array', of: 'i32', value: [1, 1, 3, -1] }],
  ['a.f32', { type: 'array', of: 'f32', value: [0, -1.5, Math.fround(0.1), Infinity] }],
  ['a.f64', { type: 'array', of: 'f64', value: [0.1, -2e300] }],
  ['a.bool', { type: 'array', of: 'bool', value: [true, false, true] }],
  ['a.string', { type: 'array', of: 'string', value: ['Ġt', 'he', '', '<|endoftext|>', 'é'] }],
  ['a.u64', { type: 'array', of: 'u64', value: [0n, 2n ** 53n - 1n, 2n ** 64n - 1n] }],
  ['a.i64', { type: 'array', of: 'i64', value: [-1n, 5n] }],
  ['a.empty', { type: 'array', of: 'u32', value: [] }],
  [
    'a.nested',
    {
      type: 'array',
      of: 'array',
      value: [
        { type: 'array', of: 'string', value: ['x', 'y'] },
        { type: 'array', of: 'i32', value: [7] },
        { type: 'array', of: 'array', value: [{ type: 'array', of: 'u8', value: [1, 2] }] },
      ],
    },
  ],
];

function assertTensorsRoundTrip(g: GgufFile, tensors: ReadonlyArray<GgufTensorOut & { data: Uint8Array }>, alignment: number): void {
  assert.equal(g.tensors.length, tensors.length);
  assert.equal(g.dataOffset % alignment, 0);
  tensors.forEach((t, i) => {
    const info = g.tensors[i]!;
    assert.equal(info.name, t.name);
    assert.equal(g.tensor(t.name), info);
    assert.deepEqual(info.ne, t.ne);
    assert.deepEqual(info.shape, [...t.ne].reverse());
    assert.equal(info.type, t.type);
    assert.equal(info.elements, t.ne.reduce((a, d) => a * d, 1));
    assert.equal(info.bytes, t.data.byteLength);
    assert.equal((info.offset - g.dataOffset) % alignment, 0, `${t.name} is aligned`);
    assert.deepEqual(g.readTensorBytes(t.name), t.data);
  });
}

test('round trip: every metadata value type and F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q5_K/Q6_K tensors, at alignments 32, 64, 1 and 4096', () => {
  withDir((dir) => {
    const tensors = [
      tensorOf('token_embd.weight', [64, 10], 'Q8_0', 1),
      tensorOf('blk.0.attn_norm.weight', [64], 'F32', 2),
      tensorOf('blk.0.attn_q.weight', [64, 64], 'F16', 3),
      tensorOf('blk.0.odd', [3, 5, 7], 'F32', 4),
      tensorOf('blk.0.bf', [5, 1, 2, 3], 'BF16', 5),
      tensorOf('blk.0.q4', [32, 3], 'Q4_0', 6),
      tensorOf('blk.0.k4', [256, 2], 'Q4_K', 7),
      tensorOf('blk.0.k5', [512], 'Q5_K', 8),
      tensorOf('blk.0.k6', [256, 3], 'Q6_K', 9),
      tensorOf('empty', [0, 4], 'F32', 10),
    ];
    for (const alignment of [32, 64, 1, 4096]) {
      const path = join(dir, `all-${alignment}.gguf`);
      writeGguf(path, { metadata: EVERY_VALUE, tensors, alignment });
      const g = openGguf(path);
      try {
        assert.equal(g.version, 3);
        assert.equal(g.alignment, alignment);
        const expected = new Map(EVERY_VALUE);
        if (alignment !== 32) expected.set('general.alignment', { type: 'u32', value: alignment });
        assert.deepEqual([...g.metadata], [...expected]);
        assertTensorsRoundTrip(g, tensors, alignment);
        assert.equal(g.fileSize, readFileSync(path).length);
      } finally {
        g.close();
      }
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  });
});

test('typed getters: values, optional variants, and errors naming the key, the file and the expected type', () => {
  withDir((dir) => {
    const path = join(dir, 'm.gguf');
    writeGguf(path, { metadata: EVERY_VALUE, tensors: [] });
    const g = openGguf(path);
    try {
      assert.equal(g.getString('general.architecture'), 'llama');
      assert.equal(g.getNumber('t.u8'), 255);
      assert.equal(g.getNumber('t.i32'), -0x80000000);
      assert.equal(g.getNumber('t.f32'), Math.fround(1e-5));
      assert.equal(g.getNumber('t.u64.small'), 4096);
      assert.equal(g.getNumber('t.f64'), Math.PI);
      assert.equal(g.getBool('t.bool.true'), true);
      assert.equal(g.getBool('t.bool.false'), false);
      assert.equal(g.getString('t.string.empty'), '');
      assert.deepEqual(g.getStringArray('a.string'), ['Ġt', 'he', '', '<|endoftext|>', 'é']);
      assert.deepEqual(g.getNumberArray('a.i32'), [1, 1, 3, -1]);
      assert.deepEqual(g.getArray('a.bool'), { type: 'array', of: 'bool', value: [true, false, true] });
      assert.equal(g.optString('nope'), undefined);
      assert.equal(g.optNumber('nope'), undefined);
      assert.equal(g.optBool('nope'), undefined);
      assert.equal(g.optArray('nope'), undefined);
      assert.equal(g.optStringArray('nope'), undefined);
      assert.equal(g.optNumberArray('nope'), undefined);
      assert.equal(g.optNumber('t.u16'), 65535);
      const err = (f: () => unknown, re: RegExp): void =>
        assert.throws(f, (e: unknown) => e instanceof GgufError && e.message.startsWith(`${path}: `) && re.test(e.message) && /convert/i.test(e.message));
      err(() => g.getString('llama.block_count'), /no "llama\.block_count" \(a string expected\)/);
      err(() => g.getNumber('llama.block_count'), /no "llama\.block_count" \(a number expected\)/);
      err(() => g.getNumber('general.architecture'), /"general\.architecture" is string, not a number/);
      err(() => g.getString('t.u32'), /"t\.u32" is u32, not a string/);
      err(() => g.getBool('t.u8'), /"t\.u8" is u8, not a bool/);
      err(() => g.getArray('t.string'), /"t\.string" is string, not an array/);
      err(() => g.getStringArray('a.i32'), /"a\.i32" is array of i32, not an array of string/);
      err(() => g.getNumberArray('a.string'), /"a\.string" is array of string, not an array of numbers/);
      err(() => g.getNumber('t.u64'), /"t\.u64" is 18446744073709551615, too large/);
      err(() => g.getNumberArray('a.u64'), /"a\.u64"\[2\] is 18446744073709551615, too large/);
      err(() => g.optNumber('a.u8'), /"a\.u8" is array of u8, not a number/);
    } finally {
      g.close();
    }
  });
});

test('readTensorBytes reads into the caller\'s buffer in place, and refuses a wrong size, an unknown name and a closed file', () => {
  withDir((dir) => {
    const path = join(dir, 't.gguf');
    const tensors = [tensorOf('a', [32, 4], 'Q8_0', 1), tensorOf('b', [7], 'F32', 2)];
    writeGguf(path, { metadata: [], tensors, alignment: 64 });
    const g = openGguf(path);
    const arena = new Uint8Array(1000).fill(0xee);
    const dst = arena.subarray(100, 100 + g.tensor('a')!.bytes);
    assert.equal(g.readTensorBytes('a', dst), dst);
    assert.deepEqual(dst, tensors[0]!.data);
    assert.equal(arena[99], 0xee);
    assert.equal(arena[100 + dst.length], 0xee);
    assert.throws(() => g.readTensorBytes('b', new Uint8Array(27)), RangeError);
    assert.throws(() => g.readTensorBytes('c'), (e: unknown) => e instanceof GgufError && /no tensor named "c"/.test(e.message));
    g.close();
    g.close(); // twice is harmless
    assert.throws(() => g.readTensorBytes('a'), (e: unknown) => e instanceof GgufError && /closed/.test(e.message));
  });
});

test('a version 2 file (the same layout as version 3 for little-endian files) opens', () => {
  withDir((dir) => {
    const path = join(dir, 'v2.gguf');
    const tensors = [tensorOf('w', [32, 2], 'Q8_0', 3)];
    writeGguf(path, { metadata: EVERY_VALUE, tensors });
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(2, 4);
    writeFileSync(path, bytes);
    const g = openGguf(path);
    try {
      assert.equal(g.version, 2);
      assert.deepEqual([...g.metadata], EVERY_VALUE);
      assertTensorsRoundTrip(g, tensors, 32);
    } finally {
      g.close();
    }
  });
});

/**
 * test/fixtures/gguf/gguf-py-writer.gguf was written by llama.cpp's own writer (gguf-py's
 * GGUFWriter, llama.cpp at /tmp/llama.cpp when it was made), so the reader is checked against
 * the reference implementation and not only against our writer:
 *   w = GGUFWriter(path, 'llama'); w.add_uint8('p.u8', 7); w.add_int16('p.i16', -9)
 *   w.add_float64('p.f64', 0.25); w.add_bool('p.b', False); w.add_uint64('p.u64', 2**60)
 *   w.add_string('p.s', 'x y'); w.add_array('p.strs', ['a', 'é', 'ccc'])
 *   w.add_array('p.ints', [1, 2, 3]); w.add_array('p.nested', [[1, 2], [3]])
 *   w.add_array('p.floats', [0.5, 1.5])
 *   w.add_tensor('w32', np.arange(12, dtype=np.float32).reshape(3, 4))
 *   w.add_tensor('w16', np.arange(8, dtype=np.float16))
 *   w.add_tensor('q8', np.arange(68, dtype=np.uint8).reshape(2, 34), raw_shape=(2, 34), raw_dtype=GGMLQuantizationType.Q8_0)
 *   w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
 */
test('a file written by llama.cpp\'s gguf-py writer reads as written, nested arrays and numpy shapes included', () => {
  const g = openGguf(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'gguf', 'gguf-py-writer.gguf'));
  try {
    assert.equal(g.version, 3);
    assert.deepEqual(
      [...g.metadata],
      [
        ['general.architecture', { type: 'string', value: 'llama' }],
        ['p.u8', { type: 'u8', value: 7 }],
        ['p.i16', { type: 'i16', value: -9 }],
        ['p.f64', { type: 'f64', value: 0.25 }],
        ['p.b', { type: 'bool', value: false }],
        ['p.u64', { type: 'u64', value: 2n ** 60n }],
        ['p.s', { type: 'string', value: 'x y' }],
        ['p.strs', { type: 'array', of: 'string', value: ['a', 'é', 'ccc'] }],
        ['p.ints', { type: 'array', of: 'i32', value: [1, 2, 3] }],
        ['p.nested', { type: 'array', of: 'array', value: [{ type: 'array', of: 'i32', value: [1, 2] }, { type: 'array', of: 'i32', value: [3] }] }],
        ['p.floats', { type: 'array', of: 'f32', value: [0.5, 1.5] }],
      ],
    );
    assert.deepEqual(
      g.tensors.map((t) => [t.name, t.type, t.ne, t.shape, t.bytes]),
      [
        ['w32', 'F32', [4, 3], [3, 4], 48],
        ['w16', 'F16', [8], [8], 16],
        ['q8', 'Q8_0', [32, 2], [2, 32], 68],
      ],
    );
    const w32 = g.readTensorBytes('w32');
    assert.deepEqual(new Float32Array(w32.buffer, w32.byteOffset, 12), Float32Array.from({ length: 12 }, (_, i) => i));
    assert.deepEqual(g.readTensorBytes('q8'), Uint8Array.from({ length: 68 }, (_, i) => i));
  } finally {
    g.close();
  }
});

// ---------------------------------------------------------------- hand-built files

/** Little-endian bytes, field by field, for files the writer would refuse to make. */
class Raw {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u64(b.length).bytes(b);
  }
  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  get length(): number {
    return this.parts.reduce((a, p) => a + p.length, 0);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

type Part = (r: Raw) => unknown;
const kvU32 = (key: string, v: number): Part => (r) => r.str(key).u32(4).u32(v);
const kvStr = (key: string, v: string): Part => (r) => r.str(key).u32(8).str(v);
const info = (name: string, ne: Array<number | bigint>, type: number, offset: number | bigint): Part => (r) => {
  r.str(name).u32(ne.length);
  for (const d of ne) r.u64(d);
  r.u32(type).u64(offset);
};

interface FileSpec {
  magic?: string;
  version?: number;
  nTensors?: number | bigint;
  nKv?: number | bigint;
  kv?: Part[];
  tensors?: Part[];
  alignment?: number;
  /** Bytes of the data section (zeros). */
  data?: number;
}

function ggufBytes(s: FileSpec): Buffer {
  const r = new Raw();
  r.bytes(Buffer.from(s.magic ?? 'GGUF', 'latin1')).u32(s.version ?? 3);
  r.u64(s.nTensors ?? s.tensors?.length ?? 0).u64(s.nKv ?? s.kv?.length ?? 0);
  for (const p of s.kv ?? []) p(r);
  for (const p of s.tensors ?? []) p(r);
  const a = s.alignment ?? 32;
  r.bytes(new Uint8Array((a - (r.length % a)) % a));
  r.bytes(new Uint8Array(s.data ?? 0));
  return r.build();
}

const ARCH = kvStr('general.architecture', 'llama');
const GOOD_TENSOR = info('w', [32, 2], 0, 0);

/** Each damaged file and a fragment of its message. */
const BAD_FILES: Array<[string, Buffer, RegExp]> = [
  ['empty file', Buffer.alloc(0), /0 bytes long, too short to be GGUF/],
  ['three bytes', Buffer.from('GGU'), /3 bytes long/],
  ['wrong magic', ggufBytes({ magic: 'GGUX' }), /does not start with "GGUF" \(it starts with "GGUX"\)/],
  ['safetensors file', Buffer.concat([Buffer.from([20, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":1}')]), /does not start with "GGUF"/],
  ['old GGJT file', ggufBytes({ magic: 'tjgg' }), /old GGML\/GGJT format.*Convert/],
  ['Git LFS pointer', Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n'), /Git LFS pointer.*git lfs pull/],
  ['HTML page', Buffer.from('<!DOCTYPE html><html><body>Rate limited</body></html>'), /HTML or XML page/],
  ['magic only', Buffer.from('GGUF'), /ends at byte 4, inside the header.*truncated/],
  ['version 1', ggufBytes({ version: 1 }), /GGUF version 1, which Limelight \(like llama\.cpp\) no longer reads.*[Cc]onvert the model again with a current llama\.cpp/],
  ['version 0', ggufBytes({ version: 0 }), /GGUF version 0; Limelight reads versions 2 and 3\. Convert/],
  ['version 4', ggufBytes({ version: 4 }), /GGUF version 4; Limelight reads versions 2 and 3\. Update Limelight/],
  ['big-endian', ggufBytes({ version: 0x03000000 }), /big-endian GGUF \(version 3 .*without --bigendian/],
  ['tensor count of 2^63', ggufBytes({ nTensors: 2n ** 63n }), /claims more than 2\^53 tensors/],
  ['tensor count above the file', ggufBytes({ nTensors: 1000 }), /claims 1000 tensors, more than the \d+ bytes left/],
  ['metadata count above the file', ggufBytes({ nKv: 50 }), /claims 50 metadata entries/],
  ['key length past the end', ggufBytes({ kv: [(r) => r.u64(1000).bytes(Buffer.from('general'))] }), /metadata entry 1 of 1 claims a string of 1000 bytes, but only \d+ bytes are left/],
  ['empty key', ggufBytes({ kv: [(r) => r.str('').u32(4).u32(1)] }), /metadata entry 1 of 1 has an empty key/],
  ['duplicate key', ggufBytes({ kv: [ARCH, ARCH] }), /holds the key "general\.architecture" twice/],
  ['unknown value type', ggufBytes({ kv: [(r) => r.str('x').u32(13).u32(0)] }), /metadata "x" has value type 13 in its value, which GGUF does not define/],
  ['unknown array element type', ggufBytes({ kv: [(r) => r.str('x').u32(9).u32(99).u64(1).u32(0)] }), /metadata "x" has value type 99 in an array/],
  ['array longer than the file', ggufBytes({ kv: [(r) => r.str('tokens').u32(9).u32(8).u64(2n ** 40n)] }), /metadata "tokens" claims an array of 1099511627776 string values, more than the \d+ bytes left/],
  ['array length of 2^64-1', ggufBytes({ kv: [(r) => r.str('x').u32(9).u32(0).u64(2n ** 64n - 1n)] }), /claims an array of more than 2\^53 u8 values/],
  ['string in an array past the end', ggufBytes({ kv: [(r) => r.str('tokens').u32(9).u32(8).u64(2).str('a').u64(2n ** 40n)] }), /metadata "tokens", element 1, claims a string of 1099511627776 bytes, but only \d+ bytes are left.*truncated/],
  ['bool of 2', ggufBytes({ kv: [(r) => r.str('flag').u32(7).u8(2)] }), /metadata "flag" holds a bool of value 2/],
  ['bool array holding 7', ggufBytes({ kv: [(r) => r.str('flags').u32(9).u32(7).u64(3).u8(1).u8(0).u8(7)] }), /holds a bool of value 7 at index 2/],
  [
    'arrays nested 20 deep',
    ggufBytes({
      kv: [
        (r) => {
          r.str('deep').u32(9);
          for (let i = 0; i < 20; i++) r.u32(9).u64(1);
          r.u32(0).u64(0);
        },
      ],
    }),
    /nests arrays more than 16 deep/,
  ],
  ['alignment of 48', ggufBytes({ kv: [kvU32('general.alignment', 48)], alignment: 16 }), /general\.alignment is 48, not a power of two/],
  ['alignment of 0', ggufBytes({ kv: [kvU32('general.alignment', 0)] }), /general\.alignment is 0, not a power of two/],
  ['alignment as a u64', ggufBytes({ kv: [(r) => r.str('general.alignment').u32(10).u64(32)] }), /general\.alignment is u64; GGUF requires a u32/],
  ['tensor with 5 dims', ggufBytes({ tensors: [info('w', [1, 1, 1, 1, 1], 0, 0)], data: 32 }), /tensor "w" has 5 dimensions; GGUF allows at most 4/],
  ['tensor name empty', ggufBytes({ tensors: [info('', [1], 0, 0)], data: 32 }), /tensor info 1 of 1 has an empty name/],
  ['duplicate tensor names', ggufBytes({ tensors: [GOOD_TENSOR, info('w', [32], 0, 256)], data: 512 }), /two tensors named "w"/],
  ['dimension of 2^60', ggufBytes({ tensors: [info('w', [2n ** 60n], 0, 0)] }), /tensor "w" has a dimension of more than 2\^53 elements/],
  ['elements above 2^53', ggufBytes({ tensors: [info('w', [2 ** 30, 2 ** 30], 0, 0)] }), /tensor "w" of dims \[1073741824, 1073741824\.\.\.\] holds more than 2\^53 elements/],
  [
    'Q2_K tensors',
    ggufBytes({ tensors: [info('blk.0.ffn_down.weight', [256], 10, 0), info('blk.1.ffn_down.weight', [256], 10, 96), info('blk.0.x', [256], 11, 192)], data: 1024 }),
    /stores tensors in formats Limelight does not read: 2 in Q2_K \(ggml type 10\), such as "blk\.0\.ffn_down\.weight"; 1 in Q3_K \(ggml type 11\), such as "blk\.0\.x"\. Limelight reads F32, F16, .*Q8_0.*Download a Q4_K_M or Q8_0 file.*llama-quantize/,
  ],
  ['unknown ggml type', ggufBytes({ tensors: [info('w', [4], 99, 0)], data: 32 }), /in a format Limelight does not read: 1 in ggml type 99, which Limelight does not know, such as "w".*llama-quantize/],
  ['row not a multiple of the block', ggufBytes({ tensors: [info('w', [31, 2], 8, 0)], data: 128 }), /tensor "w" is Q8_0 with rows of 31 weights, not a multiple of the 32 weights a Q8_0 block holds/],
  ['unaligned offset', ggufBytes({ tensors: [info('w', [4], 0, 16)], data: 64 }), /tensor "w" starts at offset 16 of the data section, not a multiple of the alignment \(32\)/],
  ['offset of 2^60', ggufBytes({ tensors: [info('w', [4], 0, 2n ** 60n)] }), /tensor "w" starts more than 2\^53 bytes into the data section/],
  ['tensor past the end', ggufBytes({ tensors: [info('w', [32, 2], 0, 0)], data: 100 }), /tensor "w" \(F32 \[32, 2\], 256 bytes at byte \d+\) runs past the end of the file.*truncated/],
  ['overlapping tensors', ggufBytes({ tensors: [info('a', [32], 0, 0), info('b', [32], 0, 96)], data: 256 }), /tensors "a" \(bytes \d+ to \d+\) and "b" \(from byte \d+\) overlap/],
];

test('damaged files: each gives a GgufError naming the file, what is wrong and what to do', () => {
  withDir((dir) => {
    for (const [what, bytes, re] of BAD_FILES) {
      const path = join(dir, `${what.replace(/\W+/g, '-')}.gguf`);
      writeFileSync(path, bytes);
      assert.throws(
        () => openGguf(path).close(),
        (e: unknown) => {
          assert.ok(e instanceof GgufError, `${what}: ${String(e)}`);
          assert.ok(e.message.startsWith(`${path}: `), `${what}: ${e.message}`);
          assert.match(e.message, re, what);
          assert.match(e.message, /\. [^]*\b(download|convert|requantize|update|run|choose|copy)\b[^]*\.$/i, `${what} says what to do: ${e.message}`);
          return true;
        },
        what,
      );
    }
    // The good parts of those files open.
    const ok = join(dir, 'ok.gguf');
    writeFileSync(ok, ggufBytes({ kv: [ARCH, kvU32('general.alignment', 64)], tensors: [GOOD_TENSOR, info('b', [32], 0, 256)], alignment: 64, data: 512 }));
    const g = openGguf(ok);
    assert.deepEqual(g.tensors.map((t) => [t.name, t.offset - g.dataOffset, t.bytes]), [['w', 0, 256], ['b', 256, 128]]);
    g.close();
  });
});

test('a missing file, a folder, a named pipe (never waited on) and bad UTF-8 (read as replacement characters)', () => {
  withDir((dir) => {
    if (process.platform !== 'win32') {
      execFileSync('mkfifo', [join(dir, 'pipe.gguf')]);
      assert.throws(() => openGguf(join(dir, 'pipe.gguf')), (e: unknown) => e instanceof GgufError && /not a regular file\. Choose/.test(e.message));
    }
    assert.throws(() => openGguf(join(dir, 'none.gguf')), (e: unknown) => e instanceof GgufError && /none\.gguf: no such file\. Check the path/.test(e.message));
    mkdirSync(join(dir, 'folder.gguf'));
    assert.throws(() => openGguf(join(dir, 'folder.gguf')), (e: unknown) => e instanceof GgufError && /this is a folder, not a GGUF file\. Choose/.test(e.message));
    const path = join(dir, 'utf8.gguf');
    writeFileSync(path, ggufBytes({ kv: [(r) => r.str('name').u32(8).u64(3).bytes(Buffer.from([0x61, 0xff, 0x62]))] }));
    const g = openGguf(path);
    assert.equal(g.getString('name'), 'a\ufffdb');
    g.close();
  });
});

test('truncation sweep: a small file cut at every byte fails with a GgufError until all tensor data is there, then opens', () => {
  withDir((dir) => {
    const path = join(dir, 'small.gguf');
    const tensors = [tensorOf('q', [32, 2], 'Q8_0', 5), tensorOf('n', [5], 'F32', 6)];
    writeGguf(path, { metadata: [ARCH_VALUE, ['a', { type: 'array', of: 'string', value: ['x', 'yz'] }], ['b', { type: 'array', of: 'array', value: [{ type: 'array', of: 'i16', value: [1, 2] }] }], ['f', { type: 'f64', value: 1.5 }]], tensors, alignment: 64 });
    const full = readFileSync(path);
    const g = openGguf(path);
    const needed = Math.max(...g.tensors.map((t) => t.offset + t.bytes));
    g.close();
    assert.ok(needed < full.length, 'the file ends in padding after the last tensor');
    const cutPath = join(dir, 'cut.gguf');
    let opened = 0;
    for (let cut = 0; cut < full.length; cut++) {
      writeFileSync(cutPath, full.subarray(0, cut));
      if (cut >= needed) {
        const h = openGguf(cutPath);
        assert.deepEqual(h.readTensorBytes('n'), tensors[1]!.data);
        h.close();
        opened++;
      } else {
        assert.throws(() => openGguf(cutPath), (e: unknown) => e instanceof GgufError && e.message.startsWith(`${cutPath}: `), `cut at ${cut}`);
      }
    }
    assert.equal(opened, full.length - needed);
  });
});


test('writer: bad input is refused before any file is made, and a failing encoder leaves no file', () => {
  withDir((dir) => {
    const path = join(dir, 'w.gguf');
    const t = tensorOf('w', [32], 'F32', 1);
    const refuses = (input: Parameters<typeof writeGguf>[1], re: RegExp): void => {
      assert.throws(() => writeGguf(path, input), (e: unknown) => e instanceof GgufError && re.test(e.message) && e.message.startsWith(`${path}: `));
      assert.deepEqual(readdirSync(dir), [], 'nothing written');
    };
    refuses({ metadata: [ARCH_VALUE, ARCH_VALUE], tensors: [] }, /the key "general\.architecture" twice/);
    refuses({ metadata: [['x', { type: 'u8', value: 256 }]], tensors: [] }, /"x" = 256 is not a u8/);
    refuses({ metadata: [['x', { type: 'i32', value: 1.5 }]], tensors: [] }, /"x" = 1\.5 is not a i32/);
    refuses({ metadata: [['x', { type: 'u64', value: -1n }]], tensors: [] }, /"x" must be a bigint from 0/);
    refuses({ metadata: [['x', { type: 'array', of: 'string', value: ['a', 3 as unknown as string] }]], tensors: [] }, /"x"\[1\] is a string but its value is a number/);
    refuses({ metadata: [], tensors: [t], alignment: 48 }, /alignment 48 is not a power of two/);
    refuses({ metadata: [['general.alignment', { type: 'u32', value: 64 }]], tensors: [t], alignment: 32 }, /general\.alignment is 64 but the alignment asked for is 32/);
    refuses({ metadata: [], tensors: [t, t] }, /two tensors are named "w"/);
    refuses({ metadata: [], tensors: [{ ...t, data: new Uint8Array(12) }] }, /tensor "w" \(F32 \[32\]\) takes 128 bytes but its data holds 12/);
    refuses({ metadata: [], tensors: [{ ...t, type: 'Q8_0', ne: [30] }] }, /rows of 30 weights, not a multiple of its block of 32/);
    refuses({ metadata: [], tensors: [{ ...t, ne: [1, 1, 1, 1, 32] }] }, /up to 4 non-negative integers/);
    refuses({ metadata: [], tensors: [{ ...t, data: () => new Uint8Array(4) }] }, /takes 128 bytes but its encoder returned 4/);
    // general.alignment in the metadata sets the alignment.
    writeGguf(path, { metadata: [['general.alignment', { type: 'u32', value: 128 }]], tensors: [t, tensorOf('v', [8], 'F32', 2)] });
    const g = openGguf(path);
    assert.equal(g.alignment, 128);
    assert.equal(g.tensor('v')!.offset - g.dataOffset, 128);
    g.close();
    // An existing file is replaced only by a complete one.
    assert.throws(() => writeGguf(path, { metadata: [], tensors: [{ ...t, data: () => { throw new Error('encoder failed'); } }] }), /encoder failed/);
    assert.equal(openGguf(path).alignment, 128, 'the previous file is unchanged');
    assert.deepEqual(readdirSync(dir), ['w.gguf']);
  });
});

test('the GPT-2 export (limelight export-gguf) reads back: metadata, vocabulary and tensor bytes', () => {
  const model = loadModel(oracleDir('gpt2-tiny'));
  const c = model.config;
  withDir((dir) => {
    const path = join(dir, 'gpt2.gguf');
    writeGgufModel(path, model, { weightType: 'Q8_0' });
    const g = openGguf(path);
    try {
      assert.equal(g.getString('general.architecture'), 'gpt2');
      assert.equal(g.getNumber('gpt2.block_count'), c.nLayer);
      assert.equal(g.getNumber('gpt2.attention.layer_norm_epsilon'), Math.fround(c.normEps));
      assert.equal(g.getStringArray('tokenizer.ggml.tokens').length, c.vocabSize);
      assert.ok(g.getStringArray('tokenizer.ggml.merges').includes('Ġ t'));
      assert.equal(g.getNumberArray('tokenizer.ggml.token_type').length, c.vocabSize);
      const bias = g.tensor('blk.0.attn_qkv.bias')!;
      assert.equal(bias.type, 'F32');
      const out = new Float32Array(bias.elements);
      g.readTensorBytes(bias.name, new Uint8Array(out.buffer));
      assert.deepEqual(out, model.views.layers[0]!.qkvb);
      const qkv = g.tensor('blk.0.attn_qkv.weight')!;
      assert.deepEqual(qkv.shape, [3 * c.hidden, c.hidden]);
      assert.equal(qkv.type, 'Q8_0');
    } finally {
      g.close();
    }
  });
});

test('a header with a 151k-token vocabulary and 151k merges opens quickly (time printed, not asserted)', () => {
  withDir((dir) => {
    const n = 151_000;
    const tokens = Array.from({ length: n }, (_, i) => `Ġtok${i.toString(36)}${i % 7 === 0 ? 'é' : ''}`);
    const merges = Array.from({ length: n }, (_, i) => `Ġa${i % 1000} b${i.toString(36)}`);
    const path = join(dir, 'vocab.gguf');
    writeGguf(path, {
      metadata: [
        ['general.architecture', { type: 'string', value: 'qwen2' }],
        ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: tokens }],
        ['tokenizer.ggml.merges', { type: 'array', of: 'string', value: merges }],
        ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: tokens.map(() => 1) }],
      ],
      tensors: [tensorOf('w', [32], 'F32', 1)],
    });
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const g = openGguf(path);
      best = Math.min(best, performance.now() - t0);
      assert.equal(g.getStringArray('tokenizer.ggml.tokens')[150_999], tokens[150_999]);
      assert.equal(g.getStringArray('tokenizer.ggml.merges')[7], merges[7]);
      g.close();
    }
    console.log(`openGguf: ${(readFileSync(path).length / 2 ** 20).toFixed(1)} MiB header with ${n} tokens and ${n} merges in ${best.toFixed(0)} ms (best of 3)`);
  });
});

test('long arrays (a vocabulary) are checked at open and read from the file when asked: a damaged element fails at open, a file changed since is refused', () => {
  withDir((dir) => {
    const n = 5000;
    const tokens = Array.from({ length: n }, (_, i) => `tok${i}`);
    const types = Array.from({ length: n }, (_, i) => i % 3);
    const path = join(dir, 'vocab.gguf');
    const metadata: Array<[string, GgufValue]> = [
      ARCH_VALUE,
      ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: tokens }],
      ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: types }],
      ['after', { type: 'array', of: 'u8', value: [1, 2] }],
    ];
    writeGguf(path, { metadata, tensors: [tensorOf('w', [32], 'F32', 1)] });
    const g = openGguf(path);
    const read = g.getStringArray('tokenizer.ggml.tokens');
    assert.deepEqual(read, tokens);
    // Read again while held (the writer's checkArray reads a.value per element): the same array, no second pass over the file.
    assert.equal(g.getStringArray('tokenizer.ggml.tokens'), read);
    assert.deepEqual(g.getNumberArray('tokenizer.ggml.token_type'), types);
    assert.deepEqual(g.getNumberArray('after'), [1, 2], 'the entries after the long arrays are in place');
    g.close();
    assert.deepEqual(g.getStringArray('tokenizer.ggml.tokens').slice(-2), tokens.slice(-2), 'read again after close');

    // The file changed on disk after opening: the header's values stay, the long arrays are refused.
    const h = openGguf(path);
    const bytes = readFileSync(path);
    const at = bytes.indexOf('tok4321');
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(32)]));
    assert.equal(h.getString('general.architecture'), 'llama');
    assert.throws(() => h.getStringArray('tokenizer.ggml.tokens'), (e: unknown) => e instanceof GgufError && /changed on disk after it was opened, so metadata "tokenizer\.ggml\.tokens" cannot be read\. Load the model again\./.test(e.message));
    h.close();

    // One element's length runs past the end of the file: found at open, as for a short array.
    const damaged = Buffer.from(bytes);
    damaged.writeBigUInt64LE(2n ** 40n, at - 8);
    writeFileSync(path, damaged);
    assert.throws(() => openGguf(path), (e: unknown) => e instanceof GgufError && /metadata "tokenizer\.ggml\.tokens", element 4321, claims a string of 1099511627776 bytes/.test(e.message));
  });
});
