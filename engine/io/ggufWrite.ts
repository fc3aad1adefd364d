// GGUF v3 writer (layout in ggufRead.ts and ggml's docs/gguf.md): metadata with typed values
// (ggufTypes.ts) and tensors already encoded in their weight format. Everything is checked
// before the file is created (types and ranges of values, tensor sizes against their format,
// duplicate names, the alignment); then the header is streamed through a small buffer and each
// tensor's bytes written in turn, padded to the alignment, into a temporary file that is renamed
// into place (atomicFile.ts), so a failed or interrupted write leaves no half file.
import { writeAll, writeAtomic } from './atomicFile';
import { WEIGHT_TYPES, bytesFor, formatInfo, type WeightType } from '../formats/formats';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_INT_RANGE,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_TYPE_ID,
  GgufError,
  type GgufArray,
  type GgufNumberType,
  type GgufValue,
} from './ggufTypes';

export interface GgufTensorOut {
  name: string;
  /** Dimensions innermost first (ggml's ne): an (out, in) row-major matrix is [in, out]. */
  ne: readonly number[];
  type: WeightType;
  /** The tensor's bytes in its format, or a function that encodes them when the writer reaches it (one tensor's copy in memory at a time). */
  data: Uint8Array | (() => Uint8Array);
}

export interface GgufWriteInput {
  /** Keys and typed values, written in this order. */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorOut[];
  /** Data alignment, a power of two (default: general.alignment in metadata, else 32); general.alignment is added when it differs from 32. */
  alignment?: number;
}

const FLUSH = 1 << 20;

/** Little-endian output through a buffer flushed to the file descriptor every MiB. */
class Out {
  private buf = Buffer.allocUnsafe(FLUSH + 64);
  private n = 0;
  /** Bytes written so far (flushed or not). */
  written = 0;

  constructor(private readonly fd: number) {}

  private room(k: number): void {
    if (this.n + k > this.buf.length) this.flush();
  }
  flush(): void {
    if (this.n > 0) writeAll(this.fd, this.buf.subarray(0, this.n));
    this.n = 0;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.n++] = v;
    this.written++;
  }
  private put(k: number, f: (b: Buffer, at: number) => void): void {
    this.room(k);
    f(this.buf, this.n);
    this.n += k;
    this.written += k;
  }
  i8(v: number): void {
    this.put(1, (b, at) => b.writeInt8(v, at));
  }
  u16(v: number): void {
    this.put(2, (b, at) => b.writeUInt16LE(v, at));
  }
  i16(v: number): void {
    this.put(2, (b, at) => b.writeInt16LE(v, at));
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.n);
    this.n += 4;
    this.written += 4;
  }
  i32(v: number): void {
    this.put(4, (b, at) => b.writeInt32LE(v, at));
  }
  f32(v: number): void {
    this.put(4, (b, at) => b.writeFloatLE(v, at));
  }
  f64(v: number): void {
    this.put(8, (b, at) => b.writeDoubleLE(v, at));
  }
  u64(v: number | bigint): void {
    if (typeof v === 'number') {
      this.room(8);
      this.buf.writeUInt32LE(v % 0x100000000, this.n);
      this.buf.writeUInt32LE(Math.floor(v / 0x100000000), this.n + 4);
      this.n += 8;
      this.written += 8;
    } else this.put(8, (b, at) => b.writeBigUInt64LE(v, at));
  }
  i64(v: bigint): void {
    this.put(8, (b, at) => b.writeBigInt64LE(v, at));
  }
  str(s: string): void {
    const max = 3 * s.length; // UTF-8 bytes per UTF-16 unit, at most
    if (8 + max <= FLUSH) {
      this.room(8 + max);
      const k = this.buf.write(s, this.n + 8, 'utf8');
      this.u64at(this.n, k);
      this.n += 8 + k;
      this.written += 8 + k;
    } else {
      const b = Buffer.from(s, 'utf8');
      this.u64(b.length);
      this.bytes(b);
    }
  }
  private u64at(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
    this.buf.writeUInt32LE(0, at + 4);
  }
  bytes(b: Uint8Array): void {
    this.flush();
    writeAll(this.fd, b);
    this.written += b.byteLength;
  }
  zeros(k: number): void {
    while (k > 0) {
      const m = Math.min(k, FLUSH);
      this.room(m);
      this.buf.fill(0, this.n, this.n + m);
      this.n += m;
      this.written += m;
      k -= m;
    }
  }
}

// ---------------------------------------------------------------- checks

function fail(path: string, what: string): never {
  throw new GgufError(`${path}: ${what}. Fix the values passed to writeGguf.`);
}

function checkNumber(path: string, where: string, type: GgufNumberType, v: unknown): void {
  if (typeof v !== 'number') fail(path, `${where} is a ${type} but its value is a ${typeof v}`);
  const range = GGUF_INT_RANGE[type];
  if (range !== undefined && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) fail(path, `${where} = ${v} is not a ${type} (an integer from ${range[0]} to ${range[1]})`);
}

const BIG_RANGE = { u64: [0n, 2n ** 64n - 1n], i64: [-(2n ** 63n), 2n ** 63n - 1n] } as const;

function checkElement(path: string, where: string, type: string, v: unknown, depth: number): void {
  switch (type) {
    case 'u64':
    case 'i64': {
      const [lo, hi] = BIG_RANGE[type];
      if (typeof v !== 'bigint' || v < lo || v > hi) fail(path, `${where} must be a bigint from ${lo} to ${hi} (a ${type})`);
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') fail(path, `${where} is a bool but its value is a ${typeof v}`);
      return;
    case 'string':
      if (typeof v !== 'string') fail(path, `${where} is a string but its value is a ${typeof v}`);
      return;
    case 'array':
      checkArray(path, where, v as GgufArray, depth + 1);
      return;
    default:
      if (!Object.prototype.hasOwnProperty.call(GGUF_TYPE_ID, type)) fail(path, `${where} has the type ${JSON.stringify(type)}, which GGUF does not have`);
      checkNumber(path, where, type as GgufNumberType, v);
  }
}

function checkArray(path: string, where: string, a: GgufArray, depth: number): void {
  if (depth > 16) fail(path, `${where} nests arrays more than 16 deep`);
  if (typeof a !== 'object' || a === null || a.type !== 'array' || !Array.isArray(a.value)) fail(path, `${where} must be an array value ({ type: 'array', of, value: [...] })`);
  for (let i = 0; i < a.value.length; i++) checkElement(path, `${where}[${i}]`, a.of, a.value[i], depth);
}

function checkValue(path: string, key: string, v: GgufValue): void {
  const where = `metadata ${JSON.stringify(key)}`;
  if (v.type === 'array') checkArray(path, where, v, 1);
  else checkElement(path, where, v.type, v.value, 0);
}

// ---------------------------------------------------------------- writing

function writeArray(o: Out, a: GgufArray): void {
  o.u32(GGUF_TYPE_ID[a.of]);
  o.u64(a.value.length);
  switch (a.of) {
    case 'string':
      for (const s of a.value) o.str(s);
      return;
    case 'array':
      for (const x of a.value) writeArray(o, x);
      return;
    case 'bool':
      for (const x of a.value) o.u8(x ? 1 : 0);
      return;
    case 'u64':
      for (const x of a.value) o.u64(x);
      return;
    case 'i64':
      for (const x of a.value) o.i64(x);
      return;
    default: {
      const write = numberWriter(o, a.of);
      for (const x of a.value) write(x);
    }
  }
}

function numberWriter(o: Out, type: GgufNumberType): (v: number) => void {
  switch (type) {
    case 'u8':
      return (v) => o.u8(v);
    case 'i8':
      return (v) => o.i8(v);
    case 'u16':
      return (v) => o.u16(v);
    case 'i16':
      return (v) => o.i16(v);
    case 'u32':
      return (v) => o.u32(v);
    case 'i32':
      return (v) => o.i32(v);
    case 'f32':
      return (v) => o.f32(v);
    case 'f64':
      return (v) => o.f64(v);
  }
}

function writeValue(o: Out, v: GgufValue): void {
  o.u32(GGUF_TYPE_ID[v.type]);
  switch (v.type) {
    case 'array':
      return writeArray(o, v);
    case 'string':
      return o.str(v.value);
    case 'bool':
      return o.u8(v.value ? 1 : 0);
    case 'u64':
      return o.u64(v.value);
    case 'i64':
      return o.i64(v.value);
    default:
      return numberWriter(o, v.type)(v.value);
  }
}

/** Writes a GGUF v3 file at `path` (temporary file + rename; an existing file is replaced only when the write succeeds). */
export function writeGguf(path: string, input: GgufWriteInput): void {
  const metadata = input.metadata.slice();
  const keys = new Set<string>();
  for (const [key, v] of metadata) {
    if (typeof key !== 'string' || key.length === 0) fail(path, 'a metadata key is empty');
    if (keys.has(key)) fail(path, `the metadata holds the key ${JSON.stringify(key)} twice`);
    keys.add(key);
    checkValue(path, key, v);
  }
  const given = metadata.find(([k]) => k === 'general.alignment')?.[1];
  if (given !== undefined && given.type !== 'u32') fail(path, 'general.alignment must be a u32');
  const alignment = input.alignment ?? (given?.value as number | undefined) ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0) fail(path, `the alignment ${alignment} is not a power of two`);
  if (given !== undefined && given.value !== alignment) fail(path, `general.alignment is ${String(given.value)} but the alignment asked for is ${alignment}`);
  if (given === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) metadata.push(['general.alignment', { type: 'u32', value: alignment }]);

  const names = new Set<string>();
  const sizes: number[] = [];
  for (const t of input.tensors) {
    const where = `tensor ${JSON.stringify(t.name)}`;
    if (typeof t.name !== 'string' || t.name.length === 0) fail(path, 'a tensor name is empty');
    if (names.has(t.name)) fail(path, `two tensors are named ${JSON.stringify(t.name)}`);
    names.add(t.name);
    if (!WEIGHT_TYPES.includes(t.type)) fail(path, `${where} has the type ${JSON.stringify(t.type)}; the types are ${WEIGHT_TYPES.join(', ')}`);
    if (t.ne.length > GGUF_MAX_DIMS || !t.ne.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(path, `${where} has dims [${t.ne.join(', ')}]; GGUF takes up to ${GGUF_MAX_DIMS} non-negative integers`);
    const f = formatInfo(t.type);
    if ((t.ne[0] ?? 1) % f.blockElems !== 0) fail(path, `${where} is ${t.type} with rows of ${t.ne[0]} weights, not a multiple of its block of ${f.blockElems}`);
    const bytes = bytesFor(t.type, t.ne.reduce((a, d) => a * d, 1));
    if (typeof t.data !== 'function' && t.data.byteLength !== bytes) fail(path, `${where} (${t.type} [${t.ne.join(', ')}]) takes ${bytes} bytes but its data holds ${t.data.byteLength}`);
    sizes.push(bytes);
  }

  const pad = (n: number): number => (alignment - (n % alignment)) % alignment;
  writeAtomic(
    path,
    (fd) => {
      const o = new Out(fd);
      o.u32(GGUF_MAGIC);
      o.u32(3);
      o.u64(input.tensors.length);
      o.u64(metadata.length);
      for (const [key, v] of metadata) {
        o.str(key);
        writeValue(o, v);
      }
      let offset = 0;
      input.tensors.forEach((t, i) => {
        o.str(t.name);
        o.u32(t.ne.length);
        for (const d of t.ne) o.u64(d);
        o.u32(formatInfo(t.type).ggmlType);
        o.u64(offset);
        offset += sizes[i]! + pad(sizes[i]!);
      });
      o.zeros(pad(o.written));
      input.tensors.forEach((t, i) => {
        const data = typeof t.data === 'function' ? t.data() : t.data;
        if (data.byteLength !== sizes[i]) fail(path, `tensor ${JSON.stringify(t.name)} (${t.type} [${t.ne.join(', ')}]) takes ${sizes[i]} bytes but its encoder returned ${data.byteLength}`);
        o.bytes(data);
        o.zeros(pad(sizes[i]!));
      });
      o.flush();
    },
    (m) => new GgufError(m),
  );
}
