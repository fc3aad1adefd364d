// Where each local model tool keeps its models, for this platform and environment: the Hugging
// Face cache, Ollama, LM Studio, llama.cpp's cache and Limelight's own downloads. Paths only
// (nothing is read), so the downloader and the extension take it without the model readers.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type ModelSource = 'huggingface' | 'ollama' | 'lmstudio' | 'llama.cpp' | 'limelight' | 'recent';

export interface StoreOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  platform?: NodeJS.Platform;
  /** Where Limelight keeps the models it downloads. */
  limelightDir?: string;
}

/** The store folders of each tool, in order, for this platform and environment. */
export function modelStores(opts: StoreOptions = {}): Array<{ source: ModelSource; dir: string }> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const platform = opts.platform ?? process.platform;
  const set = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v : undefined);
  const out: Array<{ source: ModelSource; dir: string }> = [];
  const add = (source: ModelSource, dir: string): void => {
    if (!out.some((s) => s.source === source && resolve(s.dir) === resolve(dir))) out.push({ source, dir });
  };
  // Hugging Face (huggingface_hub constants.py, "Manage huggingface_hub cache-system"): HF_HUB_CACHE,
  // else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub — the same
  // ~/.cache path on macOS and on Windows (%USERPROFILE%\.cache\huggingface\hub).
  const hfHome = set(env.HF_HOME) ?? join(set(env.XDG_CACHE_HOME) ?? join(home, '.cache'), 'huggingface');
  add('huggingface', set(env.HF_HUB_CACHE) ?? set(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, 'hub'));
  // Ollama (docs/faq.md "Where are models stored?"): OLLAMA_MODELS, else ~/.ollama/models on macOS,
  // Windows (C:\Users\%username%\.ollama\models) and Linux user installs; the Linux service that
  // install.sh sets up runs as the `ollama` user with /usr/share/ollama/.ollama/models.
  const ollama = set(env.OLLAMA_MODELS);
  if (ollama !== undefined) add('ollama', ollama);
  else {
    add('ollama', join(home, '.ollama', 'models'));
    if (platform === 'linux') add('ollama', '/usr/share/ollama/.ollama/models');
  }
  // LM Studio (lmstudio.ai docs "Manage models"/"Change the models directory"): ~/.lmstudio/models
  // since 0.3, ~/.cache/lm-studio/models before; the same under %USERPROFILE% on Windows.
  add('lmstudio', join(home, '.lmstudio', 'models'));
  add('lmstudio', join(home, '.cache', 'lm-studio', 'models'));
  // llama.cpp (common/common.cpp fs_get_cache_directory): LLAMA_CACHE, else $XDG_CACHE_HOME/llama.cpp
  // or ~/.cache/llama.cpp on Linux, ~/Library/Caches/llama.cpp on macOS, %LOCALAPPDATA%\llama.cpp on Windows.
  const llama = set(env.LLAMA_CACHE);
  if (llama !== undefined) add('llama.cpp', llama);
  else if (platform === 'darwin') add('llama.cpp', join(home, 'Library', 'Caches', 'llama.cpp'));
  else if (platform === 'win32') add('llama.cpp', join(set(env.LOCALAPPDATA) ?? join(home, 'AppData', 'Local'), 'llama.cpp'));
  else add('llama.cpp', join(set(env.XDG_CACHE_HOME) ?? join(home, '.cache'), 'llama.cpp'));
  if (opts.limelightDir !== undefined) add('limelight', opts.limelightDir);
  return out;
}

