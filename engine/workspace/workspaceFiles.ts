// The files of a workspace that Fine-tune on Workspace may train on, and why every other file
// was left out. Only files under the workspace folders are read (symbolic links are never
// followed), folders that .gitignore or an exclude glob rules out are not entered, and every
// kept file has passed the starter corpus's rules (sourceFilters.ts) plus the workspace ones
// below: dependencies, build output, lock files, binaries, certificates and keys. A file that
// holds anything that looks like a secret is dropped whole, so it never reaches training data.
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dropReason, findSecret, MAX_FILE_BYTES, secretFileName, type DropReason } from './sourceFilters';
import { folderExcluded, GitIgnore, globToRegExp, matchesAny } from './glob';

export type SkipReason =
  | Exclude<DropReason, 'exact-duplicate' | 'near-duplicate'>
  | 'gitignored'
  | 'excluded'
  | 'not-included'
  | 'dependencies'
  | 'build-output'
  | 'lock-file'
  | 'binary'
  | 'symlink'
  | 'over-budget';

export const SKIP_REASON_TEXT: Record<SkipReason, string> = {
  gitignored: 'ignored by .gitignore',
  excluded: 'excluded by files.exclude or limelight.fineTune.exclude',
  'not-included': 'not matched by limelight.fineTune.include',
  dependencies: 'dependencies (node_modules, virtual environments)',
  'build-output': 'build output',
  'lock-file': 'lock files',
  binary: 'binary files',
  symlink: 'symbolic links (never followed)',
  'over-budget': 'beyond the size budget of one run',
  'too-large': `files over ${MAX_FILE_BYTES / 1024} KiB`,
  vendored: 'vendored or fixture code',
  'secret-file': 'credential files (.env, keys, certificates)',
  secret: 'files containing a private key or token',
  minified: 'minified code',
  generated: 'generated code',
  empty: 'empty files',
};

export interface WorkspaceFolderRef {
  /** Shown in paths when there are several folders. */
  name: string;
  /** Absolute path on disk. */
  path: string;
}

export interface SelectOptions {
  /** Globs a file must match (limelight.fineTune.include). */
  include: readonly string[];
  /** Globs of files and folders to leave out (limelight.fineTune.exclude and files.exclude). */
  exclude: readonly string[];
  /** Stop adding files past this many bytes of text in all. */
  maxTotalBytes?: number;
  maxFiles?: number;
  /** Checked between files; an aborted selection throws the signal's reason. */
  signal?: AbortSignal;
}

export interface WorkspaceFile {
  /** Relative path with `/` separators, prefixed by the folder name in a multi-root workspace. */
  path: string;
  text: string;
  /** Language as the file extension says (e.g. "ts", "py"). */
  language: string;
}

export interface SkippedFile {
  path: string;
  reason: SkipReason;
  /** What was found, for secrets (never the secret itself). */
  detail?: string;
  /** A skipped folder stands for everything under it. */
  folder: boolean;
}

export interface WorkspaceSelection {
  files: WorkspaceFile[];
  skipped: SkippedFile[];
  bytes: number;
}

const DEFAULT_MAX_TOTAL_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_FILES = 20_000;

const DEPENDENCY_DIRS = new Set(['node_modules', 'bower_components', 'jspm_packages', '.venv', 'venv', 'site-packages', '.tox', '.yarn', '.pnpm-store']);
const BUILD_DIRS = new Set(['dist', 'out', 'build', 'target', 'bin', 'obj', '.next', '.nuxt', '.svelte-kit', 'coverage', '__pycache__', '.gradle', '.cache', '.parcel-cache', '.turbo']);
const LOCK_FILES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'cargo.lock', 'poetry.lock', 'pipfile.lock', 'gemfile.lock', 'composer.lock', 'go.sum', 'flake.lock', 'packages.lock.json', 'podfile.lock', 'mix.lock', 'pubspec.lock']);
// Credentials by name beyond the corpus's list: certificates, keystores, cloud and tool credentials.
const CREDENTIAL_NAME = /\.(crt|cer|der|csr|jks|keystore|p8|gpg|asc|kdbx|ovpn|ppk)$|^(credentials|\.pgpass|\.htpasswd|\.git-credentials|\.pypirc|\.dockercfg|secrets?\.(json|ya?ml|toml))$/;
const BINARY_EXT = /\.(png|jpe?g|gif|bmp|ico|webp|tiff?|psd|pdf|zip|gz|tgz|bz2|xz|7z|rar|jar|war|class|exe|dll|so|dylib|a|o|obj|lib|wasm|node|bin|dat|db|sqlite3?|mp[34]|wav|ogg|flac|mov|avi|mkv|webm|woff2?|ttf|otf|eot|pyc|pyo|safetensors|onnx|pt|pth|ckpt|npy|npz|pkl|parquet|arrow)$/i;

export function languageOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : name.toLowerCase();
}

/** Why a file is left out by its name alone, before it is read (null: read and check it). */
export function nameSkipReason(path: string): SkipReason | null {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (secretFileName(path) || CREDENTIAL_NAME.test(name)) return 'secret-file';
  if (LOCK_FILES.has(name) || name.endsWith('.lock')) return 'lock-file';
  if (BINARY_EXT.test(name)) return 'binary';
  return null;
}

/** Why a folder is not entered by its name alone (null: walk it). */
export function folderSkipReason(name: string): SkipReason | null {
  if (name === '.git' || name === '.hg' || name === '.svn') return 'excluded';
  if (DEPENDENCY_DIRS.has(name)) return 'dependencies';
  if (BUILD_DIRS.has(name)) return 'build-output';
  return null;
}

/** Text of the bytes, or null when they are not UTF-8 text (a NUL byte or an invalid sequence). */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Why a file read from disk is left out (content rules included), or null to keep it. */
export function contentSkipReason(path: string, bytes: Uint8Array): { reason: SkipReason; detail?: string } | { text: string } {
  const text = decodeText(bytes);
  if (text === null) return { reason: 'binary' };
  const drop = dropReason(path, text, bytes.length);
  if (drop === 'secret') return { reason: 'secret', detail: findSecret(text) ?? 'secret' };
  if (drop !== null && drop !== 'exact-duplicate' && drop !== 'near-duplicate') return { reason: drop };
  return { text };
}

/** Walks the workspace folders and returns the files fit for training, and every skip with its reason. */
export async function selectWorkspaceFiles(folders: readonly WorkspaceFolderRef[], opts: SelectOptions): Promise<WorkspaceSelection> {
  const include = opts.include.map(globToRegExp);
  const exclude = opts.exclude.map(globToRegExp);
  const maxBytes = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const files: WorkspaceFile[] = [];
  const skipped: SkippedFile[] = [];
  let bytes = 0;
  const multi = folders.length > 1;

  const walk = async (root: string, dirRel: string, ignore: GitIgnore, shown: (rel: string) => string): Promise<void> => {
    opts.signal?.throwIfAborted();
    const dirAbs = dirRel === '' ? root : join(root, dirRel);
    let entries;
    try {
      entries = await readdir(dirAbs, { withFileTypes: true });
    } catch {
      return;
    }
    const gi = entries.find((e) => e.name === '.gitignore' && e.isFile());
    if (gi) ignore.add(dirRel, await readFile(join(dirAbs, '.gitignore'), 'utf8').catch(() => ''));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      opts.signal?.throwIfAborted();
      const rel = dirRel === '' ? e.name : `${dirRel}/${e.name}`;
      const skip = (reason: SkipReason, folder: boolean, detail?: string): void => {
        skipped.push(detail === undefined ? { path: shown(rel), reason, folder } : { path: shown(rel), reason, detail, folder });
      };
      if (e.isSymbolicLink()) {
        skip('symlink', false);
        continue;
      }
      if (e.isDirectory()) {
        const why = folderSkipReason(e.name) ?? (ignore.ignored(rel, true) ? 'gitignored' : folderExcluded(exclude, rel) ? 'excluded' : null);
        if (why !== null) skip(why, true);
        else await walk(root, rel, ignore, shown);
        continue;
      }
      if (!e.isFile()) continue;
      if (ignore.ignored(rel, false)) {
        skip('gitignored', false);
        continue;
      }
      if (matchesAny(exclude, rel)) {
        skip('excluded', false);
        continue;
      }
      // Credentials are reported even when the include globs would not have taken them.
      const byName = nameSkipReason(rel);
      if (byName !== null) {
        skip(byName, false);
        continue;
      }
      if (!matchesAny(include, rel)) {
        skip('not-included', false);
        continue;
      }
      const abs = join(dirAbs, e.name);
      const st = await lstat(abs).catch(() => null);
      if (st === null || !st.isFile()) continue;
      if (st.size > MAX_FILE_BYTES) {
        skip('too-large', false);
        continue;
      }
      if (files.length >= maxFiles || bytes + st.size > maxBytes) {
        skip('over-budget', false);
        continue;
      }
      const checked = contentSkipReason(rel, await readFile(abs));
      if ('reason' in checked) {
        skip(checked.reason, false, checked.detail);
        continue;
      }
      files.push({ path: shown(rel), text: checked.text, language: languageOf(rel) });
      bytes += st.size;
    }
  };

  for (const f of folders) {
    await walk(f.path, '', new GitIgnore(), (rel) => (multi ? `${f.name}/${rel}` : rel));
  }
  return { files, skipped, bytes };
}
