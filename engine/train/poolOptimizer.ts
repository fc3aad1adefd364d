// The optimizer's passes on a PoolArena's threads (train.wat): the global gradient norm and the
// AdamW update, in place on resident parameters, gradients and moments; the reference is
// train/adamw.ts, which runs instead when a buffer is not resident.
import { globalNorm, type AdamW } from './adamw';
import { MIN_ELEMENTS_PER_THREAD, type PoolArena } from './poolArena';

/** Elements per partial sum of the global norm (sumsq in train.wat). */
export const NORM_BLOCK = 4096;

/**
 * The global L2 norm of grads (adamw.ts globalNorm): on the threads when resident, as
 * per-block f64 sums added in block order, so the result does not depend on the threads.
 */
export function gradNormOn(arena: PoolArena, grads: Float32Array): number {
  const blocks = Math.ceil(grads.length / NORM_BLOCK);
  if (!arena.isResident(grads) || 2 * blocks > arena.capacity.partials) return globalNorm(grads);
  arena.pool.run('sumsq', [grads.byteOffset, arena.at.partials, grads.length], blocks, 1, Math.ceil(MIN_ELEMENTS_PER_THREAD / NORM_BLOCK));
  const st = arena.f64;
  const p0 = arena.at.partials >> 3;
  let ss = 0;
  for (let i = 0; i < blocks; i++) ss += st[p0 + i]!;
  return Math.sqrt(ss);
}

/**
 * opt.update(params, grads, lr, gradScale) on the threads in f32 (torch's arithmetic, where
 * the reference keeps f64 between its f32 roundings) when params, grads and the moments are
 * resident; else the reference.
 */
export function adamwUpdateOn(arena: PoolArena, opt: AdamW, params: Float32Array, grads: Float32Array, lr: number, gradScale: number): void {
  if (![params, grads, opt.m, opt.v].every((a) => arena.isResident(a))) {
    opt.update(params, grads, lr, gradScale);
    return;
  }
  const { beta1, beta2, eps, weightDecay } = opt.options;
  const { stepSize, bc2Sqrt } = opt.begin(params, grads, lr);
  const c = arena.at.consts;
  for (const seg of opt.decaySegments) {
    const n = seg.end - seg.start;
    if (n <= 0) continue;
    arena.f32.set([seg.decay ? 1 - lr * weightDecay : 1, 1 - beta1, beta2, 1 - beta2, stepSize, bc2Sqrt, eps, gradScale], c >> 2);
    const o = 4 * seg.start;
    arena.pool.run('adamw', [params.byteOffset + o, grads.byteOffset + o, opt.m.byteOffset + o, opt.v.byteOffset + o, c], n, 4, MIN_ELEMENTS_PER_THREAD);
  }
}
