// The weight formats (engine/formats/): each dequantizer against blocks built by hand in this
// file from ggml's block layout (distinct scales, mins, nibbles and high bits everywhere, so a
// wrong index, nibble order, shift or sign changes the output), against llama.cpp's own
// dequantize_row_* on pseudo-random blocks (by hash), the reference quantizers' error on normal
// data, the table's sizes and dispatch, dequantizeRows, and the size errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WEIGHT_TYPES, bytesFor, dequantize, dequantizeRows, formatInfo, formatOfGgmlType, quantize, type WeightType,
} from '../../engine/formats/formats';
import { dequantizeF16, dequantizeBF16, dequantizeF32, quantizeBF16, quantizeF16 } from '../../engine/formats/float';
import { dequantizeQ8_0, quantizeQ8_0 } from '../../engine/formats/q8_0';
import { dequantizeQ4_0 } from '../../engine/formats/q4_0';
import { dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1 } from '../../engine/formats/q4_1_q5';
import { QK_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, kMin, kScale, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K } from '../../engine/formats/kquants';
import { f16At, f16BitsToF32Bits, f16ToF32Scalar, f32ToF16Scalar } from '../../engine/formats/half';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** Writes a little-endian 16-bit value. */
function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = v >>> 8;
}

/** Exact equality of every element, naming the first that differs. */
function assertSame(got: Float32Array, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], Math.fround(want[i]))) assert.fail(`${what}: weight ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** Seeded standard normal values (an LCG and Box-Muller), so the error bounds are reproducible. */
function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function relativeRmsError(x: Float32Array, y: Float32Array): number {
  let e = 0;
  let r = 0;
  for (let i = 0; i < x.length; i++) {
    e += (x[i] - y[i]) ** 2;
    r += x[i] ** 2;
  }
  return Math.sqrt(e / r);
}

// F16 bit patterns used as block scales below.
const H_ONE = 0x3c00; // 1.0
const H_HALF = 0x3800; // 0.5
const H_QUARTER = 0x3400; // 0.25
const H_THREE = 0x4200; // 3.0
const H_MINUS_TWO = 0xc000; // -2.0

test('F16: normals, subnormals, signed zero, infinities and NaN widen exactly, also from an odd byte offset', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125], // 1 + 0x155/1024 = 1.33325..., times 2^-2
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x0000, 0],
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x7e00, NaN],
    [0xfc01, NaN], // a signalling NaN pattern is still NaN
  ];
  const bytes = new Uint8Array(1 + 2 * cases.length);
  cases.forEach(([h], i) => put16(bytes, 1 + 2 * i, h));
  for (const src of [bytes.slice(1), bytes.subarray(1)]) { // byteOffset 0, then 1
    const out = new Float32Array(cases.length);
    dequantizeF16(src, out);
    cases.forEach(([h, v], i) => assert.ok(Object.is(out[i], v), `0x${h.toString(16)} -> ${out[i]}, expected ${v}`));
  }
  // The scalar paths agree with the bit conversion on all 65536 patterns.
  for (let h = 0; h < 65536; h++) {
    const want = f16BitsToF32Bits(h);
    const got = f16ToF32Scalar(h);
    if (Number.isNaN(got)) assert.equal(want & 0x7f800000, 0x7f800000, `0x${h.toString(16)}`);
    else assert.equal(bitsOf(got), want, `f16ToF32Scalar(0x${h.toString(16)})`);
  }
  assert.equal(f16At(Uint8Array.of(7, 0x00, 0x3c), 1), 1, 'f16At reads little-endian at any offset');
});

test('F16: F32 narrows to the nearest F16, ties to even, overflow to infinity, NaN stays NaN', () => {
  const cases: [number, number][] = [
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519.99, 0x7bff], // just under the midpoint to 65536
    [65520, 0x7c00], // the midpoint: ties to even, which is infinity
    [2 ** -25, 0x0000], // half the smallest subnormal: a tie, to even (zero)
    [3 * 2 ** -26, 0x0001], // above the midpoint: the smallest subnormal
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: even is 1
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even is 0x3c02
    [-0, 0x8000],
    [-Infinity, 0xfc00],
  ];
  const src = Float32Array.from(cases, ([x]) => x);
  for (const dst of [new Uint8Array(2 * cases.length), new Uint8Array(2 * cases.length + 1).subarray(1)]) {
    quantizeF16(src, dst);
    cases.forEach(([x, h], i) => assert.equal(dst[2 * i] | (dst[2 * i + 1] << 8), h, `${x}`));
  }
  assert.equal(f32ToF16Scalar(NaN) & 0x7e00, 0x7e00, 'NaN -> a quiet F16 NaN');
  const nan = new Uint8Array(2);
  quantize('F16', Float32Array.of(NaN), nan);
  assert.ok(Number.isNaN(f16At(nan, 0)));
});

test('BF16: the top half of an F32 (subnormal, infinities, NaN), narrowing rounds to nearest even', () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc040, -3],
    [0x3eab, 0.333984375], // 0x3eab0000
    [0x0001, 2 ** -133], // smallest BF16 subnormal: 2^-126 * 2^-7
    [0x8000, -0],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
    [0x7fc0, NaN],
  ];
  const bytes = new Uint8Array(1 + 2 * cases.length);
  cases.forEach(([h], i) => put16(bytes, 1 + 2 * i, h));
  for (const src of [bytes.slice(1), bytes.subarray(1)]) {
    const out = new Float32Array(cases.length);
    dequantizeBF16(src, out);
    cases.forEach(([h, v], i) => assert.ok(Object.is(out[i], v), `0x${h.toString(16)} -> ${out[i]}, expected ${v}`));
  }
  const narrow: [number, number][] = [
    [1 + 2 ** -8, 0x3f80], // tie between 0x3f80 and 0x3f81: even
    [1 + 3 * 2 ** -8, 0x3f82], // tie between 0x3f81 and 0x3f82: even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just past the tie
    [-3, 0xc040],
    [3.4e38, 0x7f80], // rounds past the largest finite BF16 (about 3.39e38) to infinity
  ];
  const dst = new Uint8Array(2 * narrow.length);
  quantizeBF16(Float32Array.from(narrow, ([x]) => x), dst);
  narrow.forEach(([x, h], i) => assert.equal(dst[2 * i] | (dst[2 * i + 1] << 8), h, `${x}`));
  const nan = new Uint8Array(2);
  quantizeBF16(Float32Array.of(NaN), nan);
  const nanBits = nan[0] | (nan[1] << 8);
  assert.equal(nanBits & 0x7f80, 0x7f80);
  assert.notEqual(nanBits & 0x7f, 0, 'NaN stays NaN, not infinity');
});

test('F32: the bytes themselves, from any byte offset', () => {
  const values = [1.5, -0, -1e-40, 3.4028234663852886e38, Infinity];
  const bytes = new Uint8Array(3 + 4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(3 + 4 * i, v, true));
  const out = new Float32Array(values.length);
  dequantizeF32(bytes.subarray(3), out);
  assertSame(out, values, 'F32');
  const back = new Uint8Array(4 * values.length);
  quantize('F32', out, back);
  assert.deepEqual(back, bytes.subarray(3));
});

test('Q8_0: weight j = d * int8 q[j], block after block', () => {
  const blocks = 2;
  const src = new Uint8Array(34 * blocks);
  const scales = [H_HALF, H_MINUS_TWO];
  const dValues = [0.5, -2];
  const want: number[] = [];
  for (let b = 0; b < blocks; b++) {
    put16(src, 34 * b, scales[b]);
    for (let j = 0; j < 32; j++) {
      const q = b === 0 ? 8 * j - 128 : 127 - 5 * j; // -128 .. 120 and 127 .. -28: both ends of int8, distinct in each block
      src[34 * b + 2 + j] = q & 0xff;
      want.push(dValues[b] * q);
    }
  }
  const out = new Float32Array(32 * blocks);
  dequantizeQ8_0(src, out);
  assertSame(out, want, 'Q8_0');
  assert.equal(out[0], -64);
  assert.equal(out[32 + 31], -2 * (127 - 155));
});

test('Q4_0: low nibbles are weights 0-15, high nibbles 16-31, both offset by 8', () => {
  const src = new Uint8Array(18 * 2);
  put16(src, 0, H_QUARTER);
  put16(src, 18, H_THREE);
  for (let j = 0; j < 16; j++) {
    src[2 + j] = j | ((15 - j) << 4);
    src[18 + 2 + j] = ((3 * j) & 15) | (((j + 5) & 15) << 4);
  }
  const want: number[] = [];
  for (let j = 0; j < 16; j++) want.push(0.25 * (j - 8));
  for (let j = 0; j < 16; j++) want.push(0.25 * (15 - j - 8));
  for (let j = 0; j < 16; j++) want.push(3 * (((3 * j) & 15) - 8));
  for (let j = 0; j < 16; j++) want.push(3 * (((j + 5) & 15) - 8));
  const out = new Float32Array(64);
  dequantizeQ4_0(src, out);
  assertSame(out, want, 'Q4_0');
  assert.deepEqual([out[0], out[15], out[16], out[31]], [-2, 1.75, 1.75, -2]);
});

// The 8 (scale, min) pairs of the K-quant blocks below: all distinct, and those of sub-blocks
// 4-7 above 15, so their top two bits (kept in bytes 0-7) matter.
const K_SC = [1, 2, 3, 4, 17, 33, 49, 63];
const K_M = [5, 6, 7, 8, 20, 40, 60, 18];
// Their 12 packed bytes, worked out by hand from the layout:
//   bytes 0-3:  sc[s] | (sc[s+4] >> 4) << 6 = 1|1<<6, 2|2<<6, 3|3<<6, 4|3<<6
//   bytes 4-7:  m[s]  | (m[s+4] >> 4) << 6  = 5|1<<6, 6|2<<6, 7|3<<6, 8|1<<6
//   bytes 8-11: (sc[s+4] & 15) | (m[s+4] & 15) << 4 = 1|4<<4, 1|8<<4, 1|12<<4, 15|2<<4
const K_SCALE_BYTES = [65, 130, 195, 196, 69, 134, 199, 72, 65, 129, 193, 47];

test('Q4_1, Q5_0, Q5_1: nibbles j and j + 16, the fifth bit of weight j is bit j of qh; Q5_0 is offset by 16, the others add m', () => {
  const qh = 0xa5a5f00f;
  const block = (head: number[], withQh: boolean): Uint8Array => {
    const b = [...head];
    if (withQh) b.push(qh & 0xff, (qh >>> 8) & 0xff, (qh >>> 16) & 0xff, qh >>> 24);
    for (let j = 0; j < 16; j++) b.push(j | ((15 - j) << 4));
    return Uint8Array.from(b);
  };
  const code = (j: number, fifth: boolean): number => (j < 16 ? j : 31 - j) | (fifth ? ((qh >>> j) & 1) << 4 : 0);
  // Q4_1: d = 0.5 (F16 0x3800), m = -1 (0xbc00)
  const q41 = new Float32Array(32);
  dequantizeQ4_1(block([0x00, 0x38, 0x00, 0xbc], false), q41);
  for (let j = 0; j < 32; j++) assert.equal(q41[j], 0.5 * code(j, false) - 1, `Q4_1 weight ${j}`);
  // Q5_0: d = 0.25 (0x3400)
  const q50 = new Float32Array(32);
  dequantizeQ5_0(block([0x00, 0x34], true), q50);
  for (let j = 0; j < 32; j++) assert.equal(q50[j], 0.25 * (code(j, true) - 16), `Q5_0 weight ${j}`);
  // Q5_1: d = 2 (0x4000), m = 0.5 (0x3800)
  const q51 = new Float32Array(32);
  dequantizeQ5_1(block([0x00, 0x40, 0x00, 0x38], true), q51);
  for (let j = 0; j < 32; j++) assert.equal(q51[j], 2 * code(j, true) + 0.5, `Q5_1 weight ${j}`);
});

test('K-quants: the 12 scale bytes unpack to the 8 six-bit scales and mins', () => {
  const bytes = Uint8Array.from([9, ...K_SCALE_BYTES]);
  for (let s = 0; s < 8; s++) {
    assert.equal(kScale(bytes, 1, s), K_SC[s], `scale of sub-block ${s}`);
    assert.equal(kMin(bytes, 1, s), K_M[s], `min of sub-block ${s}`);
  }
});

test('Q4_K: weight = d * sc * q - dmin * m with each sub-block its own scale and min, low nibbles first', () => {
  const src = new Uint8Array(144);
  put16(src, 0, H_ONE); // d
  put16(src, 2, H_HALF); // dmin
  src.set(K_SCALE_BYTES, 4);
  for (let c = 0; c < 4; c++) for (let l = 0; l < 32; l++) src[16 + 32 * c + l] = (l & 15) | (((7 * l + c) & 15) << 4);
  const want: number[] = [];
  for (let c = 0; c < 4; c++) {
    // Weights 64c .. 64c+31: sub-block 2c, low nibbles; 64c+32 .. 64c+63: sub-block 2c+1, high nibbles.
    for (let l = 0; l < 32; l++) want.push(1 * K_SC[2 * c] * (l & 15) - 0.5 * K_M[2 * c]);
    for (let l = 0; l < 32; l++) want.push(1 * K_SC[2 * c + 1] * ((7 * l + c) & 15) - 0.5 * K_M[2 * c + 1]);
  }
  const out = new Float32Array(256);
  dequantizeQ4_K(src, out);
  assertSame(out, want, 'Q4_K');
  // Spot checks worked out by hand: weight 1 is 1*1*1 - 0.5*5; weight 255 is sub-block 7, q = (7*31+3) & 15 = 12: 63*12 - 0.5*18.
  assert.equal(out[1], -1.5);
  assert.equal(out[255], 747);
});

test('Q5_K: the fifth bit of weights 64c+l and 64c+32+l is bit 2c and 2c+1 of qh[l]', () => {
  const src = new Uint8Array(176);
  put16(src, 0, H_HALF); // d
  put16(src, 2, H_QUARTER); // dmin
  src.set(K_SCALE_BYTES, 4);
  const qh = (l: number): number => (37 * l + 11) & 255; // every bit set in some bytes and clear in others
  for (let l = 0; l < 32; l++) src[16 + l] = qh(l);
  for (let c = 0; c < 4; c++) for (let l = 0; l < 32; l++) src[48 + 32 * c + l] = ((l + c) & 15) | (((5 * l) & 15) << 4);
  const want: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      const q = ((l + c) & 15) + 16 * ((qh(l) >> (2 * c)) & 1);
      want.push(0.5 * K_SC[2 * c] * q - 0.25 * K_M[2 * c]);
    }
    for (let l = 0; l < 32; l++) {
      const q = ((5 * l) & 15) + 16 * ((qh(l) >> (2 * c + 1)) & 1);
      want.push(0.5 * K_SC[2 * c + 1] * q - 0.25 * K_M[2 * c + 1]);
    }
  }
  const out = new Float32Array(256);
  dequantizeQ5_K(src, out);
  assertSame(out, want, 'Q5_K');
  // By hand: weight 0 has nibble 0 and qh[0] = 11 = 0b1011, bit 0 set: q = 16, 0.5*1*16 - 0.25*5.
  assert.equal(out[0], 6.75);
  // Weight 224 (c = 3, high half, l = 0): nibble 0, bit 7 of 11 clear: q = 0, so -0.25*18.
  assert.equal(out[224], -4.5);
});

test('Q6_K: ql nibbles and qh bit pairs by quarter, one int8 scale per 16 weights, q - 32', () => {
  const src = new Uint8Array(210);
  const ql = (i: number): number => (29 * i + 3) & 255;
  const qh = (i: number): number => (53 * i + 7) & 255;
  const scales = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 127, -128];
  for (let i = 0; i < 128; i++) src[i] = ql(i);
  for (let i = 0; i < 64; i++) src[128 + i] = qh(i);
  scales.forEach((s, g) => (src[192 + g] = s & 0xff));
  put16(src, 208, H_QUARTER);
  const want: number[] = [];
  for (let w = 0; w < 256; w++) {
    // Weight w: half h = w / 128; in it, quarter k = (w % 128) / 32 and column col = w % 32.
    // Quarters 0 and 2 read ql[64h + col], 1 and 3 ql[64h + 32 + col]; 0 and 1 the low nibble,
    // 2 and 3 the high. Bits 2k, 2k+1 of qh[32h + col] are q's bits 4 and 5.
    const h = Math.floor(w / 128);
    const k = Math.floor((w % 128) / 32);
    const col = w % 32;
    const byte = ql(64 * h + 32 * (k % 2) + col);
    const nibble = k < 2 ? byte % 16 : Math.floor(byte / 16);
    const top = Math.floor(qh(32 * h + col) / 4 ** k) % 4;
    want.push(0.25 * scales[Math.floor(w / 16)] * (nibble + 16 * top - 32));
  }
  const out = new Float32Array(256);
  dequantizeQ6_K(src, out);
  assertSame(out, want, 'Q6_K');
  // By hand: weight 0: ql[0] = 3, qh[0] = 7 (bits 0-1 = 3): q = 3 + 48 = 51, 0.25 * 1 * 19.
  assert.equal(out[0], 4.75);
  // Weight 255: group 15 (scale -128), h = 1, k = 3, col 31: ql[127] = (29*127+3) & 255 = 102, high nibble 6;
  // qh[63] = (53*63+7) & 255 = 18, bits 6-7 = 0: q = 6, 0.25 * -128 * (6 - 32) = 832.
  assert.equal(out[255], 832);
});

test('the dequantizers match llama.cpp dequantize_row_* bit for bit on pseudo-random blocks', () => {
  // Blocks of pseudo-random bytes with their F16 scales set to finite values between 2^-5 and
  // 2^4, generated by the LCG below in this order (Q4_0 x2, Q8_0 x2, Q4_K x64, Q5_K x64,
  // Q6_K x64), were dequantized by llama.cpp's ggml-quants.c (commit de3ff81, gcc 12 -O2, both
  // -ffp-contract=off and -march=native, x86-64: the same bits); the hashes are FNV-1a of the
  // little-endian float32 outputs. A wrong bit anywhere changes the hash; the hand-built blocks
  // above say where.
  let s = 12345;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 8;
  };
  const f16ish = (): number => {
    const sign = rnd() & 1;
    const exp = 10 + (rnd() % 10);
    const mant = rnd() & 1023;
    return (sign << 15) | (exp << 10) | mant;
  };
  const fnv = (f: Float32Array): number => {
    const b = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    let h = 0x811c9dc5;
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
    return h;
  };
  const runs: [WeightType, number, number[], number][] = [
    ['Q4_0', 2, [0], 0x1d7f22bc],
    ['Q8_0', 2, [0], 0xcc4c4d71],
    ['Q4_K', 64, [0, 2], 0x8ef2678d],
    ['Q5_K', 64, [0, 2], 0x27af06ff],
    ['Q6_K', 64, [208], 0x47dfca27],
  ];
  for (const [type, blocks, scaleAt, hash] of runs) {
    const f = formatInfo(type);
    const src = new Uint8Array(blocks * f.blockBytes);
    for (let i = 0; i < src.length; i++) src[i] = rnd() & 255;
    for (let b = 0; b < blocks; b++) for (const at of scaleAt) put16(src, b * f.blockBytes + at, f16ish());
    const out = new Float32Array(blocks * f.blockElems);
    dequantize(type, src, out);
    assert.equal(fnv(out), hash, `${type}: output differs from llama.cpp's`);
  }
});

// Relative RMS error of quantize -> dequantize on 64k standard normal weights (seeded). Measured:
// F16 0.021 %, BF16 0.17 %, Q8_0 0.53 %, Q6_K 1.88 %, Q5_K 3.81 %, Q4_K 7.82 %, Q4_0 8.57 %
// (llama.cpp's reference quantizers on like data: Q8_0 0.54 %, Q6_K 1.77 %, Q5_K 3.60 %,
// Q4_K 7.15 %, Q4_0 8.60 %). The bounds leave a margin over those figures.
const ERROR_BOUND: Record<WeightType, number> = {
  F32: 0,
  F16: 0.0005,
  BF16: 0.003,
  Q8_0: 0.007,
  Q6_K: 0.025,
  Q5_K: 0.045,
  Q4_K: 0.09,
  Q4_0: 0.095,
  // Measured on the same data: Q4_1 7.85 %, Q5_0 4.23 %, Q5_1 3.77 %.
  Q4_1: 0.09,
  Q5_0: 0.05,
  Q5_1: 0.045,
};

test('quantize -> dequantize stays within each format\'s error bound on normal data', () => {
  const x = normals(1 << 16, 42);
  for (const type of WEIGHT_TYPES) {
    const bytes = new Uint8Array(bytesFor(type, x.length));
    quantize(type, x, bytes);
    const y = new Float32Array(x.length);
    dequantize(type, bytes, y);
    const err = relativeRmsError(x, y);
    assert.ok(err <= ERROR_BOUND[type], `${type}: relative RMS error ${(100 * err).toFixed(3)} % over the bound ${100 * ERROR_BOUND[type]} %`);
    // Quantizing what came out gives the same blocks back (the levels are a fixed point), for formats whose scale comes from the block's extreme.
    if (type === 'Q8_0' || type === 'F16' || type === 'BF16') {
      const again = new Uint8Array(bytes.length);
      quantize(type, y, again);
      assert.deepEqual(again, bytes, `${type}: re-quantizing its own output`);
    }
  }
  // A scaled and shifted input: the K-quants' mins carry the offset.
  const shifted = x.map((v) => 0.01 * v + 0.02);
  for (const type of ['Q4_K', 'Q5_K'] as const) {
    const bytes = new Uint8Array(bytesFor(type, x.length));
    quantize(type, shifted, bytes);
    const y = new Float32Array(x.length);
    dequantize(type, bytes, y);
    let e = 0;
    for (let i = 0; i < x.length; i++) e += (shifted[i] - y[i]) ** 2;
    const err = Math.sqrt(e / x.length) / 0.01; // relative to the spread, not the offset
    assert.ok(err <= ERROR_BOUND[type], `${type} on shifted data: ${(100 * err).toFixed(3)} % of the spread`);
  }
});

test('the reference quantizers use the scale codes\' full range and write all-zero input as zeros', () => {
  const x = normals(QK_K * 8, 7);
  const q4 = new Uint8Array(bytesFor('Q4_K', x.length));
  quantizeQ4_K(x, q4);
  const q5 = new Uint8Array(bytesFor('Q5_K', x.length));
  quantizeQ5_K(x, q5);
  for (const [name, bytes, size] of [['Q4_K', q4, 144], ['Q5_K', q5, 176]] as const) {
    for (let b = 0; b < 8; b++) {
      const sc = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => kScale(bytes, b * size + 4, s));
      const m = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => kMin(bytes, b * size + 4, s));
      assert.equal(Math.max(...sc), 63, `${name} block ${b}: the largest scale code is 63`);
      assert.equal(Math.max(...m), 63, `${name} block ${b}: the largest min code is 63`);
    }
  }
  const q6 = new Uint8Array(bytesFor('Q6_K', x.length));
  quantizeQ6_K(x, q6);
  for (let b = 0; b < 8; b++) {
    const codes = Array.from(q6.subarray(b * 210 + 192, b * 210 + 208), (v) => (v << 24) >> 24);
    assert.equal(Math.max(...codes.map(Math.abs)), 128, `Q6_K block ${b}: the group scale of largest magnitude has code -128`);
  }
  const q8 = new Uint8Array(34);
  quantizeQ8_0(x.subarray(0, 32), q8);
  const qs = Array.from(q8.subarray(2), (v) => (v << 24) >> 24);
  assert.equal(Math.max(...qs.map(Math.abs)), 127, 'Q8_0: the largest weight gets level +-127');

  for (const type of WEIGHT_TYPES) {
    const n = formatInfo(type).blockElems === 1 ? 32 : formatInfo(type).blockElems;
    const bytes = new Uint8Array(bytesFor(type, n)).fill(0xa5); // stale bytes must be overwritten
    quantize(type, new Float32Array(n), bytes);
    const y = new Float32Array(n).fill(7);
    dequantize(type, bytes, y);
    assert.ok(y.every((v) => v === 0), `${type}: zeros stay zeros (no NaN from a zero scale)`);
  }
});

test('the table: ggml ids, block sizes, bytesFor and dispatch to the format modules', () => {
  const expected: [WeightType, number, number, number][] = [
    ['F32', 0, 1, 4], ['F16', 1, 1, 2], ['Q4_0', 2, 32, 18], ['Q4_1', 3, 32, 20], ['Q5_0', 6, 32, 22], ['Q5_1', 7, 32, 24], ['Q8_0', 8, 32, 34],
    ['Q4_K', 12, 256, 144], ['Q5_K', 13, 256, 176], ['Q6_K', 14, 256, 210], ['BF16', 30, 1, 2],
  ];
  for (const [type, id, elems, bytes] of expected) {
    const f = formatInfo(type);
    assert.deepEqual([f.ggmlType, f.blockElems, f.blockBytes], [id, elems, bytes], type);
    assert.equal(formatOfGgmlType(id)?.type, type);
  }
  assert.deepEqual([...WEIGHT_TYPES].sort(), expected.map((e) => e[0]).sort());
  assert.equal(bytesFor('Q4_K', 512), 288);
  assert.equal(bytesFor('Q5_K', 256), 176);
  assert.equal(bytesFor('Q6_K', 768), 630);
  assert.equal(bytesFor('Q8_0', 64), 68);
  assert.equal(bytesFor('Q4_0', 96), 54);
  assert.equal(bytesFor('F16', 3), 6);
  assert.equal(bytesFor('BF16', 5), 10);
  assert.equal(bytesFor('F32', 7), 28);
  assert.throws(() => bytesFor('Q4_0', 100), /blocks of 32; 100 weights do not fill whole blocks/);
  assert.throws(() => bytesFor('Q6_K', 128), /blocks of 256/);
  assert.throws(() => formatInfo('Q2_K' as WeightType), /unknown weight format "Q2_K"/);
  // Dispatch reaches each format's own code: a Q8_0 block read as Q4_0 or Q6_K is refused or reads differently.
  const x = normals(256, 3);
  const q8 = new Uint8Array(bytesFor('Q8_0', 256));
  quantize('Q8_0', x, q8);
  const viaTable = new Float32Array(256);
  dequantize('Q8_0', q8, viaTable);
  const direct = new Float32Array(256);
  dequantizeQ8_0(q8, direct);
  assert.deepEqual(viaTable, direct);
  assert.throws(() => dequantize('Q4_0', q8, new Float32Array(256)), /Q4_0: 272 bytes are not whole 18-byte blocks/);
});

test('sizes that do not fill blocks or do not match are refused with the numbers', () => {
  assert.throws(() => quantize('Q8_0', new Float32Array(100), new Uint8Array(200)), /Q8_0 stores weights in blocks of 32; 100 weights do not fill whole blocks/);
  assert.throws(() => quantize('Q4_K', new Float32Array(255), new Uint8Array(144)), /Q4_K stores weights in blocks of 256; 255/);
  assert.throws(() => quantize('Q6_K', new Float32Array(256), new Uint8Array(209)), /Q6_K: 256 weights take 210 bytes, but the destination has 209/);
  assert.throws(() => dequantize('Q5_K', new Uint8Array(175), new Float32Array(256)), /Q5_K: 175 bytes are not whole 176-byte blocks/);
  assert.throws(() => dequantize('Q4_K', new Uint8Array(288), new Float32Array(256)), /Q4_K: 2 blocks hold 512 weights, but the destination has room for 256/);
  assert.throws(() => dequantize('F16', new Uint8Array(3), new Float32Array(1)), /F16: 3 bytes are not whole 2-byte blocks/);
  assert.throws(() => dequantize('F32', new Uint8Array(8), new Float32Array(3)), /F32: 2 blocks hold 2 weights/);
});

test('dequantizeRows reads middle rows of a matrix, equal to the same rows of the whole', () => {
  const rows = 5;
  const width = 512;
  for (const type of WEIGHT_TYPES) {
    const x = normals(rows * width, 11);
    const bytes = new Uint8Array(bytesFor(type, x.length));
    quantize(type, x, bytes);
    const whole = new Float32Array(x.length);
    dequantize(type, bytes, whole);
    const one = new Float32Array(width);
    dequantizeRows(type, bytes, 2, 1, width, one);
    assert.deepEqual(one, whole.subarray(2 * width, 3 * width), `${type}: row 2`);
    const two = new Float32Array(2 * width);
    dequantizeRows(type, bytes, 3, 2, width, two);
    assert.deepEqual(two, whole.subarray(3 * width), `${type}: rows 3-4`);
    // Row 2 really is row 2: close to the input's row 2, far from row 1.
    assert.ok(relativeRmsError(x.subarray(2 * width, 3 * width), one) <= ERROR_BOUND[type]);
  }
  const q4k = new Uint8Array(bytesFor('Q4_K', rows * width));
  assert.throws(() => dequantizeRows('Q4_K', q4k, 4, 2, width, new Float32Array(2 * width)), /rows 4\.\.5 of 512-wide Q4_K rows end at byte 1728, but the matrix has 1440 bytes \(5 rows\)/);
  assert.throws(() => dequantizeRows('Q4_K', q4k, 0, 1, 300, new Float32Array(300)), /rows of 300 weights do not fill whole blocks/);
  assert.throws(() => dequantizeRows('Q4_K', q4k, 0, 1, width, new Float32Array(width + 1)), /need a destination of 512, got 513/);
  assert.throws(() => dequantizeRows('Q4_K', q4k, -1, 1, width, new Float32Array(width)), /rowStart must be a non-negative integer/);
  const none = new Float32Array(0);
  dequantizeRows('Q4_K', q4k, 5, 0, width, none); // zero rows at the end: nothing to read, not an error
});
