// Whether a path is a GGUF model file, from its name or its first four bytes ("GGUF"), without
// the reader: Select Model's path check on the extension host and the loader share it.
import { closeSync, openSync, readSync } from 'node:fs';

/** Whether a model path names a GGUF file (by its extension; the reader checks the magic). */
export function isGgufPath(path: string): boolean {
  return path.toLowerCase().endsWith('.gguf');
}

/** A .gguf file, or a file that starts with GGUF's magic whatever its name (Ollama's blobs/sha256-… files). */
export function isGgufFile(path: string): boolean {
  if (isGgufPath(path)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === 'GGUF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
