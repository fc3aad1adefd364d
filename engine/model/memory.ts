// What a model needs in memory: its weights as held, plus the key/value cache at a context.
import type { Model } from './model';

/** Bytes per key or value element of each KV-cache format. */
const KV_BYTES_PER_VALUE = { f32: 4, f16: 2 } as const;

/** Bytes of keys and values one position takes in the cache: 2 x layers x kv width x 4 (f32) or 2 (f16). */
export function kvBytesPerPosition(c: { nLayer: number; nKvHead: number; headDim: number }, format: 'f32' | 'f16' = 'f32'): number {
  return 2 * c.nLayer * c.nKvHead * c.headDim * KV_BYTES_PER_VALUE[format];
}

/** Bytes per weight of the formats the js backend may be asked to hold every matrix in. */
const HELD_BYTES_PER_WEIGHT: Record<'f32' | 'f16' | 'q8_0', number> = { f32: 4, f16: 2, q8_0: 34 / 32 };

/**
 * Bytes the weights take once loaded: as stored ('auto' keeps the file's formats, near enough),
 * or every matrix in the asked format (never more than that format takes).
 */
export function heldWeightBytes(storedBytes: number, parameters: number, weightFormat: 'auto' | 'f32' | 'f16' | 'q8_0'): number {
  return weightFormat === 'auto' ? storedBytes : parameters * HELD_BYTES_PER_WEIGHT[weightFormat];
}

/** The stored format that holds most of the model's weights (for the advice). */
export function mainFormat(model: Model): string {
  let best = 'F32';
  let most = -1;
  for (const [format, n] of model.formats()) {
    if (n > most) [best, most] = [format, n];
  }
  return best;
}

/** Above this share of the available memory a load goes ahead with a warning: the editor, the browser and the OS need the rest. */
const WARN_SHARE = 0.7;
/** Above this share a load is refused: the machine would swap to a halt. */
const REFUSE_SHARE = 0.95;

export interface MemoryNeed {
  weightBytes: number;
  kvBytesPerPosition: number;
  positions: number;
  /** The stored format that holds most weights (F16, Q8_0, Q4_K ...), for the advice. */
  mainFormat: string;
}

export interface MemoryFit {
  verdict: 'fits' | 'tight' | 'too-big';
  /** What the user should know and may do; null when it fits. */
  message: string | null;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GB`;
}

/** What a smaller quantization of a model stored mostly in `format` would be. */
function smallerFormat(format: string): string {
  if (format === 'F32' || format === 'F16' || format === 'BF16') return 'a Q8_0 or Q4_K_M GGUF of the same model (or limelight.weightFormat q8_0)';
  if (format === 'Q8_0') return 'a Q4_K_M GGUF of the same model';
  return 'a smaller model';
}

/** Compares what a load needs (weights as held + KV cache) with the memory available now. */
export function memoryFit(need: MemoryNeed, availableBytes: number): MemoryFit {
  const kv = need.kvBytesPerPosition * need.positions;
  const total = need.weightBytes + kv;
  if (total <= WARN_SHARE * availableBytes) return { verdict: 'fits', message: null };
  const fitPositions = Math.floor((WARN_SHARE * availableBytes - need.weightBytes) / need.kvBytesPerPosition);
  const context = fitPositions >= 256 && fitPositions < need.positions ? `, or a shorter context (limelight.maxContextTokens ${2 ** Math.floor(Math.log2(fitPositions))} instead of ${need.positions})` : '';
  const what = `The model needs about ${gib(total)} (weights ${gib(need.weightBytes)}, KV cache ${gib(kv)} at ${need.positions} positions) and this machine has ${gib(availableBytes)} available`;
  const advice = `choose ${smallerFormat(need.mainFormat)}${context}`;
  if (total > REFUSE_SHARE * availableBytes) return { verdict: 'too-big', message: `${what}: loading it would swap the machine to a halt, so it was not loaded. Close other programs, or ${advice}.` };
  return { verdict: 'tight', message: `${what}: it loads, but the machine may slow down. To leave more room, ${advice}.` };
}
