// `limelight eval`: the scores on hand-computed cases, the seeded sampling, and the built CLI
// (dist/cli.js, which `node tools/build.mjs --tests` also writes) end to end on tiny models
// over a folder of source files this test writes, for every task, and on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bleu4, closestEarlierLine, lcsLength, nameWords, rougeL } from '../../engine/finetune/evalMetrics';
import { fillFromEarlierLine, fimEvalTasks, lineEvalTasks, lmEval, sampleIndices, summaryEvalTasks, summaryLanguage } from '../../engine/finetune/evalTasks';
import { heldOutLoss } from '../../engine/finetune/workspaceEval';
import { loadModel } from '../../engine/model/load';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { editSimilarity } from '../../engine/finetune/workspaceDataset';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { writeTinyModel } from '../harness/tinyModel';
import { writeTinyQwenFolder } from '../harness/realModel';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`node tools/build.mjs\` first`);
  const r = spawnSync(process.execPath, [CLI, 'eval', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('BLEU-4: clipped n-gram precisions, add-one smoothing above unigrams, brevity penalty', () => {
  // 1-grams 5/6 ("the" clipped to one), 2-grams (3+1)/(5+1), 3-grams (2+1)/(4+1), 4-grams (1+1)/(3+1); same length.
  close(bleu4('the cat sat on the mat', 'the cat sat on a mat'), Math.pow((5 / 6) * (4 / 6) * (3 / 5) * (2 / 4), 1 / 4));
  // Every precision 1 (no 3- or 4-grams: 1/1 smoothed), two words of four: exp(1 - 4/2).
  close(bleu4('The cat.', 'the cat sat on'), Math.exp(-1));
  close(bleu4('Returns the sum of a and b', 'returns the sum of a and b.'), 1);
  assert.equal(bleu4('nothing alike', 'entirely different words'), 0);
  assert.equal(bleu4('', 'a b'), 0);
});

test('ROUGE-L: F1 of the longest common subsequence of words', () => {
  assert.equal(lcsLength(['a', 'b', 'c'], ['a', 'c', 'd', 'e']), 2);
  close(rougeL('the cat sat on the mat', 'the cat sat on a mat'), 5 / 6);
  // LCS "a c": precision 2/3, recall 2/4.
  close(rougeL('a b c', 'a c d e'), (2 * (2 / 3) * (1 / 2)) / (2 / 3 + 1 / 2));
  assert.equal(rougeL('x y', 'a b'), 0);
  assert.equal(rougeL('', 'a b'), 0);
});

test('edit similarity: 1 - Levenshtein distance / longer length', () => {
  close(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
  assert.equal(editSimilarity('same', 'same'), 1);
  assert.equal(editSimilarity('', ''), 1);
  assert.equal(editSimilarity('abc', ''), 0);
});

test('baselines: a name split into words, the closest earlier line, and a span filled from it', () => {
  assert.equal(nameWords('parseHTTPHeader_v2'), 'parse http header v 2');
  assert.equal(nameWords('read_lines'), 'read lines');
  assert.equal(closestEarlierLine('return a + b;', ['', '  const s = a + b;', '  return a - b;']), 'return a - b;');
  assert.equal(closestEarlierLine('x', []), '');
  assert.equal(fillFromEarlierLine('const x = ', ';', ['import y;', '    const x = compute(a);']), 'compute(a)');
});

const SOURCES: Record<string, string> = {
  'src/util.py': [
    'import os',
    '',
    '',
    'def read_lines(path):',
    '    """Read a file and return its lines without newlines."""',
    '    with open(path) as f:',
    '        return [line.rstrip("\\n") for line in f]',
    '',
    '',
    'def count_words(text):',
    '    """Count the words in a piece of text."""',
    '    total = 0',
    '    for word in text.split():',
    '        total += 1',
    '    return total',
    '',
  ].join('\n'),
  'src/math.ts': [
    '/** Add two numbers and return their sum. */',
    'export function addNumbers(a: number, b: number): number {',
    '  const sum = a + b;',
    '  return sum;',
    '}',
    '',
    '/** Multiply two numbers together for the caller. */',
    'export function multiplyNumbers(a: number, b: number): number {',
    '  const product = a * b;',
    '  return product;',
    '}',
    '',
  ].join('\n'),
};
const FILES = Object.entries(SOURCES).map(([path, text]) => ({ path, text }));

test('sampling is drawn from the seed: the same seed, the same samples; another seed, others', () => {
  const a = sampleIndices(100, 10, 1);
  assert.deepEqual(sampleIndices(100, 10, 1), a);
  assert.notDeepEqual(sampleIndices(100, 10, 2), a);
  assert.equal(new Set(a).size, 10);
  assert.ok(a.every((i, k) => i >= 0 && i < 100 && (k === 0 || a[k - 1]! < i)));
  assert.deepEqual(sampleIndices(3, 10, 5), [0, 1, 2]);

  const prompt = (_path: string, prefix: string, suffix: string): number[] => [...prefix, '|', ...suffix].map((c) => c.charCodeAt(0));
  const lines = lineEvalTasks(prompt, FILES, 4, 5, 10_000);
  assert.equal(lines.length, 5);
  assert.deepEqual(lineEvalTasks(prompt, FILES, 4, 5, 10_000), lines);
  for (const t of lines) {
    const text = SOURCES[t.path]!.split('\n')[t.line - 1]!;
    assert.equal(t.expected, text.trim(), 'a line task asks for the line\'s code');
  }
  const spans = fimEvalTasks(prompt, FILES, 4, 20, 10_000);
  assert.deepEqual(fimEvalTasks(prompt, FILES, 4, 20, 10_000), spans);
  assert.ok(spans.some((t) => t.multiLine === true) && spans.some((t) => t.multiLine !== true), 'both in-line spans and blocks are drawn');
  for (const t of spans) {
    const lines = SOURCES[t.path]!.split('\n');
    if (t.multiLine === true) {
      const n = t.expected.split('\n').length;
      assert.ok(n === 2 || n === 3);
      assert.equal(t.expected, lines.slice(t.line - 1, t.line - 1 + n).join('\n').trim(), 'a block is whole lines from the first line\'s code');
      continue;
    }
    const code = lines[t.line - 1]!.trim();
    assert.ok(t.expected.length >= 1 && code.includes(t.expected) && !code.startsWith(t.expected) && !code.endsWith(t.expected), `"${t.expected}" is inside "${code}"`);
  }
  const summaries = summaryEvalTasks((_p, code) => [code.length], FILES, 0, 10, 10_000);
  assert.deepEqual(summaries.map((s) => [s.name, s.baseline, s.expected]).sort(), [
    ['addNumbers', 'add numbers', 'Add two numbers and return their sum.'],
    ['count_words', 'count words', 'Count the words in a piece of text.'],
    ['multiplyNumbers', 'multiply numbers', 'Multiply two numbers together for the caller.'],
    ['read_lines', 'read lines', 'Read a file and return its lines without newlines.'],
  ]);
  assert.equal(summaryLanguage('a/b.tsx'), 'typescript');
  assert.equal(summaryLanguage('README.md'), null);
});

const tmp = mkdtempSync(join(tmpdir(), 'limelight-eval-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, 'data');
for (const [path, text] of Object.entries(SOURCES)) {
  mkdirSync(join(data, path, '..'), { recursive: true });
  writeFileSync(join(data, path), text);
}
const tiny = writeTinyModel(join(tmp, 'tiny'));

test("lm: the loss from the backend's logits at every position is the trainer's held-out loss", async () => {
  const model = loadModel(tiny);
  const tok = getTokenizer('p50k_edit');
  const eot = tok.special.eot!;
  const r = await lmEval(createReferenceBackend(model), model.config.vocabSize, (t) => tok.encode(t), FILES, eot, 0, 1000);
  const ref = heldOutLoss(model, null, FILES.map((f) => tok.encode(f.text)), eot, model.config.maxPositions, Infinity);
  assert.equal(r.tokens, ref.tokens);
  const drawn = await lmEval(createReferenceBackend(model, { contextLength: 16 }), model.config.vocabSize, (t) => tok.encode(t), FILES, eot, 5, 3);
  assert.equal(drawn.windows, 3);
  assert.equal(drawn.tokens, 3 * 16);
  assert.ok(Math.abs(r.model.loss - ref.loss) < 1e-4, `${r.model.loss} vs ${ref.loss}`);
  const bytes = FILES.reduce((a, f) => a + Buffer.byteLength(f.text), 0);
  const streamTokens = FILES.reduce((a, f) => a + tok.encode(f.text).length + 1, 0);
  close(r.model.bits_per_byte, (r.model.loss * streamTokens) / bytes / Math.LN2);
});

const METRICS: Record<string, string[]> = { lm: ['loss', 'perplexity', 'bits_per_byte'], line: ['exact_match', 'edit_similarity'], fim: ['exact_match', 'edit_similarity'], summarize: ['bleu4', 'rouge_l'] };

function checkReport(stdout: string, task: string): Record<string, Record<string, number>> {
  const r = JSON.parse(stdout) as { task: string; model: Record<string, number>; baseline: Record<string, number>; samples: number };
  assert.deepEqual(Object.keys(r), ['task', 'model', 'baseline', 'samples']);
  assert.equal(r.task, task);
  assert.ok(Number.isInteger(r.samples) && r.samples > 0);
  for (const side of [r.model, r.baseline]) {
    assert.deepEqual(Object.keys(side), METRICS[task]);
    for (const [k, v] of Object.entries(side)) {
      assert.ok(Number.isFinite(v), `${k} = ${v}`);
      if (task !== 'lm') assert.ok(v >= 0 && v <= 1, `${k} = ${v} is outside 0..1`);
    }
  }
  return { model: r.model, baseline: r.baseline };
}

for (const task of ['lm', 'line', 'fim', 'summarize']) {
  test(`eval --task ${task} on a tiny model prints the model's scores beside the baseline's, the same for the same seed`, () => {
    const r = cli('--model', tiny, '--task', task, '--data', data, '--json', '--seed', '3', '--limit', '6');
    assert.equal(r.code, 0, r.stderr);
    const { model, baseline } = checkReport(r.stdout, task);
    if (task === 'lm') {
      assert.ok(model.loss! > 0 && Math.abs(model.perplexity! - Math.exp(model.loss!)) < 1e-3 * model.perplexity!);
      assert.ok(model.bits_per_byte! > 0);
      // The uniform baseline: ln V nats per token.
      close(baseline.loss!, Math.round(Math.log(getTokenizer('p50k_edit').vocabSize) * 1e6) / 1e6);
    } else if (task === 'summarize') {
      assert.ok(baseline.rouge_l! > 0, 'the function names share words with their doc comments');
    } else {
      assert.ok(baseline.edit_similarity! > 0, 'earlier lines resemble the later ones');
    }
    assert.equal(cli('--model', tiny, '--task', task, '--data', data, '--json', '--seed', '3', '--limit', '6').stdout, r.stdout);
  });
}

test('eval on a tiny Qwen folder: line completion through its FIM template, summaries through its chat template', () => {
  const qwen = writeTinyQwenFolder(join(tmp, 'qwen'));
  for (const task of ['line', 'summarize']) {
    const r = cli('--model', qwen, '--task', task, '--data', data, '--json', '--limit', '3', '--backend', 'js');
    assert.equal(r.code, 0, r.stderr);
    checkReport(r.stdout, task);
  }
});

test('eval prints a table without --json', () => {
  const r = cli('--model', tiny, '--task', 'summarize', '--data', data, '--limit', '2');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^summarize on 2 samples from .*\n\s+model\s+baseline\nbleu4\s+\d\.\d{4}\s+\d\.\d{4}\nrouge_l\s+\d\.\d{4}\s+\d\.\d{4}\n$/);
});

test('eval refuses bad input with a clear message and exit code 2', () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  const cases: [string[], RegExp][] = [
    [['--model', tiny, '--task', 'lm'], /--data DIR is required/],
    [['--model', tiny, '--data', data], /--task is required: lm, line, fim, summarize/],
    [['--model', tiny, '--task', 'bleu', '--data', data], /unknown task "bleu"/],
    [['--model', tiny, '--task', 'line', '--data', empty], /holds no source files/],
    [['--model', tiny, '--task', 'line', '--data', join(data, 'src', 'math.ts')], /is not a folder/],
    [['--model', tiny, '--task', 'line', '--data', data, '--limit', '0'], /--limit must be at least 1/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
