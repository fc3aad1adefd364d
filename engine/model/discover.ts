// The models already on this machine: the Hugging Face cache, Ollama, LM Studio, llama.cpp's
// cache, Limelight's own downloads and recently used paths, for `limelight models` and Select
// Model. Only headers are read (describeModel); nothing is copied or written. A broken entry is
// listed with the loader's message in `error`, never dropped and never fatal to the listing;
// each store is walked to a fixed depth and at most `maxPerSource` entries, so a huge cache
// stays fast. No vscode import: the CLI and the extension share it.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describeModel } from './describe';
import { modelStores, type ModelSource, type StoreOptions } from './modelStores';
import { openGguf } from '../io/ggufRead';


export interface FoundModel {
  /** A readable name: `ORG/NAME` (HF), `NAME:TAG` (Ollama), `publisher/repo/file` (LM Studio)… */
  name: string;
  path: string;
  source: ModelSource;
  family?: string;
  /** A GGUF's file type as llama.cpp names it (Q4_K_M, Q8_0…), else the format most weights are stored in (F32, BF16…). */
  format?: string;
  fim?: boolean;
  instruct?: boolean;
  /** Bytes on disk (a folder: its weight files). */
  bytes?: number;
  parameters?: number;
  /** Weights + KV cache at the context asked for. */
  memoryBytes?: number;
  /** Whether memoryBytes fits in this machine's memory. */
  fits?: boolean;
  /** Why this entry cannot be used (the loader's message). */
  error?: string;
}

export interface DiscoverOptions extends StoreOptions {
  /** Positions to size the KV cache for (default: each model's own context). */
  contextLength?: number;
  /** Recently used model paths (Select Model's list). */
  recent?: string[];
  /** At most this many entries per store (default 200). */
  maxPerSource?: number;
  /** The machine's memory, for `fits` (default os.totalmem()). */
  totalMemory?: number;
}

interface Candidate {
  name: string;
  path: string;
  source: ModelSource;
  /** Set when the candidate is known to be broken before describing it. */
  error?: string;
}

const DEFAULT_MAX = 200;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A folder's entries, or null when it does not exist; other failures (EACCES…) throw. */
function entries(dir: string): Dirent[] | null {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Follows symlinks (HF snapshots and some stores link their files); null when the target is missing. */
function kind(path: string): 'file' | 'dir' | null {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

function isGguf(name: string): boolean {
  if (!name.toLowerCase().endsWith('.gguf')) return false;
  // A split model is listed once, by its first part; a vision projector is no language model.
  const split = /-(\d{5})-of-\d{5}\.gguf$/i.exec(name);
  if (split !== null && Number(split[1]) !== 1) return false;
  return !name.toLowerCase().startsWith('mmproj');
}

/** .gguf files under `dir`, at most `depth` folders down, as paths relative to `dir`. */
function ggufFiles(dir: string, depth: number, limit: number): string[] {
  const out: string[] = [];
  const walk = (rel: string, d: number): void => {
    let list: Dirent[] | null;
    try {
      list = entries(join(dir, rel));
    } catch {
      return;
    }
    for (const e of (list ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.')) continue;
      const r = rel === '' ? e.name : join(rel, e.name);
      const k = e.isSymbolicLink() ? kind(join(dir, r)) ?? (isGguf(e.name) ? 'file' : null) : e.isDirectory() ? 'dir' : 'file';
      if (k === 'dir' && d > 0) walk(r, d - 1);
      else if (k === 'file' && isGguf(e.name)) out.push(r);
    }
  };
  walk('', depth);
  return out;
}

function stripGguf(name: string): string {
  return name.replace(/\.gguf$/i, '');
}

/** The Hugging Face hub cache layout: models--ORG--NAME/snapshots/REV/ (also used by Limelight's downloads). */
function hubCandidates(hub: string, source: ModelSource, limit: number): Candidate[] {
  const out: Candidate[] = [];
  const repos = (entries(hub) ?? []).filter((e) => e.name.startsWith('models--')).sort((a, b) => a.name.localeCompare(b.name));
  for (const repo of repos) {
    if (out.length >= limit) break;
    const name = repo.name.slice('models--'.length).split('--').join('/');
    const repoDir = join(hub, repo.name);
    let snapshots: string[];
    try {
      snapshots = (entries(join(repoDir, 'snapshots')) ?? []).map((e) => e.name).filter((n) => !n.startsWith('.'));
    } catch (e) {
      out.push({ name, path: repoDir, source, error: message(e) });
      continue;
    }
    let main: string | undefined;
    try {
      main = readFileSync(join(repoDir, 'refs', 'main'), 'utf8').trim();
    } catch {
      main = undefined;
    }
    if (snapshots.length === 0) {
      out.push({ name, path: repoDir, source, error: `${repoDir} holds no snapshot; the download did not finish. Download the model again.` });
      continue;
    }
    // The revision refs/main names first; others are named with their short revision.
    snapshots.sort((a, b) => Number(b === main) - Number(a === main) || a.localeCompare(b));
    for (const rev of snapshots) {
      if (out.length >= limit) break;
      const snap = join(repoDir, 'snapshots', rev);
      const label = snapshots.length === 1 || rev === main ? name : `${name}@${rev.slice(0, 7)}`;
      const hasConfig = kind(join(snap, 'config.json')) === 'file';
      const ggufs = ggufFiles(snap, 2, limit - out.length);
      if (hasConfig) out.push({ name: label, path: snap, source });
      for (const f of ggufs) out.push({ name: `${label}/${f.split(/[\\/]/).join('/')}`, path: join(snap, f), source });
      if (!hasConfig && ggufs.length === 0) {
        out.push({ name: label, path: snap, source, error: `${snap} holds no model: no config.json with .safetensors weights and no .gguf file.` });
      }
    }
  }
  return out;
}

/** Ollama: manifests/HOST/NAMESPACE/NAME/TAG (JSON) → the model layer's digest → blobs/sha256-HEX, a GGUF. */
function ollamaCandidates(root: string, limit: number): Candidate[] {
  const out: Candidate[] = [];
  const manifests = join(root, 'manifests');
  const walk = (rel: string[], depth: number): void => {
    let list: Dirent[] | null;
    try {
      list = entries(join(manifests, ...rel));
    } catch (e) {
      out.push({ name: rel.join('/') || 'manifests', path: join(manifests, ...rel), source: 'ollama', error: message(e) });
      return;
    }
    for (const e of (list ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.')) continue;
      const parts = [...rel, e.name];
      if (depth > 1) {
        if (e.isDirectory() || (e.isSymbolicLink() && kind(join(manifests, ...parts)) === 'dir')) walk(parts, depth - 1);
        continue;
      }
      const [host, ns, model, tag] = parts as [string, string, string, string];
      const name = host === 'registry.ollama.ai' ? (ns === 'library' ? `${model}:${tag}` : `${ns}/${model}:${tag}`) : `${host}/${ns}/${model}:${tag}`;
      out.push(ollamaEntry(root, join(manifests, ...parts), name));
    }
  };
  walk([], 4);
  return out;
}

function ollamaEntry(root: string, manifest: string, name: string): Candidate {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch (e) {
    return { name, path: manifest, source: 'ollama', error: `${manifest}: ${message(e)}. Pull the model again with \`ollama pull ${name}\`.` };
  }
  const layers = (json as { layers?: unknown } | null)?.layers;
  const layer = Array.isArray(layers)
    ? (layers as Array<{ mediaType?: unknown; digest?: unknown }>).find((l) => l !== null && typeof l === 'object' && l.mediaType === 'application/vnd.ollama.image.model')
    : undefined;
  const digest = layer?.digest;
  if (typeof digest !== 'string' || !/^sha256[:-][0-9a-f]{64}$/i.test(digest)) {
    return { name, path: manifest, source: 'ollama', error: `${manifest} names no model layer (application/vnd.ollama.image.model with a sha256 digest). Pull the model again with \`ollama pull ${name}\`.` };
  }
  const blob = join(root, 'blobs', digest.replace(':', '-'));
  if (kind(blob) !== 'file') {
    return { name, path: blob, source: 'ollama', error: `${blob} is missing (the manifest ${manifest} points at it). Pull the model again with \`ollama pull ${name}\`.` };
  }
  return { name, path: blob, source: 'ollama' };
}

/** LM Studio: models/PUBLISHER/REPO/FILE.gguf. */
function lmStudioCandidates(root: string, limit: number): Candidate[] {
  return ggufFiles(root, 3, limit).map((f) => ({ name: stripGguf(f.split(/[\\/]/).join('/')), path: join(root, f), source: 'lmstudio' as const }));
}

/** llama.cpp's cache (-hf downloads): *.gguf files, named after the repo and file. */
function llamaCppCandidates(root: string, limit: number): Candidate[] {
  // Flat files (owner_repo_file.gguf), and hub-layout folders where a newer build keeps them.
  const out = hubCandidates(root, 'llama.cpp', limit);
  const flat = ggufFiles(root, 2, limit - out.length).map((f) => ({ name: stripGguf(f.split(/[\\/]/).join('/')), path: join(root, f), source: 'llama.cpp' as const }));
  return [...out, ...flat];
}

/** Limelight's folder: a hub-layout cache, plain model folders (config.json) and .gguf files. */
function limelightCandidates(root: string, limit: number): Candidate[] {
  const out = hubCandidates(root, 'limelight', limit);
  const walk = (rel: string, depth: number): void => {
    let list: Dirent[] | null;
    try {
      list = entries(join(root, rel));
    } catch {
      return;
    }
    for (const e of (list ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.') || (rel === '' && e.name.startsWith('models--'))) continue;
      const r = rel === '' ? e.name : join(rel, e.name);
      const k = kind(join(root, r));
      if (k === 'dir') {
        if (kind(join(root, r, 'config.json')) === 'file') out.push({ name: r.split(/[\\/]/).join('/'), path: join(root, r), source: 'limelight' });
        else if (depth > 0) walk(r, depth - 1);
      } else if (k === 'file' && isGguf(e.name)) out.push({ name: stripGguf(r.split(/[\\/]/).join('/')), path: join(root, r), source: 'limelight' });
    }
  };
  walk('', 2);
  return out;
}

function dominantFormat(formats: Record<string, number | undefined>): string | undefined {
  let best: string | undefined;
  let n = -1;
  for (const [t, c] of Object.entries(formats)) if (c !== undefined && c > n) [best, n] = [t, c];
  return best;
}

// llama.cpp's llama_ftype (include/llama.h): the name a GGUF's general.file_type stands for,
// the one users know a file by (Q4_K_M rather than the Q4_K most of its matrices hold).
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M', 13: 'Q3_K_L',
  14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS',
  23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
  36: 'TQ1_0', 37: 'TQ2_0',
};

/** A GGUF file's general.file_type by name, or undefined (a folder, no such key, an unknown number). */
function ggufFileType(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return undefined;
    const file = openGguf(path);
    try {
      const v = file.metadata.get('general.file_type');
      return v !== undefined && typeof v.value === 'number' ? FILE_TYPES[v.value] : undefined;
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number | undefined {
  try {
    const s = statSync(path);
    if (!s.isDirectory()) return s.size;
    let total = 0;
    for (const f of readdirSync(path)) {
      if (!/\.(safetensors|bin|gguf)$/i.test(f)) continue;
      try {
        total += statSync(join(path, f)).size;
      } catch {
        // a dangling link counts as nothing; describeModel reports it
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** A link whose target is gone (a cache's blob deleted under its snapshot), for a clearer message than the loader's. */
function danglingLink(path: string): string | null {
  const dangling = (p: string): boolean => {
    try {
      statSync(p);
      return false;
    } catch {
      try {
        return lstatSync(p).isSymbolicLink();
      } catch {
        return false;
      }
    }
  };
  const say = (p: string): string => `${p} links to ${readlinkSync(p)}, which is missing (deleted from the cache?). Download the model again.`;
  try {
    if (dangling(path)) return say(path);
    if (!statSync(path).isDirectory()) return null;
    for (const f of readdirSync(path)) if (dangling(join(path, f))) return say(join(path, f));
  } catch {
    return null;
  }
  return null;
}

function describe(c: Candidate, opts: DiscoverOptions, memory: number): FoundModel {
  const named = /instruct|chat/i.test(c.name);
  const m: FoundModel = { name: c.name, path: c.path, source: c.source };
  const bytes = sizeOf(c.path);
  if (bytes !== undefined) m.bytes = bytes;
  const error = c.error ?? danglingLink(c.path) ?? undefined;
  if (error !== undefined) return { ...m, instruct: named, error };
  try {
    const d = describeModel(c.path, opts.contextLength);
    const format = ggufFileType(c.path) ?? dominantFormat(d.formats);
    return {
      ...m,
      family: d.family,
      ...(format !== undefined ? { format } : {}),
      fim: d.fim !== null,
      instruct: d.chatTemplate || named,
      parameters: d.parameters,
      memoryBytes: d.memoryBytes,
      fits: d.memoryBytes <= memory,
    };
  } catch (e) {
    return { ...m, instruct: named, error: message(e) };
  }
}

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Every model found on this machine, store by store; never throws for a broken store or file. */
export function discoverModels(opts: DiscoverOptions = {}): FoundModel[] {
  const limit = opts.maxPerSource ?? DEFAULT_MAX;
  const memory = opts.totalMemory ?? totalmem();
  const candidates: Candidate[] = [];
  for (const { source, dir } of modelStores(opts)) {
    let found: Candidate[];
    try {
      found =
        source === 'huggingface' ? hubCandidates(dir, source, limit)
        : source === 'ollama' ? ollamaCandidates(dir, limit)
        : source === 'lmstudio' ? lmStudioCandidates(dir, limit)
        : source === 'llama.cpp' ? llamaCppCandidates(dir, limit)
        : limelightCandidates(dir, limit);
    } catch (e) {
      found = [{ name: dir, path: dir, source, error: `${dir} could not be read: ${message(e)}` }];
    }
    if (found.length >= limit) {
      found.push({ name: `(more in ${dir})`, path: dir, source, error: `only the first ${limit} models of ${dir} are listed` });
    }
    candidates.push(...found);
  }
  const seen = new Set(candidates.map((c) => realOrSame(c.path)));
  for (const p of opts.recent ?? []) {
    const real = realOrSame(p);
    if (seen.has(real)) continue;
    seen.add(real);
    const name = basename(p.replace(/[\\/]+$/, ''));
    candidates.push({ name: stripGguf(name) || p, path: p, source: 'recent', ...(kind(p) === null ? { error: `${p} no longer exists.` } : {}) });
  }
  return candidates.map((c) => describe(c, opts, memory));
}
