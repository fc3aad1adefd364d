// Builds a Model from Hugging Face-named tensors, whatever file they came from: every tensor
// the config expects must be present with the expected shape, else one error lists them all.
import { type ModelConfig, ModelConfigError } from './config';
import { createModel, type Model } from './model';
import { copyHFIntoParam, hfMappings, type HFTensorMapping } from '../io/hfNames';

export interface TensorSource {
  /** Shape of the named tensor, or undefined when the source lacks it. */
  shape(name: string): readonly number[] | undefined;
  /** The named tensor converted to float32, in its stored layout. */
  toFloat32(name: string): Float32Array;
  /** Every tensor name the source holds (for messages). */
  names(): string[];
}

/** GPT-2 checkpoints come as GPT2LMHeadModel ("transformer.h.0...") or bare GPT2Model ("h.0..."). */
function gpt2Prefix(source: TensorSource): string {
  return source.shape('transformer.wte.weight') === undefined && source.shape('wte.weight') !== undefined ? '' : 'transformer.';
}

export function modelFromTensors(config: ModelConfig, source: TensorSource, dir: string | null = null): Model {
  const mappings = hfMappings(config, config.family === 'gpt2' ? gpt2Prefix(source) : undefined);
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const m of mappings) {
    const shape = source.shape(m.hfName);
    if (shape === undefined) missing.push(m.hfName);
    else if (!sameShape(shape, m.hfShape)) wrong.push(`${m.hfName}: has [${shape.join(', ')}], expected [${m.hfShape.join(', ')}]`);
  }
  if (missing.length > 0 || wrong.length > 0) throw tensorError(config, missing, wrong, source, mappings, dir);
  const model = createModel(config, undefined, dir);
  for (const m of mappings) {
    const spec = model.layout.byName.get(m.param)!;
    copyHFIntoParam(m, source.toFloat32(m.hfName), model.params.subarray(spec.offset, spec.offset + spec.size));
  }
  return model;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function tensorError(config: ModelConfig, missing: string[], wrong: string[], source: TensorSource, all: HFTensorMapping[], dir: string | null): ModelConfigError {
  const lines = [`${dir === null ? 'The checkpoint' : `The checkpoint in ${dir}`} does not match its config.json (${config.modelType}, ${config.nLayer} layers, width ${config.hidden}).`];
  const list = (title: string, items: string[]): void => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`, ...items.slice(0, 12).map((s) => `  ${s}`));
    if (items.length > 12) lines.push(`  ... and ${items.length - 12} more`);
  };
  list('Missing tensors', missing);
  list('Tensors with the wrong shape', wrong);
  if (missing.length === all.length) lines.push(`The file holds none of the expected names; it has e.g. ${source.names().slice(0, 5).join(', ') || 'no tensors'}.`);
  lines.push('Check that config.json belongs to these weights (Hugging Face GPT-2 or Llama layout).');
  return new ModelConfigError(lines.join('\n'));
}
