// StarCoder2: LayerNorm with bias, a plain GELU MLP (c_fc, c_proj) with biases, biases on
// every attention projection (use_bias), grouped-query attention, rotary positions, a sliding
// window, tied embeddings. GGUF keeps Hugging Face's row order.
import { decoderConfigFromGguf, decoderConfigFromHF, decoderGgufMetadata, decoderTensors, type DecoderShape } from './decoder';
import type { ModelFamily } from './types';

const shape: DecoderShape = { family: 'starcoder2', norm: 'layernorm', mlp: 'gelu_tanh', ggufPermutesQK: false };

export const starcoder2: ModelFamily = {
  name: 'starcoder2',
  hfModelTypes: ['starcoder2'],
  ggufArchitectures: ['starcoder2'],
  configFromHF: (v, modelType) => {
    const bias = v.get('use_bias') !== false;
    const window = v.get('sliding_window');
    return decoderConfigFromHF(v, modelType, shape, {
      qkvBias: bias,
      attnOutBias: bias,
      mlpBias: bias,
      tiedEmbeddings: v.get('tie_word_embeddings') !== false,
      slidingWindow: typeof window === 'number' ? window : null,
    }, ['norm_epsilon', 'layer_norm_epsilon']);
  },
  configFromGguf: (v) => decoderConfigFromGguf(v, shape),
  hfTensors: (c) => decoderTensors(c, shape, 'hf'),
  ggufTensors: (c) => decoderTensors(c, shape, 'gguf'),
  ggufMetadata: (c) => decoderGgufMetadata(c, 'starcoder2'),
  loraTargets: ['q_proj', 'v_proj'],
  exports: { onnx: true, gguf: true },
};
