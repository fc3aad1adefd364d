// safetensors reader and writer (https://github.com/huggingface/safetensors, format section):
//   u64 little-endian N | N bytes of UTF-8 JSON header | data section
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets
// relative to the data section) plus an optional "__metadata__" object of strings.
// Every header field is checked before any tensor byte is looked at, so a truncated or
// hostile file gives a SafetensorsError naming the file, the tensor and what to do, never
// a crash, a hang or a huge allocation.
// Two ways to hold the data: readSafetensors/parseSafetensors keep the whole file in memory
// (views are handed out when alignment allows, a copy only when it does not);
// openSafetensors keeps only the header and reads each tensor from disk when asked, straight
// into the caller's array for F32, so loading a checkpoint never holds it twice in memory.

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { writeAtomic } from './atomicFile';
import { DTYPE_SIZE, SUPPORTED_DTYPES, isDtype, type Dtype } from './dtype';
import { HOST_IS_LITTLE_ENDIAN, bf16ToF32, f16ToF32, f32ToF16 } from '../formats/half';

/** An error whose message says which file and tensor were wrong and what to do. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** safetensors' own limit on the header size (the Rust reference rejects larger headers). */
export const MAX_HEADER_BYTES = 100_000_000;
const MAX_RANK = 64;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Number of elements: product of shape (1 for a scalar). */
  numel: number;
  /** Where the tensor's bytes start, counted from the start of the data section. */
  begin: number;
  /** Byte count: numel * DTYPE_SIZE[dtype]. */
  byteLength: number;
}

const CORRUPT = 'The file is truncated or corrupt: export or download it again.';
const NOT_SAFETENSORS = 'This is not a safetensors file, or it is corrupt: export or download it again.';

function fail(source: string, what: string, hint: string = CORRUPT): never {
  throw new SafetensorsError(`${source}: ${what}. ${hint}`);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Assigns without the `__proto__` setter, so any string is a safe key. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates a parsed header against a data section of dataLength bytes and returns the tensors
 * in file order. Shapes whose byte count cannot be represented exactly are rejected before any
 * multiplication can overflow.
 */
function validateHeader(source: string, header: unknown, dataLength: number): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(source, `the header is ${Array.isArray(header) ? 'an array' : describe(header)}, not a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(source, `"__metadata__" must be an object of strings (got ${describe(entry)})`);
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `"__metadata__"."${k}" must be a string (got ${describe(v)})`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const where = `tensor ${describe(name)}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(source, `${where}: entry must be an object with dtype, shape and data_offsets (got ${describe(entry)})`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype)) {
      fail(source, `${where}: dtype ${describe(dtype)} is not supported (supported: ${SUPPORTED_DTYPES.join(', ')})`, 'Convert the checkpoint to float32, float16 or bfloat16 (for example with torch: model.half() then save_pretrained).');
    }
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every(isCount)) {
      fail(source, `${where}: shape must be an array of at most ${MAX_RANK} non-negative integers (got ${describe(shape)})`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isCount(offsets[0]) || !isCount(offsets[1])) {
      fail(source, `${where}: data_offsets must be [begin, end] with non-negative integers (got ${describe(offsets)})`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(source, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLength) fail(source, `${where}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes)`);
    const itemsize = DTYPE_SIZE[dtype];
    let numel = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (numel * itemsize > dataLength) {
        fail(source, `${where}: shape ${describe(shape)} of ${dtype} needs more bytes than the whole data section (${dataLength} bytes)`);
      }
    }
    if (numel * itemsize !== end - begin) {
      fail(source, `${where}: shape ${describe(shape)} of ${dtype} needs ${numel * itemsize} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    tensors.push({ name, dtype, shape: (shape as number[]).slice(), numel, begin, byteLength: end - begin });
  }
  const byStart = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1];
    const cur = byStart[i];
    if (cur.begin < prev.begin + prev.byteLength) {
      fail(source, `tensors ${describe(prev.name)} [${prev.begin}, ${prev.begin + prev.byteLength}] and ${describe(cur.name)} [${cur.begin}, ${cur.begin + cur.byteLength}] overlap`);
    }
  }
  return { tensors, metadata };
}

function readHeaderLength(source: string, prefix: Uint8Array, fileLength: number): number {
  if (fileLength < 8) fail(source, `the file is ${fileLength} bytes long, too short for a safetensors header (at least 8)`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) {
    fail(source, `the header length field says ${n} bytes (allowed: 2 to ${MAX_HEADER_BYTES})`, NOT_SAFETENSORS);
  }
  if (Number(n) > fileLength - 8) fail(source, `the header length field says ${n} bytes but only ${fileLength - 8} follow it`);
  return Number(n);
}

function parseHeaderJson(source: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(source, 'the header is not valid UTF-8', NOT_SAFETENSORS);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(source, `the header is not valid JSON (${(e as Error).message})`, NOT_SAFETENSORS);
  }
}

/** Where a file's data section lives: offsets are relative to its start. */
interface DataSource {
  /** Bytes [begin, begin + length), starting at a multiple of `align` in their buffer. */
  bytes(begin: number, length: number, align: number): Uint8Array;
  /** Copies bytes [begin, begin + target.length) into target. */
  copyInto(begin: number, target: Uint8Array): void;
}

class MemorySource implements DataSource {
  constructor(private readonly data: Uint8Array) {}

  bytes(begin: number, length: number, align: number): Uint8Array {
    const b = this.data.subarray(begin, begin + length);
    return b.byteOffset % align === 0 ? b : b.slice();
  }

  copyInto(begin: number, target: Uint8Array): void {
    target.set(this.data.subarray(begin, begin + target.length));
  }
}

/** Reads the data section from disk on demand; refuses if the file changed since validation. */
class FileSource implements DataSource {
  constructor(
    private readonly path: string,
    private readonly dataStart: number,
    private readonly size: number,
    private readonly mtimeMs: number,
  ) {}

  bytes(begin: number, length: number): Uint8Array {
    const b = new Uint8Array(length); // a fresh buffer is aligned for every dtype
    this.copyInto(begin, b);
    return b;
  }

  copyInto(begin: number, target: Uint8Array): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      throw new SafetensorsError(`${this.path}: cannot reopen to read tensor data (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Was the file moved or deleted while loading?`);
    }
    try {
      const st = fstatSync(fd);
      if (st.size !== this.size || st.mtimeMs !== this.mtimeMs) {
        fail(this.path, 'the file changed on disk after its header was checked', 'Load the model again once the file is no longer being written.');
      }
      readFully(fd, target, this.dataStart + begin, this.path);
    } finally {
      closeSync(fd);
    }
  }
}

/** A validated safetensors file: tensor listing, metadata and typed access to the data. */
export class SafetensorsFile {
  private readonly byName: Map<string, TensorInfo>;

  /** @param source the path (or a label) used in error messages */
  constructor(
    readonly source: string,
    private readonly data: DataSource,
    readonly tensors: readonly TensorInfo[],
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  names(): string[] {
    return this.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The tensor's dtype, shape and place; throws if the file has no such tensor. */
  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (t === undefined) {
      const near = this.names().filter((n) => n.endsWith(name.split('.').slice(-2).join('.'))).slice(0, 5);
      const hint = `${near.length > 0 ? `Similar names: ${near.join(', ')}` : `It holds ${this.tensors.length} tensors`}. Check that the file belongs to this model, or export it again.`;
      fail(this.source, `no tensor named "${name}"`, hint);
    }
    return t;
  }

  /**
   * The tensor's bytes as stored: for an in-memory file a view into its buffer (do not modify),
   * for an opened file a fresh copy read from disk.
   */
  raw(name: string): Uint8Array {
    const t = this.info(name);
    return this.data.bytes(t.begin, t.byteLength, 1);
  }

  /** The bytes, starting at a multiple of the element size so typed views can be made. */
  private alignedBytes(t: TensorInfo): Uint8Array {
    return this.data.bytes(t.begin, t.byteLength, DTYPE_SIZE[t.dtype]);
  }

  private checkOut(t: TensorInfo, out: { length: number } | undefined, kind: string): void {
    if (out !== undefined && out.length !== t.numel) {
      throw new SafetensorsError(`${this.source}: tensor "${t.name}" has ${t.numel} elements (shape ${JSON.stringify(t.shape)}) but the ${kind} given to receive it has ${out.length}. Check the model config against the checkpoint.`);
    }
  }

  /** The F16 or BF16 tensor's raw 16-bit patterns, without conversion (as raw() shares or copies). */
  halfBits(name: string): Uint16Array {
    const t = this.info(name);
    if (t.dtype !== 'F16' && t.dtype !== 'BF16') fail(this.source, `tensor "${name}" is ${t.dtype}, not F16 or BF16`, 'Use tensorToFloat32 for other dtypes.');
    const b = this.alignedBytes(t);
    return new Uint16Array(b.buffer, b.byteOffset, t.numel);
  }

  /** The tensor converted to float32, written into `out` (length numel) or a new array. */
  tensorToFloat32(name: string, out?: Float32Array): Float32Array {
    const t = this.info(name);
    this.checkOut(t, out, 'Float32Array');
    const dst = out ?? new Float32Array(t.numel);
    if (t.dtype === 'F32') {
      this.data.copyInto(t.begin, new Uint8Array(dst.buffer, dst.byteOffset, t.byteLength));
      return dst;
    }
    const b = this.alignedBytes(t);
    if (t.dtype === 'F16') f16ToF32(dst, new Uint16Array(b.buffer, b.byteOffset, t.numel));
    else if (t.dtype === 'BF16') bf16ToF32(dst, new Uint16Array(b.buffer, b.byteOffset, t.numel));
    else if (t.dtype === 'I64') {
      const w = new Int32Array(b.buffer, b.byteOffset, 2 * t.numel); // (numel, lo|hi)
      for (let i = 0; i < t.numel; i++) dst[i] = w[2 * i + 1] * 4294967296 + (w[2 * i] >>> 0);
    } else dst.set(plainView(t.dtype, b, t.numel));
    return dst;
  }

  /**
   * An integer tensor (token ids, labels) as Int32Array, written into `out` or a new array.
   * I64 values outside the int32 range are an error, never silently wrapped.
   */
  tensorToInt32(name: string, out?: Int32Array): Int32Array {
    const t = this.info(name);
    if (t.dtype === 'F64' || t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16') {
      fail(this.source, `tensor "${name}" is ${t.dtype}, not an integer tensor`, 'Use tensorToFloat32 for floating-point tensors.');
    }
    this.checkOut(t, out, 'Int32Array');
    const dst = out ?? new Int32Array(t.numel);
    const b = this.alignedBytes(t);
    if (t.dtype !== 'I64') {
      dst.set(plainView(t.dtype, b, t.numel));
      return dst;
    }
    const w = new Int32Array(b.buffer, b.byteOffset, 2 * t.numel); // (numel, lo|hi)
    for (let i = 0; i < t.numel; i++) {
      const lo = w[2 * i];
      const hi = w[2 * i + 1];
      if (hi !== lo >> 31) {
        const value = BigInt(hi) * 4294967296n + BigInt(lo >>> 0);
        fail(this.source, `tensor "${name}" element ${i} is ${value}, outside the 32-bit range used for token ids`, 'Check that the tensor holds token ids.');
      }
      dst[i] = lo;
    }
    return dst;
  }
}

/** A typed view of aligned bytes for the dtypes a JS typed array holds as they are. */
function plainView(dtype: Exclude<Dtype, 'F16' | 'BF16' | 'I64'>, b: Uint8Array, numel: number): Float64Array | Float32Array | Int32Array | Uint16Array | Int8Array | Uint8Array {
  switch (dtype) {
    case 'F64':
      return new Float64Array(b.buffer, b.byteOffset, numel);
    case 'F32':
      return new Float32Array(b.buffer, b.byteOffset, numel);
    case 'I32':
      return new Int32Array(b.buffer, b.byteOffset, numel);
    case 'U16':
      return new Uint16Array(b.buffer, b.byteOffset, numel);
    case 'I8':
      return new Int8Array(b.buffer, b.byteOffset, numel);
    case 'U8':
    case 'BOOL':
      return b;
  }
}

function checkHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new SafetensorsError('safetensors stores little-endian numbers and this host is big-endian, which Limelight does not support.');
}

/** Parses and validates a whole safetensors file already in memory. `source` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  checkHost();
  const n = readHeaderLength(source, bytes, bytes.length);
  const { tensors, metadata } = validateHeader(source, parseHeaderJson(source, bytes.subarray(8, 8 + n)), bytes.length - 8 - n);
  return new SafetensorsFile(source, new MemorySource(bytes.subarray(8 + n)), tensors, metadata);
}

// Node reads at most about 2 GiB per call; larger data sections are read in pieces.
const READ_CHUNK = 1 << 30;

function readFully(fd: number, target: Uint8Array, position: number, source: string): void {
  let done = 0;
  while (done < target.length) {
    const got = readSync(fd, target, done, Math.min(READ_CHUNK, target.length - done), position + done);
    if (got === 0) fail(source, `the file ended after ${position + done} bytes while reading it (was it modified while loading?)`);
    done += got;
  }
}

/** Opens a file and checks its header; returns the open descriptor and what it found. */
function openAndValidate(path: string): { fd: number; size: number; mtimeMs: number; dataStart: number; tensors: TensorInfo[]; metadata: Record<string, string> } {
  checkHost();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that the file exists and is readable.`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) fail(path, 'is not a regular file', 'Point to a .safetensors file.');
    const prefix = new Uint8Array(8);
    if (st.size >= 8) readFully(fd, prefix, 0, path);
    const n = readHeaderLength(path, prefix, st.size);
    const headerBytes = new Uint8Array(n);
    readFully(fd, headerBytes, 8, path);
    const { tensors, metadata } = validateHeader(path, parseHeaderJson(path, headerBytes), st.size - 8 - n);
    return { fd, size: st.size, mtimeMs: st.mtimeMs, dataStart: 8 + n, tensors, metadata };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Opens, validates and loads a safetensors file. The header is read and checked first; the
 * data section is then read once into one buffer that every tensor view points into.
 */
export function readSafetensors(path: string): SafetensorsFile {
  const { fd, size, dataStart, tensors, metadata } = openAndValidate(path);
  try {
    const dataLength = size - dataStart;
    if (dataLength > bufferConstants.MAX_LENGTH) {
      fail(path, `the data section is ${dataLength} bytes, more than this Node.js can hold in one buffer (${bufferConstants.MAX_LENGTH})`, 'Use openSafetensors, which reads tensors one at a time.');
    }
    const data = new Uint8Array(dataLength);
    readFully(fd, data, dataStart, path);
    return new SafetensorsFile(path, new MemorySource(data), tensors, metadata);
  } finally {
    closeSync(fd);
  }
}

/**
 * Validates a safetensors file's header and returns it without reading tensor data: each
 * access reads that tensor from disk (F32 straight into the caller's array). No descriptor is
 * held between accesses; a file changed after opening is refused rather than misread.
 */
export function openSafetensors(path: string): SafetensorsFile {
  const { fd, size, mtimeMs, dataStart, tensors, metadata } = openAndValidate(path);
  closeSync(fd);
  return new SafetensorsFile(path, new FileSource(path, dataStart, size, mtimeMs), tensors, metadata);
}

export type WritableDtype = 'F32' | 'F16' | 'I64' | 'I32';

export interface TensorToWrite {
  name: string;
  dtype: WritableDtype;
  shape: readonly number[];
  /**
   * F32: Float32Array. F16: Float32Array (rounded to nearest even) or Uint16Array of F16 bits.
   * I64: BigInt64Array, Int32Array or number[] of integers. I32: Int32Array.
   */
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array | readonly number[];
}

// Conversions go through a scratch buffer of this many elements, never a full-size copy.
const WRITE_CHUNK = 1 << 16;

function checkWritable(path: string, t: TensorToWrite, seen: Set<string>): void {
  const where = `${path}: tensor "${t.name}"`;
  if (t.name === '' || t.name === '__metadata__') throw new SafetensorsError(`${where}: this name is reserved or empty; choose another.`);
  if (seen.has(t.name)) throw new SafetensorsError(`${where}: the name is given twice; tensor names must be unique.`);
  seen.add(t.name);
  if (!t.shape.every(isCount)) throw new SafetensorsError(`${where}: shape ${describe(t.shape)} must hold non-negative integers.`);
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== numel) throw new SafetensorsError(`${where}: shape ${describe(t.shape)} has ${numel} elements but the data has ${t.data.length}.`);
  const d = t.data;
  const ok =
    (t.dtype === 'F32' && d instanceof Float32Array) ||
    (t.dtype === 'F16' && (d instanceof Float32Array || d instanceof Uint16Array)) ||
    (t.dtype === 'I64' && (d instanceof BigInt64Array || d instanceof Int32Array || Array.isArray(d))) ||
    (t.dtype === 'I32' && d instanceof Int32Array);
  if (!ok) throw new SafetensorsError(`${where}: ${t.dtype} cannot be written from ${d.constructor.name} (see TensorToWrite for the accepted arrays).`);
  if (Array.isArray(d) && !d.every((v) => Number.isSafeInteger(v))) throw new SafetensorsError(`${where}: I64 data must hold whole numbers.`);
}

function writeTensor(fd: number, t: TensorToWrite): void {
  const d = t.data;
  if (!Array.isArray(d) && (t.dtype !== 'F16' || d instanceof Uint16Array) && (t.dtype !== 'I64' || d instanceof BigInt64Array)) {
    const v = d as Float32Array | Uint16Array | Int32Array | BigInt64Array;
    writeAll(fd, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (t.dtype === 'F16') {
    const src = d as Float32Array;
    const half = new Uint16Array(Math.min(WRITE_CHUNK, src.length));
    for (let i = 0; i < src.length; i += WRITE_CHUNK) {
      const part = src.subarray(i, Math.min(i + WRITE_CHUNK, src.length));
      const h = half.subarray(0, part.length);
      f32ToF16(h, part);
      writeAll(fd, new Uint8Array(h.buffer, 0, h.byteLength));
    }
    return;
  }
  // I64 from Int32Array or number[]: little-endian (lo, hi) word pairs.
  const words = new Int32Array(2 * Math.min(WRITE_CHUNK, d.length)); // (chunk, lo|hi)
  for (let i = 0; i < d.length; i += WRITE_CHUNK) {
    const m = Math.min(WRITE_CHUNK, d.length - i);
    for (let j = 0; j < m; j++) {
      const v = Number(d[i + j]);
      words[2 * j] = v | 0;
      words[2 * j + 1] = Math.floor(v / 4294967296);
    }
    writeAll(fd, new Uint8Array(words.buffer, 0, 8 * m));
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(READ_CHUNK, bytes.length - done));
}

/**
 * Writes tensors to `path` atomically: a temporary file in the same folder, fsynced, then
 * renamed over the target, so a crash never leaves a half-written checkpoint. Tensors are
 * laid out by element size (8, then 4, then 2 bytes; given order within a size) so every
 * tensor is naturally aligned; the header is padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  checkHost();
  const seen = new Set<string>();
  for (const t of tensors) checkWritable(path, t, seen);
  const ordered = tensors
    .map((t, i) => ({ t, i }))
    .sort((a, b) => DTYPE_SIZE[b.t.dtype] - DTYPE_SIZE[a.t.dtype] || a.i - b.i)
    .map((x) => x.t);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`${path}: metadata "${k}" must be a string.`);
    }
    setOwn(header, '__metadata__', metadata);
  }
  let offset = 0;
  for (const t of ordered) {
    const bytes = t.data.length * DTYPE_SIZE[t.dtype];
    setOwn(header, t.name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder();
  let headerBytes = utf8.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += ' '.repeat(padded - headerBytes.length);
  headerBytes = utf8.encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);

  writeAtomic(
    path,
    (fd) => {
      writeAll(fd, prefix);
      writeAll(fd, headerBytes);
      for (const t of ordered) writeTensor(fd, t);
    },
    (message) => new SafetensorsError(message),
  );
}
