// Builds a Model from a file's tensors, whatever the file (safetensors folder, GGUF), through
// the family's tensor mappings: every tensor the config expects must be present with the
// expected shape, else one error lists them all. Matrices keep their stored format (F16,
// BF16, Q8_0, Q4_K ...) as parts of rows; what must be rearranged element by element
// (GPT-2's transposes, vectors assembled from several tensors) or has no engine format
// (F64, integer dtypes) is converted to float32.
import { formatInfo, type WeightType } from '../formats/formats';
import { type ModelConfig, ModelConfigError } from './config';
import { Model, type WeightPart } from './model';
import { buildLayout } from './layout';
import type { TensorMapping } from './families/types';
import { copyTensorIntoParam, unpermutedRow } from './tensorMapping';

export interface TensorSource {
  /** Shape of the named tensor (outermost first), or undefined when the source lacks it. */
  shape(name: string): readonly number[] | undefined;
  /** The stored format when the engine can keep it as is; undefined = read it as float32. */
  weightType(name: string): WeightType | undefined;
  /** The tensor's stored bytes in a buffer the model may keep (read from disk once). */
  rawBytes(name: string): Uint8Array;
  /**
   * A reader of the tensor's stored bytes, each call reading them from the file again, for
   * sources that can (a GGUF file): the model then holds no copy of its matrices, and the
   * backend that packs them reads each once.
   */
  lazyBytes?(name: string): (start?: number, length?: number, into?: Uint8Array) => Uint8Array;
  /** The named tensor converted to float32, in its stored layout. */
  toFloat32(name: string): Float32Array;
  /** Every tensor name the source holds (for messages). */
  names(): string[];
}

export function modelFromTensors(config: ModelConfig, source: TensorSource, mappings: TensorMapping[], dir: string | null = null): Model {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const m of mappings) {
    const shape = source.shape(m.name);
    if (shape === undefined) missing.push(m.name);
    else if (!sameShape(shape, m.shape)) wrong.push(`${m.name}: has [${shape.join(', ')}], expected [${m.shape.join(', ')}]`);
  }
  if (missing.length > 0 || wrong.length > 0) throw tensorError(config, missing, wrong, source, mappings, dir);
  const byParam = new Map<string, TensorMapping[]>();
  for (const m of mappings) {
    const list = byParam.get(m.param) ?? [];
    list.push(m);
    byParam.set(m.param, list);
  }
  const keeps = (m: TensorMapping): boolean => {
    const t = source.weightType(m.name);
    return t !== undefined && t !== 'F32' && m.shape.length === 2 && !m.transpose;
  };
  if (!mappings.some(keeps)) {
    // Every tensor becomes float32: straight into the one buffer, as before formats existed.
    const model = new Model(config, undefined, dir);
    for (const m of mappings) {
      const spec = model.layout.byName.get(m.param)!;
      copyTensorIntoParam(m, source.toFloat32(m.name), model.params.subarray(spec.offset, spec.offset + spec.size));
    }
    return model;
  }
  const parts = new Map<string, WeightPart[]>();
  for (const spec of buildLayout(config).specs) {
    const list = (byParam.get(spec.name) ?? []).sort((a, b) => a.rowOffset - b.rowOffset);
    const cols = spec.shape.length === 2 ? spec.shape[1]! : spec.size;
    if (spec.shape.length === 2 && list.every((m) => !m.transpose && source.weightType(m.name) !== undefined)) {
      parts.set(spec.name, list.map((m) => storedPart(source, m, cols)));
    } else {
      const data = new Float32Array(spec.size);
      for (const m of list) copyTensorIntoParam(m, source.toFloat32(m.name), data);
      parts.set(spec.name, [{ type: 'F32', rows: spec.size / cols, cols, data: new Uint8Array(data.buffer) }]);
    }
  }
  return new Model(config, parts, dir);
}

/** One tensor's rows as stored, with llama.cpp's Q/K interleave undone on whole rows of blocks. */
function storedPart(source: TensorSource, m: TensorMapping, cols: number): WeightPart {
  const type = source.weightType(m.name)!;
  const rows = m.shape[0]!;
  const f = formatInfo(type);
  if (cols % f.blockElems !== 0) {
    throw new ModelConfigError(`tensor ${m.name} is ${type} with rows of ${cols} weights, which do not fill whole ${f.blockElems}-weight blocks. The file is damaged; download or convert it again.`);
  }
  const rowBytes = (cols / f.blockElems) * f.blockBytes;
  const inOrder = (raw: Uint8Array): Uint8Array => {
    if (m.unpermuteHeads === 0) return raw;
    const data = new Uint8Array(raw.length);
    for (let r = 0; r < rows; r++) data.set(raw.subarray(r * rowBytes, (r + 1) * rowBytes), unpermutedRow(r, rows, m.unpermuteHeads) * rowBytes);
    return data;
  };
  const read = source.lazyBytes?.(m.name);
  if (read === undefined) return { type, rows, cols, data: inOrder(source.rawBytes(m.name)) };
  return {
    type,
    rows,
    cols,
    get data(): Uint8Array {
      return inOrder(read());
    },
    ...(m.unpermuteHeads === 0
      ? {
          readRows: (r0: number, n: number, into?: Uint8Array): Uint8Array => read(r0 * rowBytes, n * rowBytes, into),
        }
      : {}),
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function tensorError(config: ModelConfig, missing: string[], wrong: string[], source: TensorSource, all: TensorMapping[], dir: string | null): ModelConfigError {
  const lines = [`${dir === null ? 'The checkpoint' : `The checkpoint in ${dir}`} does not match its config (${config.modelType}, ${config.nLayer} layers, width ${config.hidden}).`];
  const list = (title: string, items: string[]): void => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`, ...items.slice(0, 12).map((s) => `  ${s}`));
    if (items.length > 12) lines.push(`  ... and ${items.length - 12} more`);
  };
  list('Missing tensors', missing);
  list('Tensors with the wrong shape', wrong);
  if (missing.length === all.length) lines.push(`The file holds none of the expected names; it has e.g. ${source.names().slice(0, 5).join(', ') || 'no tensors'}.`);
  lines.push('Check that the config belongs to these weights (a Hugging Face folder: config.json beside the safetensors; a GGUF file: its own metadata).');
  return new ModelConfigError(lines.join('\n'));
}
