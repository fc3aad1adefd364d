// Inputs and expected outputs the quantized-kernel tests share.
import { MatmulMode } from '../../engine/kernels/wasm/kernels';
import { randn } from '../unit/oracle';

/** Input rows (N, C): random, then all +1, all -1, zeros, +-3 alternating, over and over. */
export function kernelInputs(N: number, C: number, rand: () => number): Float32Array {
  const x = randn(N * C, rand, 2);
  for (let n = 0; n < N; n++) {
    const row = x.subarray(n * C, (n + 1) * C);
    if (n % 5 === 1) row.fill(1);
    if (n % 5 === 2) row.fill(-1);
    if (n % 5 === 3) row.fill(0);
    if (n % 5 === 4) row.forEach((_, i) => (row[i] = i % 2 ? 3 : -3));
  }
  return x;
}

function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** product (N, OC) + bias stored by `mode` (MatmulMode) over base, as the kernels' $store does (GELU in float64 here). */
export function storedProduct(product: Float32Array, bias: Float32Array, base: Float32Array, mode: number): Float32Array {
  const OC = bias.length;
  return product.map((v, i) => {
    const y = v + bias[i % OC]!;
    return mode === MatmulMode.STORE ? y : mode === MatmulMode.ACCUMULATE ? base[i]! + y : gelu(y);
  });
}
