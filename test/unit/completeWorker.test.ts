// The completion session on the engine worker, as the extension runs it: the KV cache in the
// worker is reused across keystrokes, and a newer keystroke stops the worker's generation.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../engine/worker/client';
import { WorkerEngine } from '../../engine/worker/workerEngine';
import { CompletionSession } from '../../engine/complete/session';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { writeModelFolder } from '../../tools/bench/latency';
import { ECHO_MODEL_CONFIG, echoModel } from '../harness/echoModel';

const t = getTokenizer('p50k_edit');
let dir = '';
let client: EngineClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'limelight-complete-'));
  writeModelFolder(dir, ECHO_MODEL_CONFIG, echoModel(t.encode('x')[0]));
  client = new EngineClient();
  await client.load({ modelDir: dir, backend: 'js', threads: 1, weightFormat: 'f32', contextLength: 1024 });
});

after(async () => {
  await client.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const FILE = 'def area(r):\n    return 3.14159 * r * r\n\n\ndef perimeter(r):\n    \n';
const at = FILE.lastIndexOf('    \n') + 4;
const doc = (typed: string) => ({ path: 'geometry.py', languageId: 'python', text: FILE.slice(0, at) + typed + FILE.slice(at), offset: at + typed.length });

test('through the worker, each keystroke prefills only its new tokens and the text streams back', async () => {
  const session = new CompletionSession(requireFimTemplate(t, 'p50k_edit'), new WorkerEngine(client), { debounceMs: 0, maxNewTokens: 4 });
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
  const session = new CompletionSession(requireFimTemplate(t, 'p50k_edit'), new WorkerEngine(client), { debounceMs: 0, maxNewTokens: 500, singleLineMaxTokens: 2, multiLineMaxMs: 60_000 });
  const first = session.complete(doc(''), 'invoke');
  await new Promise((r) => setTimeout(r, 100));
  const second = session.complete(doc('r'), 'invoke');
  const r1 = await first;
  assert.equal(r1.outcome, 'cancelled');
  const r2 = await second;
  assert.equal(r2.outcome, 'shown');
  assert.equal(r2.text, 'xx');
});
