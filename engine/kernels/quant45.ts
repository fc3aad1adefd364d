// The Q4_0 and Q5_0 matrix products of the fast backend (ggml's blocks of 32: engine/formats/q4_0.ts,
// q4_1_q5.ts): the load-time packing of a file's blocks into the kernels' layout and a plain
// TypeScript reference of the kernels' arithmetic (matmul_q45, matmul_q45_i8 in kernels.wat),
// which the tests hold them to exactly. Kept in their own bits instead of widened to Q8_0: a
// Q4_K_M file of a model whose width is not a multiple of 256 (Qwen2.5-Coder-0.5B: 896) holds
// most matrices as Q5_0, and many Ollama files are Q4_0.
//
// Packed layout, groups of 4 rows as packQ8Forward's (one pass over a group reads its bytes in
// order, and the 4 rows' dots meet floats as one vector):
//   w (ceil(OC/4), C/32, 4 x 16 | 4 x 16 + 16) bytes: per group and block the 4 rows' 16
//     code bytes as the file holds them (byte i: code i | code 16 + i << 4), then for Q5_0 the
//     4 rows' fifth bits in 16 bytes (q5Bits: one vector load a block, each row's bits two
//     shifts away from bit 4 of its codes' bytes);
//   s (ceil(OC/4), C/32, 4) f32 the blocks' scales (F16 widened), as packQ8Forward's.
// The rows that fill the last group are zero. 20 and 24 bytes per 32 weights against the file's 18
// and 22 (Q8_0's layout took 36).
import { f16FloatTable } from '../formats/half';
import { Q4_0_BLOCK_BYTES } from '../formats/q4_0';
import { Q5_0_BLOCK_BYTES } from '../formats/q4_1_q5';
import { Q8_BLOCK, Q8_PACK_ROWS } from './quantize';

export type Q45Type = 'Q4_0' | 'Q5_0';

/** Per file format: bytes of a file block, of a packed group block (4 rows), and the codes' offset. */
export const Q45: Record<Q45Type, { block: number; group: number; offset: number; kind: number }> = {
  Q4_0: { block: Q4_0_BLOCK_BYTES, group: 64, offset: 8, kind: 0 },
  Q5_0: { block: Q5_0_BLOCK_BYTES, group: 80, offset: 16, kind: 1 },
};

/**
 * Row r's fifth bits (file: bit j of qh is code j's) or-ed into the 16 bytes a group's block keeps
 * them in: byte i gets the bit of code i at bit r and of code 16 + i at bit 4 + r.
 */
export function q5Bits(dst: Uint8Array, qh: number, r: number): void {
  for (let i = 0; i < 16; i++) dst[i] = dst[i]! | (((qh >>> i) & 1) << r) | (((qh >>> (i + 16)) & 1) << (4 + r));
}

/**
 * Rows of a GGUF Q4_0 or Q5_0 matrix (OC, C), its blocks as the file holds them, into the packed
 * layout: the code bytes kept, the scales widened, Q5_0's fifth bits re-placed (q5Bits). OC may
 * be any count (the last group's missing rows are zero); C % 32 == 0.
 */
export function packQ45Forward(
  wp: Uint8Array, // (ceil(OC / 4), C / 32, group)
  sp: Float32Array, // (ceil(OC / 4), C / 32, 4)
  blocks: Uint8Array, // (OC, C / 32, block)
  type: Q45Type,
  OC: number,
  C: number,
): void {
  const { block, group } = Q45[type];
  const nb = C / Q8_BLOCK;
  const qs = type === 'Q5_0' ? 6 : 2;
  const half = f16FloatTable();
  const groups = Math.ceil(OC / Q8_PACK_ROWS);
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < nb; b++) {
      const dst = (g * nb + b) * group;
      if (type === 'Q5_0') wp.fill(0, dst + 64, dst + 80);
      for (let r = 0; r < Q8_PACK_ROWS; r++) {
        const o = g * Q8_PACK_ROWS + r;
        const tile = (g * nb + b) * Q8_PACK_ROWS + r;
        if (o >= OC) {
          wp.fill(0, dst + 16 * r, dst + 16 * (r + 1));
          sp[tile] = 0;
          continue;
        }
        const at = (o * nb + b) * block;
        sp[tile] = half[blocks[at]! | (blocks[at + 1]! << 8)]!;
        wp.set(blocks.subarray(at + qs, at + qs + 16), dst + 16 * r);
        if (type === 'Q5_0') {
          const qh = (blocks[at + 2]! | (blocks[at + 3]! << 8) | (blocks[at + 4]! << 16) | (blocks[at + 5]! << 24)) >>> 0;
          q5Bits(wp.subarray(dst + 64, dst + 80), qh, r);
        }
      }
    }
  }
}

/** Bytes of the packed streams of `rows` rows of width C: codes (w) and scales (s). */
export function q45Bytes(type: Q45Type, rows: number, C: number): { w: number; s: number } {
  const groups = Math.ceil(rows / Q8_PACK_ROWS);
  return { w: (groups * C * Q45[type].group) / Q8_BLOCK, s: (groups * Q8_PACK_ROWS * C * 4) / Q8_BLOCK };
}

/**
 * Reference Q8_0 x Q4_0 / Q5_0 product, the kernels' arithmetic: out (N, OC) = x . W^T + bias with
 * W the file's rows w (OC, C/32, 18 | 22) and x = q * xs (quantizeQ8Forward's 8-bit values and
 * scales). Per block the integer dot of the codes less their offset (8 or 16) with q, then in
 * float32 acc = acc + f32(dot) (d xs); the row's result acc + bias.
 */
export function matmulQ45Forward(
  out: Float32Array, // (N, OC)
  q: Int8Array | Int16Array, // (N, C)
  xs: Float32Array, // (N, C / 32)
  w: Uint8Array, // (OC, C / 32, block)
  type: Q45Type,
  bias: Float32Array | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  const f = Math.fround;
  const half = f16FloatTable();
  const { block, offset } = Q45[type];
  const qs = type === 'Q5_0' ? 6 : 2;
  const nb = C / Q8_BLOCK;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const at = (o * nb + b) * block;
        const qh = type === 'Q5_0' ? (w[at + 2]! | (w[at + 3]! << 8) | (w[at + 4]! << 16) | (w[at + 5]! << 24)) >>> 0 : 0;
        const x0 = n * C + b * Q8_BLOCK;
        let dot = 0;
        for (let i = 0; i < 16; i++) {
          const v = w[at + qs + i]!;
          dot += (((v & 15) | (((qh >>> i) & 1) << 4)) - offset) * q[x0 + i]!;
          dot += (((v >>> 4) | (((qh >>> (i + 16)) & 1) << 4)) - offset) * q[x0 + 16 + i]!;
        }
        acc = f(acc + f(dot * f(half[w[at]! | (w[at + 1]! << 8)]! * xs[n * nb + b]!)));
      }
      out[n * OC + o] = bias !== null ? f(acc + bias[o]!) : acc;
    }
  }
}
