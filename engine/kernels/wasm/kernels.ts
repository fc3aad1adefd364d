// Loads the WebAssembly SIMD kernels (kernels.wat, assembled into kernelsWasm.ts) over one
// shared linear memory, and hands out byte offsets in that memory (Arena). Every thread of a
// compute pool instantiates the same module over the same memory, so weights, activations and
// the KV cache are shared without copies.
// Two builds of the module: the portable one, and one whose `@relaxed` sections use relaxed
// SIMD (its integer dots take 16 int8 products an instruction where the portable i16 dots take
// 8); the relaxed one runs where the engine validates it (V8 13 / Electron 34 by default,
// Node 20 once --experimental-wasm-relaxed-simd is set, which relaxedSimdAvailable does).
import { setFlagsFromString } from 'node:v8';
import { KERNELS_WASM_BASE64, KERNELS_RELAXED_WASM_BASE64 } from './kernelsWasm';

/** Kernel exports; every pointer is a byte offset in the shared memory, 0 meaning "none". */
export interface WasmKernels {
  /**
   * out (N, OC) = inp (N, C) . w (OC, C)^T + bias, output columns [a, b); by `mode`
   * (MatmulMode): stored, added to out, or stored through GELU.
   */
  matmul_f32(out: number, inp: number, w: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /**
   * As matmul_f32 for few input rows (decoding), w packed by packF32Forward; columns [a, b)
   * (a a multiple of 4). C % 4 == 0.
   */
  matmul_f32p(out: number, inp: number, w: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /**
   * As matmul_f32 for many input rows (prefill), w packed by packF32Forward: blocks of 32
   * rows are copied back to row-major into scratch (blockScratchBytes(C) per thread) for the
   * tiles; columns [a, b) (a a multiple of 32). C % 4 == 0.
   */
  matmul_f32p_blocks(
    out: number, inp: number, w: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number,
    a: number, b: number, tid: number,
  ): void;
  /** As matmul_f32 with w holding f16 bit patterns (OC, C). */
  matmul_f16(out: number, inp: number, w: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /** Rows [a, b) of x (N, C) to Q8_0 in matmul_q8's input layout (q8InputLayout): xq (N, C) int16, xs (N, C/32) f32. */
  quantize_q8(xq: number, xs: number, x: number, N: number, C: number, a: number, b: number): void;
  /**
   * out (N, OC) = Q8_0 (xq, xs) . Q8_0 weights^T + bias, columns [a, b) (a a multiple of 4), by `mode`;
   * w, ws as packQ8Forward lays them out (groups of 4 rows interleaved per block).
   */
  matmul_q8(out: number, xq: number, xs: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /**
   * out (N, OC) = inp (N, C) f32 . Q8_0 w (packed as for matmul_q8) expanded to f32 (as
   * dequantizeQ8) ^T + bias, columns [a, b) (a a multiple of 32), by `mode`; scratch holds
   * blockScratchBytes(C) per thread.
   */
  matmul_q8_f32(
    out: number, inp: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number,
    a: number, b: number, tid: number,
  ): void;
  /**
   * Rows [a, b) of x (N, C) to Q8_K (8-bit, one scale per 256) in the K-quant kernels' input
   * layout for window half-width S (16: Q4_K, 64: Q6_K), as q8kInputLayout: xq (N, C) int16,
   * xd (N, C/256) f32, xb (N, C/256, 16) int16 sums. C % 256 == 0.
   */
  quantize_q8k(xq: number, xd: number, xb: number, x: number, N: number, C: number, S: number, a: number, b: number): void;
  /**
   * out (N, OC) = Q8_K input (quantize_q8k, S = 16) . Q4_K weights^T + bias, rows [a, b), by
   * `mode`; w, ws as packQ4KForward lays them out. Reference: matmulQ4KForward.
   */
  matmul_q4k(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /** As matmul_q4k for Q5_K weights (packQ5KForward), same input. Reference: matmulQ5KForward. */
  matmul_q5k(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /** As matmul_q4k for Q6_K weights (packQ6KForward) and input quantized with S = 64. Reference: matmulQ6KForward. */
  matmul_q6k(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /**
   * out (N, OC) = inp (N, C) f32 . K-quant w expanded to f32 (as the format's dequantizer) ^T
   * + bias, columns [a, b) (a a multiple of 32), by `mode`; kind 0: Q4_K, 1: Q6_K, 2: Q5_K (packed
   * as for matmul_q4k / matmul_q6k / matmul_q5k); scratch holds blockScratchBytes(C) per thread.
   */
  matmul_qk_f32(
    out: number, inp: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number, kind: number,
    a: number, b: number, tid: number,
  ): void;
  /**
   * Rows [a, b) of inp (N, C) through LayerNorm (w, bias; bias 0 = none) or, with rms = 1,
   * RMSNorm (w), into out; eps as its float32 bits (f32Bits).
   */
  norm(out: number, inp: number, w: number, bias: number, C: number, epsBits: number, rms: number, a: number, b: number): void;
  /**
   * Rows [a, b) of out (N, FF) = silu(gate) * up of inp (N, 2 FF) = [gate | up] per row; out may
   * be inp itself when the rows run in order on one thread (row r lands on rows <= r, already
   * read). Reference: swigluForward.
   */
  swiglu(out: number, inp: number, FF: number, a: number, b: number): void;
  /**
   * Fused causal attention over the KV cache (f32, or f16 with half = 1) for work items [a, b) =
   * (t * KVH + g) * parts + part: the query heads of key/value group g (NH / KVH of them) cut
   * into `parts` runs (attentionParts); scratch holds attentionScratchBytes(HD, NH / KVH) per thread.
   */
  attention(
    out: number, qkv: number, kc: number, vc: number, scratch: number, pos: number, NH: number, KVH: number, HD: number,
    ctx: number, qkvStride: number, window: number, half: number, parts: number, a: number, b: number, tid: number,
  ): void;
  /**
   * Relaxed module only: rows [a, b) of x (N, C) to 7-bit Q8_0 (d = max|x| / 63, q in -63..63) for
   * the int8 tiles: xq bytes q + 64 in groups of 4 rows (ceil(N/4), C/4, 4, 4) (q7TiledIndex), xs
   * (N, C/32) f32 d, and unless xm is 0 xm (N, C/32) f32 d times the block's sum of q. Reference:
   * quantizeQ8Forward(.., 63).
   */
  quantize_q8_7?(xq: number, xs: number, xm: number, x: number, N: number, C: number, a: number, b: number): void;
  /**
   * Relaxed module only: out (N, OC) = quantize_q8_7 input (xq, xs) . Q8_0 w^T (packed as for
   * matmul_q8) + bias, columns [a, b) (a a multiple of 32), by `mode`, in integer tiles with the
   * relaxed int8 dot (prefill); scratch holds blockScratchBytes(C) per thread. Reference:
   * matmulQ8Forward on quantizeQ8Forward(.., 63)'s q (the integer dots are exact).
   */
  matmul_q8_i8tiles?(
    out: number, xq: number, xs: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number,
    a: number, b: number, tid: number,
  ): void;
  /**
   * Relaxed module only: as matmul_q8_i8tiles for Q4_K weights packed by packQ4KForward (w, ws),
   * the input with its block sums xm (quantize_q8_7). C % 256 == 0. Reference: the dequantized
   * weights times the dequantized 7-bit input.
   */
  matmul_q4k_i8tiles?(
    out: number, xq: number, xs: number, xm: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number,
    mode: number, a: number, b: number, tid: number,
  ): void;
  /** Relaxed module only: as matmul_q8_i8tiles for Q6_K weights packed by packQ6KForward (w, ws). C % 256 == 0. */
  matmul_q6k_i8tiles?(
    out: number, xq: number, xs: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number,
    a: number, b: number, tid: number,
  ): void;
  /**
   * Relaxed module only: as quantize_q8k (same xd and xb for window S), the values as int8 in
   * their own order: xq (N, C) bytes. C % 256 == 0.
   */
  quantize_q8k_i8?(xq: number, xd: number, xb: number, x: number, N: number, C: number, S: number, a: number, b: number): void;
  /**
   * Relaxed module only: matmul_q4k on quantize_q8k_i8's input (S = 16), with the relaxed int8
   * dot (decode): the same integer sums and float32 steps, so the same results bit for bit.
   */
  matmul_q4k_i8?(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /** Relaxed module only: matmul_q5k on quantize_q8k_i8's input (S = 16), as matmul_q4k_i8. */
  matmul_q5k_i8?(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /** Relaxed module only: matmul_q6k on quantize_q8k_i8's input (S = 64), as matmul_q4k_i8. */
  matmul_q6k_i8?(out: number, xq: number, xd: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, a: number, b: number): void;
  /**
   * out (N, OC) = quantize_q8 input (xq, xs) . Q4_0 (kind 0) or Q5_0 (kind 1) weights^T + bias,
   * columns [a, b) (a a multiple of 4), by `mode`; w, ws as packQ45Forward lays them out (groups
   * of 4 rows interleaved per block). C % 32 == 0. Reference: matmulQ45Forward.
   */
  matmul_q45(out: number, xq: number, xs: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, kind: number, a: number, b: number): void;
  /**
   * out (N, OC) = inp (N, C) f32 . Q4_0 / Q5_0 w (packed as for matmul_q45) expanded to f32 (as
   * the format's dequantizer) ^T + bias, columns [a, b) (a a multiple of 32), by `mode`; scratch
   * holds blockScratchBytes(C) per thread.
   */
  matmul_q45_f32(
    out: number, inp: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number, kind: number,
    a: number, b: number, tid: number,
  ): void;
  /**
   * Relaxed module only: rows [a, b) of x (N, C) to Q8_0 as quantize_q8 (same d and q), the values
   * as int8 in order: xq (N, C) bytes, xs (N, C/32) f32 d, xb (N, C/32) i32 block sums of q. C % 32 == 0.
   */
  quantize_q8_i8?(xq: number, xs: number, xb: number, x: number, N: number, C: number, a: number, b: number): void;
  /** Relaxed module only: matmul_q45 on quantize_q8_i8's input (xq, xs, xb), with the relaxed int8 dot: the same results bit for bit. */
  matmul_q45_i8?(
    out: number, xq: number, xs: number, xb: number, w: number, ws: number, bias: number, N: number, C: number, OC: number, mode: number, kind: number,
    a: number, b: number,
  ): void;
  /** Relaxed module only: as matmul_q8_i8tiles for Q4_0 / Q5_0 weights packed by packQ45Forward (w, ws). C % 32 == 0. */
  matmul_q45_i8tiles?(
    out: number, xq: number, xs: number, w: number, ws: number, bias: number, scratch: number, N: number, C: number, OC: number, mode: number,
    kind: number, a: number, b: number, tid: number,
  ): void;
  /** Benchmark probe: streams floats [a, b) of x, sum into out[tid]. */
  stream_sum(out: number, x: number, a: number, b: number, tid: number): void;
  /** GGUF Q8_0 rows at src (rows, nb blocks of 34 bytes) to packQ8Forward's int8 layout at dst, groups of 4 rows [a, b); the scales are the caller's. */
  pack_q8_0(dst: number, src: number, rows: number, nb: number, a: number, b: number, tid: number): void;
  /** Faults in fresh memory: one zero store per 4 KiB page of the 64 KiB units [a, b) from byte offset base. */
  touch_pages(base: number, a: number, b: number, tid: number): void;
  /** Benchmark probe: (b - a) iterations of 64 register-only flops, result into out[tid]. */
  flops(out: number, a: number, b: number, tid: number): void;
}

/** What the matmul kernels do with each result: store it, add it to out (residual), store its GELU. */
export const MatmulMode = { STORE: 0, ACCUMULATE: 1, GELU: 2 } as const;

/** The kernels a pool can run, by index (the index travels through shared memory). */
export const KERNEL_OPS = ['matmul_f32', 'matmul_f32p', 'matmul_f32p_blocks', 'matmul_f16', 'quantize_q8', 'matmul_q8', 'matmul_q8_f32', 'quantize_q8_7', 'matmul_q8_i8tiles', 'matmul_q4k_i8tiles', 'matmul_q6k_i8tiles', 'quantize_q8k', 'matmul_q4k', 'matmul_q5k', 'matmul_q6k', 'quantize_q8k_i8', 'matmul_q4k_i8', 'matmul_q5k_i8', 'matmul_q6k_i8', 'matmul_qk_f32', 'matmul_q45', 'matmul_q45_f32', 'quantize_q8_i8', 'matmul_q45_i8', 'matmul_q45_i8tiles', 'norm', 'swiglu', 'attention', 'stream_sum', 'touch_pages', 'pack_q8_0', 'flops'] as const;
export type KernelOp = (typeof KERNEL_OPS)[number];

const F32_BITS = new Float32Array(1);
const I32_OF_F32 = new Int32Array(F32_BITS.buffer);

/** The bits of x as a float32, for a float argument through the pool's i32 argument slots. */
export function f32Bits(x: number): number {
  F32_BITS[0] = x;
  return I32_OF_F32[0]!;
}

/** Bytes of per-thread scratch the attention kernel needs for head width HD and G query heads per key/value head. */
export function attentionScratchBytes(HD: number, G: number): number {
  return G * (HD * 4 + 16) + 256;
}

/**
 * How many runs the attention kernel cuts each key/value group's G query heads into, for
 * `groups` = rows x key/value heads: one run per group reads each key once for all its heads,
 * but decoding has as few groups as key/value heads (2 on Qwen2.5), so they are cut until every
 * thread has about two work items.
 */
export function attentionParts(groups: number, G: number, threads: number): number {
  return Math.max(1, Math.min(G, Math.ceil((2 * threads) / groups)));
}

/** Bytes of per-thread scratch matmul_q8_f32 and matmul_f32p_blocks need for input width C (32 rows of f32). */
export function blockScratchBytes(C: number): number {
  return 32 * C * 4;
}

const compiled = new Map<boolean, WebAssembly.Module>();
let relaxedBytes: Uint8Array<ArrayBuffer> | null = null;

const decode = (base64: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(base64, 'base64'));
let relaxedRuns: boolean | null = null;

/**
 * Whether this engine runs the relaxed-SIMD build (decided once). Node 20's V8 has the
 * instructions behind a flag: it is set here, before the module is compiled (the flag is
 * process-wide, so the pool's threads see it too). LIMELIGHT_RELAXED_SIMD=0 keeps the portable build.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedRuns !== null) return relaxedRuns;
  if (process.env.LIMELIGHT_RELAXED_SIMD === '0') return (relaxedRuns = false);
  relaxedBytes = decode(KERNELS_RELAXED_WASM_BASE64);
  relaxedRuns = WebAssembly.validate(relaxedBytes);
  if (!relaxedRuns) {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedRuns = WebAssembly.validate(relaxedBytes);
  }
  return relaxedRuns;
}

/**
 * The compiled module, relaxed where available unless `relaxed` is false (compiled once per
 * thread; a Module can also be posted to workers).
 */
export function kernelsModule(relaxed = relaxedSimdAvailable()): WebAssembly.Module {
  const use = relaxed && relaxedSimdAvailable();
  let module = compiled.get(use);
  if (module === undefined) {
    module = new WebAssembly.Module(use ? relaxedBytes! : decode(KERNELS_WASM_BASE64));
    compiled.set(use, module);
  }
  return module;
}

export function instantiateKernels(memory: WebAssembly.Memory, module: WebAssembly.Module = kernelsModule()): WasmKernels {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as WasmKernels;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

/** A shared memory of exactly `bytes` (rounded up to pages); it never grows, so views stay valid. */
export function createSharedMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) {
    throw new RangeError(`The model needs ${(bytes / 2 ** 30).toFixed(2)} GiB of kernel memory; WebAssembly allows 4 GiB. Pick a smaller weight format (limelight.weightFormat: q8_0) or a shorter context.`);
  }
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Bump allocator of byte offsets; offset 0 is never handed out (it means "none"). */
export class Arena {
  private top = 64;

  alloc(bytes: number, align = 64): number {
    const at = Math.ceil(this.top / align) * align;
    this.top = at + bytes;
    return at;
  }

  get size(): number {
    return this.top;
  }
}
