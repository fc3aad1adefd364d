// The pointwise kernels of a training pass on a PoolArena's threads (train.wat), on resident
// buffers, split by rows or elements: LayerNorm forward and backward, GELU forward and backward,
// zeroing. Any buffer not resident runs the reference instead (kernels/norms.ts,
// kernels/activations.ts).
import { geluBackward, geluForward } from '../kernels/activations';
import { layernormBackward, layernormForward } from '../kernels/norms';
import { MIN_ELEMENTS_PER_THREAD, type PoolArena } from './poolArena';

/** As kernels/norms.ts layernormForward; on the threads, split by rows, when every buffer is resident. */
export function layernormForwardOn(
  arena: PoolArena,
  out: Float32Array, // (N, C)
  mean: Float32Array | null, // (N)
  rstd: Float32Array | null, // (N)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  bias: Float32Array | null, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  if (mean === null || rstd === null || ![out, mean, rstd, inp, weight, bias ?? weight].every((a) => arena.isResident(a))) {
    layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
    return;
  }
  arena.f32[arena.at.consts >> 2] = eps;
  const args = [out.byteOffset, mean.byteOffset, rstd.byteOffset, inp.byteOffset, weight.byteOffset, bias?.byteOffset ?? 0, C, arena.at.consts];
  arena.pool.run('layernorm_fwd', args, N, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / C));
}

/** As kernels/norms.ts layernormBackward (+=): the input gradient split by rows, the weight and bias gradients by columns. */
export function layernormBackwardOn(
  arena: PoolArena,
  dinp: Float32Array, // (N, C)
  dweight: Float32Array | null, // (C)
  dbias: Float32Array | null, // (C)
  dout: Float32Array, // (N, C)
  inp: Float32Array, // (N, C)
  weight: Float32Array, // (C)
  mean: Float32Array, // (N)
  rstd: Float32Array, // (N)
  N: number,
  C: number,
): void {
  const all = [dinp, dout, inp, weight, mean, rstd, ...(dweight !== null ? [dweight] : []), ...(dbias !== null ? [dbias] : [])];
  if ((dweight === null && dbias !== null) || !all.every((a) => arena.isResident(a))) {
    layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    return;
  }
  const [o, x, m, s] = [dout.byteOffset, inp.byteOffset, mean.byteOffset, rstd.byteOffset];
  arena.pool.run('layernorm_bwd_dx', [dinp.byteOffset, o, x, weight.byteOffset, m, s, C], N, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / C));
  if (dweight !== null) arena.pool.run('layernorm_bwd_dw', [dweight.byteOffset, dbias?.byteOffset ?? 0, o, x, m, s, N, C], C, 4, Math.ceil(MIN_ELEMENTS_PER_THREAD / N));
}

/** As kernels/activations.ts geluForward; on the threads when both buffers are resident. */
export function geluForwardOn(arena: PoolArena, out: Float32Array, inp: Float32Array, n: number): void {
  if (!arena.isResident(out) || !arena.isResident(inp)) {
    geluForward(out, inp, n);
    return;
  }
  arena.pool.run('gelu_fwd', [out.byteOffset, inp.byteOffset], n, 4, MIN_ELEMENTS_PER_THREAD);
}

/** As kernels/activations.ts geluBackward (dinp +=); on the threads when every buffer is resident. */
export function geluBackwardOn(arena: PoolArena, dinp: Float32Array, dout: Float32Array, inp: Float32Array, n: number): void {
  if (!arena.isResident(dinp) || !arena.isResident(dout) || !arena.isResident(inp)) {
    geluBackward(dinp, dout, inp, n);
    return;
  }
  arena.pool.run('gelu_bwd', [dinp.byteOffset, dout.byteOffset, inp.byteOffset], n, 4, MIN_ELEMENTS_PER_THREAD);
}

/** a.fill(0), split between the threads when `a` is resident (the gradients of a whole model are a memory-bound pass). */
export function zeroOn(arena: PoolArena, a: Float32Array): void {
  if (!arena.isResident(a)) {
    a.fill(0);
    return;
  }
  arena.pool.run('zero', [a.byteOffset], a.length, 16, MIN_ELEMENTS_PER_THREAD * 16);
}
