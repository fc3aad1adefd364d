// Qwen2 and Qwen2.5 (Qwen2.5-Coder): the Llama block with biases on q, k and v (not on the
// output projection). The small models tie the LM head to the embedding. GGUF keeps
// Hugging Face's row order (no Q/K interleave).
import { decoderConfigFromGguf, decoderConfigFromHF, decoderGgufMetadata, decoderTensors, type DecoderShape } from './decoder';
import type { ModelFamily } from './types';

const shape: DecoderShape = { family: 'qwen2', norm: 'rmsnorm', mlp: 'swiglu', ggufPermutesQK: false };

export const qwen2: ModelFamily = {
  name: 'qwen2',
  hfModelTypes: ['qwen2'],
  ggufArchitectures: ['qwen2'],
  configFromHF: (v, modelType) => {
    const window = v.get('sliding_window');
    return decoderConfigFromHF(v, modelType, shape, {
      qkvBias: true,
      attnOutBias: false,
      mlpBias: false,
      tiedEmbeddings: v.get('tie_word_embeddings') === true,
      slidingWindow: v.get('use_sliding_window') === true && typeof window === 'number' ? window : null,
    }, ['rms_norm_eps']);
  },
  configFromGguf: (v) => decoderConfigFromGguf(v, shape),
  hfTensors: (c) => decoderTensors(c, shape, 'hf'),
  ggufTensors: (c) => decoderTensors(c, shape, 'gguf'),
  ggufMetadata: (c) => decoderGgufMetadata(c, 'qwen2'),
  loraTargets: ['q_proj', 'v_proj'],
  exports: { onnx: true, gguf: true },
};
