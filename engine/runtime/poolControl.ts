// The shared control block of a compute pool (one Int32Array over a SharedArrayBuffer).
// The caller writes a job (kernel index, arguments, how to split the work), bumps GEN and
// wakes the threads; each thread runs its share and decrements PENDING; the last one wakes
// the caller. No message is posted per job.
export const CTL = {
  GEN: 0, // job counter; a change means "new job"
  PENDING: 1, // threads still working on the current job
  OP: 2, // kernel index in KERNEL_OPS, or STOP
  NARGS: 3,
  ITEMS: 4, // work items of the job
  PER: 5, // items per thread (a multiple of the kernel's alignment)
  FAILED: 6, // set to 1 by a thread whose kernel threw
  ARGS: 8, // first argument slot
  SIZE: 32,
} as const;

export const STOP = -1;

/** Polls before sleeping in Atomics.wait: a job usually follows within microseconds during a forward pass. */
export const SPIN = 20000;

/** Items [a, b) of thread `index` when each thread takes `per` items. */
export function shareOf(index: number, per: number, items: number): [number, number] {
  const a = Math.min(items, index * per);
  return [a, Math.min(items, a + per)];
}
