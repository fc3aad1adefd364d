// The shared control block of a compute pool (one Int32Array over a SharedArrayBuffer) and
// the chunk loop every thread of the pool runs. The caller writes a job (kernel index,
// arguments, items cut into chunks), bumps GEN and wakes the threads; then every thread,
// the caller included, claims chunks one at a time until none is left. Chunks are claimed,
// not assigned: a thread the OS has not scheduled yet (2 busy cores) holds nothing up, the
// others take its chunks, and the caller only ever waits for chunks already running.
// No message is posted per job.
export const CTL = {
  GEN: 0, // job counter; a change means "new job"
  CLAIM: 1, // (GEN & GEN_MASK) << CHUNK_BITS | chunks not yet claimed
  DONE: 2, // chunks finished in the current job
  OP: 3, // kernel index in the pool's ops, or STOP
  NARGS: 4,
  ITEMS: 5, // work items of the job
  PER: 6, // items per chunk (a multiple of the kernel's alignment)
  CHUNKS: 7,
  FAILED: 8, // set to 1 by a thread whose kernel threw
  ARGS: 16, // first argument slot
  SIZE: 48,
} as const;

export const STOP = -1;

/**
 * Polls (about 0.1 ms) before sleeping in Atomics.wait: within a forward pass the next job
 * follows in microseconds; longer spins only burn the CPU share other threads need.
 */
export const SPIN = 2000;

const CHUNK_BITS = 12;
/** Most chunks one job is cut into (they share the CLAIM word with the job's tag). */
export const MAX_CHUNKS = (1 << CHUNK_BITS) - 1;
const GEN_MASK = (1 << (32 - CHUNK_BITS)) - 1;

/** The CLAIM word that opens job `gen` with `chunks` chunks. */
export function claimWord(gen: number, chunks: number): number {
  return ((gen & GEN_MASK) << CHUNK_BITS) | chunks;
}

/**
 * Claims and runs chunks of job `gen` until none is left; `call` runs items [a, b). The tag
 * check and the claim are one compareExchange, so a thread that read the job's fields late
 * (the job already finished, another one being written) claims nothing and runs nothing.
 * Every claimed chunk counts in DONE, even one whose kernel threw (FAILED is set and `fail`
 * told), so the caller never waits forever.
 */
export function runChunks(ctl: Int32Array, gen: number, call: (a: number, b: number) => void, fail: (e: unknown) => void): void {
  const chunks = ctl[CTL.CHUNKS]!;
  const per = ctl[CTL.PER]!;
  const items = ctl[CTL.ITEMS]!;
  const tag = gen & GEN_MASK;
  for (;;) {
    const v = Atomics.load(ctl, CTL.CLAIM);
    const left = v & MAX_CHUNKS;
    if (v >>> CHUNK_BITS !== tag || left === 0) return;
    if (Atomics.compareExchange(ctl, CTL.CLAIM, v, v - 1) !== v) continue;
    const a = (chunks - left) * per;
    try {
      call(a, Math.min(items, a + per));
    } catch (e) {
      Atomics.store(ctl, CTL.FAILED, 1);
      fail(e);
    }
    if (Atomics.add(ctl, CTL.DONE, 1) === chunks - 1) Atomics.notify(ctl, CTL.DONE);
  }
}
