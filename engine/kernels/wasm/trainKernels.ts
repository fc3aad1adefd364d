// Loads training's WebAssembly SIMD products (train.wat, assembled into trainWasm.ts) over a
// shared linear memory, as kernels.ts does for the inference kernels; engine/train/trainPool.ts
// runs them on a compute pool.
import { TRAIN_WASM_BASE64 } from './trainWasm';

/** Training kernel exports; every pointer is a byte offset in the shared memory, 0 meaning "none". */
export interface TrainWasmKernels {
  /** Tiles [t0, t1) of 4 rows of a (R, K), element (r, k) at src + 4 (r sr + k sk), packed k-major into dst. */
  pack_a(dst: number, src: number, R: number, K: number, sr: number, sk: number, t0: number, t1: number): void;
  /** Panels [p0, p1) of 8 rows of b (J, K), element (j, k) at src + 4 (j sj + k sk), packed k-major into dst. */
  pack_b(dst: number, src: number, J: number, K: number, sj: number, sk: number, p0: number, p1: number): void;
  /**
   * out (R, J) [+]= alpha a . b^T + bias over b's panels [p0, p1); a, b packed, their tiles and
   * panels tileS and panelS bytes apart (a slice of K of a longer packing); out rows ldo floats
   * apart; alpha the f32 at `alpha` (0: 1).
   */
  gemm(out: number, ap: number, bp: number, bias: number, alpha: number, R: number, K: number, J: number, ldo: number, accum: number, tileS: number, panelS: number, p0: number, p1: number): void;
  /** Rows [r0, r1) of logits (R, V): stats (R, 2) f64 = (row max, sum of e^(x - max)); each logit becomes e^(x - max) in place. */
  ce_stats(logits: number, stats: number, V: number, r0: number, r1: number): void;
  /** Rows [r0, r1) of ce_stats' exponentials (R, V) in place: x *= stats[r, 1] (f64, stored as f32). */
  ce_grad(logits: number, stats: number, V: number, r0: number, r1: number): void;
  /** Rows [r0, r1) of one (sequence, head)'s causal softmax: probs (j in [first, t]) and P (T, T, zeros elsewhere) from scores S (T, T) times the f32 at c; window 0: none. */
  softmax_fwd(S: number, probs: number, P: number, T: number, window: number, c: number, r0: number, r1: number): void;
  /** Rows [r0, r1) of its backward: dS = p (dP - sum p dP) scale and P again, zeros outside [first, t]. */
  softmax_bwd(dP: number, probs: number, dS: number, P: number, T: number, window: number, c: number, r0: number, r1: number): void;
  /** Rows [r0, r1) of LayerNorm: out, mean, rstd from inp (R, C), weight and bias (0: none); eps the f32 at c. */
  layernorm_fwd(out: number, mean: number, rstd: number, inp: number, w: number, b: number, C: number, c: number, r0: number, r1: number): void;
  /** Rows [r0, r1) of LayerNorm's input gradient (dinp +=). */
  layernorm_bwd_dx(dinp: number, dout: number, inp: number, w: number, mean: number, rstd: number, C: number, r0: number, r1: number): void;
  /** Columns [c0, c1) of LayerNorm's weight and bias gradients (+=, db 0: none) over R rows. */
  layernorm_bwd_dw(dw: number, db: number, dout: number, inp: number, mean: number, rstd: number, R: number, C: number, c0: number, c1: number): void;
  /** Elements [i0, i1) of one AdamW update (params, grads, m, v), f32 constants at c: keep, 1 - beta1, beta2, 1 - beta2, step size, sqrt(1 - beta2^t), eps, gradient scale. */
  adamw(params: number, grads: number, m: number, v: number, c: number, i0: number, i1: number): void;
  /** Elements [i0, i1) of dst set to zero. */
  zero(dst: number, i0: number, i1: number): void;
  /** Blocks [b0, b1) of 4096 elements of g (n floats): partials[b] (f64) = sum of squares. */
  sumsq(g: number, partials: number, n: number, b0: number, b1: number): void;
  /** Elements [i0, i1): out = gelu(inp), tanh form. */
  gelu_fwd(out: number, inp: number, i0: number, i1: number): void;
  /** Elements [i0, i1): dinp += dout * gelu'(inp). */
  gelu_bwd(dinp: number, dout: number, inp: number, i0: number, i1: number): void;
}

export const TRAIN_OPS = ['pack_a', 'pack_b', 'gemm', 'ce_stats', 'ce_grad', 'adamw', 'sumsq', 'gelu_fwd', 'gelu_bwd', 'softmax_fwd', 'softmax_bwd', 'layernorm_fwd', 'layernorm_bwd_dx', 'layernorm_bwd_dw', 'zero'] as const;
export type TrainOp = (typeof TRAIN_OPS)[number];

let compiled: WebAssembly.Module | null = null;

/** The compiled module (compiled once per thread; a Module can also be posted to workers). */
export function trainKernelsModule(): WebAssembly.Module {
  if (compiled === null) compiled = new WebAssembly.Module(Buffer.from(TRAIN_WASM_BASE64, 'base64'));
  return compiled;
}
