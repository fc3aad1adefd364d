// A buffer in the parameter layout (weights, gradients) as Hugging Face-named tensors in
// checkpoint layout, ready for writeSafetensors: the inverse of loading, including GPT-2's
// Conv1D transposes and the split of fused q|k|v and gate|up. Tied embeddings appear once,
// under the token-embedding name, as save_pretrained writes them.
import type { ModelConfig } from '../model/config';
import type { ParamLayout } from '../model/layout';
import { familyOf } from '../model/families';
import { copyParamIntoTensor } from '../model/tensorMapping';
import type { TensorToWrite } from '../io/safetensors';

export function hfTensors(config: ModelConfig, layout: ParamLayout, buffer: Float32Array, namePrefix = ''): TensorToWrite[] {
  return familyOf(config).hfTensors(config).map((m) => {
    const spec = layout.byName.get(m.param)!;
    const out = new Float32Array(m.shape.reduce((a, b) => a * b, 1));
    copyParamIntoTensor(m, buffer.subarray(spec.offset, spec.offset + spec.size), out);
    return { name: namePrefix + m.name, dtype: 'F32' as const, shape: m.shape, data: out };
  });
}
