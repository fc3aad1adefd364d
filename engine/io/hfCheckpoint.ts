// A Hugging Face checkpoint folder's weights behind one lookup, whether they sit in a single
// `model.safetensors` or are sharded with `model.safetensors.index.json` (its weight_map
// names, for each tensor, the shard file that holds it). Shard names come from a file the
// user may have downloaded from anywhere, so each must be a plain file name in the folder.
// Files are opened header-only (openSafetensors): tensors are read from disk as they are
// asked for, so a loader that copies them into its parameter buffer holds the weights once.
// The class has the shape of the model's TensorSource (shape, weightType, rawBytes, toFloat32, names).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { WeightType } from '../formats/formats';
import { SafetensorsError, openSafetensors, type SafetensorsFile, type TensorInfo } from './safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface CheckpointTensor {
  file: SafetensorsFile;
  info: TensorInfo;
}

/** Every tensor of a checkpoint folder by name, whichever shard holds it. */
export class CheckpointTensors {
  constructor(
    readonly dir: string,
    /** The files opened, in the order they were read. */
    readonly files: readonly SafetensorsFile[],
    private readonly byName: ReadonlyMap<string, CheckpointTensor>,
  ) {}

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): CheckpointTensor | undefined {
    return this.byName.get(name);
  }

  shape(name: string): readonly number[] | undefined {
    return this.byName.get(name)?.info.shape;
  }

  /** The stored format of an F32, F16 or BF16 tensor (kept as is); undefined for dtypes read as float32. */
  weightType(name: string): WeightType | undefined {
    const dtype = this.byName.get(name)?.info.dtype;
    return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' ? dtype : undefined;
  }

  /** The tensor's stored bytes, read from disk into a buffer of its own. */
  rawBytes(name: string): Uint8Array {
    return this.require(name).file.raw(name);
  }

  /** The tensor converted to float32, into `out` (length numel) or a new array. */
  toFloat32(name: string, out?: Float32Array): Float32Array {
    return this.require(name).file.tensorToFloat32(name, out);
  }

  /** The tensor or an error naming the folder, the tensor and the file(s) searched. */
  require(name: string): CheckpointTensor {
    const t = this.byName.get(name);
    if (t === undefined) {
      throw new SafetensorsError(`${this.dir}: the checkpoint has no tensor "${name}" (searched ${this.files.map((f) => basename(f.source)).join(', ')}). Check that the folder holds the model that config.json describes.`);
    }
    return t;
  }
}

function isPlainFileName(name: string): boolean {
  return name !== '' && name.length <= 255 && name !== '.' && name !== '..' && basename(name) === name && !name.includes('/') && !name.includes('\\') && !name.includes('\0');
}

/** A value from the index as JSON, cut short: a damaged index may hold anything. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function readIndex(dir: string, indexPath: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new SafetensorsError(`${indexPath}: cannot be read as JSON (${(e as Error).message}). Download or export the checkpoint again.`);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new SafetensorsError(`${indexPath}: has no "weight_map" object (tensor name -> shard file). Download or export the checkpoint again.`);
  }
  const map = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      throw new SafetensorsError(`${indexPath}: tensor ${shown(tensor)} maps to ${shown(shard)}; shard names must be plain file names inside ${dir} (no folders, no ".."). Download or export the checkpoint again.`);
    }
    map.set(tensor, shard);
  }
  if (map.size === 0) throw new SafetensorsError(`${indexPath}: "weight_map" is empty. Download or export the checkpoint again.`);
  return map;
}

/**
 * Opens the weights of a checkpoint folder: `model.safetensors` if present, else the shards
 * listed in `model.safetensors.index.json`. Every header is validated here; data is read later.
 */
export function readCheckpointTensors(dir: string): CheckpointTensors {
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) {
    const file = openSafetensors(single);
    return new CheckpointTensors(dir, [file], new Map(file.tensors.map((info) => [info.name, { file, info }])));
  }
  const indexPath = join(dir, INDEX_FILE);
  if (!existsSync(indexPath)) {
    let present: string[] = [];
    try {
      present = readdirSync(dir).filter((n) => /\.(safetensors|bin|pt|pth|gguf|json)$/.test(n));
    } catch {
      throw new SafetensorsError(`${dir}: cannot list this folder. Check that the model path points to a Hugging Face checkpoint folder.`);
    }
    const found = present.length > 0 ? `it holds ${present.join(', ')}` : 'it holds no weight files';
    throw new SafetensorsError(`${dir}: expected ${SINGLE_FILE} or ${INDEX_FILE} (Hugging Face safetensors layout), but ${found}. Save the model with save_pretrained(..., safe_serialization=True).`);
  }
  const weightMap = readIndex(dir, indexPath);
  const shards = new Map<string, SafetensorsFile>();
  for (const shard of new Set(weightMap.values())) shards.set(shard, openSafetensors(join(dir, shard)));
  const byName = new Map<string, CheckpointTensor>();
  for (const [tensor, shard] of weightMap) {
    const file = shards.get(shard) as SafetensorsFile;
    if (!file.has(tensor)) {
      throw new SafetensorsError(`${indexPath}: says "${tensor}" is in ${shard}, but that shard has no such tensor. Download or export the checkpoint again.`);
    }
    byName.set(tensor, { file, info: file.info(tensor) });
  }
  return new CheckpointTensors(dir, [...shards.values()], byName);
}
