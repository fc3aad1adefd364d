// What "Limelight: Download Model..." offers and decides, without the vscode API (unit-tested):
// the curated list (FIM-capable base models that run on a laptop CPU, with size, license and
// the speed measured with `npm run bench`, README "Speed"), the choices a repo's file list
// gives, the hub address from the user's settings only, and the progress text.
import type { DownloadProgress, RepoFile } from '../engine/download/load';
import { sizeText } from '../engine/download/units';

export interface CuratedModel {
  label: string;
  repo: string;
  file: string;
  /** As the hub lists it. */
  bytes: number;
  license: string;
  /** Tokens written per second on 2 CPU cores (README Speed, js backend). */
  tokensPerSecond: number;
}

// Base (not instruct) Qwen2.5-Coder models: they have the FIM tokens completions need. The
// 0.5B files are lmstudio-community's; the 1.5B ones mradermacher's (both quantized from
// Qwen/Qwen2.5-Coder-*, Apache-2.0).
export const CURATED_MODELS: readonly CuratedModel[] = [
  { label: 'Qwen2.5-Coder 0.5B base, Q8_0', repo: 'lmstudio-community/Qwen2.5-Coder-0.5B-GGUF', file: 'Qwen2.5-Coder-0.5B-Q8_0.gguf', bytes: 531e6, license: 'Apache-2.0', tokensPerSecond: 46 },
  { label: 'Qwen2.5-Coder 0.5B base, Q4_K_M', repo: 'lmstudio-community/Qwen2.5-Coder-0.5B-GGUF', file: 'Qwen2.5-Coder-0.5B-Q4_K_M.gguf', bytes: 398e6, license: 'Apache-2.0', tokensPerSecond: 48 },
  { label: 'Qwen2.5-Coder 1.5B base, Q8_0', repo: 'mradermacher/Qwen2.5-Coder-1.5B-GGUF', file: 'Qwen2.5-Coder-1.5B.Q8_0.gguf', bytes: 1.65e9, license: 'Apache-2.0', tokensPerSecond: 17 },
  { label: 'Qwen2.5-Coder 1.5B base, Q4_K_M', repo: 'mradermacher/Qwen2.5-Coder-1.5B-GGUF', file: 'Qwen2.5-Coder-1.5B.Q4_K_M.gguf', bytes: 986e6, license: 'Apache-2.0', tokensPerSecond: 23 },
];

export function curatedText(m: CuratedModel): { label: string; description: string; detail: string } {
  return { label: m.label, description: `${sizeText(m.bytes)} · ${m.license} · about ${m.tokensPerSecond} tokens/s on 2 CPU cores`, detail: `${m.repo} · ${m.file}` };
}

/** What a repo offers to download: its whole safetensors checkpoint (file undefined) and each GGUF file. */
export function repoChoices(files: readonly RepoFile[]): Array<{ label: string; description: string; file?: string }> {
  const names = new Set(files.map((f) => f.name));
  const out: Array<{ label: string; description: string; file?: string }> = [];
  if (names.has('config.json') && (names.has('model.safetensors') || names.has('model.safetensors.index.json'))) {
    const weights = files.filter((f) => f.name.endsWith('.safetensors')).reduce((s, f) => s + (f.size ?? 0), 0);
    out.push({ label: 'The checkpoint (safetensors)', description: `config, tokenizer and weights${weights > 0 ? `, ${sizeText(weights)}` : ''}` });
  }
  const ggufs = files.filter((f) => f.name.toLowerCase().endsWith('.gguf') && !f.name.split('/').pop()!.toLowerCase().startsWith('mmproj'));
  for (const f of [...ggufs].sort((a, b) => a.name.localeCompare(b.name))) out.push({ label: f.name, description: f.size !== undefined ? sizeText(f.size) : '', file: f.name });
  return out;
}

/** The hub address from the user's settings only: a workspace must not redirect downloads (or a token) elsewhere. */
export function userEndpoint(inspected: { globalValue?: unknown } | undefined): string | undefined {
  const v = inspected?.globalValue;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** The progress notification's line: bytes, speed, time left, and which file of several. */
export function progressText(p: DownloadProgress): string {
  const parts = [`${sizeText(p.bytes)} of ${sizeText(p.total)}`];
  if (p.bytesPerSecond > 0) parts.push(`${sizeText(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== undefined) parts.push(`${clock(p.etaSeconds)} left`);
  if (p.fileCount > 1) parts.push(`file ${p.fileIndex} of ${p.fileCount}`);
  return parts.join(' · ');
}
