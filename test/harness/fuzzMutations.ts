// Seeded mutations of model files for the fuzzer (fuzzModelFiles.ts): each takes the bytes of
// a real file and returns corrupted bytes plus a short description of what was done. Three
// levels for safetensors: the raw bytes (length prefix, bit flips, NaN/Inf, truncation), the
// header JSON re-encoded with a correct length (wrong dtypes, shapes, offsets, entries), and
// whole files that are valid safetensors but hold the wrong tensors (shapes, names, dtypes).
// JSON files (config.json, adapter_config.json, trainer state, manifests) get type-level and
// value-level mutations of their fields, biased towards the fields the loaders read. GGUF files
// get their header fields (counts, lengths, value types, tensor dims, types and offsets) set to
// absurd values, and truncations and bit flips in the header or the data. tokenizer.json gets
// mutations that know its structure (the model's type, vocabulary ids, merges naming unknown
// pieces, added tokens, a vocabulary larger than the model's embedding, pipelines nested
// thousands deep, invalid UTF-8), tokenizer_config.json wrong types of its BOS/EOS entries, their
// flags and the chat template.
import { parseSafetensors } from '../../engine/io/safetensors';
import { DTYPE_SIZE, SUPPORTED_DTYPES, type Dtype } from '../../engine/io/dtype';
import { f32ToF16 } from '../../engine/formats/half';

export type Rng = () => number;

export interface Mutated {
  bytes: Uint8Array;
  what: string;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Values no loader should take for a count, a size, a name or a flag. */
const ABSURD: readonly unknown[] = [
  0, -1, -0, 1, 2, 3, 7, 0.5, 1.5, -2.5, 1e9, 1e12, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 4096, 65536, 1 << 20,
  '', '12', 'abc', 'nan', '__proto__', '..', '../../..', '/', 'x'.repeat(5000), null, true, false, [], [null], [1, 2], {}, { a: null }, { a: { b: null } },
];

function absurd(rng: Rng): unknown {
  return pick(rng, ABSURD);
}

// ---------------------------------------------------------------- JSON

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every path to a value in the document (objects and arrays walked), up to `depth` levels. */
function paths(v: unknown, depth: number, prefix: (string | number)[] = []): (string | number)[][] {
  if (depth === 0) return [];
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) {
    v.slice(0, 8).forEach((x, i) => {
      out.push([...prefix, i], ...paths(x, depth - 1, [...prefix, i]));
    });
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, depth - 1, [...prefix, k]));
  }
  return out;
}

function parentOf(doc: unknown, path: (string | number)[]): { parent: JsonObject | unknown[]; key: string | number } {
  let cur = doc as JsonObject | unknown[];
  for (const p of path.slice(0, -1)) cur = (cur as Record<string | number, unknown>)[p] as JsonObject | unknown[];
  return { parent: cur, key: path[path.length - 1]! };
}

function scaled(rng: Rng, v: unknown): unknown {
  if (typeof v !== 'number') return absurd(rng);
  return pick(rng, [v * 2, v * 1e6, v + 1, v - 1, -v, v / 3, 0, Math.round(v * 1e9)]);
}

/** Mutates one field of a parsed document in place; `hot` paths (the fields loaders read) are chosen more often. */
function mutateField(rng: Rng, doc: unknown, hot: readonly string[]): string {
  const all = paths(doc, 4);
  const hotPaths = all.filter((p) => hot.includes(p.join('.')));
  const path = hotPaths.length > 0 && rng() < 0.7 ? pick(rng, hotPaths) : all.length > 0 ? pick(rng, all) : null;
  if (path === null) return 'no field to mutate';
  const { parent, key } = parentOf(doc, path);
  const name = path.join('.');
  const old = (parent as Record<string | number, unknown>)[key];
  const r = rng();
  if (r < 0.2) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
    return `deleted ${name}`;
  }
  const value = r < 0.45 ? scaled(rng, old) : absurd(rng);
  if (Array.isArray(parent)) parent[key as number] = value;
  else setOwn(parent, key as string, value);
  return `${name} = ${JSON.stringify(value)?.slice(0, 40)}`;
}

/** A JSON document mutated at the text level or at one of its fields. */
export function mutateJson(rng: Rng, bytes: Uint8Array, hot: readonly string[]): Mutated {
  const text = utf8Decoder.decode(bytes);
  const r = rng();
  if (r < 0.08) {
    const cut = int(rng, text.length);
    return { bytes: utf8.encode(text.slice(0, cut)), what: `truncated at ${cut} of ${text.length} chars` };
  }
  if (r < 0.14) {
    const garbage = pick(rng, ['', 'nan', 'Infinity', '{', '\u0000\u0001', '\ufeff' + text, 'null', '[]', '42', '"x"', 'true', '['.repeat(200_000), '{"a":'.repeat(50_000)]);
    return { bytes: utf8.encode(garbage), what: `replaced by ${JSON.stringify(garbage.slice(0, 12))}${garbage.length > 12 ? '...' : ''}` };
  }
  if (r < 0.18) {
    const b = bytes.slice();
    for (let i = 0, n = 1 + int(rng, 8); i < n && b.length > 0; i++) b[int(rng, b.length)] ^= 1 << int(rng, 8);
    return { bytes: b, what: 'bit flips in the text' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { bytes, what: 'unchanged (seed is not JSON)' };
  }
  const whats: string[] = [];
  for (let i = 0, n = 1 + (rng() < 0.3 ? int(rng, 3) : 0); i < n; i++) {
    if (rng() < 0.1 && isObject(doc)) {
      const key = pick(rng, ['__proto__', 'constructor', 'extra', 'toString', ...hot.map((h) => h.split('.')[0]!)]);
      setOwn(doc, key, absurd(rng));
      whats.push(`set ${key}`);
    } else whats.push(mutateField(rng, doc, hot));
  }
  return { bytes: utf8.encode(JSON.stringify(doc)), what: whats.join('; ') };
}

// ---------------------------------------------------------------- safetensors

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** The tensors of a valid file, in file order, with their raw bytes. */
export function decodeTensors(bytes: Uint8Array): { tensors: RawTensor[]; metadata: Record<string, string> } {
  const f = parseSafetensors(bytes, 'seed');
  return { tensors: f.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape.slice(), data: new Uint8Array(f.raw(t.name)) })), metadata: { ...f.metadata } };
}

/** A file from a header object (any JSON) and a data section, with a correct length prefix. */
export function encodeRaw(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = utf8.encode(JSON.stringify(header) ?? 'null');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A valid file holding these tensors in order (each data_offsets exactly its bytes). */
export function encodeTensors(tensors: readonly RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: JsonObject = {};
  if (metadata !== undefined) setOwn(header, '__metadata__', metadata);
  let offset = 0;
  for (const t of tensors) {
    setOwn(header, t.name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] });
    offset += t.data.length;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const t of tensors) {
    data.set(t.data, offset);
    offset += t.data.length;
  }
  return encodeRaw(header, data);
}

function splitFile(bytes: Uint8Array): { header: JsonObject; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(utf8Decoder.decode(bytes.subarray(8, 8 + n))) as JsonObject, data: bytes.subarray(8 + n) };
}

function lengthPrefix(rng: Rng, bytes: Uint8Array): Mutated {
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const size = BigInt(bytes.length);
  const value = pick(rng, [0n, 1n, 2n, 7n, n - 1n, n + 1n, n + 8n, size, size - 8n, size + 1000n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n, BigInt(int(rng, 2 ** 30))]);
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, value, true);
  return { bytes: out, what: `header length ${n} -> ${value}` };
}

function headerText(rng: Rng, bytes: Uint8Array): Mutated {
  const { header, data } = splitFile(bytes);
  const json = utf8.encode(JSON.stringify(header));
  const r = rng();
  let text: Uint8Array;
  let what: string;
  if (r < 0.4) {
    const cut = int(rng, json.length);
    text = json.slice(0, cut);
    what = `header JSON truncated at ${cut} of ${json.length}`;
  } else if (r < 0.6) {
    text = json.slice();
    for (let i = 0, k = 1 + int(rng, 6); i < k; i++) text[int(rng, text.length)] = pick(rng, [0x00, 0x22, 0x7b, 0x7d, 0xff, 0xc3, 0x5c, int(rng, 256)]);
    what = 'header JSON bytes overwritten';
  } else {
    const s = pick(rng, ['', ' ', 'null', '[]', '"F32"', '123', '{}', 'nan', '{"a":{"dtype":"F32"}}', '['.repeat(100_000), '\ufeff{}']);
    text = utf8.encode(s);
    what = `header JSON replaced by ${JSON.stringify(s.slice(0, 16))}`;
  }
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return { bytes: out, what };
}

const BAD_DTYPES: readonly unknown[] = [...SUPPORTED_DTYPES, 'F8_E4M3', 'I16', 'U64', 'f32', 'float32', '', null, 4, ['F32'], { F32: 1 }];

function headerField(rng: Rng, bytes: Uint8Array): Mutated {
  const { header, data } = splitFile(bytes);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = pick(rng, names);
  const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  const [b, e] = entry.data_offsets;
  const other = header[pick(rng, names)] as { data_offsets: [number, number] };
  const r = rng();
  let what: string;
  if (r < 0.15) {
    entry.dtype = pick(rng, BAD_DTYPES) as string;
    what = `${name}.dtype = ${JSON.stringify(entry.dtype)}`;
  } else if (r < 0.4) {
    const s = entry.shape;
    const shapes: unknown[] = [[], [0], [-1, 4], [2 ** 53, 2 ** 53], [1e12], [1e6, 1e6, 1e6], [1e12, 0], [1.5], ['4'], null, 'x', Array(100).fill(1), Array(65).fill(1), [...s, 1], s.map((d) => d * 2), [...s].reverse(), [s.reduce((a, x) => a * x, 1) * 4], [2 ** 32, 2 ** 32, 0], [-0], [Infinity]];
    entry.shape = pick(rng, shapes) as number[];
    what = `${name}.shape = ${JSON.stringify(entry.shape)?.slice(0, 40)}`;
  } else if (r < 0.65) {
    const offs: unknown[] = [[e, b], [0, 2 ** 53], [b, data.length + 1], [-1, e], [b, e, 0], null, [b + 1, e + 1], other.data_offsets, [1e20, 1e20 + 4], [b, e + 4], [b - 4, e - 4], [b, b], [b.toString(), e], [b + 0.5, e], [data.length, data.length + (e - b)]];
    entry.data_offsets = pick(rng, offs) as [number, number];
    what = `${name}.data_offsets = ${JSON.stringify(entry.data_offsets)}`;
  } else if (r < 0.75) {
    delete header[name];
    what = `entry ${name} deleted`;
  } else if (r < 0.82) {
    const extra = pick(rng, ['extra.weight', name + '.copy', '', '__proto__', 'lm_head.weight']);
    setOwn(header, extra, rng() < 0.5 ? { ...entry } : { dtype: 'F32', shape: [0], data_offsets: [0, 0] });
    what = `extra entry ${JSON.stringify(extra)}`;
  } else if (r < 0.9) {
    setOwn(header, name, absurd(rng));
    what = `entry ${name} = ${JSON.stringify(header[name])?.slice(0, 30)}`;
  } else {
    setOwn(header, '__metadata__', pick(rng, [1, [], null, { a: 1 }, { a: { b: null } }, 'str', { format: null }, JSON.parse('{"__proto__":"x"}')]));
    what = `__metadata__ = ${JSON.stringify(header.__metadata__)}`;
  }
  return { bytes: encodeRaw(header, data), what };
}

function dataBytes(rng: Rng, bytes: Uint8Array): Mutated {
  const { header } = splitFile(bytes);
  const dataStart = bytes.length - Math.max(0, ...Object.values(header).map((v) => (v as { data_offsets?: number[] }).data_offsets?.[1] ?? 0));
  const r = rng();
  if (r < 0.3) {
    const out = bytes.slice();
    const k = 1 + int(rng, 64);
    for (let i = 0; i < k; i++) {
      const at = dataStart + int(rng, bytes.length - dataStart);
      out[at] ^= 1 << int(rng, 8);
    }
    return { bytes: out, what: `${k} bit flips in the data` };
  }
  if (r < 0.5) {
    const out = bytes.slice();
    const f = new DataView(out.buffer);
    const k = 1 + int(rng, 32);
    for (let i = 0; i < k; i++) {
      const at = dataStart + 4 * int(rng, (bytes.length - dataStart) >> 2);
      if (at + 4 <= out.length) f.setFloat32(at, pick(rng, [NaN, Infinity, -Infinity, 3e38, -0]), true);
    }
    return { bytes: out, what: `${k} values set to NaN/Inf/extremes` };
  }
  if (r < 0.8) {
    const cut = pick(rng, [0, 1, 7, 8, 9, int(rng, dataStart), dataStart, dataStart + int(rng, bytes.length - dataStart), bytes.length - 1]);
    return { bytes: bytes.slice(0, cut), what: `truncated to ${cut} of ${bytes.length} bytes` };
  }
  const extra = new Uint8Array(1 + int(rng, 4096)).map(() => int(rng, 256));
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length);
  return { bytes: out, what: `${extra.length} garbage bytes appended` };
}

function convert(t: RawTensor, dtype: Dtype): RawTensor {
  const n = t.data.length / DTYPE_SIZE[t.dtype as Dtype];
  const src = t.dtype === 'F32' ? new Float32Array(t.data.buffer, t.data.byteOffset, n) : new Float32Array(n);
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    if (dtype === 'F64') dv.setFloat64(8 * i, v, true);
    else if (dtype === 'F32') dv.setFloat32(4 * i, v, true);
    else if (dtype === 'I64') dv.setBigInt64(8 * i, BigInt(Math.round(v * 1000)), true);
    else if (dtype === 'I32') dv.setInt32(4 * i, Math.round(v * 1000), true);
    else if (dtype === 'BF16') dv.setUint16(2 * i, new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16, true);
    else if (dtype === 'F16') {
      const h = new Uint16Array(1);
      f32ToF16(h, Float32Array.of(v));
      dv.setUint16(2 * i, h[0]!, true);
    } else if (dtype === 'U16') dv.setUint16(2 * i, Math.abs(Math.round(v * 1000)) & 0xffff, true);
    else out[i] = Math.round(v * 100) & 0xff;
  }
  return { ...t, dtype, data: out };
}

function resized(rng: Rng, t: RawTensor): RawTensor {
  const shape = pick(rng, [t.shape.map((d) => d + 1), t.shape.map((d, i) => (i === 0 ? Math.max(0, d - 1) : d)), [...t.shape].reverse(), [...t.shape, 1], t.shape.slice(1), [0, ...t.shape.slice(1)], t.shape.map((d) => d * 2)]);
  const numel = shape.reduce((a, d) => a * d, 1);
  const size = DTYPE_SIZE[t.dtype as Dtype];
  const data = new Uint8Array(numel * size);
  data.set(t.data.subarray(0, Math.min(t.data.length, data.length)));
  return { ...t, shape, data };
}

/** Valid safetensors files holding the wrong tensors: shapes, names, dtypes, a missing or extra one. */
function semantic(rng: Rng, bytes: Uint8Array): Mutated {
  const { tensors, metadata } = decodeTensors(bytes);
  const i = int(rng, tensors.length);
  const t = tensors[i]!;
  const r = rng();
  let what: string;
  if (r < 0.3) {
    tensors[i] = resized(rng, t);
    what = `${t.name} reshaped [${t.shape.join(',')}] -> [${tensors[i]!.shape.join(',')}]`;
  } else if (r < 0.5) {
    const dtype = pick(rng, SUPPORTED_DTYPES.filter((d) => d !== t.dtype));
    tensors[i] = convert(t, dtype);
    what = `${t.name} stored as ${dtype}`;
  } else if (r < 0.65) {
    tensors.splice(i, 1);
    what = `${t.name} left out`;
  } else if (r < 0.8) {
    const name = pick(rng, [t.name.replace(/\.weight$/, '.bias'), t.name.replace(/\d+/, '99'), t.name.toUpperCase(), 'base_model.model.' + t.name, t.name.replace('lora_A', 'lora_B'), t.name.replace(/^[^.]*\./, '')]);
    if (!tensors.some((x) => x.name === name)) tensors[i] = { ...t, name };
    what = `${t.name} renamed ${name}`;
  } else if (r < 0.9) {
    tensors.push({ ...t, name: t.name + '_extra' });
    what = `extra tensor ${t.name}_extra`;
  } else {
    tensors.push(tensors.shift()!);
    what = 'tensor order rotated';
  }
  return { bytes: encodeTensors(tensors, metadata), what };
}

/** A safetensors file mutated at one of the levels above. */
export function mutateSafetensors(rng: Rng, bytes: Uint8Array): Mutated {
  const r = rng();
  if (r < 0.15) return lengthPrefix(rng, bytes);
  if (r < 0.27) return headerText(rng, bytes);
  if (r < 0.6) return headerField(rng, bytes);
  if (r < 0.82) return dataBytes(rng, bytes);
  return semantic(rng, bytes);
}

/** A binary file (ONNX graph or its weights) truncated, bit-flipped, emptied or grown. */
export function mutateBinary(rng: Rng, bytes: Uint8Array): Mutated {
  const r = rng();
  if (r < 0.35) {
    const out = bytes.slice();
    const k = 1 + int(rng, 16);
    for (let i = 0; i < k && out.length > 0; i++) out[int(rng, out.length)] ^= 1 << int(rng, 8);
    return { bytes: out, what: `${k} bit flips` };
  }
  if (r < 0.7) {
    const cut = pick(rng, [0, 1, int(rng, bytes.length), bytes.length - 1]);
    return { bytes: bytes.slice(0, cut), what: `truncated to ${cut} of ${bytes.length} bytes` };
  }
  if (r < 0.85) {
    const out = new Uint8Array(bytes.length + 1 + int(rng, 64));
    out.set(bytes);
    return { bytes: out, what: 'zero bytes appended' };
  }
  const out = bytes.slice();
  out.fill(0, int(rng, out.length));
  return { bytes: out, what: 'tail zeroed' };
}

// ---------------------------------------------------------------- GGUF

/** A header field of a GGUF file: where it is, its width, and what it is. */
interface GgufField {
  at: number;
  size: 4 | 8;
  what: string;
  /** Tensor infos and counts: the fields the loaders rely on most. */
  hot: boolean;
}

/**
 * The header fields of a valid GGUF file, walked independently of the engine's reader (from
 * the format: counts, each key's string length and value type, array element types and
 * lengths, each tensor's name length, n_dims, dims, ggml type and offset).
 */
export function ggufFields(bytes: Uint8Array): { fields: GgufField[]; headerEnd: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: GgufField[] = [{ at: 4, size: 4, what: 'version', hot: true }, { at: 8, size: 8, what: 'tensor count', hot: true }, { at: 16, size: 8, what: 'metadata count', hot: true }];
  let p = 24;
  const u32 = (): number => ((p += 4), dv.getUint32(p - 4, true));
  const u64 = (): number => ((p += 8), Number(dv.getBigUint64(p - 8, true)));
  const str = (what: string, hot: boolean): string => {
    fields.push({ at: p, size: 8, what: `${what} length`, hot });
    const n = u64();
    p += n;
    return utf8Decoder.decode(bytes.subarray(p - n, p));
  };
  const SIZES = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
  const value = (type: number, where: string, record: boolean): void => {
    if (type === 8) {
      if (record) str(`${where} string`, false);
      else {
        const n = u64();
        p += n;
      }
    } else if (type === 9) {
      if (record) fields.push({ at: p, size: 4, what: `${where} element type`, hot: false }, { at: p + 4, size: 8, what: `${where} array length`, hot: false });
      const of = u32();
      const n = u64();
      for (let i = 0; i < n; i++) value(of, `${where}[${i}]`, record && i < 2);
    } else {
      if (record && type === 4) fields.push({ at: p, size: 4, what: `${where} value`, hot: where.includes('alignment') });
      p += SIZES[type]!;
    }
  };
  const nTensors = Number(dv.getBigUint64(8, true));
  const nKv = Number(dv.getBigUint64(16, true));
  for (let i = 0; i < nKv; i++) {
    const key = str(`key ${i}`, false);
    fields.push({ at: p, size: 4, what: `${key} type`, hot: false });
    value(u32(), key, true);
  }
  for (let i = 0; i < nTensors; i++) {
    const name = str(`tensor ${i} name`, true);
    fields.push({ at: p, size: 4, what: `${name} n_dims`, hot: true });
    const nDims = u32();
    for (let d = 0; d < nDims; d++) fields.push({ at: p + 8 * d, size: 8, what: `${name} ne[${d}]`, hot: true });
    p += 8 * nDims;
    fields.push({ at: p, size: 4, what: `${name} ggml type`, hot: true }, { at: p + 4, size: 8, what: `${name} offset`, hot: true });
    p += 12;
  }
  return { fields, headerEnd: p };
}

function ggufFieldValue(rng: Rng, f: GgufField, old: bigint): bigint {
  if (/type$/.test(f.what)) return BigInt(pick(rng, [13, 9, 8, 10, 99, 255, 2 ** 31, 3, 11, 30, 39, 2, 12, 14, 0]));
  if (f.what === 'version') return BigInt(pick(rng, [0, 1, 2, 4, 0x03000000, 0xffffffff]));
  const max = f.size === 4 ? 2n ** 32n - 1n : 2n ** 64n - 1n;
  const v = pick(rng, [0n, 1n, 2n, 5n, old + 1n, old - 1n, old * 2n, old + 32n, old - 32n, old * 1000n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, max, BigInt(int(rng, 2 ** 30)), 48n, 64n, 4096n]);
  return v < 0n ? 0n : v > max ? max : v;
}

/** A GGUF file with one header field set to an absurd or off-by-some value, truncated, flipped, or grown. */
export function mutateGguf(rng: Rng, bytes: Uint8Array): Mutated {
  const { fields, headerEnd } = ggufFields(bytes);
  const r = rng();
  if (r < 0.45) {
    const hot = fields.filter((f) => f.hot);
    const f = hot.length > 0 && rng() < 0.6 ? pick(rng, hot) : pick(rng, fields);
    const out = bytes.slice();
    const dv = new DataView(out.buffer);
    const old = f.size === 4 ? BigInt(dv.getUint32(f.at, true)) : dv.getBigUint64(f.at, true);
    const v = ggufFieldValue(rng, f, old);
    if (f.size === 4) dv.setUint32(f.at, Number(v & 0xffffffffn), true);
    else dv.setBigUint64(f.at, v, true);
    return { bytes: out, what: `${f.what} ${old} -> ${v}` };
  }
  if (r < 0.65) {
    const cut = rng() < 0.6 ? int(rng, headerEnd + 1) : headerEnd + int(rng, bytes.length - headerEnd);
    return { bytes: bytes.slice(0, cut), what: `truncated to ${cut} of ${bytes.length} bytes (header ends at ${headerEnd})` };
  }
  if (r < 0.8) {
    const out = bytes.slice();
    const k = 1 + int(rng, 8);
    for (let i = 0; i < k; i++) out[int(rng, headerEnd)] ^= 1 << int(rng, 8);
    return { bytes: out, what: `${k} bit flips in the header` };
  }
  if (r < 0.9) {
    const out = bytes.slice();
    const k = 1 + int(rng, 64);
    for (let i = 0; i < k && out.length > headerEnd; i++) out[headerEnd + int(rng, out.length - headerEnd)] ^= 1 << int(rng, 8);
    return { bytes: out, what: `${k} bit flips in the data` };
  }
  return mutateBinary(rng, bytes);
}

// ---------------------------------------------------------------- tokenizer.json, tokenizer_config.json

/** The fields of tokenizer.json the tokenizer reads: the generic JSON mutations pick them more often. */
export const TOKENIZER_HOT = [
  'model', 'model.type', 'model.vocab', 'model.merges', 'model.merges.0', 'model.merges.1', 'model.unk_token', 'model.byte_fallback', 'model.ignore_merges',
  'model.continuing_subword_prefix', 'model.end_of_word_suffix', 'added_tokens', 'added_tokens.0', 'added_tokens.0.id', 'added_tokens.0.content', 'added_tokens.0.special',
  'added_tokens.0.lstrip', 'added_tokens.2.id', 'added_tokens.3.content', 'normalizer', 'normalizer.type', 'pre_tokenizer', 'pre_tokenizer.type', 'pre_tokenizer.pretokenizers',
  'pre_tokenizer.pretokenizers.0', 'pre_tokenizer.pretokenizers.0.pattern', 'pre_tokenizer.pretokenizers.0.pattern.Regex', 'pre_tokenizer.pretokenizers.0.behavior',
  'pre_tokenizer.pretokenizers.1', 'pre_tokenizer.pretokenizers.1.type', 'decoder', 'decoder.type', 'post_processor', 'post_processor.type',
];

/** The fields of tokenizer_config.json the engine reads. */
export const TOKENIZER_CONFIG_HOT = ['bos_token', 'eos_token', 'add_bos_token', 'add_eos_token', 'chat_template', 'chat_template.0', 'chat_template.0.template', 'pad_token', 'unk_token'];

/** A string value replaced, after serialising, by deeply nested JSON (JSON.stringify cannot write it). */
const DEEP = '\u0000deeply nested\u0000';

/** Deeply nested JSON text: plain arrays or objects, or pipeline Sequences of Sequences. */
function deepText(rng: Rng): { text: string; what: string } {
  // 20,000 levels overflow any recursive walk; deeper only makes the case slower.
  const d = pick(rng, [64, 2000, 20_000]);
  const k = pick(rng, ['array', 'object', 'pretokenizers', 'normalizers', 'decoders', 'processors'] as const);
  if (k === 'array') return { text: '['.repeat(d) + ']'.repeat(d), what: `arrays nested ${d} deep` };
  if (k === 'object') return { text: '{"a":'.repeat(d) + '1' + '}'.repeat(d), what: `objects nested ${d} deep` };
  const leaf = k === 'normalizers' ? '{"type":"NFC"}' : '{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}';
  return { text: `{"type":"Sequence","${k}":[`.repeat(d) + leaf + ']}'.repeat(d), what: `Sequence of ${k} nested ${d} deep` };
}

/** Serialises a mutated document, expanding the DEEP marker if a mutation placed one. */
function serialise(rng: Rng, doc: unknown, what: string): Mutated {
  let text = JSON.stringify(doc) ?? 'null';
  const marker = JSON.stringify(DEEP);
  if (text.includes(marker)) {
    const deep = deepText(rng);
    text = text.replace(marker, () => deep.text);
    what = what.replace(DEEP, deep.what);
  }
  return { bytes: utf8.encode(text), what };
}

/** Bytes that are not UTF-8 (lone continuation or lead bytes, overlong forms, surrogates, beyond U+10FFFF) inside the text. */
function invalidUtf8(rng: Rng, bytes: Uint8Array): Mutated {
  const quotes: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22) quotes.push(i + 1);
  const out: number[] = Array.from(bytes);
  const k = 1 + int(rng, 4);
  const seqs: number[][] = [];
  // Inserted from the back so earlier positions stay valid.
  const at = Array.from({ length: k }, () => (quotes.length > 0 && rng() < 0.8 ? pick(rng, quotes) : int(rng, bytes.length + 1))).sort((a, b) => b - a);
  for (const p of at) {
    const s = pick(rng, [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe], [0xf0, 0x9f, 0x99]]);
    out.splice(p, 0, ...s);
    seqs.push(s);
  }
  return { bytes: Uint8Array.from(out), what: `invalid UTF-8 ${seqs.map((s) => s.map((b) => b.toString(16)).join(' ')).join(', ')} inserted` };
}

/** Numbers no id should be, relative to the vocabulary's size. */
function badId(rng: Rng, size: number, ids: readonly number[]): unknown {
  return pick(rng, [-1, -0.5, 1.5, '3', null, true, [], {}, [3], 2 ** 24, 2 ** 24 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, size, size + 1, size * 1000, pick(rng, ids.length > 0 ? ids : [0])]);
}

const WRONG_TYPE: readonly unknown[] = [null, 0, -1, 1.5, '', 'x', true, [], [null], [1, 2], {}, { a: 1 }, DEEP];

/** One mutation that knows tokenizer.json's structure: the model, its vocabulary and merges, added tokens, the pipeline. */
function tokenizerField(rng: Rng, doc: JsonObject): string {
  const model = isObject(doc.model) ? doc.model : {};
  const vocab = isObject(model.vocab) ? model.vocab : {};
  const pieces = Object.keys(vocab);
  const ids = Object.values(vocab).filter((v): v is number => typeof v === 'number');
  const merges = Array.isArray(model.merges) ? model.merges : [];
  const added = Array.isArray(doc.added_tokens) ? (doc.added_tokens as unknown[]) : [];
  const addedObjs = added.filter(isObject);
  const size = Math.max(0, ...ids, ...addedObjs.map((t) => (typeof t.id === 'number' ? t.id : 0))) + 1;
  const piece = pieces.length > 0 ? pick(rng, pieces) : 'a';
  const show = (v: unknown): string => (v === DEEP ? DEEP : (JSON.stringify(v)?.slice(0, 40) ?? String(v)));
  switch (int(rng, 20)) {
    case 0: {
      const v = pick(rng, ['Unigram', 'WordPiece', 'WordLevel', 'bpe', 'BPE ', '', 'x'.repeat(5000), ...WRONG_TYPE]);
      setOwn(model, 'type', v);
      return `model.type = ${show(v)}`;
    }
    case 1: {
      const key = pick(rng, ['type', 'vocab', 'merges']);
      delete model[key];
      return `model.${key} deleted`;
    }
    case 2: {
      const v = pick(rng, [[...pieces.slice(0, 300)], ...WRONG_TYPE]);
      setOwn(model, 'vocab', v);
      return `model.vocab = ${show(v)}`;
    }
    case 3: {
      const v = pick(rng, ['Ġ t', [['Ġ', 't'], 5], [5], [null], ...WRONG_TYPE]);
      setOwn(model, 'merges', v);
      return `model.merges = ${show(v)}`;
    }
    case 4: {
      const v = badId(rng, size, ids);
      setOwn(vocab, piece, v);
      return `vocab[${JSON.stringify(piece)}] = ${show(v)}`;
    }
    case 5: {
      // A merge's parts or result, or a byte, missing: merges then name unknown tokens.
      const n = 1 + int(rng, 8);
      const gone: string[] = [];
      for (let i = 0; i < n && pieces.length > 0; i++) {
        const p = pick(rng, pieces);
        delete vocab[p];
        gone.push(p);
      }
      return `vocab entries ${gone.map((p) => JSON.stringify(p)).join(', ')} deleted`;
    }
    case 6: {
      // A vocabulary larger than the model's embedding, or new pieces colliding with added tokens.
      const n = pick(rng, [1, 2, 50, 5000]);
      const from = pick(rng, [size, size - 1, size + 100, 0]);
      for (let i = 0; i < n; i++) setOwn(vocab, `extra${i}`, from + i);
      return `${n} vocab entries added from id ${from}`;
    }
    case 7: {
      const p = pick(rng, ['', '__proto__', 'constructor', 'toString', 'x'.repeat(5000), '\ud800', '<|im_end|>', '<0x0A>', '\u2581', 'Ġ Ġ']);
      const v = pick(rng, [size, 0, ids.length > 0 ? pick(rng, ids) : 0]);
      setOwn(vocab, p, v);
      return `vocab[${JSON.stringify(p).slice(0, 20)}] = ${v}`;
    }
    case 8: {
      if (merges.length === 0) return 'no merges';
      const i = int(rng, merges.length);
      const v = pick(rng, [5, null, 'ab', 'a  b', 'a b c', ' ', '', ['a'], ['a', 'b', 'c'], [1, 2], ['Ġ', 'zz'], 'zz yy', [null, null], {}, [['a'], ['b']], ['', ''], ['__proto__', 'x'], DEEP]);
      merges[i] = v;
      return `merges[${i}] = ${show(v)}`;
    }
    case 9: {
      const k = pick(rng, ['strings', 'first string', 'first array', 'reversed', 'duplicated']);
      const asString = (m: unknown): unknown => (Array.isArray(m) ? m.join(' ') : m);
      if (k === 'strings') model.merges = merges.map(asString);
      else if (k === 'first string') merges[0] = asString(merges[0]);
      else if (k === 'first array') model.merges = [['Ġ', 't'], ...merges.slice(1).map(asString)];
      else if (k === 'reversed') merges.reverse();
      else model.merges = [...merges, ...merges];
      return `merges ${k}`;
    }
    case 10: {
      // Merges whose parts or result the vocabulary lacks.
      const n = 1 + int(rng, 20);
      for (let i = 0; i < n; i++) merges.splice(int(rng, merges.length + 1), 0, pick(rng, [['q', 'z'], ['Ġ', 'missing'], ['missing', 'piece'], [pick(rng, pieces), pick(rng, pieces)], ['Ġ', 'Ġ']]));
      return `${n} merges of unknown or unlisted pieces inserted`;
    }
    case 11: {
      const v = pick(rng, [{}, 'x', 5, ['<|im_end|>'], [5], [null], [[]], ...WRONG_TYPE]);
      setOwn(doc, 'added_tokens', v);
      return `added_tokens = ${show(v)}`;
    }
    case 12: {
      if (addedObjs.length === 0) return 'no added tokens';
      const t = pick(rng, addedObjs);
      const field = pick(rng, ['id', 'id', 'content', 'content', 'special', 'lstrip', 'rstrip', 'normalized', 'single_word']);
      const v = field === 'id' ? badId(rng, size, ids) : field === 'content' ? pick(rng, ['', 'in', 'Ġ', '(.*)', '\\', '$&', '<|im_start|>', 'x'.repeat(5000), ' ', '\ud800', ...WRONG_TYPE]) : pick(rng, ['yes', 1, null, [], true]);
      const name = JSON.stringify(t.content)?.slice(0, 20);
      setOwn(t, field, v);
      return `added token ${name} ${field} = ${show(v)}`;
    }
    case 13: {
      const v = pick(rng, [size, size + 1, size + 1000, 2 ** 24 - 1, size - 1, 0]);
      added.push({ id: v, content: pick(rng, ['<|extra|>', 'extra', '<|im_end|>', '']), single_word: false, lstrip: rng() < 0.5, rstrip: rng() < 0.5, normalized: false, special: rng() < 0.5 });
      if (!Array.isArray(doc.added_tokens)) doc.added_tokens = added;
      return `added token with id ${v} appended`;
    }
    case 14: {
      const field = pick(rng, ['pre_tokenizer', 'normalizer', 'decoder', 'post_processor', 'model.vocab', 'model.merges', 'added_tokens', 'model.type', 'model.unk_token']);
      const [a, b] = field.split('.') as [string, string | undefined];
      if (b === undefined) setOwn(doc, a, DEEP);
      else setOwn(model, b, DEEP);
      return `${field} = ${DEEP}`;
    }
    case 15: {
      const pre = isObject(doc.pre_tokenizer) ? doc.pre_tokenizer : {};
      const parts = Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as unknown[]) : [];
      const split = parts.find((p): p is JsonObject => isObject(p) && p.type === 'Split');
      const k = int(rng, 5);
      if (k === 0 && split) {
        const v = pick(rng, ['(', '(?i:abc', '\\p{Foo}', '', '(a*)*b', '[', '(?<=x)y', '\\', 'x'.repeat(5000), '(?i)abc', '\\G', '[[:alpha:]]', '\\h+']);
        split.pattern = { Regex: v };
        return `Split pattern = ${JSON.stringify(v).slice(0, 20)}`;
      }
      if (k === 1 && split) {
        const v = pick(rng, [{ String: '' }, { String: ' ' }, {}, 'x', null, { Regex: 5 }, { Regex: null }, { String: 5 }]);
        split.pattern = v;
        const b = pick(rng, ['Isolated', 'Removed', 'MergedWithPrevious', 'Contiguous', 'Nonsense', 5, null]);
        split.behavior = b;
        return `Split pattern = ${JSON.stringify(v)}, behavior = ${JSON.stringify(b)}`;
      }
      if (k === 2) {
        // No byte-level part left (or a SentencePiece one instead).
        setOwn(doc, 'pre_tokenizer', pick(rng, [null, { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }, { type: 'Whitespace' }, { type: 'Sequence', pretokenizers: parts.filter((p) => !(isObject(p) && p.type === 'ByteLevel')) }]));
        setOwn(doc, 'decoder', pick(rng, [null, { type: 'Fuse' }, doc.decoder]));
        setOwn(doc, 'post_processor', null);
        return `no ByteLevel pre-tokenizer (${JSON.stringify(doc.pre_tokenizer)?.slice(0, 30)}), decoder ${JSON.stringify(doc.decoder)?.slice(0, 20)}`;
      }
      const field = pick(rng, ['pre_tokenizer', 'normalizer', 'decoder', 'post_processor']);
      const v = pick(rng, [{ type: 'Nonsense' }, { type: 5 }, { type: 'Sequence' }, { type: 'Sequence', pretokenizers: [null] }, { type: 'Sequence', normalizers: [5, { type: 'NFKC' }] },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }, { type: 'Prepend', prepend: '\u2581' }, { type: 'Strip', strip_left: 'x' }, { type: 'Digits', individual_digits: true },
        { type: 'TemplateProcessing', single: [{ SpecialToken: { id: 5 } }, { Sequence: { id: 'A' } }, { SpecialToken: null }] }, { type: 'TemplateProcessing', single: 'x' },
        { type: 'ByteLevel', add_prefix_space: 'yes', use_regex: 5 }, { type: 'Precompiled', precompiled_charsmap: 'AAAA' }, { type: 'Metaspace', replacement: 5 }, ...WRONG_TYPE]);
      setOwn(doc, field, v);
      return `${field} = ${show(v)}`;
    }
    case 16: {
      const field = pick(rng, ['unk_token', 'byte_fallback', 'ignore_merges', 'continuing_subword_prefix', 'end_of_word_suffix', 'dropout', 'fuse_unk']);
      const v = pick(rng, [true, 'Ġ', '<|im_end|>', 'missing', '', 'x'.repeat(5000), 1.5, 0.5, ...WRONG_TYPE]);
      setOwn(model, field, v);
      return `model.${field} = ${show(v)}`;
    }
    case 17: {
      // Huge or negative numbers wherever the document has a number.
      const all = paths(doc, 4).filter((p) => typeof (parentOf(doc, p).parent as Record<string | number, unknown>)[p[p.length - 1]!] === 'number');
      if (all.length === 0) return 'no number';
      const p = pick(rng, all);
      const { parent, key } = parentOf(doc, p);
      const v = pick(rng, [1e308, -1e308, -1, 2 ** 53, 2 ** 63, -(2 ** 31), 4.5e15, 1e-300]);
      (parent as Record<string | number, unknown>)[key] = v;
      return `${p.join('.')} = ${v}`;
    }
    case 18: {
      // Two added tokens sharing an id or a text, or an added token on a vocabulary id.
      if (addedObjs.length < 2) return 'too few added tokens';
      const [a, b] = [pick(rng, addedObjs), pick(rng, addedObjs)];
      const k = pick(rng, ['id', 'content', 'vocab id']);
      if (k === 'id') a.id = b.id;
      else if (k === 'content') a.content = b.content;
      else a.id = pick(rng, ids.length > 0 ? ids : [0]);
      return `added token ${JSON.stringify(a.content)} given the ${k} ${k === 'content' ? JSON.stringify(b.content) : String(a.id)}`;
    }
    default: {
      // A vocabulary with gaps: its ids spread out (the model's embedding then has too few rows).
      const f = pick(rng, [2, 3, 1000]);
      for (const p of pieces) if (typeof vocab[p] === 'number') vocab[p] = (vocab[p] as number) * f;
      return `every vocab id multiplied by ${f}`;
    }
  }
}

/** tokenizer.json mutated at the byte or text level, at any field, or in its tokenizer structure. */
export function mutateTokenizerJson(rng: Rng, bytes: Uint8Array): Mutated {
  const r = rng();
  if (r < 0.06) return invalidUtf8(rng, bytes);
  if (r < 0.3) return mutateJson(rng, bytes, TOKENIZER_HOT);
  const doc = JSON.parse(utf8Decoder.decode(bytes)) as JsonObject;
  const whats: string[] = [];
  for (let i = 0, n = 1 + (rng() < 0.25 ? int(rng, 3) : 0); i < n; i++) whats.push(tokenizerField(rng, doc));
  return serialise(rng, doc, whats.join('; '));
}

/** tokenizer_config.json with wrong types of the BOS/EOS tokens, their flags and the chat template. */
export function mutateTokenizerConfig(rng: Rng, bytes: Uint8Array): Mutated {
  const r = rng();
  if (r < 0.05) return invalidUtf8(rng, bytes);
  if (r < 0.3) return mutateJson(rng, bytes, TOKENIZER_CONFIG_HOT);
  const doc = JSON.parse(utf8Decoder.decode(bytes)) as JsonObject;
  const whats: string[] = [];
  for (let i = 0, n = 1 + (rng() < 0.4 ? int(rng, 3) : 0); i < n; i++) {
    const field = pick(rng, ['bos_token', 'eos_token', 'pad_token', 'add_bos_token', 'add_eos_token', 'chat_template', 'chat_template']);
    let v: unknown;
    if (field.endsWith('_token') && !field.startsWith('add_')) {
      v = pick(rng, [{ content: 5 }, { content: null }, { content: '<|im_end|>' }, { content: '<|endoftext|>', special: 'yes' }, ['<|im_end|>'], 'not a token', '__proto__', 'constructor', 'toString', 'in', 'Ġ', '<|im_start|>', 'x'.repeat(5000), ...WRONG_TYPE]);
    } else if (field.startsWith('add_')) {
      v = pick(rng, ['true', 1, 0, null, true, true, false, [], {}]);
    } else {
      v = pick(rng, [[{ name: 'default' }], [{ name: 'default', template: 5 }], [{ name: 'default', template: '{% if %}' }], [{ name: 5, template: 'x' }], [{ name: 'tool_use', template: 'x' }],
        [null, { name: 'default', template: '{{ messages }}' }], '', '{%', '{{ raise_exception("x") }}', 'x'.repeat(100_000), ...WRONG_TYPE]);
    }
    setOwn(doc, field, v);
    whats.push(`${field} = ${v === DEEP ? DEEP : (JSON.stringify(v)?.slice(0, 40) ?? String(v))}`);
  }
  return serialise(rng, doc, whats.join('; '));
}
