// Folders the user names for Limelight to read or write: limelight.model.path, and the folders
// picked for Import Adapter, Export Adapter and Export Training Data. One check for all of them,
// so none can surprise: no network (UNC) path, which on Windows makes the OS contact the server
// it names; an absolute path only (`~` stands for the home folder; no ${workspaceFolder} or other
// variable, as a model must not change with the folder that is open); `..` normalised and
// symbolic links resolved, so the log names the real folder; and it must be an existing folder.
// No vscode import: the unit tests run it on real folders and links.
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isGgufFile } from '../engine/io/ggufMagic';

export type FolderCheck =
  | {
      ok: true;
      /** The real absolute path: normalised, every symbolic link resolved. */
      path: string;
      /** Set when the real path differs from what the user wrote (a link, `~`, `..`). */
      note?: string;
    }
  | { ok: false; problem: string };

/** `\\server\share`, `//server/share`, `\\?\UNC\...`, `\\.\device`: the OS goes to the network or a device for these. */
export function isNetworkPath(p: string): boolean {
  return /^[\\/]{2}/.test(p);
}

/** The longest path any system accepts (Windows' extended paths); a longer one is no folder. */
const MAX_PATH_CHARS = 32767;

/**
 * Checks a folder path the user gave for `what` (e.g. "limelight.model.path"). `home` replaces
 * a leading `~`; a file ending in `fileExtension` (".gguf" for a model) passes too. Never
 * throws: a bad path comes back as a problem saying what to do.
 */
/** Files a check accepts besides folders, and their name in messages. */
export interface AcceptedFile {
  name: string;
  accepts(path: string): boolean;
}

/** A GGUF model: a .gguf file, or one that starts with GGUF's magic (Ollama's and the HF cache's blobs). */
export const GGUF_MODEL_FILE: AcceptedFile = { name: '.gguf', accepts: isGgufFile };

export function checkFolder(raw: string, what: string, home: string = homedir(), file?: AcceptedFile): FolderCheck {
  const given = raw.trim();
  // The warning quotes at most 200 characters: settings.json may hold megabytes there.
  const bad = (why: string): FolderCheck => ({ ok: false, problem: `${what}: ${JSON.stringify(given.length > 200 ? `${given.slice(0, 200)}...` : given)} ${why}` });
  if (given === '') return bad('is empty; set the absolute path of a folder.');
  if (given.length > MAX_PATH_CHARS) return bad(`is ${given.length} characters long, more than any folder path (${MAX_PATH_CHARS}). Set the absolute path of a folder.`);
  if (given.includes('\0')) return bad('contains a NUL character; set the absolute path of a folder.');
  if (isNetworkPath(given)) return bad('is a network (UNC) path, and opening it would make the system contact that server. Copy the folder to this machine and set its local absolute path.');
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(given)) return bad('is a URL; Limelight reads only local folders. Set the absolute path of a folder on this machine.');
  if (given.includes('${')) return bad('holds a variable such as ${workspaceFolder}; these are not expanded, since the model must not change with the folder that is open. Set an absolute path (~/ stands for your home folder).');
  let expanded = given;
  if (given === '~' || given.startsWith('~/') || given.startsWith('~\\')) expanded = join(home, given.slice(1));
  else if (given.startsWith('~')) return bad('names another user\'s home folder (~name), which is not expanded. Set an absolute path.');
  if (!isAbsolute(expanded)) return bad('is a relative path, which would depend on where the editor was started. Set an absolute path (~/ stands for your home folder).');
  const normal = resolve(expanded);
  let real: string;
  try {
    real = realpathSync.native(normal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return bad(`does not exist${normal !== given ? ` (${normal})` : ''}. Check the path, or create the folder first.`);
    if (code === 'EACCES' || code === 'EPERM') return bad('cannot be read: permission denied. Choose a folder you can read, or fix its permissions.');
    if (code === 'ENOTDIR') return bad('goes through a file as if it were a folder. Set the path of a folder.');
    if (code === 'ELOOP') return bad('is a loop of symbolic links. Set the path of the real folder.');
    return bad(`cannot be opened (${(e as Error).message}). Set the absolute path of a folder.`);
  }
  // A link may lead to a network share even when the path the user wrote is local.
  if (isNetworkPath(real)) return bad(`leads through a symbolic link to the network path ${real}, and opening it would make the system contact that server. Copy the folder to this machine.`);
  let isDir: boolean;
  try {
    isDir = statSync(real).isDirectory();
  } catch (e) {
    return bad(`cannot be opened (${(e as Error).message}). Set the absolute path of a folder.`);
  }
  // A link may lead to a file named by its hash (the Hugging Face cache's blobs, Ollama's
  // blobs/sha256-…): a .gguf one is recognized by its magic.
  const acceptedFile = !isDir && file !== undefined && file.accepts(real);
  if (!isDir && !acceptedFile) return bad(`is a file${real !== normal ? ` (${real})` : ''}, not a folder${file !== undefined ? ` or a ${file.name} file` : ''}. Set the folder that holds it.`);
  return real === given ? { ok: true, path: real } : { ok: true, path: real, note: `${what}: ${JSON.stringify(given)} is the folder ${real}.` };
}
