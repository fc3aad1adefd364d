// The completion session on the engine worker, as the extension runs it: the prompts are built
// in the worker (the extension host holds no tokenizer) exactly as in this thread, the KV cache
// in the worker is reused across keystrokes, and a newer keystroke stops the worker's generation.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../engine/worker/client';
import { WorkerEngine } from '../../engine/worker/workerEngine';
import { WorkerPrompter } from '../../engine/worker/workerPrompter';
import { CompletionSession } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { ContextRing } from '../../engine/complete/contextRing';
import { summaryPlan } from '../../engine/summarize/summaryPrompt';
import { loadModelPrompts } from '../../engine/model/modelTokenizer';
import { readModelConfig } from '../../engine/model/load';
import type { LoadResult } from '../../engine/worker/protocol';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { writeModelFolder } from '../../tools/bench/latency';
import { ECHO_MODEL_CONFIG, echoModel } from '../harness/echoModel';

const t = getTokenizer('p50k_edit');
let dir = '';
let client: EngineClient;
let info: LoadResult;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'limelight-complete-'));
  writeModelFolder(dir, ECHO_MODEL_CONFIG, echoModel(t.encode('x')[0]));
  client = new EngineClient();
  info = await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32', contextLength: 1024 });
});

after(async () => {
  await client.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const FILE = 'def area(r):\n    return 3.14159 * r * r\n\n\ndef perimeter(r):\n    \n';
const at = FILE.lastIndexOf('    \n') + 4;
const doc = (typed: string) => ({ path: 'geometry.py', languageId: 'python', text: FILE.slice(0, at) + typed + FILE.slice(at), offset: at + typed.length });

test('through the worker, each keystroke prefills only its new tokens and the text streams back', async () => {
  const session = new CompletionSession(new WorkerPrompter(client, info.fimStopIds), new WorkerEngine(client), { debounceMs: 0, maxNewTokens: 4 });
  const typed = 'return 2 * 3.14159 * r';
  const prefilled: number[] = [];
  for (let i = 0; i <= typed.length; i++) {
    const r = await session.complete(doc(typed.slice(0, i)), 'invoke');
    assert.ok(r.timings, `${r.outcome}: ${r.reason}`);
    assert.match(r.text, /^x+$/);
    if (i > 0) prefilled.push(r.timings.prefilled_tokens);
  }
  prefilled.sort((a, b) => a - b);
  assert.ok(prefilled[prefilled.length >> 1] <= 3, `prefilled per keystroke: ${prefilled.join(',')}`);
});

test('a newer request stops the generation running in the worker', async () => {
  const session = new CompletionSession(new WorkerPrompter(client, info.fimStopIds), new WorkerEngine(client), { debounceMs: 0, maxNewTokens: 500, singleLineMaxTokens: 2, multiLineMaxMs: 60_000 });
  const first = session.complete(doc(''), 'invoke');
  await new Promise((r) => setTimeout(r, 100));
  const second = session.complete(doc('r'), 'invoke');
  const r1 = await first;
  assert.equal(r1.outcome, 'cancelled');
  const r2 = await second;
  assert.equal(r2.outcome, 'shown');
  assert.equal(r2.text, 'xx');
});

test('the worker builds the same prompts as a builder in this thread, keeping its window start across keystrokes', async () => {
  const fim = requireFimTemplate(t, 'p50k_edit');
  assert.deepEqual(info.fimStopIds, [...fim.stopIds]);
  const here = new PromptBuilder(fim);
  const there = new WorkerPrompter(client, info.fimStopIds);
  const ring = new ContextRing();
  ring.note('lib/units.py', 'CM_PER_INCH = 2.54\n\ndef to_cm(inches):\n    return inches * CM_PER_INCH\n', 10);
  ring.note('lib/shapes.py', 'class Circle:\n    def __init__(self, r):\n        self.r = r\n', 5);
  // Budgets small enough that the prefix window moves while the user types.
  const budget = { prefixTokens: 24, suffixTokens: 8, contextTokens: 40, maxPromptTokens: 200 };
  const long = 'import math\n' + Array.from({ length: 30 }, (_, i) => `x${i} = math.sqrt(${i})\n`).join('');
  const starts = new Set<number>();
  for (let i = 0; i <= long.length; i += 7) {
    const d = { path: 'geometry.py', languageId: 'python', text: long.slice(0, i) + '\n# end\n', offset: i };
    const want = here.build(d, budget, ring.excerpts());
    const got = await there.build(d, budget, ring.excerpts());
    assert.deepEqual(got, want, `at offset ${i}`);
    starts.add(got.prefixStart);
  }
  assert.ok(starts.size > 2, `the window start moved ${starts.size - 1} times`);
  assert.ok(here.build({ path: 'geometry.py', languageId: 'python', text: long, offset: long.length }, budget, ring.excerpts()).chunks.length > 0, 'the excerpts reach the prompt');
});

test("Summarize Selection's prompt comes from the worker, as the model's own layout builds it", async () => {
  const prompts = loadModelPrompts(dir, readModelConfig(dir))!;
  const code = 'def area(r):\n    return 3.14159 * r * r\n';
  const got = await client.summaryPrompt({ path: 'geometry.py', code, maxPromptTokens: 900 });
  assert.deepEqual(got, summaryPlan(prompts, 'geometry.py', code, 900));
  assert.equal(got.kind, 'starter');
  assert.ok(got.stopTokenIds.includes(t.special.eot!));
  const cut = await client.summaryPrompt({ path: 'geometry.py', code: code.repeat(200), maxPromptTokens: 50 });
  assert.ok(cut.cut && cut.ids.length <= 50 && cut.keptLines < cut.totalLines, `kept ${cut.keptLines} of ${cut.totalLines} lines in ${cut.ids.length} tokens`);
});

test('a prompt request with a field the wire does not know is refused, naming it', async () => {
  const bad = { doc: { path: 'a.py', languageId: 'python', text: 'x', offset: 1, extra: 1 }, budget: { prefixTokens: 1, suffixTokens: 1, contextTokens: 0, maxPromptTokens: 10 }, excerpts: [] };
  await assert.rejects(client.buildPrompt(bad as never), /unknown field "doc\.extra"/);
  await assert.rejects(client.buildPrompt({ ...bad, doc: { path: 'a.py', languageId: 'python', text: 'x', offset: -1 } }), /"doc\.offset" is -1/);
});
