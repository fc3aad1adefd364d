// Which files a download fetches. A named file: that one. A GGUF repo without a name: its only
// .gguf file, else the user must pick (the error lists them). A safetensors checkpoint: what
// the engine loads (config.json, the tokenizer files, generation_config.json where present) and
// model.safetensors, or the shards that model.safetensors.index.json names.
import { DownloadError } from './errors';
import { checkRepoFile, type RepoFile } from './hub';
import { sizeText } from './units';

export interface Plan {
  files: string[];
  /** A shard index to fetch first; its shards are then added. */
  index?: string;
}

const CHECKPOINT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];


function isGguf(name: string): boolean {
  return name.toLowerCase().endsWith('.gguf');
}

function listing(files: readonly RepoFile[], max = 30): string {
  const shown = files.slice(0, max).map((f) => `${f.name}${f.size !== undefined ? ` (${sizeText(f.size)})` : ''}`);
  return shown.join(', ') + (files.length > max ? `, and ${files.length - max} more` : '');
}

export function planFiles(repo: string, files: readonly RepoFile[], file: string | undefined): Plan {
  const names = new Set(files.map((f) => f.name));
  const ggufs = files.filter((f) => isGguf(f.name) && !f.name.toLowerCase().split('/').pop()!.startsWith('mmproj'));
  if (file !== undefined) {
    if (names.size > 0 && !names.has(file)) {
      const near = ggufs.length > 0 ? ggufs : files;
      throw new DownloadError(`${repo} has no file "${file}". ${near === ggufs ? 'Its GGUF files' : 'Its files'}: ${listing(near)}.`, 'not-found');
    }
    return { files: [file] };
  }
  if (names.has('config.json') && (names.has('model.safetensors') || names.has('model.safetensors.index.json'))) {
    const extra = CHECKPOINT_FILES.filter((f) => names.has(f));
    return names.has('model.safetensors') ? { files: [...extra, 'model.safetensors'] } : { files: extra, index: 'model.safetensors.index.json' };
  }
  if (ggufs.length === 1) return { files: [ggufs[0]!.name] };
  if (ggufs.length > 1) {
    throw new DownloadError(`${repo} holds several GGUF files: name the one to download (e.g. limelight download ${repo} ${ggufs[0]!.name}). Smaller files are more quantized (Q4_K_M is about half the size of Q8_0, a little less accurate). Its GGUF files: ${listing(ggufs)}.`, 'input');
  }
  if (files.some((f) => f.name.endsWith('.safetensors'))) {
    throw new DownloadError(`${repo} has safetensors weights but not as a checkpoint Limelight reads (config.json with model.safetensors or model.safetensors.index.json). Name a file to fetch it alone. Files: ${listing(files)}.`, 'input');
  }
  throw new DownloadError(`${repo} has no model Limelight reads: no .gguf file and no safetensors checkpoint. Files: ${files.length > 0 ? listing(files) : 'none'}.`, 'input');
}

/** The shard files a model.safetensors.index.json names (its weight_map's values). */
export function shardsOf(repo: string, index: string, text: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DownloadError(`${repo}/${index} is not valid JSON, so its shards are unknown. Name the files to download one by one.`, 'server');
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new DownloadError(`${repo}/${index} has no weight_map, so its shards are unknown.`, 'server');
  const shards = new Set<string>();
  for (const v of Object.values(map as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new DownloadError(`${repo}/${index}: its weight_map names a shard that is not a file name.`, 'server');
    // The index's directory is the shards' directory.
    const dir = index.includes('/') ? index.slice(0, index.lastIndexOf('/') + 1) : '';
    shards.add(checkRepoFile(dir + v));
  }
  if (shards.size === 0) throw new DownloadError(`${repo}/${index} names no shard.`, 'server');
  return [...shards].sort();
}
