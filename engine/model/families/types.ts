// What a model family is: one object per architecture (families/<name>.ts) that knows its
// names in Hugging Face config.json (model_type) and in GGUF (general.architecture), reads
// its config from either, maps its tensors from either file's names into the engine's
// parameter layout, and names its LoRA targets and exports. The compute code never asks which
// family it runs: it reads ModelConfig's flags only.
import type { FamilyName, ModelConfig } from '../config';
import type { GgufValue } from '../../io/ggufTypes';
import type { ConfigValues } from './configRead';

/** One tensor of a model file and where it goes in the parameter layout (model/layout.ts). */
export interface TensorMapping {
  /** Name in the file, e.g. model.layers.0.self_attn.q_proj.weight or blk.0.attn_q.weight. */
  name: string;
  /** Shape as stored, outermost first (a GGUF tensor's ne reversed). */
  shape: number[];
  /** Internal parameter name, e.g. h.0.qkv.w. */
  param: string;
  /** First row of the internal (out, in) parameter that this tensor fills. */
  rowOffset: number;
  /** The file stores (in, out) (GPT-2's Conv1D): transpose into (out, in). */
  transpose: boolean;
  /**
   * llama.cpp's converter interleaves the two halves of each head's rows of Q and K in
   * llama-architecture GGUF files (for its GPT-J-style rotation); this many heads are put
   * back into Hugging Face's rotate-half order at load. 0 = rows as stored.
   */
  unpermuteHeads: number;
  /** PEFT module name (LoRA targets): c_attn, q_proj, c_fc ... */
  module: string;
}

/** A GGUF file's metadata for the family's architecture, and the small tensors a config may need. */
export interface GgufConfigValues extends ConfigValues {
  /** general.architecture. */
  readonly arch: string;
  /** Shape (outermost first) of a tensor in the file, or undefined. */
  tensorShape(name: string): readonly number[] | undefined;
  /** A small tensor (e.g. rope_freqs.weight) as float32. */
  readFloat32(name: string): Float32Array;
}

export interface ModelFamily {
  readonly name: FamilyName;
  /** config.json model_type values this family reads. */
  readonly hfModelTypes: readonly string[];
  /** GGUF general.architecture values this family reads. */
  readonly ggufArchitectures: readonly string[];
  configFromHF(values: ConfigValues, modelType: string): ModelConfig;
  configFromGguf(values: GgufConfigValues): ModelConfig;
  /** Every tensor of a Hugging Face checkpoint; `has` tells which names the file holds, for layouts with variants. */
  hfTensors(c: ModelConfig, has?: (name: string) => boolean): TensorMapping[];
  /** Every tensor of a GGUF file of this family. */
  ggufTensors(c: ModelConfig): TensorMapping[];
  /** The architecture's GGUF metadata for a config (the inverse of configFromGguf; tokenizer keys apart). */
  ggufMetadata(c: ModelConfig): Array<[string, GgufValue]>;
  /** PEFT target modules Fine-tune on Workspace adapts by default. */
  readonly loraTargets: readonly string[];
  /** Which exports exist for the family. */
  readonly exports: { readonly onnx: boolean; readonly gguf: boolean };
}
