// A model as a GGUF file that llama.cpp (and Ollama, LM Studio) runs: the family's metadata and
// tensor names (families/), the tokenizer's vocabulary, and the matrices in the chosen format
// (norms, biases and position embeddings stay F32, as llama.cpp's converter writes them). The
// inverse of loading: Q/K rows are interleaved back for the llama architecture, and llama3
// RoPE scaling travels as the rope_freqs tensor. Tensor dims are written innermost first (ggml's
// ne), so an (out, in) row-major weight is ne = [in, out] with its bytes unchanged.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatInfo, quantize, type WeightType } from '../formats/formats';
import { ropeFreqFactors } from '../kernels/rope';
import { writeGguf, type GgufTensorOut } from '../io/ggufWrite';
import type { GgufValue } from '../io/ggufTypes';
import { familyOf } from './families';
import type { Model } from './model';
import { copyParamIntoTensor } from './tensorMapping';
import { getTokenizer } from '../tokenizer/tokenizer';
import { encodingGgufMetadata, tokenizerJsonGgufMetadata, tokenizerJsonPre, type TokenizerJsonFiles } from '../tokenizer/ggufVocabulary';

/** llama.cpp's general.file_type (LLAMA_FTYPE) for a file whose matrices are mostly this format. */
const FILE_TYPE: Record<WeightType, number> = { F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q4_K: 15, Q5_K: 17, Q6_K: 18, BF16: 32 };

export interface GgufExportOptions {
  /** The matrices' format; a matrix whose rows do not fill its blocks falls back to Q8_0, then F16. */
  weightType: WeightType;
  name?: string;
  /**
   * The tokenizer's tokenizer.ggml.* keys. By default: a checkpoint folder's byte-level
   * tokenizer.json (as convert_hf_to_gguf.py writes it), else the model's gpt-tokenizer encoding
   * (GPT-2's r50k_base when it names none).
   */
  tokenizer?: Array<[string, GgufValue]>;
  /**
   * A matrix's own format by its GGUF name (llama.cpp's mixes such as Q4_K_M keep attn_v and
   * ffn_down in Q6_K); undefined keeps weightType. The same block fallback applies.
   */
  tensorType?: (name: string) => WeightType | undefined;
}

/** The format a (rows, cols) matrix is written in: the asked one when its rows fill whole blocks. */
function matrixType(asked: WeightType, cols: number): WeightType {
  for (const t of [asked, 'Q8_0', 'F16'] as const) if (cols % formatInfo(t).blockElems === 0) return t;
  return 'F32';
}

/** The vocabulary keys of a checkpoint folder's tokenizer.json, or null when the model has no such folder. */
function folderTokenizer(model: Model): Array<[string, GgufValue]> | null {
  const dir = model.dir;
  if (dir === null || !existsSync(join(dir, 'tokenizer.json')) || !statSync(dir).isDirectory()) return null;
  const file = join(dir, 'tokenizer.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as TokenizerJsonFiles['json'] & { pre_tokenizer?: unknown; model: { type?: unknown } };
  const configPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as TokenizerJsonFiles['config']) : {};
  const pre = json.model.type === 'BPE' || json.model.type === undefined ? tokenizerJsonPre(json) : null;
  if (pre === null) {
    throw new Error(`${file}: GGUF export writes byte-level BPE vocabularies with a pre-tokenizer llama.cpp names (Qwen2, Llama 3, GPT-2, StarCoder); this one is not among them. Convert the folder with llama.cpp's convert_hf_to_gguf.py instead.`);
  }
  return tokenizerJsonGgufMetadata({ json, config }, pre, model.config.vocabSize);
}

/** Writes the model as GGUF at `path` (temp file + rename; never over an existing file). */
export function writeGgufModel(path: string, model: Model, opts: GgufExportOptions): void {
  const c = model.config;
  const family = familyOf(c);
  if (!family.exports.gguf) throw new Error(`GGUF export does not support the ${family.name} family yet.`);
  if (existsSync(path)) throw new Error(`${path} already exists; choose another output path (Limelight never overwrites a file).`);
  const tensors: GgufTensorOut[] = family.ggufTensors(c).map((m) => {
    const matrix = m.shape.length === 2 && m.name !== 'position_embd.weight';
    const type = matrix ? matrixType(opts.tensorType?.(m.name) ?? opts.weightType, m.shape[1]!) : 'F32';
    // Each tensor is encoded when the writer reaches it, so only one encoded copy is held at a time.
    const data = (): Uint8Array => {
      const spec = model.layout.byName.get(m.param)!;
      const f32 = new Float32Array(m.shape.reduce((a, b) => a * b, 1));
      copyParamIntoTensor(m, model.params.subarray(spec.offset, spec.offset + spec.size), f32);
      if (type === 'F32') return new Uint8Array(f32.buffer);
      const out = new Uint8Array((f32.length / formatInfo(type).blockElems) * formatInfo(type).blockBytes);
      quantize(type, f32, out);
      return out;
    };
    return { name: m.name, ne: [...m.shape].reverse(), type, data };
  });
  const scaling = c.ropeScaling;
  if (scaling !== null && scaling.kind !== 'linear') {
    const factors = ropeFreqFactors(c.headDim, c.ropeTheta, scaling);
    tensors.push({ name: 'rope_freqs.weight', ne: [factors.length], type: 'F32', data: new Uint8Array(factors.buffer) });
  }
  const metadata: Array<[string, GgufValue]> = [
    ...family.ggufMetadata(c).slice(0, 1),
    ['general.name', { type: 'string', value: opts.name ?? 'limelight' }],
    ['general.file_type', { type: 'u32', value: FILE_TYPE[opts.weightType] }],
    ...family.ggufMetadata(c).slice(1),
    ...(opts.tokenizer ?? folderTokenizer(model) ?? encodingGgufMetadata(getTokenizer(c.encoding ?? 'r50k_base'), c.vocabSize, c.bosTokenId, c.eosTokenIds[0] ?? null)),
  ];
  writeGguf(path, { metadata, tensors, alignment: 32 });
}
