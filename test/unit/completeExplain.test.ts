import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRate, describeOutcome, explainMarkdown, formatRecordLine } from '../../engine/complete/explain';
import type { CompletionRecord } from '../../engine/complete/session';

function record(over: Partial<CompletionRecord> = {}): CompletionRecord {
  return {
    id: 3,
    trigger: 'auto',
    path: 'src/a.ts',
    outcome: 'shown',
    text: 'return x;',
    reason: 'eos',
    mode: 'single-line',
    prompt: {
      ids: [1, 2, 3],
      headerPath: 'src/a.ts',
      layout: '`<|fim_prefix|>` prefix `<|fim_suffix|>` suffix `<|fim_middle|>`',
      prefix: 'function f(x) {\n  ',
      suffix: '\n}\n',
      chunks: [{ path: 'lib/b.ts', text: 'const fence = "```";' }],
      prefixStart: 0,
      suffixEnd: 20,
      tokens: { context: 12, header: 7, suffix: 3, prefix: 8 },
      budget: { prefix: 500, suffix: 100, context: 100 },
    },
    raw: 'return x;   ',
    newIds: [7, 8, 9, 10],
    stopReason: 'eos',
    timings: { prompt_tokens: 33, reused_tokens: 30, prefilled_tokens: 3, new_tokens: 4, prefill_ms: 5, decode_ms: 40, backend: 'js' },
    debounceMs: 20,
    latencyMs: 71.4,
    engineMs: 48,
    ...over,
  };
}

test('the log line names the outcome, the cache reuse and the timings', () => {
  const line = formatRecordLine(record());
  assert.match(line, /^#3 auto src\/a\.ts: shown, single-line, 71 ms total, debounce 20 ms/);
  assert.match(line, /prompt 33 tokens \(30 reused, 3 prefilled in 5 ms\)/);
  assert.match(line, /4 new at 100\.0 tok\/s, js/);
  assert.equal(decodeRate(record()), 100);
  assert.equal(decodeRate(record({ timings: null })), null);
  const dropped = formatRecordLine(record({ outcome: 'duplicate', text: '', reason: 'the suggestion repeats the code after the cursor' }));
  assert.match(dropped, /filtered as duplicate.*repeats the code/);
  assert.equal(describeOutcome('timed-out'), 'timed out');
});

test('the explanation shows prompt pieces, reuse, timings and outcome; code cannot break its fences', () => {
  const md = explainMarkdown(record());
  assert.match(md, /# Last completion \(#3\)/);
  assert.match(md, /30 reused from the KV cache/);
  assert.match(md, /4 tokens in 40 ms \(100\.0 tokens\/s\) on js; stopped by eos/);
  assert.match(md, /### Context: lib\/b\.ts\n\n````\nconst fence = "```";\n````/);
  assert.match(md, /### Prefix \(before the cursor\)\n\n```\nfunction f\(x\) \{\n {2}\n```/);
  assert.match(md, /## Model output before post-processing/);
  assert.match(md, /Layout: `<\|fim_prefix\|>` prefix `<\|fim_suffix\|>` suffix `<\|fim_middle\|>` \(file `src\/a\.ts`\)\./, 'the layout is the template\'s own');
  assert.match(explainMarkdown(null), /No completion has been requested yet/);
  const skipped = explainMarkdown(record({ outcome: 'debounced', prompt: null, timings: null, text: '', raw: '' }));
  assert.match(skipped, /Outcome:\*\* debounced/);
  assert.doesNotMatch(skipped, /## Prompt/);
});

test("with auto's phase split, the log line and the explanation say which engine read the prompt and which wrote", () => {
  const timings = { prompt_tokens: 600, reused_tokens: 0, prefilled_tokens: 600, new_tokens: 4, prefill_ms: 900, decode_ms: 40, backend: 'ort-cpu+js', prefill_engine: 'ort-cpu (512 tokens); js (88 tokens); KV cache moved to js: 512 positions in 9 ms', decode_engine: 'js (3 tokens)' };
  const md = explainMarkdown(record({ timings }));
  assert.match(md, /- \*\*Engines:\*\* prefill on ort-cpu \(512 tokens\); js \(88 tokens\); KV cache moved to js: 512 positions in 9 ms; decode on js \(3 tokens\)/);
  assert.match(formatRecordLine(record({ timings })), /ort-cpu\+js, prefill on ort-cpu \(512 tokens\).*, decode on js \(3 tokens\)/);
  const oneToken = explainMarkdown(record({ timings: { ...timings, new_tokens: 1, decode_engine: '' } }));
  assert.match(oneToken, /decode on no engine \(no forward pass after the prompt\)/);
  assert.doesNotMatch(explainMarkdown(record()), /Engines:/, 'a backend that does not split says nothing more');
});
