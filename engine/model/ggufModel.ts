// A GGUF file (llama.cpp, Ollama, LM Studio) as a model: its metadata read through the family of
// its general.architecture, its tensors read once each into the model's parts, in their format.
import { dequantize } from '../formats/formats';
import type { GgufFile } from '../io/ggufRead';
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

export function ggufTensorSource(file: GgufFile): TensorSource {
  return {
    shape: (name) => file.tensor(name)?.shape,
    weightType: (name) => file.tensor(name)?.type,
    rawBytes: (name) => file.readTensorBytes(name),
    toFloat32: (name) => tensorAsFloat32(file, name),
    names: () => file.tensors.map((t) => t.name),
  };
}

/** Whether a model path names a GGUF file (by its extension; the reader checks the magic). */
export function isGgufPath(path: string): boolean {
  return path.toLowerCase().endsWith('.gguf');
}

