// The completion pipeline on a real generator and backend: KV-cache reuse across simulated
// keystrokes, preemption by a newer request, and every outcome. The model writes one known
// token over and over (test/harness/echoModel.ts).
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { Generator } from '../../engine/generate/generator';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { LocalEngine } from '../../engine/complete/localEngine';
import { CompletionSession, type CompletionEngine, type CompletionOptions, type GenerationRequest } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import type { CompletionDocument } from '../../engine/complete/prompt';
import { echoModel } from '../harness/echoModel';

const t = getTokenizer('p50k_edit');
const fim = requireFimTemplate(t, 'p50k_edit');

/** The real engine, counting how many generations run at once. */
class CountingEngine implements CompletionEngine {
  running = 0;
  maxRunning = 0;
  calls = 0;
  /** Calls that ask for an answer (more than the one token of a prefill-only run). */
  answers = 0;
  constructor(readonly inner: LocalEngine) {}
  async generate(req: GenerationRequest, signal: AbortSignal, onText: (d: string) => void) {
    this.calls++;
    if (req.maxNewTokens > 1) this.answers++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await this.inner.generate(req, signal, onText);
    } finally {
      this.running--;
    }
  }
}

function setup(text: string, opts: Partial<CompletionOptions> = {}) {
  const generator = new Generator(createReferenceBackend(echoModel(t.encode(text)[0])));
  const engine = new CountingEngine(new LocalEngine(generator, t));
  const session = new CompletionSession(new PromptBuilder(fim), engine, { debounceMs: 0, ...opts });
  return { generator, engine, session };
}

const FILE = 'export function area(r: number): number {\n  return Math.PI * r * r;\n}\n\nexport function perimeter(r: number): number {\n  \n}\n';
const doc = (text: string, offset: number): CompletionDocument => ({ path: 'src/geometry.ts', languageId: 'typescript', text, offset });

test('typing replayed keystroke by keystroke prefills only the new tokens', async () => {
  const { session, engine } = setup('x', { maxNewTokens: 3 });
  const at = FILE.indexOf('  \n}') + 2;
  const typed = 'const d = 2 * r;';
  const prefilled: number[] = [];
  for (let i = 0; i <= typed.length; i++) {
    const text = FILE.slice(0, at) + typed.slice(0, i) + FILE.slice(at);
    const r = await session.complete(doc(text, at + i), 'invoke');
    assert.ok(r.timings, `keystroke ${i}: ${r.outcome} ${r.reason}`);
    if (i > 0) prefilled.push(r.timings.prefilled_tokens);
    assert.equal(r.timings.prompt_tokens, r.prompt!.ids.length);
  }
  prefilled.sort((a, b) => a - b);
  assert.ok(prefilled[prefilled.length >> 1] <= 3, `prefilled per keystroke: ${prefilled.join(',')}`);
  assert.ok(prefilled[prefilled.length - 1] <= 6, `prefilled per keystroke: ${prefilled.join(',')}`);
  assert.equal(engine.calls, typed.length + 1);
});

test('a newer request preempts the running generation within a step; one generation at a time', async () => {
  const { session, engine, generator } = setup('x', { maxNewTokens: 500, singleLineMaxTokens: 3, multiLineMaxMs: 60_000 });
  const at = FILE.indexOf('  \n}') + 2;
  const first = session.complete(doc(FILE, at), 'invoke');
  while (generator.cachedIds.length < 40 || engine.running === 0) await new Promise((r) => setTimeout(r, 1));
  const t0 = performance.now();
  const text = FILE.slice(0, at) + 'c' + FILE.slice(at);
  const second = session.complete(doc(text, at + 1), 'invoke');
  const r1 = await first;
  const stoppedAfter = performance.now() - t0;
  assert.equal(r1.outcome, 'cancelled');
  assert.ok(r1.timings!.new_tokens < 500);
  const r2 = await second;
  assert.equal(r2.outcome, 'shown');
  assert.equal(r2.mode, 'single-line');
  assert.equal(engine.maxRunning, 1);
  assert.ok(stoppedAfter < 2000, `took ${stoppedAfter} ms to stop`);
  // The second prompt reused the cache the first left behind.
  assert.ok(r2.timings!.reused_tokens >= r1.prompt!.ids.length - 3);
});

test('a request cancelled by the editor ends as cancelled', async () => {
  const { session } = setup('x', { maxNewTokens: 500, multiLineMaxMs: 60_000 });
  const c = new AbortController();
  const pending = session.complete(doc(FILE, FILE.indexOf('  \n}') + 2), 'invoke', c.signal);
  setTimeout(() => c.abort(), 30);
  assert.equal((await pending).outcome, 'cancelled');
});

test('automatic requests wait for the debounce; a newer keystroke during it wins', async () => {
  const { session, engine } = setup('x', { maxNewTokens: 2, debounceMs: 200 });
  const at = FILE.indexOf('  \n}') + 2;
  const first = session.complete(doc(FILE, at), 'auto');
  const text = FILE.slice(0, at) + 'r' + FILE.slice(at);
  const second = session.complete(doc(text, at + 1), 'auto');
  const r1 = await first;
  const r2 = await second;
  assert.equal(r1.outcome, 'debounced');
  assert.equal(r2.outcome, 'shown');
  assert.equal(r2.debounceMs, 200);
  assert.ok(r2.latencyMs >= 190);
  assert.equal(engine.answers, 1);
  // The second keystroke's tokens were prefilled during its wait: the answer reran one.
  assert.equal(r2.timings!.prefilled_tokens, 1);
  // Measured latency shortens the next wait.
  assert.ok(session.debounce.delayMs() < 200);
});

test('a shown suggestion is typed through without asking the engine again', async () => {
  const { session, engine } = setup('x', { maxNewTokens: 4 });
  const text = 'let value = ';
  const r = await session.complete(doc(text, text.length), 'auto');
  assert.equal(r.outcome, 'shown');
  assert.equal(r.mode, 'single-line');
  assert.equal(r.text, 'xxxx');
  assert.equal(r.stopReason, 'max-tokens');
  const next = await session.complete(doc(text + 'x', text.length + 1), 'auto');
  assert.equal(next.outcome, 'typed-through');
  assert.equal(next.text, 'xxx');
  assert.equal(engine.calls, 1);
  assert.equal(session.last, next);
});

test('a block suggestion is stopped by the block-end rule as soon as it leaves the block', async () => {
  const { session, engine } = setup('\n', { maxNewTokens: 50 });
  const at = FILE.indexOf('  \n}') + 2;
  const r = await session.complete(doc(FILE, at), 'invoke');
  // Newlines only: nothing to show, and the stream did not run to the token budget.
  assert.equal(r.outcome, 'empty');
  assert.ok(r.timings!.new_tokens < 50, `${r.timings!.new_tokens} tokens`);
  assert.equal(engine.calls, 1);
});

test('much text after the cursor: no automatic request, an explicit one is answered', async () => {
  const { session, engine } = setup('x', { maxNewTokens: 2 });
  const text = 'const total = computeTheTotal(items);';
  const r = await session.complete(doc(text, 'const total = '.length), 'auto');
  assert.equal(r.outcome, 'skipped');
  assert.match(r.reason, /characters follow/);
  assert.equal(engine.calls, 0);
  const asked = await session.complete(doc(text, 'const total = '.length), 'invoke');
  assert.equal(asked.outcome, 'shown');
  assert.equal(asked.text, 'xx');
});

test('an immediate end of text is empty; whitespace cut off by the time budget is timed out', async () => {
  const eot = new CompletionSession(new PromptBuilder(fim), new LocalEngine(new Generator(createReferenceBackend(echoModel(t.special.eot))), t), { debounceMs: 0 });
  const r = await eot.complete(doc('let a = ', 8), 'invoke');
  assert.equal(r.outcome, 'empty');
  assert.equal(r.stopReason, 'eos');
  const spaces = new CompletionSession(new PromptBuilder(fim), new LocalEngine(new Generator(createReferenceBackend(echoModel(t.encode(' ')[0]))), t), {
    debounceMs: 0,
    singleLineMaxMs: 1,
    maxNewTokens: 512,
    singleLineMaxTokens: 512,
  });
  const slow = await spaces.complete(doc('let a = ', 8), 'invoke');
  assert.equal(slow.outcome, 'timed-out');
  assert.match(slow.reason, /1 ms budget/);
  // The engine still got its minimum time (50 ms), not the 1 ms left of the budget.
  assert.ok(slow.engineMs >= 45, `engine ran ${slow.engineMs} ms`);
});

test('a suggestion equal to the code after the cursor is filtered as a duplicate', async () => {
  const { session } = setup('x', { maxNewTokens: 1 });
  const text = 'let v = \nlet v = x\n';
  const r = await session.complete(doc(text, 'let v = '.length), 'invoke');
  assert.equal(r.outcome, 'duplicate');
});

test('an engine error is reported as an outcome, not thrown', async () => {
  const { session } = setup('x', { maxNewTokens: 8, prefixTokens: 2000, contextLength: 4000 });
  const big = 'y = 1\n'.repeat(800);
  const r = await session.complete(doc(big, big.length), 'invoke');
  assert.equal(r.outcome, 'error');
  assert.match(r.reason, /context/);
});

test('warming prefills the place the user is about to type at; it never preempts a pending request', async () => {
  const { session, engine } = setup('x', { maxNewTokens: 2, debounceMs: 100 });
  const at = FILE.indexOf('  \n}') + 2;
  await session.warm(doc(FILE, at));
  assert.equal(engine.calls, 1);
  const typed = FILE.slice(0, at) + 'r' + FILE.slice(at);
  const pending = session.complete(doc(typed, at + 1), 'auto');
  await session.warm(doc(FILE, 10));
  const r = await pending;
  assert.equal(r.outcome, 'shown');
  assert.ok(r.timings!.prefilled_tokens <= 3, `prefilled ${r.timings!.prefilled_tokens}`);
  // The warm, the prefill during the request's debounce, its answer; no warm at offset 10.
  assert.equal(engine.calls, 3);
  assert.equal(engine.answers, 1);
});

test('switching between block and line suggestions keeps the prompt, so the cache survives', async () => {
  const { session } = setup('x', { maxNewTokens: 64, singleLineMaxTokens: 8, contextLength: 300, prefixTokens: 400, suffixTokens: 200 });
  // Longer than the windows on both sides, so a change of budget would move them.
  const big = 'let a = 1;\n'.repeat(150) + FILE + 'let b = 2;\n'.repeat(150);
  const at = big.indexOf('  \n}') + 2;
  const block = await session.complete(doc(big, at), 'invoke');
  assert.equal(block.mode, 'multi-line');
  const text = big.slice(0, at) + 'r' + big.slice(at);
  const line = await session.complete(doc(text, at + 1), 'invoke');
  assert.equal(line.mode, 'single-line');
  assert.ok(line.timings!.prefilled_tokens <= 3, `prefilled ${line.timings!.prefilled_tokens} after the mode changed`);
});
