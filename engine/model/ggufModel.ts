// A GGUF file (llama.cpp, Ollama, LM Studio) as a model: its metadata read through the family of
// its general.architecture; its matrices stay in the file, in their format, and are read when a
// backend packs them (as llama.cpp maps the file rather than copying it), so loading never holds
// a second copy of the weights.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dequantize } from '../formats/formats';
import { GgufError, type GgufFile } from '../io/ggufRead';
import type { GgufConfigValues } from './families/types';
import type { TensorSource } from './fromTensors';

const FIX = 'The file may be damaged or made by a converter Limelight does not know: convert the model again with a current llama.cpp (convert_hf_to_gguf.py), or download it again.';

/** The file's metadata as config values (plain numbers, bigints, strings, arrays). */
export function ggufConfigValues(file: GgufFile): GgufConfigValues {
  return {
    source: file.path,
    fix: FIX,
    arch: file.getString('general.architecture'),
    get: (key) => file.metadata.get(key)?.value,
    tensorShape: (name) => file.tensor(name)?.shape,
    readFloat32: (name) => tensorAsFloat32(file, name),
  };
}

function tensorAsFloat32(file: GgufFile, name: string): Float32Array {
  const t = file.tensor(name);
  if (t === undefined) throw new Error(`${file.path}: no tensor ${name}`);
  const out = new Float32Array(t.elements);
  dequantize(t.type, file.readTensorBytes(name), out);
  return out;
}

/**
 * A reader of the `bytes` bytes at `offset` of the file (or `length` of them from `start`, into a
 * buffer of the caller's when given), each call opening it afresh, that refuses a file changed since its header was read (a model
 * replaced on disk while loaded).
 */
function rangeReader(path: string, tensorOffset: number, tensorBytes: number, size: number, mtimeMs: number): (start?: number, length?: number, into?: Uint8Array) => Uint8Array {
  return (start = 0, length = tensorBytes - start, into) => {
    if (start < 0 || length < 0 || start + length > tensorBytes) throw new RangeError(`${path}: bytes ${start}..${start + length} are outside the tensor's ${tensorBytes}`);
    const offset = tensorOffset + start;
    const bytes = length;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new GgufError(`${path}: cannot reopen to read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Was the file moved or deleted while the model was loaded? Load the model again.`);
    }
    try {
      const st = fstatSync(fd);
      if (st.size !== size || st.mtimeMs !== mtimeMs) throw new GgufError(`${path}: the file changed on disk after it was loaded. Load the model again.`);
      // Into the caller's buffer, or one not zero-filled first: every byte is read over (a third of the time on a 136 MB embedding).
      const out = into !== undefined ? into.subarray(0, bytes) : new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
      for (let done = 0; done < bytes; ) {
        const n = readSync(fd, out, done, Math.min(bytes - done, 1 << 30), offset + done);
        if (n === 0) throw new GgufError(`${path}: the file ended while reading weights. Download or convert it again.`);
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

export function ggufTensorSource(file: GgufFile): TensorSource {
  const st = statSync(file.path);
  return {
    shape: (name) => file.tensor(name)?.shape,
    weightType: (name) => file.tensor(name)?.type,
    rawBytes: (name) => file.readTensorBytes(name),
    lazyBytes: (name) => {
      const t = file.tensor(name)!;
      return rangeReader(file.path, t.offset, t.bytes, st.size, st.mtimeMs);
    },
    toFloat32: (name) => tensorAsFloat32(file, name),
    names: () => file.tensors.map((t) => t.name),
  };
}


