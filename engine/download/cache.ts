// Where downloaded files go. The Hugging Face cache layout, so that other tools (transformers,
// huggingface-cli, llama.cpp's -hf) and Limelight's discovery share them:
//   <cache>/models--ORG--NAME/blobs/<etag>                   the content, named by its ETag
//   <cache>/models--ORG--NAME/snapshots/<commit>/<file>      a relative symlink to the blob (a copy where links fail)
//   <cache>/models--ORG--NAME/refs/<revision>                the commit the revision named
// or a folder the user picked: <dir>/<file>, partial data kept in <dir>/.limelight-partial/.
// Partial data is `<blob>.incomplete` beside its destination (same file system: the final
// rename is atomic).
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Destination {
  /** Where the finished content lives (a cache blob, or the file in the user's folder). */
  final: string;
  /** The partial download, renamed to `final` once verified. */
  partial: string;
  /** The path the user opens (the snapshot entry, or `final`). */
  path: string;
}

export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/** The destination of one file in the hub cache. */
export function cacheDestination(cacheDir: string, repo: string, commit: string, file: string, etag: string): Destination {
  const root = repoFolder(cacheDir, repo);
  const blob = join(root, 'blobs', etag);
  return { final: blob, partial: `${blob}.incomplete`, path: join(root, 'snapshots', commit, ...file.split('/')) };
}

/** The destination of one file in a folder the user picked. */
export function folderDestination(dir: string, file: string, etag: string): Destination {
  const final = join(dir, ...file.split('/'));
  return { final, partial: join(dir, '.limelight-partial', `${etag}.incomplete`), path: final };
}

function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Makes the snapshot entry point at its blob: a relative symlink, or a copy where the file system refuses links. */
export function linkSnapshot(dest: Destination): void {
  if (dest.path === dest.final) return;
  mkdirSync(dirname(dest.path), { recursive: true });
  try {
    lstatSync(dest.path);
    unlinkSync(dest.path);
  } catch {
    // Not there yet.
  }
  try {
    symlinkSync(relative(dirname(dest.path), dest.final), dest.path);
  } catch {
    copyFileSync(dest.final, `${dest.path}.tmp`);
    renameSync(`${dest.path}.tmp`, dest.path);
  }
}

/** refs/<revision> = commit, so that a later lookup by branch name finds the snapshot. */
export function writeRef(cacheDir: string, repo: string, revision: string, commit: string): void {
  if (revision === commit) return;
  writeAtomic(join(repoFolder(cacheDir, repo), 'refs', ...revision.split('/')), commit);
}

/** Removes the partial-data folder of a user's folder once it is empty. */
export function tidyPartials(dest: Destination): void {
  const dir = dirname(dest.partial);
  if (!dir.endsWith('.limelight-partial') || !existsSync(dir)) return;
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Left for the next download.
  }
}
