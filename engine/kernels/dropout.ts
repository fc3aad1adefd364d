// Inverted dropout whose mask is a hash of (seed, element index) rather than a stream of
// random draws: the backward pass and a recomputed forward regenerate the very same mask
// without storing it, and a resumed run drops the same elements as an uninterrupted one.

function keepScale(seed: number, i: number, p: number, scale: number): number {
  let h = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 4294967296 < p ? 0 : scale;
}

/** out = inp * mask / (1 - p), each element dropped with probability p. */
export function dropoutForward(out: Float32Array, inp: Float32Array, p: number, seed: number, n: number): void {
  const scale = 1 / (1 - p);
  for (let i = 0; i < n; i++) out[i] = inp[i]! * keepScale(seed, i, p, scale);
}

/** Backward of dropoutForward with the same seed: dinp += dout * mask / (1 - p). */
export function dropoutBackward(dinp: Float32Array, dout: Float32Array, p: number, seed: number, n: number): void {
  const scale = 1 / (1 - p);
  for (let i = 0; i < n; i++) dinp[i] += dout[i]! * keepScale(seed, i, p, scale);
}
