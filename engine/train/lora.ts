// LoRA (Hu et al. 2021) as Hugging Face PEFT does it: a frozen linear layer W gains
// y += (alpha / r) * B . A . dropout(x), with A (r, in) drawn kaiming-uniform and B (out, r)
// zero, so an untrained adapter changes nothing. Targets are PEFT module names (GPT-2:
// c_attn, c_proj, c_fc; Llama: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
// down_proj); a name matches every module whose path ends with it, as in PEFT.
//
// Internally each adapter sits on one of a block's four linear layers, over a block of its
// output rows (q_proj and v_proj are row ranges of the fused q|k|v matrix). Every adapter's A
// and B live in one buffer, so gradients and AdamW moments reuse the optimizer over a flat array.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../model/config';
import type { Model } from '../model/model';
import type { LayerParams } from '../model/layout';
import { mulberry32 } from '../model/init';
import { familyOf } from '../model/families';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../io/safetensors';
import { writeFileAtomic } from '../io/atomicFile';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './adapterFiles';

/** Which of a block's linear layers an adapter modifies. */
export type LinearSlot = 'qkv' | 'attnOut' | 'fc' | 'proj';

export interface LoraOptions {
  rank: number;
  alpha: number;
  dropout: number;
  /** PEFT module names; every module whose path ends with one is adapted. */
  targetModules: string[];
}

export interface LoraAdapter {
  layer: number;
  slot: LinearSlot;
  /** PEFT module path, e.g. transformer.h.0.attn.c_attn or model.layers.0.self_attn.q_proj. */
  module: string;
  /** First output row of the internal (out, in) weight this adapter adds to. */
  rowOffset: number;
  rows: number; // out
  inDim: number; // in
  aOffset: number; // A (r, in) in the adapter buffer
  bOffset: number; // B (rows, r)
}

export interface Lora {
  options: LoraOptions;
  /** alpha / r. */
  scale: number;
  adapters: LoraAdapter[];
  /** Adapters of each layer (indices into adapters). */
  byLayer: LoraAdapter[][];
  /** Every A and B, adapter after adapter. */
  params: Float32Array;
  /** Whether the adapter is currently added into the model's weights. */
  merged: boolean;
}

export class LoraError extends Error {
  override name = 'LoraError';
}

/** PEFT's usual choice: the attention projections. */
export function defaultTargetModules(config: ModelConfig): string[] {
  return [...familyOf(config).loraTargets];
}

export function defaultLoraOptions(config: ModelConfig, rank = 8): LoraOptions {
  return { rank, alpha: 2 * rank, dropout: 0, targetModules: defaultTargetModules(config) };
}

const SLOT_OF: Record<string, LinearSlot> = { 'qkv.w': 'qkv', 'attn_out.w': 'attnOut', 'fc.w': 'fc', 'proj.w': 'proj' };

interface Target {
  layer: number;
  slot: LinearSlot;
  module: string;
  rowOffset: number;
  rows: number;
  inDim: number;
}

/** Every linear module of the model that LoRA can adapt, in checkpoint order. */
function adaptableModules(config: ModelConfig): Target[] {
  const out: Target[] = [];
  for (const m of familyOf(config).hfTensors(config)) {
    const match = /^h\.(\d+)\.(.+)$/.exec(m.param);
    const slot = match ? SLOT_OF[match[2]!] : undefined;
    if (!match || slot === undefined || !m.name.endsWith('.weight')) continue;
    const [a, b] = m.shape as [number, number];
    const rows = m.transpose ? b : a;
    out.push({ layer: Number(match[1]), slot, module: m.name.slice(0, -'.weight'.length), rowOffset: m.rowOffset, rows, inDim: m.transpose ? a : b });
  }
  return out;
}

function checkOptions(o: LoraOptions): void {
  if (!Number.isInteger(o.rank) || o.rank < 1 || o.rank > 4096) throw new LoraError(`LoRA rank must be a whole number from 1 to 4096 (got ${o.rank}).`);
  if (!(o.alpha > 0) || !Number.isFinite(o.alpha)) throw new LoraError(`LoRA alpha must be a positive number (got ${o.alpha}).`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new LoraError(`LoRA dropout must be in [0, 1) (got ${o.dropout}).`);
  if (o.targetModules.length === 0) throw new LoraError('LoRA needs at least one target module (for example c_attn for GPT-2, q_proj and v_proj for Llama).');
}

/** Lays out adapters for the target modules; A and B start at zero (see initLora). */
function layoutLora(config: ModelConfig, options: LoraOptions): Lora {
  checkOptions(options);
  const all = adaptableModules(config);
  const r = options.rank;
  const adapters: LoraAdapter[] = [];
  let offset = 0;
  for (const t of options.targetModules) {
    if (!all.some((m) => m.module === t || m.module.endsWith('.' + t))) {
      const names = [...new Set(all.map((m) => m.module.split('.').pop()))].join(', ');
      throw new LoraError(`LoRA target module "${t}" is not in this ${config.modelType} model. Choose from: ${names}.`);
    }
  }
  for (const m of all) {
    if (!options.targetModules.some((t) => m.module === t || m.module.endsWith('.' + t))) continue;
    adapters.push({ ...m, aOffset: offset, bOffset: offset + r * m.inDim });
    offset += r * m.inDim + m.rows * r;
  }
  const byLayer: LoraAdapter[][] = Array.from({ length: config.nLayer }, () => []);
  for (const a of adapters) byLayer[a.layer]!.push(a);
  return { options, scale: options.alpha / r, adapters, byLayer, params: new Float32Array(offset), merged: false };
}

/** New adapters: A uniform in +-1/sqrt(in) (PEFT's kaiming_uniform_(a=sqrt(5))), B zero. */
export function createLora(config: ModelConfig, options: LoraOptions, seed = 1337): Lora {
  const lora = layoutLora(config, options);
  const rand = mulberry32(seed);
  for (const a of lora.adapters) {
    const bound = 1 / Math.sqrt(a.inDim);
    const A = adapterA(lora, lora.params, a);
    for (let i = 0; i < A.length; i++) A[i] = (2 * rand() - 1) * bound;
  }
  return lora;
}

/** A (r, in) of an adapter within `buffer` (parameters, gradients or moments). */
export function adapterA(lora: Lora, buffer: Float32Array, a: LoraAdapter): Float32Array {
  return buffer.subarray(a.aOffset, a.aOffset + lora.options.rank * a.inDim);
}

/** B (rows, r) of an adapter within `buffer`. */
export function adapterB(lora: Lora, buffer: Float32Array, a: LoraAdapter): Float32Array {
  return buffer.subarray(a.bOffset, a.bOffset + a.rows * lora.options.rank);
}

/** The internal weight an adapter slot modifies. */
export function slotWeight(p: LayerParams, slot: LinearSlot): Float32Array {
  return slot === 'qkv' ? p.qkvw : slot === 'attnOut' ? p.attnOutW : slot === 'fc' ? p.fcw : p.projw;
}

function addDelta(model: Model, lora: Lora, sign: number): void {
  const r = lora.options.rank;
  for (const a of lora.adapters) {
    const W = slotWeight(model.views.layers[a.layer]!, a.slot);
    const A = adapterA(lora, lora.params, a);
    const B = adapterB(lora, lora.params, a);
    const s = sign * lora.scale;
    for (let o = 0; o < a.rows; o++) {
      const wi = (a.rowOffset + o) * a.inDim;
      for (let k = 0; k < r; k++) {
        const bk = s * B[o * r + k]!;
        if (bk === 0) continue;
        const ai = k * a.inDim;
        for (let i = 0; i < a.inDim; i++) W[wi + i] += bk * A[ai + i]!;
      }
    }
  }
}

/** Adds scale * B . A into the model's weights, for inference at the base model's speed. */
export function mergeLora(model: Model, lora: Lora): void {
  if (lora.merged) throw new LoraError('This adapter is already merged into the weights; unmerge it first.');
  addDelta(model, lora, 1);
  lora.merged = true;
}

/** Removes a merged adapter from the weights again (exact up to float32 rounding). */
export function unmergeLora(model: Model, lora: Lora): void {
  if (!lora.merged) throw new LoraError('This adapter is not merged into the weights; nothing to unmerge.');
  addDelta(model, lora, -1);
  lora.merged = false;
}

/** PEFT tensor names: base_model.model.<module>.lora_A.weight (r, in) and lora_B.weight (out, r). */
export function loraTensors(lora: Lora, buffer: Float32Array = lora.params): TensorToWrite[] {
  const r = lora.options.rank;
  return lora.adapters.flatMap((a) => [
    { name: `base_model.model.${a.module}.lora_A.weight`, dtype: 'F32' as const, shape: [r, a.inDim], data: adapterA(lora, buffer, a) },
    { name: `base_model.model.${a.module}.lora_B.weight`, dtype: 'F32' as const, shape: [a.rows, r], data: adapterB(lora, buffer, a) },
  ]);
}

/** The adapter_config.json PEFT's LoraConfig reads. */
export function adapterConfigJson(config: ModelConfig, lora: Lora, baseModel: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: lora.options.rank,
    lora_alpha: lora.options.alpha,
    lora_dropout: lora.options.dropout,
    target_modules: lora.options.targetModules,
    // GPT-2's Conv1D stores (in, out); PEFT must transpose the delta when it merges.
    fan_in_fan_out: config.family === 'gpt2',
    bias: 'none',
    inference_mode: true,
    modules_to_save: null,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
  };
}

/**
 * Writes adapter_config.json and adapter_model.safetensors into `dir` (each atomically), the
 * config first: a write cut short between them never leaves weights without their config.
 */
export function saveAdapter(dir: string, config: ModelConfig, lora: Lora, baseModel: string): void {
  writeFileAtomic(join(dir, ADAPTER_CONFIG), JSON.stringify(adapterConfigJson(config, lora, baseModel), null, 2) + '\n');
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), loraTensors(lora), { format: 'pt' });
}

/** Reads a PEFT LoRA adapter folder for this model's config. */
export function loadAdapter(dir: string, config: ModelConfig): Lora {
  const configPath = join(dir, ADAPTER_CONFIG);
  if (!existsSync(configPath)) throw new LoraError(`${dir} has no ${ADAPTER_CONFIG}; point at a folder written by "limelight train --lora" or PEFT's save_pretrained.`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new LoraError(`${configPath} is not valid JSON (${(e as Error).message.slice(0, 120)}). Save the adapter again.`);
  }
  const bad = (what: string): LoraError => new LoraError(`${configPath}: ${what}. Save the adapter again, or point at the adapter trained for this model.`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('must hold a JSON object');
  if (json.peft_type !== 'LORA') throw bad(`peft_type is ${shown(json.peft_type)}; only LORA adapters are supported`);
  const targets = typeof json.target_modules === 'string' ? [json.target_modules] : json.target_modules;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string' && t.length <= 200)) throw bad(`target_modules must be a list of module names (got ${shown(json.target_modules)})`);
  const number = (key: string, fallback?: unknown): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number') throw bad(`"${key}" must be a number (got ${shown(v)})`);
    return v;
  };
  const rank = number('r');
  // The weights file decides how much the adapter may allocate: its rank must be the stated one.
  const file = openSafetensors(join(dir, ADAPTER_WEIGHTS));
  const a0 = file.tensors.find((t) => t.name.endsWith('.lora_A.weight'));
  if (a0 !== undefined && a0.shape[0] !== rank) throw bad(`r is ${rank} but ${a0.name} in ${ADAPTER_WEIGHTS} has rank ${a0.shape[0] ?? 'none'}`);
  let lora: Lora;
  try {
    lora = layoutLora(config, { rank, alpha: number('lora_alpha', rank), dropout: number('lora_dropout', 0), targetModules: targets as string[] });
  } catch (e) {
    if (e instanceof LoraError) throw bad(e.message.replace(/\.$/, ''));
    throw e;
  }
  for (const t of loraTensors(lora)) {
    const info = file.info(t.name);
    if (info.shape.join(',') !== t.shape.join(',')) {
      throw new LoraError(`${dir}: ${t.name} has shape [${info.shape.join(', ')}], expected [${t.shape.join(', ')}]; the adapter was trained for another model. Load it with the model it was trained on, or train it again.`);
    }
    file.tensorToFloat32(t.name, t.data as Float32Array);
  }
  return lora;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
