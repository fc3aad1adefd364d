// The completion soak, short: ~300 keystrokes through the extension's pipeline (session,
// WorkerEngine, the real worker, the tiny model) with random edits and cancellations. No
// request may reject, nothing may go unhandled, and the main thread's event loop stays
// responsive (p99 delay < 10 ms over the run). Resident memory is printed but
// not asserted here: over a few seconds it is dominated by the worker's first allocations
// and V8's heap sizing, so a 5 % bound would be noise; test/long/soak.test.ts asserts it
// over 5,000 requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSoak, runSoak } from '../harness/soak';

test('300 completion requests with random edits and cancellations: no rejection, nothing unhandled, event loop p99 < 10 ms', async (t) => {
  const f = await runSoak({ requests: 300, seed: 3, debounceMs: 5, meanGapMs: 6, pauseChance: 0.03 });
  console.log(formatSoak(f));
  assert.equal(f.rejected, 0);
  assert.equal(f.unhandledRejections, 0);
  assert.equal(f.uncaughtExceptions, 0);
  assert.equal(Object.values(f.outcomes).reduce((a, b) => a + b, 0), 300);
  assert.equal(f.outcomes.error ?? 0, 0, 'no request ends in an error');
  // The tiny model's weights are random: its text is often dropped as empty; what counts is that generations ran to the end.
  assert.ok(['shown', 'typed-through', 'empty', 'duplicate', 'timed-out'].some((k) => (f.outcomes[k as keyof typeof f.outcomes] ?? 0) > 0), 'some generations ran to the end');
  assert.ok((f.outcomes.cancelled ?? 0) + (f.outcomes.debounced ?? 0) > 0, 'some requests were preempted or cancelled');
  // The event-loop bound holds on a machine with CPU to spare. An idle process measured over
  // the same windows tells: where the machine itself delays an idle loop (other builds and
  // tests on a shared runner; this repository's 2-core machine under seven engineers read an
  // idle p99 of 6-35 ms), our figures measure the scheduler, not the extension, and are only
  // printed. On a quiet machine (idle p99 <= 3 ms) the main thread's p99 over the run must stay
  // < 10 ms. Here a tenth of the run lasts about half a second, so its p99 is its fifth-worst
  // millisecond and one garbage collection decides it: the bound per tenth is asserted by the
  // long soak (test/long/soak.test.ts), whose tenths last about a minute.
  if (f.control.p99 <= 3) {
    assert.ok(f.loopP99Ms < 10, `event-loop delay p99 ${f.loopP99Ms.toFixed(2)} ms`);
  } else {
    t.diagnostic(`event-loop bound not asserted: an idle process on this machine saw p99 ${f.control.p99.toFixed(2)} ms itself`);
  }
});
