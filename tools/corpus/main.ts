// Builds the starter model's corpus (npm run corpus -- [--out DIR] [--cache DIR] [--seed N] [--skip-install]).
//   DIR/train.bin, DIR/val.bin   uint16 little-endian p50k_edit ids, documents back to back
//   DIR/index.json               token counts per split, language and format; statistics
//   DIR/manifest.json            every source unit: package, version, license, split, files kept
//   DIR/test/files/...           held-out test files as they are, listed in test/files.jsonl
//   DIR/test/summaries.jsonl     held-out (code, summary) pairs for `limelight eval --task summarize`
//   DIR/prompts.json             a few prompts as token ids, one per layout, for the reference
//                                logits the pretraining run brings back (engine parity test)
// Units are visited test first, then validation, then train, so deduplication keeps the
// held-out copy of a repeated file. Train and validation stop taking files of a language
// at its token budget; units are visited in hash order, so the budget takes a fair sample.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Rng } from '../../engine/generate/rng';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { fimPromptTokens, leftToRightTokens, type PromptTokenizer, promptTokenizer, STARTER_ENCODING, summaryExampleTokens, summaryPromptTokens } from '../../engine/tokenizer/promptFormats';
import { Deduplicator } from './dedup';
import { documentedFunctions, type Language } from '../../engine/workspace/docstrings';
import { FIM_MAX_TOKENS, FIM_RATE, FIM_WINDOW_CHARS, fileExamples } from '../../engine/finetune/sourceExamples';
import { dropReason, MAX_FILE_BYTES } from '../../engine/workspace/sourceFilters';
import { goUnits, installNpm, npmUnits, pythonUnits, type Rejected, type SourceUnit } from './sources';
import { assignSplits, type Split, unitHash } from './split';

const LANGUAGES: Language[] = ['typescript', 'javascript', 'python', 'go'];
/** 4 x 5.5M tokens = 22M uint16 tokens = 44 MB: the most the GPU machine is sent. */
const TRAIN_TOKENS_PER_LANGUAGE = 5_500_000;
const VAL_TOKENS_PER_LANGUAGE = 300_000;
const TEST_CHARS_PER_LANGUAGE = 3_000_000;
/** No single unit (effect ships 20 MB of TypeScript) may take more than this share of its language. */
const UNIT_TOKEN_CAP = 1_000_000;

interface Args {
  out: string;
  cache: string;
  seed: number;
  skipInstall: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: resolve('.cache/corpus'), cache: join(homedir(), '.cache', 'limelight-corpus'), seed: 1234, skipInstall: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value. Usage: npm run corpus -- [--out DIR] [--cache DIR] [--seed N] [--skip-install]`);
      return v;
    };
    if (a === '--out') args.out = resolve(value());
    else if (a === '--cache') args.cache = resolve(value());
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--skip-install') args.skipInstall = true;
    else throw new Error(`unknown option ${a}. Usage: npm run corpus -- [--out DIR] [--cache DIR] [--seed N] [--skip-install]`);
  }
  if (!Number.isInteger(args.seed)) throw new Error('--seed must be a whole number.');
  return args;
}

/** A growing uint16 token buffer. */
class TokenWriter {
  private buf = new Uint16Array(1 << 20);
  length = 0;
  documents = 0;

  push(ids: readonly number[]): void {
    if (this.length + ids.length > this.buf.length) {
      const next = new Uint16Array(Math.max(this.buf.length * 2, this.length + ids.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] > 0xffff) throw new Error(`token id ${ids[i]} does not fit uint16; the corpus format assumes a vocabulary under 65536.`);
      this.buf[this.length + i] = ids[i];
    }
    this.length += ids.length;
    this.documents++;
  }

  bytes(): Uint8Array {
    const view = this.buf.subarray(0, this.length);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength); // little-endian on every platform Node runs on
  }
}

interface LanguageStats {
  filesSeen: number;
  filesKept: Record<Split, number>;
  charsKept: Record<Split, number>;
  dropped: Record<string, number>;
  tokens: Record<'train' | 'val', { ltr: number; fim: number; summary: number }>;
  summaryPairs: Record<Split, number>;
  /** FIM documents longer than the model's context (a training window then cuts them). */
  fimOverContext: number;
  fimDocuments: number;
}

function emptyStats(): LanguageStats {
  const split = (): Record<Split, number> => ({ train: 0, val: 0, test: 0 });
  return {
    filesSeen: 0,
    filesKept: split(),
    charsKept: split(),
    dropped: {},
    tokens: { train: { ltr: 0, fim: 0, summary: 0 }, val: { ltr: 0, fim: 0, summary: 0 } },
    summaryPairs: split(),
    fimOverContext: 0,
    fimDocuments: 0,
  };
}

function writeFile(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** One prompt per layout, built by the same functions as the training data (the ids end where the model continues). */
function referencePrompts(tok: PromptTokenizer): { name: string; ids: number[] }[] {
  const ltr = leftToRightTokens(tok, 'fib.py', 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n');
  return [
    { name: 'ltr-python', ids: ltr.slice(0, -1) },
    { name: 'fim-typescript', ids: fimPromptTokens(tok, { path: 'src/math.ts', prefix: 'export function clamp(x: number, lo: number, hi: number): number {\n  return ', suffix: ';\n}\n' }) },
    { name: 'fim-go', ids: fimPromptTokens(tok, { path: 'util/max.go', prefix: 'package util\n\n// Max returns the larger of a and b.\nfunc Max(a, b int) int {\n\tif ', suffix: '\n\treturn b\n}\n' }) },
    { name: 'summary-javascript', ids: summaryPromptTokens(tok, 'lib/sum.js', 'function sum(values) {\n  let total = 0;\n  for (const v of values) total += v;\n  return total;\n}') },
  ];
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const rejected: Rejected[] = [];
  const nodeModules = args.skipInstall ? join(args.cache, 'npm', 'node_modules') : installNpm(args.cache);
  const units: SourceUnit[] = [...npmUnits(nodeModules, rejected), ...pythonUnits(args.cache), ...goUnits()];

  const split = new Map<string, Split>();
  for (const pool of new Set(units.map((u) => u.pool))) {
    for (const [u, s] of assignSplits(units.filter((x) => x.pool === pool).map((x) => ({ name: x.unit, weight: x.files.length })))) split.set(u, s);
  }
  const rank: Record<Split, number> = { test: 0, val: 1, train: 2 };
  const ordered = [...units].sort((a, b) => rank[split.get(a.unit) as Split] - rank[split.get(b.unit) as Split] || unitHash(a.unit) - unitHash(b.unit));

  // Everything is written into a fresh folder that replaces the old output only when complete.
  const stage = `${args.out}.partial`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'test'), { recursive: true });

  const tok = promptTokenizer(getTokenizer(STARTER_ENCODING));
  const fim = requireFimTemplate(getTokenizer(STARTER_ENCODING), STARTER_ENCODING);
  const rng = new Rng(args.seed);
  const dedup = new Deduplicator();
  const writers = { train: new TokenWriter(), val: new TokenWriter() };
  const stats = Object.fromEntries(LANGUAGES.map((l) => [l, emptyStats()])) as Record<Language, LanguageStats>;
  const testFiles: string[] = [];
  const testSummaries: string[] = [];
  const sources: object[] = [];

  for (const unit of ordered) {
    const s = split.get(unit.unit) as Split;
    let unitTokens = 0;
    let unitFiles = 0;
    let unitChars = 0;
    for (const file of unit.files) {
      const st = stats[file.language];
      st.filesSeen++;
      const drop = (why: string): void => {
        st.dropped[why] = (st.dropped[why] ?? 0) + 1;
      };
      if (s === 'test' && st.charsKept.test >= TEST_CHARS_PER_LANGUAGE) {
        drop('over-budget');
        continue;
      }
      if (s !== 'test') {
        const t = st.tokens[s];
        if (t.ltr + t.fim + t.summary >= (s === 'train' ? TRAIN_TOKENS_PER_LANGUAGE : VAL_TOKENS_PER_LANGUAGE)) {
          drop('over-budget');
          continue;
        }
        if (unitTokens >= UNIT_TOKEN_CAP) {
          drop('unit-cap');
          continue;
        }
      }
      const size = statSync(file.abs).size;
      if (size > MAX_FILE_BYTES) {
        drop('too-large');
        continue;
      }
      const raw = readFileSync(file.abs);
      const text = raw.toString('utf8');
      if (text.includes('\uFFFD') || text.includes('\0')) {
        drop('not-utf8-text');
        continue;
      }
      const why = dropReason(file.path, text, size) ?? dedup.check(text);
      if (why !== null) {
        drop(why);
        continue;
      }
      st.filesKept[s]++;
      st.charsKept[s] += text.length;
      unitFiles++;
      unitChars += text.length;
      const fns = documentedFunctions(text, file.language);
      st.summaryPairs[s] += fns.length;
      if (s === 'test') {
        const rel = `files/${unit.origin}/${file.path}`;
        writeFile(join(stage, 'test', rel), raw);
        testFiles.push(JSON.stringify({ file: rel, path: file.path, language: file.language, unit: unit.unit }));
        for (const f of fns) testSummaries.push(JSON.stringify({ path: file.path, language: file.language, unit: unit.unit, name: f.name, line: f.line, code: f.code, summary: f.summary }));
        continue;
      }
      const ex = fileExamples(fim, rng, file.path, text);
      for (const d of ex.docs) {
        if (ex.kind === 'fim') {
          st.fimDocuments++;
          if (d.length > FIM_MAX_TOKENS) st.fimOverContext++;
        }
        writers[s].push(d);
        st.tokens[s][ex.kind] += d.length;
        unitTokens += d.length;
      }
      for (const f of fns) {
        const d = summaryExampleTokens(tok, file.path, f.code, f.summary);
        writers[s].push(d);
        st.tokens[s].summary += d.length;
        unitTokens += d.length;
      }
    }
    sources.push({ unit: unit.unit, origin: unit.origin, package: unit.package, version: unit.version, license: unit.license, split: s, filesKept: unitFiles, charsKept: unitChars, tokens: unitTokens });
  }

  writeFile(join(stage, 'train.bin'), writers.train.bytes());
  writeFile(join(stage, 'val.bin'), writers.val.bytes());
  writeFile(join(stage, 'test', 'files.jsonl'), testFiles.join('\n') + '\n');
  writeFile(join(stage, 'test', 'summaries.jsonl'), testSummaries.join('\n') + '\n');
  const index = {
    encoding: 'p50k_edit',
    vocabSize: getTokenizer('p50k_edit').vocabSize,
    dtype: 'uint16-le',
    specialIds: { eot: tok.eot, fimPrefix: tok.fimPrefix, fimMiddle: tok.fimMiddle, fimSuffix: tok.fimSuffix },
    seed: args.seed,
    layout: 'engine/tokenizer/promptFormats.ts',
    fimRate: FIM_RATE,
    fimWindowChars: FIM_WINDOW_CHARS,
    budgets: { trainTokensPerLanguage: TRAIN_TOKENS_PER_LANGUAGE, valTokensPerLanguage: VAL_TOKENS_PER_LANGUAGE, testCharsPerLanguage: TEST_CHARS_PER_LANGUAGE, unitTokenCap: UNIT_TOKEN_CAP },
    splits: {
      train: { file: 'train.bin', tokens: writers.train.length, documents: writers.train.documents },
      val: { file: 'val.bin', tokens: writers.val.length, documents: writers.val.documents },
      test: { files: testFiles.length, summaries: testSummaries.length },
    },
    units: Object.fromEntries((['train', 'val', 'test'] as Split[]).map((x) => [x, ordered.filter((u) => split.get(u.unit) === x).length])),
    languages: stats,
  };
  writeFile(join(stage, 'prompts.json'), JSON.stringify(referencePrompts(tok), null, 1) + '\n');
  writeFile(join(stage, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  writeFile(join(stage, 'manifest.json'), JSON.stringify({ sources, rejected }, null, 2) + '\n');
  rmSync(args.out, { recursive: true, force: true });
  renameSync(stage, args.out);

  console.log(`corpus written to ${args.out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`train ${writers.train.length} tokens (${(writers.train.length * 2 / 1e6).toFixed(1)} MB), val ${writers.val.length} tokens, test ${testFiles.length} files, ${testSummaries.length} summary pairs`);
  for (const l of LANGUAGES) {
    const st = stats[l];
    const tr = st.tokens.train;
    console.log(
      `${l.padEnd(10)} seen ${st.filesSeen}, kept train/val/test ${st.filesKept.train}/${st.filesKept.val}/${st.filesKept.test} files; ` +
        `train tokens ltr ${tr.ltr} fim ${tr.fim} summary ${tr.summary}; pairs ${st.summaryPairs.train}/${st.summaryPairs.val}/${st.summaryPairs.test}; FIM docs over ${FIM_MAX_TOKENS} tokens ${st.fimOverContext}/${st.fimDocuments}; dropped ${JSON.stringify(st.dropped)}`,
    );
  }
  if (rejected.length > 0) console.log(`rejected: ${rejected.map((r) => `${r.package}@${r.version} (${r.license}: ${r.why})`).join('; ')}`);
}

try {
  main();
} catch (e) {
  console.error(`corpus: ${(e as Error).message}`);
  process.exitCode = 1;
}
