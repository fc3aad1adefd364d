// Llama 2 and 3.x, CodeLlama, DeepSeek-Coder base, SmolLM2 and Mistral: RMSNorm, SwiGLU, no
// biases unless attention_bias / mlp_bias say so. llama.cpp's converter interleaves the Q/K
// rows of this architecture in GGUF, so they are put back at load.
import { decoderConfigFromGguf, decoderConfigFromHF, decoderGgufMetadata, decoderTensors, type DecoderShape } from './decoder';
import type { ModelFamily } from './types';

const shape: DecoderShape = { family: 'llama', norm: 'rmsnorm', mlp: 'swiglu', ggufPermutesQK: true };

export const llama: ModelFamily = {
  name: 'llama',
  hfModelTypes: ['llama', 'mistral'],
  ggufArchitectures: ['llama'],
  configFromHF: (v, modelType) => {
    const bias = v.get('attention_bias') === true;
    const window = v.get('sliding_window');
    return decoderConfigFromHF(v, modelType, shape, {
      qkvBias: bias,
      attnOutBias: bias,
      mlpBias: v.get('mlp_bias') === true,
      tiedEmbeddings: v.get('tie_word_embeddings') === true,
      slidingWindow: typeof window === 'number' ? window : null,
    }, ['rms_norm_eps']);
  },
  configFromGguf: (v) => decoderConfigFromGguf(v, shape),
  hfTensors: (c) => decoderTensors(c, shape, 'hf'),
  ggufTensors: (c) => decoderTensors(c, shape, 'gguf'),
  ggufMetadata: (c) => decoderGgufMetadata(c, 'llama'),
  loraTargets: ['q_proj', 'v_proj'],
  exports: { onnx: true, gguf: true },
};
