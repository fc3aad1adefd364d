// Exported ONNX files cached on disk, keyed by a hash of the weights, the config, the weight
// format and the exporter version, so a model is exported once and a fine-tuned or edited one
// gets its own entry. One entry is a folder:
//   <cacheDir>/<key>/model.onnx        the graph
//   <cacheDir>/<key>/model.onnx.data   the weights (ONNX external data)
//   <cacheDir>/<key>/manifest.json     sizes and SHA-256 of both files
// An entry is written into a temporary folder and renamed into place, so a crash never leaves
// a half-written entry under the key; an entry that fails its check (truncated, edited, missing
// a file) is deleted and exported again.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../model/model';
import { bytesFor } from '../formats/formats';
import { writeAdvice } from '../io/atomicFile';
import { exportOnnxStreamed, EXPORTER_VERSION, type OnnxWeightFormat } from './export';

export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';
const MANIFEST_FILE = 'manifest.json';

export interface CachedExport {
  key: string;
  dir: string;
  modelPath: string;
  /** True when an existing entry was used, false when it was (re)exported now. */
  reused: boolean;
  /** Why an existing entry was rebuilt, if one was. */
  rebuiltBecause?: string;
}

/** The cache folder cannot be written: the message says which folder and what to check. */
export class OnnxCacheError extends Error {
  override name = 'OnnxCacheError';
}

interface Manifest {
  key: string;
  exporterVersion: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** ~/.cache/limelight/onnx (or $XDG_CACHE_HOME/limelight/onnx). */
export function defaultOnnxCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'limelight', 'onnx');
}

/** The cache key of a model's export: weights (as stored, one tensor at a time), config, format and exporter version. */
export function exportKey(model: Model, format: OnnxWeightFormat): string {
  const h = createHash('sha256');
  h.update(`limelight-onnx v${EXPORTER_VERSION} ${format}\n${JSON.stringify(model.config)}\n`);
  let chunk: Uint8Array | null = null;
  for (const spec of model.layout.specs) {
    for (const p of model.parts(spec.name)) {
      h.update(`${spec.name} ${p.type} ${p.rows}x${p.cols}\n`);
      if (p.readRows === undefined) {
        h.update(p.data);
        continue;
      }
      // A matrix left in its file is read a few MB at a time, not whole (an embedding is 150 MB).
      const rowBytes = bytesFor(p.type, p.cols);
      const n = Math.max(1, Math.floor(CHUNK / rowBytes));
      chunk ??= new Uint8Array(CHUNK);
      const buf = chunk.byteLength >= n * rowBytes ? chunk : new Uint8Array(n * rowBytes);
      for (let r = 0; r < p.rows; r += n) {
        const k = Math.min(n, p.rows - r);
        h.update(p.readRows(r, k, buf.subarray(0, k * rowBytes)));
      }
    }
  }
  return h.digest('hex').slice(0, 32);
}

const CHUNK = 1 << 24;

function hashFile(path: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = new Uint8Array(CHUNK);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** Writes the pieces in order to `path` (created or truncated; a function piece is made when it is written), fsyncs it, and returns its size and SHA-256. */
export function writePieces(path: string, pieces: ReadonlyArray<Uint8Array | (() => Uint8Array)>): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    for (const piece of pieces) {
      const p = typeof piece === 'function' ? piece() : piece;
      for (let off = 0; off < p.byteLength; ) off += writeSync(fd, p, off, Math.min(CHUNK, p.byteLength - off));
      h.update(p);
      bytes += p.byteLength;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}

/** Why the entry in `dir` cannot be used, or null when it is intact. */
function checkEntry(dir: string, key: string): string | null {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return 'its manifest is missing';
  let manifest: Partial<Manifest> | null;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Partial<Manifest> | null;
  } catch {
    return 'its manifest is not valid JSON';
  }
  if (manifest?.key !== key || manifest.exporterVersion !== EXPORTER_VERSION || typeof manifest.files !== 'object' || manifest.files === null) {
    return 'its manifest belongs to another export';
  }
  for (const name of [MODEL_FILE, DATA_FILE]) {
    const want = (manifest.files as Record<string, unknown>)[name] as Partial<Manifest['files'][string]> | undefined;
    if (typeof want?.bytes !== 'number' || typeof want.sha256 !== 'string') return `its manifest does not list ${name}`;
    const path = join(dir, name);
    if (!existsSync(path)) return `${name} is missing`;
    let got: { bytes: number; sha256: string };
    try {
      got = hashFile(path);
    } catch (e) {
      return `${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    if (got.bytes !== want.bytes) return `${name} has ${got.bytes} bytes, expected ${want.bytes}`;
    if (got.sha256 !== want.sha256) return `${name} does not match its checksum`;
  }
  return null;
}

/**
 * The cached export of `model` in `cacheDir`, exporting it first when there is no intact entry.
 * Throws (with the reason) only when the folder cannot be written.
 */
export function exportCached(model: Model, cacheDir: string, format: OnnxWeightFormat = 'f32'): CachedExport {
  const key = exportKey(model, format);
  const dir = join(cacheDir, key);
  const modelPath = join(dir, MODEL_FILE);
  let rebuiltBecause: string | undefined;
  if (existsSync(dir)) {
    const problem = checkEntry(dir, key);
    if (problem === null) return { key, dir, modelPath, reused: true };
    rebuiltBecause = `the cached export in ${dir} was unusable (${problem})`;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw new OnnxCacheError(`The cached ONNX export in ${dir} is unusable (${problem}) and cannot be removed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Delete that folder, or check its permissions.`);
    }
  }
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch (e) {
    throw new OnnxCacheError(`Cannot create the ONNX cache folder ${cacheDir} (${writeAdvice(e)}).`);
  }
  const encoded = exportOnnxStreamed(model, { weightFormat: format, dataFile: DATA_FILE });
  const tmp = join(cacheDir, `${key}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(tmp);
    const manifest: Manifest = {
      key,
      exporterVersion: EXPORTER_VERSION,
      files: { [DATA_FILE]: writePieces(join(tmp, DATA_FILE), encoded.data), [MODEL_FILE]: writePieces(join(tmp, MODEL_FILE), [encoded.model]) },
    };
    writePieces(join(tmp, MANIFEST_FILE), [new TextEncoder().encode(JSON.stringify(manifest, null, 1))]);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process may have finished the same export first: use theirs if it is intact.
    if (existsSync(dir) && checkEntry(dir, key) === null) return { key, dir, modelPath, reused: true };
    throw new OnnxCacheError(`Cannot write the ONNX export to ${cacheDir} (${writeAdvice(e)}); nothing was cached.`);
  }
  const result: CachedExport = { key, dir, modelPath, reused: false };
  if (rebuiltBecause) result.rebuiltBecause = rebuiltBecause;
  return result;
}
