// How much shared memory a TrainPool needs: the regions its products, attention and LM head
// stage operands in (TrainPoolCapacity), planned from the model's shapes before the pool is
// made, and the floats the Trainer keeps resident there. Sizes are in floats; the arena lays
// the regions out in bytes.
import { fcWidth, qkvWidth, type ModelConfig } from '../model/config';
import { buildLayout } from '../model/layout';
import { Arena } from '../kernels/wasm/kernels';
import type { Lora } from './lora';
import { createActivations, type ActivationOptions } from './gradients';

/**
 * Floats of each shared-memory region: staged operands (src, and src2 for attention's output
 * gradient), packed operands (ap, bp), the product (out), attention's probabilities and score
 * gradients (scratch, scratch2), the bias; for the LM head its logits, their per-row
 * statistics (2 f64 a row) and its weight packed for the forward (headW) and for dx (headWt);
 * AdamW's constants (consts), the global norm's per-block sums (partials, 2 floats each) and
 * the room alloc hands out (resident, last: it may reach past 2 GiB).
 */
export interface TrainPoolCapacity {
  src: number;
  src2: number;
  ap: number;
  bp: number;
  out: number;
  scratch: number;
  scratch2: number;
  bias: number;
  logits: number;
  stats: number;
  headW: number;
  headWt: number;
  consts: number;
  partials: number;
  resident: number;
}

export const REGIONS = ['src', 'src2', 'ap', 'bp', 'out', 'scratch', 'scratch2', 'bias', 'logits', 'stats', 'headW', 'headWt', 'consts', 'partials', 'resident'] as const;
export type Region = (typeof REGIONS)[number];

const NONE: TrainPoolCapacity = { src: 0, src2: 0, ap: 0, bp: 0, out: 0, scratch: 0, scratch2: 0, bias: 0, logits: 0, stats: 0, headW: 0, headWt: 0, consts: 0, partials: 0, resident: 0 };

/** LM head rows per chunk when training on a pool: the head's weight is staged once per 256 rows. */
export const POOL_LOGIT_ROWS = 256;

/** Bytes a shared memory may hold (WebAssembly's 4 GiB, less a page). */
export const MAX_SHARED_BYTES = 2 ** 32 - 65536;

/** Alignment (bytes) of each buffer alloc hands out. */
export const RESIDENT_ALIGN = 64;

const up4 = (n: number): number => (n + 3) & ~3;
const up8 = (n: number): number => (n + 7) & ~7;

/** Staging room for every linear layer of `config` over (B, T) batches, the LM head over `headRows` rows, LoRA's A products and attention. */
export function trainPoolCapacity(config: ModelConfig, B: number, T: number, headRows: number, lora: Lora | null = null): TrainPoolCapacity {
  const c = config;
  const N = B * T;
  const C = c.hidden;
  const ATT = c.nHead * c.headDim;
  const products: Array<[rows: number, IC: number, OC: number]> = [
    [N, C, qkvWidth(c)],
    [N, ATT, C],
    [N, C, fcWidth(c)],
    [N, c.ffn, C],
    [headRows, C, c.vocabSize],
    ...(lora ? lora.adapters.map((a): [number, number, number] => [N, a.inDim, lora.options.rank]) : []),
  ];
  return products.map(([rows, IC, OC]) => productCapacity(rows, IC, OC)).reduce(largest, largest(attentionCapacity(T, c.nHead, c.nKvHead, c.headDim), headCapacity(headRows, C, c.vocabSize)));
}

/** Room the fused LM head and cross-entropy over chunks of `rows` rows need (its products included). */
export function headCapacity(rows: number, C: number, V: number): TrainPoolCapacity {
  return largest(productCapacity(rows, C, V), { ...NONE, logits: rows * V, stats: 4 * rows, headW: up8(V) * C, headWt: up8(C) * V });
}

/** Room the attention of (T)-token sequences with NH query and KVH key/value heads of width HD needs. */
export function attentionCapacity(T: number, NH: number, KVH: number, HD: number): TrainPoolCapacity {
  return {
    ...largest(gemmCapacity(T, HD, T), gemmCapacity(T, T, HD)),
    src: T * (NH + 2 * KVH) * HD,
    src2: T * NH * HD,
    scratch: T * T,
    scratch2: T * T,
  };
}

/** Byte offsets of the regions of `capacity` in one arena. */
export function arenaLayout(capacity: TrainPoolCapacity): { arena: Arena; at: Record<Region, number> } {
  const arena = new Arena();
  // 32 spare bytes per region: the kernels read whole vectors of the bias past its end.
  const at = Object.fromEntries(REGIONS.map((k) => [k, arena.alloc(4 * Math.max(1, capacity[k]) + 32)])) as Record<Region, number>;
  return { arena, at };
}

export function arenaBytes(capacity: TrainPoolCapacity): number {
  return arenaLayout(capacity).arena.size;
}

/** The room that covers both. */
export function largest(a: TrainPoolCapacity, b: TrainPoolCapacity): TrainPoolCapacity {
  const r = { ...a };
  for (const k of REGIONS) r[k] = Math.max(a[k], b[k]);
  return r;
}

/** Room of one packed product out (R, J) = a (R, K) . b (J, K)^T whose operands are staged one at a time. */
export function gemmCapacity(R: number, K: number, J: number): TrainPoolCapacity {
  return { ...NONE, src: Math.max(R * K, J * K), ap: up4(R) * K, bp: up8(J) * K, out: R * J, bias: J };
}

/** Room one linear layer (rows, IC) -> (rows, OC) needs in each of its three products. */
export function productCapacity(rows: number, IC: number, OC: number): TrainPoolCapacity {
  return [gemmCapacity(rows, IC, OC), gemmCapacity(rows, OC, IC), gemmCapacity(OC, rows, IC)].reduce(largest);
}

/**
 * Floats the Trainer allocates in a pool (the model's parameters; the trainable ones again
 * with LoRA; gradients, AdamW m and v; the activations), with room for each buffer's alignment.
 */
export function residentFloats(config: ModelConfig, B: number, T: number, lora: Lora | null, opts: ActivationOptions): number {
  let floats = 0;
  let buffers = 5;
  createActivations(config, B, T, {
    ...opts,
    lora,
    alloc: (n) => {
      floats += n;
      buffers++;
      return NO_FLOATS;
    },
  });
  const total = buildLayout(config).total;
  const trainable = lora !== null ? lora.params.length : total;
  return floats + (lora !== null ? total + 4 * trainable : 4 * trainable) + (buffers * RESIDENT_ALIGN) / 4;
}

/** What the counting allocator hands back: residentFloats only adds up sizes. */
const NO_FLOATS = new Float32Array(0);
