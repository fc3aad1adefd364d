// GGUF reader, versions 2 and 3 (the llama.cpp / Ollama / LM Studio model file; format facts
// from ggml's docs/gguf.md). Layout, little-endian throughout:
//   "GGUF" | u32 version | u64 tensor count | u64 metadata count
//   metadata: (string key, u32 value type, value)*       string = u64 byte length + UTF-8
//   tensor infos: (string name, u32 n_dims, u64 ne[n_dims] innermost first, u32 ggml type,
//                  u64 offset relative to the data section)*
//   padding to general.alignment (default 32) | data section (each tensor aligned)
// Version 1 (u32 counts and lengths) is refused: llama.cpp dropped it long ago. Version 2 and 3
// lay out little-endian files identically (3 added big-endian files, which are refused here).
//
// openGguf reads only the header, through a chunked cursor over the file (models are 0.5-8 GB;
// the file is never read whole), and checks every field against the file's size before
// trusting it: a count, a length or an offset can never make it allocate or read beyond what
// the file holds. Any damage ends in a GgufError naming the file, what is wrong and what to do.
// Tensor bytes are read on request, straight into the caller's buffer.
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { WEIGHT_TYPES, bytesFor, formatOfGgmlType, ggmlTypeName, type WeightType } from '../formats/formats';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_FIXED_SIZE,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_TYPE_OF_ID,
  GgufError,
  describeGgufType,
  type GgufArray,
  type GgufElementType,
  type GgufValue,
} from './ggufTypes';

export { GgufError } from './ggufTypes';
export type { GgufArray, GgufValue } from './ggufTypes';

export interface GgufTensorInfo {
  readonly name: string;
  /** Dimensions innermost first, as ggml stores them (ne[0] is the row length). */
  readonly ne: readonly number[];
  /** Dimensions outermost first (ne reversed), as safetensors and PyTorch write them. */
  readonly shape: readonly number[];
  readonly type: WeightType;
  /** The ggml type id in the file. */
  readonly ggmlType: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly bytes: number;
  readonly elements: number;
}

export interface GgufFile {
  readonly path: string;
  /** 2 or 3. */
  readonly version: number;
  readonly alignment: number;
  /** Absolute offset of the data section. */
  readonly dataOffset: number;
  readonly fileSize: number;
  /** Metadata in file order, each value with its GGUF type. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Tensors in file order. */
  readonly tensors: readonly GgufTensorInfo[];
  tensor(name: string): GgufTensorInfo | undefined;
  /** Reads exactly the tensor's bytes into dst (whose byteLength must equal its size) or a new array. */
  readTensorBytes(name: string, dst?: Uint8Array): Uint8Array;
  getString(key: string): string;
  getNumber(key: string): number;
  getBool(key: string): boolean;
  getArray(key: string): GgufArray;
  getStringArray(key: string): string[];
  getNumberArray(key: string): number[];
  optString(key: string): string | undefined;
  optNumber(key: string): number | undefined;
  optBool(key: string): boolean | undefined;
  optArray(key: string): GgufArray | undefined;
  optStringArray(key: string): string[] | undefined;
  optNumberArray(key: string): number[] | undefined;
  close(): void;
}

// ---------------------------------------------------------------- limits

/** Metadata entries and tensors per file: real models hold hundreds to tens of thousands. */
const MAX_COUNT = 1 << 20;
/** One string (a key, a tensor name, a chat template...). */
const MAX_STRING_BYTES = 64 << 20;
/** One array: vocabularies hold up to ~260k tokens and merges. */
const MAX_ARRAY_LENGTH = 1 << 24;
/** All array elements of the metadata together (bounds the memory the header takes). */
const MAX_METADATA_VALUES = 1 << 25;
const MAX_NESTING = 16;
/**
 * Arrays longer than this (a vocabulary, its merges, token types and scores) are checked and
 * stepped over when the header is read, and parsed from the file again each time their value is
 * read: loading a model's weights needs only its config, and a 151k-token vocabulary with its
 * merges, parsed into JS strings for nothing, grew the heap by 15-20 MB that stayed resident.
 */
const LAZY_ARRAY_LENGTH = 4096;
/** Smallest encodings, to bound counts by the bytes left in the file. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, a 1-byte key, type, a u8
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8; // name length, a 1-byte name, n_dims = 0, type, offset

const CHUNK = 1 << 20;

const DAMAGED = 'The file is damaged or was not written as GGUF: download or convert it again';
const TRUNCATED = 'It is truncated, as an interrupted download or copy leaves it: download or copy it again';
const CUT_OR_DAMAGED = 'The file is truncated (an interrupted download or copy?) or damaged: download or convert it again';
const RECONVERT = 'Convert the model again with a current llama.cpp (convert_hf_to_gguf.py), or download a current GGUF of it';

/** A name or key for a message: JSON-quoted (control bytes escaped), at most about 80 characters. */
function quote(s: string): string {
  const q = JSON.stringify(s.slice(0, 80));
  return q.length > 82 || s.length > 80 ? `${q.slice(0, 77)}..."` : q;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---------------------------------------------------------------- the cursor

/** Sequential reads over a file through a window buffer; every read is checked against the file size. */
class Cursor {
  private buf = Buffer.allocUnsafe(CHUNK);
  /** File offset of buf[0]. */
  private start = 0;
  pos = 0;
  private end = 0;
  /** What is being read, for messages. */
  where = 'the header';
  /** The element of a string array being read, or -1. */
  item = -1;

  constructor(
    private readonly fd: number,
    readonly size: number,
    readonly path: string,
  ) {}

  get at(): number {
    return this.start + this.pos;
  }

  /** Bytes left in the file after the cursor. */
  get left(): number {
    return this.size - this.at;
  }

  /** Where the cursor is, for messages: the metadata entry or tensor info, and the array element. */
  get place(): string {
    return this.item >= 0 ? `${this.where}, element ${this.item},` : this.where;
  }

  /** Moves to file offset `at` (the next read fills the window from there). */
  seek(at: number): void {
    this.start = at;
    this.pos = 0;
    this.end = 0;
  }

  fail(what: string, todo: string = DAMAGED): never {
    throw new GgufError(`${this.path}: ${what}. ${todo}.`);
  }

  /** Makes n bytes available at buf[pos]. */
  need(n: number): void {
    if (this.end - this.pos < n) this.fill(n);
  }

  private fill(n: number): void {
    if (this.at + n > this.size) {
      this.fail(`the file ends at byte ${this.size}, inside ${this.place} (${plural(this.at + n - this.size, 'more byte')} expected)`, TRUNCATED);
    }
    const rest = this.end - this.pos;
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, 2 * this.buf.length));
      this.buf.copy(bigger, 0, this.pos, this.end);
      this.buf = bigger;
    } else {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.start += this.pos;
    this.pos = 0;
    const want = Math.min(this.buf.length - rest, this.size - this.start - rest);
    let got = 0;
    while (got < want) {
      let r: number;
      try {
        r = readSync(this.fd, this.buf, rest + got, want - got, this.start + rest + got);
      } catch (e) {
        this.fail(`reading failed at byte ${this.start + rest + got} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Check that the disk or network share holding it is available, then try again');
      }
      if (r === 0) break;
      got += r;
    }
    this.end = rest + got;
    if (this.end < n) this.fail(`the file ended at byte ${this.start + this.end} while ${this.where} was read, although it was ${this.size} bytes when opened`, 'Wait until whatever writes it has finished, then load it again');
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  i8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  u64big(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  i64big(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A u64 as a number: exact up to 2^53, and above that some number over 2^53 (callers refuse those). */
  u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }
  /** A GGUF string: u64 length, then that many bytes of UTF-8 (invalid bytes become U+FFFD). */
  str(limit = MAX_STRING_BYTES): string {
    const n = this.strLength(limit);
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** Steps over a string, its length checked as str checks it, without reading its bytes. */
  skipStr(): void {
    this.jump(this.strLength(MAX_STRING_BYTES));
  }
  /** Steps over n bytes the caller has checked the file holds. */
  jump(n: number): void {
    if (n <= this.end - this.pos) this.pos += n;
    else this.seek(this.at + n);
  }
  private strLength(limit: number): number {
    const n = this.u64();
    if (n > this.left) this.fail(`${this.place} claims a string of ${n > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : n} bytes, but only ${this.left} bytes are left in the file`, CUT_OR_DAMAGED);
    if (n > limit) this.fail(`${this.place} holds a string of ${n} bytes, more than the ${limit} allowed`);
    return n;
  }
  /** `count` fixed-size numbers read by `read(buf, offset)`, a window at a time. */
  numbers(count: number, size: number, read: (b: Buffer, at: number) => number): number[] {
    const out = new Array<number>(count);
    let i = 0;
    while (i < count) {
      this.need(size);
      const k = Math.min(count - i, Math.floor((this.end - this.pos) / size));
      const b = this.buf;
      let p = this.pos;
      for (let j = 0; j < k; j++, p += size) out[i + j] = read(b, p);
      this.pos = p;
      i += k;
    }
    return out;
  }
  u8s(count: number): Buffer {
    this.need(count);
    const out = this.buf.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }
}

// ---------------------------------------------------------------- metadata values

interface Budget {
  values: number;
}

function valueType(c: Cursor, id: number, what: string): GgufElementType {
  const t = GGUF_TYPE_OF_ID[id];
  if (t === undefined) c.fail(`${c.where} has value type ${id} in ${what}, which GGUF does not define (types are 0 to ${GGUF_TYPE_OF_ID.length - 1})`);
  return t;
}

function readBool(c: Cursor): boolean {
  const b = c.u8();
  if (b > 1) c.fail(`${c.where} holds a bool of value ${b} (GGUF bools are 0 or 1)`);
  return b === 1;
}

function readScalar(c: Cursor, t: Exclude<GgufElementType, 'array'>): GgufValue {
  switch (t) {
    case 'u8': return { type: t, value: c.u8() };
    case 'i8': return { type: t, value: c.i8() };
    case 'u16': return { type: t, value: c.u16() };
    case 'i16': return { type: t, value: c.i16() };
    case 'u32': return { type: t, value: c.u32() };
    case 'i32': return { type: t, value: c.i32() };
    case 'f32': return { type: t, value: c.f32() };
    case 'f64': return { type: t, value: c.f64() };
    case 'u64': return { type: t, value: c.u64big() };
    case 'i64': return { type: t, value: c.i64big() };
    case 'bool': return { type: t, value: readBool(c) };
    case 'string': return { type: t, value: c.str() };
  }
}

const READERS: Partial<Record<GgufElementType, (b: Buffer, at: number) => number>> = {
  u8: (b, at) => b[at]!,
  i8: (b, at) => b.readInt8(at),
  u16: (b, at) => b.readUInt16LE(at),
  i16: (b, at) => b.readInt16LE(at),
  u32: (b, at) => b.readUInt32LE(at),
  i32: (b, at) => b.readInt32LE(at),
  f32: (b, at) => b.readFloatLE(at),
  f64: (b, at) => b.readDoubleLE(at),
};

/** The file as openGguf found it, for reading a lazy array's elements again. */
interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

/** An array's element type, length and elements (the type id has been read); a long one of strings or numbers as a lazy array. */
function readArray(c: Cursor, budget: Budget, depth: number, stamp: FileStamp): GgufArray {
  if (depth > MAX_NESTING) c.fail(`${c.where} nests arrays more than ${MAX_NESTING} deep`);
  const of = valueType(c, c.u32(), 'an array');
  const n = c.u64();
  const min = GGUF_FIXED_SIZE[of] ?? (of === 'string' ? 8 : 12);
  if (n > c.left / min) {
    c.fail(`${c.where} claims an array of ${n > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : n} ${of} values, more than the ${c.left} bytes left in the file can hold`, CUT_OR_DAMAGED);
  }
  if (n > MAX_ARRAY_LENGTH) c.fail(`${c.where} holds an array of ${n} values, more than the ${MAX_ARRAY_LENGTH} allowed`);
  budget.values += n;
  if (budget.values > MAX_METADATA_VALUES) c.fail(`the metadata holds more than ${MAX_METADATA_VALUES} values in arrays, far more than any model needs`);
  const size = GGUF_FIXED_SIZE[of];
  if (n > LAZY_ARRAY_LENGTH && (of === 'string' || READERS[of] !== undefined)) {
    const at = c.at;
    if (of === 'string') {
      for (let i = 0; i < n; i++) {
        c.item = i;
        c.skipStr();
      }
      c.item = -1;
    } else c.jump(n * size!); // n <= left / size was checked above
    return lazyArray(stamp, c.where, at, of, n);
  }
  return readElements(c, of, n, budget, depth, stamp);
}

/**
 * An array whose elements are read from the file when its value is read (FileStamp: refused if
 * the file changed since it was opened). The elements are held weakly: a caller that reads
 * `value` again while it still holds them (a loop over `a.value[i]`, the writer copying a file's
 * vocabulary) gets the same array, not another pass over the file; once dropped, they go.
 */
function lazyArray(stamp: FileStamp, where: string, at: number, of: GgufElementType, n: number): GgufArray {
  let held: WeakRef<unknown[]> | undefined;
  return {
    type: 'array',
    of,
    get value() {
      let value = held?.deref();
      if (value === undefined) {
        value = readAgain(stamp, where, at, (c) => readElements(c, of, n, { values: 0 }, 1, stamp).value);
        held = new WeakRef(value);
      }
      return value;
    },
  } as GgufArray;
}

function readAgain<T>(stamp: FileStamp, where: string, at: number, read: (c: Cursor) => T): T {
  const { fd, size, mtimeMs } = openFile(stamp.path);
  try {
    if (size !== stamp.size || mtimeMs !== stamp.mtimeMs) throw new GgufError(`${stamp.path}: the file changed on disk after it was opened, so ${where} cannot be read. Load the model again.`);
    const c = new Cursor(fd, size, stamp.path);
    c.where = where;
    c.seek(at);
    return read(c);
  } finally {
    closeSync(fd);
  }
}

/** An array's n elements of type `of`. */
function readElements(c: Cursor, of: GgufElementType, n: number, budget: Budget, depth: number, stamp: FileStamp): GgufArray {
  const read = READERS[of];
  if (read !== undefined) return { type: 'array', of: of as 'u8', value: c.numbers(n, GGUF_FIXED_SIZE[of]!, read) };
  switch (of) {
    case 'string': {
      const value = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        c.item = i;
        value[i] = c.str();
      }
      c.item = -1;
      return { type: 'array', of, value };
    }
    case 'bool': {
      const bytes = n <= CHUNK ? c.u8s(n) : null;
      const value = new Array<boolean>(n);
      for (let i = 0; i < n; i++) {
        const b = bytes !== null ? bytes[i]! : c.u8();
        if (b > 1) c.fail(`${c.where} holds a bool of value ${b} at index ${i} (GGUF bools are 0 or 1)`);
        value[i] = b === 1;
      }
      return { type: 'array', of, value };
    }
    case 'u64':
    case 'i64': {
      const value = new Array<bigint>(n);
      for (let i = 0; i < n; i++) value[i] = of === 'u64' ? c.u64big() : c.i64big();
      return { type: 'array', of, value };
    }
    default: {
      const value = new Array<GgufArray>(n);
      // Each element is an array value itself: its element type, length and elements.
      for (let i = 0; i < n; i++) value[i] = readArray(c, budget, depth + 1, stamp);
      return { type: 'array', of: 'array', value };
    }
  }
}

function readMetadata(c: Cursor, count: number, stamp: FileStamp): Map<string, GgufValue> {
  const metadata = new Map<string, GgufValue>();
  const budget: Budget = { values: 0 };
  for (let i = 0; i < count; i++) {
    c.where = `metadata entry ${i + 1} of ${count}`;
    const key = c.str(65536);
    if (key.length === 0) c.fail(`${c.where} has an empty key`);
    if (metadata.has(key)) c.fail(`the metadata holds the key ${quote(key)} twice`);
    c.where = `metadata ${quote(key)}`;
    const t = valueType(c, c.u32(), 'its value');
    metadata.set(key, t === 'array' ? readArray(c, budget, 1, stamp) : readScalar(c, t));
  }
  return metadata;
}

function alignmentOf(c: Cursor, metadata: ReadonlyMap<string, GgufValue>): number {
  const a = metadata.get('general.alignment');
  if (a === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (a.type !== 'u32') c.fail(`general.alignment is ${describeGgufType(a)}; GGUF requires a u32`);
  if (a.value === 0 || (a.value & (a.value - 1)) !== 0) c.fail(`general.alignment is ${a.value}, not a power of two`);
  return a.value;
}

// ---------------------------------------------------------------- tensor infos

interface RawTensor {
  name: string;
  ne: number[];
  ggmlType: number;
  rel: number;
}

function readTensorInfos(c: Cursor, count: number, alignment: number): RawTensor[] {
  const out: RawTensor[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    c.where = `tensor info ${i + 1} of ${count}`;
    const name = c.str(65536);
    if (name.length === 0) c.fail(`${c.where} has an empty name`);
    if (names.has(name)) c.fail(`the file holds two tensors named ${quote(name)}`);
    names.add(name);
    c.where = `the info of tensor ${quote(name)}`;
    const nDims = c.u32();
    if (nDims > GGUF_MAX_DIMS) c.fail(`tensor ${quote(name)} has ${nDims} dimensions; GGUF allows at most ${GGUF_MAX_DIMS}`);
    const ne: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const n = c.u64();
      if (n > Number.MAX_SAFE_INTEGER) c.fail(`tensor ${quote(name)} has a dimension of more than 2^53 elements`);
      ne.push(n);
      elements *= n;
      if (elements > Number.MAX_SAFE_INTEGER) c.fail(`tensor ${quote(name)} of dims [${ne.join(', ')}...] holds more than 2^53 elements`);
    }
    const ggmlType = c.u32();
    const rel = c.u64();
    if (rel > Number.MAX_SAFE_INTEGER) c.fail(`tensor ${quote(name)} starts more than 2^53 bytes into the data section`);
    if (rel % alignment !== 0) c.fail(`tensor ${quote(name)} starts at offset ${rel} of the data section, not a multiple of the alignment (${alignment})`);
    out.push({ name, ne, ggmlType, rel });
  }
  return out;
}

/** Sizes each tensor from the format table and checks its place in the file. */
function placeTensors(c: Cursor, raw: readonly RawTensor[], dataOffset: number): GgufTensorInfo[] {
  const unsupported = new Map<number, string[]>();
  for (const t of raw) {
    if (formatOfGgmlType(t.ggmlType) !== undefined) continue;
    const list = unsupported.get(t.ggmlType) ?? [];
    list.push(t.name);
    unsupported.set(t.ggmlType, list);
  }
  if (unsupported.size > 0) {
    const parts = [...unsupported].map(([id, names]) => {
      const name = ggmlTypeName(id);
      const type = name.startsWith('unknown') ? `ggml type ${id}, which Limelight does not know` : `${name} (ggml type ${id})`;
      return `${names.length} in ${type}, such as ${quote(names[0]!)}`;
    });
    c.fail(
      `the file stores tensors in ${unsupported.size === 1 ? 'a format' : 'formats'} Limelight does not read: ${parts.join('; ')}. Limelight reads ${WEIGHT_TYPES.join(', ')}`,
      'Download a Q4_K_M or Q8_0 file of the model, or make one with llama.cpp\'s llama-quantize, best from the F16 or BF16 GGUF (llama-quantize model-f16.gguf model-Q4_K_M.gguf Q4_K_M)',
    );
  }
  const infos: GgufTensorInfo[] = [];
  for (const t of raw) {
    const f = formatOfGgmlType(t.ggmlType)!;
    const rowLength = t.ne[0] ?? 1;
    if (rowLength % f.blockElems !== 0) {
      c.fail(`tensor ${quote(t.name)} is ${f.type} with rows of ${rowLength} weights, not a multiple of the ${f.blockElems} weights a ${f.type} block holds`);
    }
    const elements = t.ne.reduce((a, n) => a * n, 1);
    const bytes = bytesFor(f.type, elements);
    const offset = dataOffset + t.rel;
    if (offset + bytes > c.size) {
      c.fail(`tensor ${quote(t.name)} (${f.type} [${t.ne.join(', ')}], ${bytes} bytes at byte ${offset}) runs past the end of the file at byte ${c.size}`, CUT_OR_DAMAGED);
    }
    infos.push({ name: t.name, ne: t.ne, shape: t.ne.slice().reverse(), type: f.type, ggmlType: t.ggmlType, offset, bytes, elements });
  }
  const byStart = infos.filter((t) => t.bytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byStart.length; i++) {
    const a = byStart[i - 1]!;
    const b = byStart[i]!;
    if (b.offset < a.offset + a.bytes) c.fail(`tensors ${quote(a.name)} (bytes ${a.offset} to ${a.offset + a.bytes}) and ${quote(b.name)} (from byte ${b.offset}) overlap`);
  }
  return infos;
}

// ---------------------------------------------------------------- the file

function checkStart(c: Cursor): number {
  if (c.size < 4) c.fail(`the file is ${plural(c.size, 'byte')} long, too short to be GGUF`, 'Download or convert it again');
  const head = c.u8s(Math.min(c.size, 24)).toString('latin1');
  c.pos = 0;
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) {
    const old = ['ggml', 'ggmf', 'ggjt', 'ggla', 'lmgg', 'fmgg', 'tjgg', 'algg'].includes(head.slice(0, 4));
    if (old) c.fail('the file is in the old GGML/GGJT format that came before GGUF', 'Convert the original model with a current llama.cpp (convert_hf_to_gguf.py), or download a GGUF of it');
    // The pointer's first line names Git LFS's spec by URL; matched without spelling one (the bundles carry no URL).
    if (/^version https:\/\/git-lfs/.test(head)) c.fail('the file is a Git LFS pointer, not the model itself', 'Run `git lfs pull` in its repository, or download the file itself');
    if (/^\s*</.test(head)) c.fail('the file is an HTML or XML page, not a model (a failed download?)', 'Download the model again');
    c.fail(`the file does not start with "GGUF" (it starts with ${quote(head.slice(0, 4))}), so it is not a GGUF model`, 'Choose a .gguf file, or download or convert the model again');
  }
  c.where = 'the header';
  const version = c.u32();
  if (version === 2 || version === 3) return version;
  if ((version & 0xffff) === 0 && version !== 0) {
    const swapped = ((version >>> 24) | ((version >>> 8) & 0xff00)) >>> 0;
    c.fail(`the file is a big-endian GGUF (version ${swapped} in big-endian byte order); Limelight reads little-endian files (what PCs and Macs use)`, 'Convert the model again without --bigendian');
  }
  if (version === 1) c.fail('the file is GGUF version 1, which Limelight (like llama.cpp) no longer reads; versions 2 and 3 are read', `${RECONVERT}`);
  c.fail(`the file is GGUF version ${version}; Limelight reads versions 2 and 3`, version > 3 ? 'Update Limelight, or convert the model with a llama.cpp that writes version 3' : RECONVERT);
}

function countField(c: Cursor, what: string, min: number): number {
  const n = c.u64();
  const shown = n > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : String(n);
  if (n > c.left / min) c.fail(`the header claims ${shown} ${what}, more than the ${c.left} bytes left in the file can hold`, CUT_OR_DAMAGED);
  if (n > MAX_COUNT) c.fail(`the header claims ${shown} ${what}, more than the ${MAX_COUNT} allowed`);
  return n;
}

function asNumber(v: bigint): number | undefined {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

class OpenGguf implements GgufFile {
  private fd: number | null;
  private readonly byName: Map<string, GgufTensorInfo>;

  constructor(
    fd: number,
    readonly path: string,
    readonly version: number,
    readonly alignment: number,
    readonly dataOffset: number,
    readonly fileSize: number,
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly tensors: readonly GgufTensorInfo[],
  ) {
    this.fd = fd;
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  tensor(name: string): GgufTensorInfo | undefined {
    return this.byName.get(name);
  }

  readTensorBytes(name: string, dst?: Uint8Array): Uint8Array {
    const t = this.byName.get(name);
    if (t === undefined) throw new GgufError(`${this.path}: the file has no tensor named ${quote(name)}. ${RECONVERT}.`);
    if (this.fd === null) throw new GgufError(`${this.path}: the file was closed before tensor ${quote(name)} was read. Open it again to read it.`);
    if (dst !== undefined && dst.byteLength !== t.bytes) throw new RangeError(`tensor ${quote(name)} holds ${t.bytes} bytes; the destination holds ${dst.byteLength}`);
    const out = dst ?? new Uint8Array(t.bytes);
    let done = 0;
    while (done < t.bytes) {
      let r: number;
      try {
        r = readSync(this.fd, out, done, Math.min(t.bytes - done, 1 << 30), t.offset + done);
      } catch (e) {
        throw new GgufError(`${this.path}: reading tensor ${quote(name)} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that the disk or network share holding it is available, then try again.`);
      }
      if (r === 0) throw new GgufError(`${this.path}: the file ended at byte ${t.offset + done} inside tensor ${quote(name)}; it was ${this.fileSize} bytes when opened. Wait until whatever writes it has finished, then load it again.`);
      done += r;
    }
    return out;
  }

  private wrongType(key: string, v: GgufValue | undefined, expected: string): never {
    if (v === undefined) throw new GgufError(`${this.path}: the metadata has no ${quote(key)} (${expected} expected). ${RECONVERT}.`);
    throw new GgufError(`${this.path}: metadata ${quote(key)} is ${describeGgufType(v)}, not ${expected}. ${RECONVERT}.`);
  }

  optString(key: string): string | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'string') this.wrongType(key, v, 'a string');
    return v.value;
  }
  optNumber(key: string): number | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    switch (v.type) {
      case 'string':
      case 'bool':
      case 'array':
        return this.wrongType(key, v, 'a number');
      case 'u64':
      case 'i64': {
        const n = asNumber(v.value);
        if (n === undefined) throw new GgufError(`${this.path}: metadata ${quote(key)} is ${v.value}, too large to use. ${RECONVERT}.`);
        return n;
      }
      default:
        return v.value;
    }
  }
  optBool(key: string): boolean | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'bool') this.wrongType(key, v, 'a bool');
    return v.value;
  }
  optArray(key: string): GgufArray | undefined {
    const v = this.metadata.get(key);
    if (v === undefined) return undefined;
    if (v.type !== 'array') this.wrongType(key, v, 'an array');
    return v;
  }
  optStringArray(key: string): string[] | undefined {
    const v = this.optArray(key);
    if (v === undefined) return undefined;
    if (v.of !== 'string') this.wrongType(key, v, 'an array of string');
    return v.value;
  }
  optNumberArray(key: string): number[] | undefined {
    const v = this.optArray(key);
    if (v === undefined) return undefined;
    switch (v.of) {
      case 'string':
      case 'bool':
      case 'array':
        return this.wrongType(key, v, 'an array of numbers');
      case 'u64':
      case 'i64':
        return v.value.map((x, i) => {
          const n = asNumber(x);
          if (n === undefined) throw new GgufError(`${this.path}: metadata ${quote(key)}[${i}] is ${x}, too large to use. ${RECONVERT}.`);
          return n;
        });
      default:
        return v.value;
    }
  }
  getString(key: string): string {
    return this.optString(key) ?? this.wrongType(key, undefined, 'a string');
  }
  getNumber(key: string): number {
    return this.optNumber(key) ?? this.wrongType(key, undefined, 'a number');
  }
  getBool(key: string): boolean {
    return this.optBool(key) ?? this.wrongType(key, undefined, 'a bool');
  }
  getArray(key: string): GgufArray {
    return this.optArray(key) ?? this.wrongType(key, undefined, 'an array');
  }
  getStringArray(key: string): string[] {
    return this.optStringArray(key) ?? this.wrongType(key, undefined, 'an array of string');
  }
  getNumberArray(key: string): number[] {
    return this.optNumberArray(key) ?? this.wrongType(key, undefined, 'an array of numbers');
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}

function openFile(path: string): { fd: number; size: number; mtimeMs: number } {
  const cannot = (e: unknown): GgufError => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new GgufError(`${path}: no such file. Check the path, or choose the model again.`);
    if (code === 'EACCES' || code === 'EPERM') return new GgufError(`${path}: permission denied (${code}). Change the file's permissions or choose a copy you can read.`);
    return new GgufError(`${path}: the file cannot be opened (${code ?? (e as Error).message}). Check the path and that its disk is available.`);
  };
  // Checked before opening: opening a named pipe would wait for a writer.
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw cannot(e);
  }
  if (st.isDirectory()) throw new GgufError(`${path}: this is a folder, not a GGUF file. Choose the .gguf file inside it.`);
  if (!st.isFile()) throw new GgufError(`${path}: this is not a regular file. Choose a .gguf model file.`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannot(e);
  }
  try {
    const st = fstatSync(fd);
    return { fd, size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    closeSync(fd);
    throw cannot(e);
  }
}

/** Opens a GGUF file and reads and checks its header; the tensor data is read on request. */
export function openGguf(path: string): GgufFile {
  const { fd, size, mtimeMs } = openFile(path);
  try {
    const c = new Cursor(fd, size, path);
    const version = checkStart(c);
    const nTensors = countField(c, 'tensors', MIN_TENSOR_INFO_BYTES);
    const nKv = countField(c, 'metadata entries', MIN_KV_BYTES);
    const metadata = readMetadata(c, nKv, { path, size, mtimeMs });
    const alignment = alignmentOf(c, metadata);
    const raw = readTensorInfos(c, nTensors, alignment);
    const dataOffset = Math.ceil(c.at / alignment) * alignment;
    const tensors = placeTensors(c, raw, dataOffset);
    return new OpenGguf(fd, path, version, alignment, dataOffset, size, metadata, tensors);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
