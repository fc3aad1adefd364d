// The completion soak, long: 5,000 keystrokes through the extension's pipeline (session,
// WorkerEngine, the real worker, the tiny model) with random edits (type, delete, paste,
// new line, jump, switch files), random cancellations and preemption by newer keystrokes.
// No request may reject, nothing may go unhandled, resident memory after warm-up (the first
// 10 %) grows less than 5 % by the end, and the main thread's event-loop delay stays
// p99 < 10 ms in every tenth of the run. The figures are printed for the issue notes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSoak, runSoak } from '../harness/soak';

test('5,000 completion requests: no crash, nothing unhandled, RSS growth < 5 %, event loop p99 < 10 ms', { timeout: 30 * 60_000 }, async () => {
  const f = await runSoak({ requests: 5000, seed: 1, debounceMs: 50, meanGapMs: 35, pauseChance: 0.08 });
  console.log(formatSoak(f));
  assert.equal(f.rejected, 0);
  assert.equal(f.unhandledRejections, 0);
  assert.equal(f.uncaughtExceptions, 0);
  assert.equal(Object.values(f.outcomes).reduce((a, b) => a + b, 0), 5000);
  assert.equal(f.outcomes.error ?? 0, 0, 'no request ends in an error');
  // The tiny model's weights are random: its text is often dropped as empty; what counts is that generations ran to the end.
  assert.ok(['shown', 'typed-through', 'empty', 'duplicate', 'timed-out'].some((k) => (f.outcomes[k as keyof typeof f.outcomes] ?? 0) > 0), 'some generations ran to the end');
  assert.ok(f.rssGrowthPct < 5, `RSS grew ${f.rssGrowthPct.toFixed(2)} % after warm-up`);
  // An idle process measured over the same windows gives the delay the machine itself adds
  // (other work on a shared CI runner): the bound is 10 ms beyond that, and 10 ms on a quiet machine.
  assert.ok(f.loopP99Ms < 10 + f.control.p99, `event-loop delay p99 ${f.loopP99Ms.toFixed(2)} ms (idle control ${f.control.p99.toFixed(2)} ms)`);
  assert.ok(f.loopWorstWindowP99Ms < 10 + f.control.worstWindowP99, `event-loop delay p99 ${f.loopWorstWindowP99Ms.toFixed(2)} ms in the worst tenth (idle control ${f.control.worstWindowP99.toFixed(2)} ms)`);
});
