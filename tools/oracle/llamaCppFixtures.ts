// llama.cpp as the oracle for every family: writes the reference fixtures that
// test/unit/llamaCppParity.test.ts checks the engine against, without needing llama.cpp itself.
//
//   node tools/build.mjs --tests && node out/tools/oracle/llamaCppFixtures.js
//
// It needs node-llama-cpp 3.22.1 in the benchmark's cache folder (tools/bench/llamaPeer.ts
// installs it there on first use; it is not a dependency of the repository), runs on the CPU,
// and writes test/fixtures/llamacpp/*.json (about 230 kB in all):
//   <model>.json   for each tiny model of tools/oracle/oracleModels.ts (seeded random weights,
//                  written as GGUF in F32, Q8_0 and a Q4_K_M-like mix): llama.cpp's logits at
//                  every position of a fixed id sequence (top 20 ids and values per position,
//                  and the full rows of 3 positions), and 16 greedy ids after a prompt; for the
//                  untied models also the logits of files whose LM head alone is Q8_0, Q4_K or Q6_K.
//   tokenizers.json  for the Qwen3 and Llama 3 vocabularies (vocab-only GGUFs written from
//                  their tokenizer.json by tokenizerJsonGgufMetadata): llama.cpp's ids for every
//                  string of test/fixtures/tokenizerStrings.ts, special tokens parsed, no BOS.
// llama.cpp runs with an F32 KV cache and without flash attention, so its numbers are the
// model's arithmetic and not the rounding of an F16 cache. Output is deterministic: rerunning it
// rewrites the same files (values rounded to 7 significant digits).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureLlamaPeer, LLAMA_PEER_VERSION } from '../bench/llamaPeer';
import {
  ORACLE_FORMATS,
  ORACLE_HEAD_TYPES,
  ORACLE_GREEDY_STEPS,
  ORACLE_IDS_SEED,
  ORACLE_MODELS,
  ORACLE_VOCAB,
  ORACLE_VOCABS,
  vocabFiles,
  writeVocabGguf,
  ORACLE_PROMPT_LENGTH,
  oracleIds,
  oracleModel,
  writeOracleGguf,
  writeOracleHeadGguf,
} from './oracleModels';
import { TOKENIZER_STRINGS } from '../../test/fixtures/tokenizerStrings';
import { tokenizerJsonGgufMetadata } from '../../engine/tokenizer/ggufVocabulary';

/** The repository's root, found from the working folder. */
function repoRoot(): string {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tools', 'oracle', 'llamaCppFixtures.ts'))) return dir;
    if (dirname(dir) === dir) throw new Error('run this from the Limelight repository (no tools/oracle/llamaCppFixtures.ts above the working folder)');
  }
}
export const TOP_K = 20;
/** Positions whose whole logit row is stored (first, middle, last). */
export const FULL_ROW_POSITIONS = [0, 11, 23];

/**
 * The llama.cpp commit the prebuilt binaries were made from (build-info's LLAMA_COMMIT, stored
 * after the compiler's name in libllama-common), or 'unknown'. node-llama-cpp reports only its
 * binaries' release tag.
 */
function llamaCppCommit(peerDir: string): string {
  const bins = join(peerDir, '..', '@node-llama-cpp', `linux-${process.arch}`, 'bins', `linux-${process.arch}`, 'libllama-common.so');
  if (!existsSync(bins)) return 'unknown';
  const m = /(?:GNU|clang version) [\d.]+\0([0-9a-f]{7,40})\0/.exec(readFileSync(bins).toString('latin1'));
  return m?.[1] ?? 'unknown';
}

const round = (x: number): number => Number(x.toPrecision(7));

/* eslint-disable @typescript-eslint/no-explicit-any -- node-llama-cpp is loaded at run time from the bench cache, without its types */
async function main(): Promise<void> {
  const peer = ensureLlamaPeer();
  if ('error' in peer) throw new Error(peer.error);
  const lib: any = await import(pathToFileURL(join(peer.dir, 'dist', 'index.js')).href);
  const llama: any = await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const release = llama.llamaCppRelease as { repo: string; release: string };
  const llamaCpp = { nodeLlamaCpp: LLAMA_PEER_VERSION, llamaCppRepo: release.repo, llamaCppRelease: release.release, llamaCppCommit: llamaCppCommit(peer.dir) };
  const runSettings = { backend: 'cpu', threads: 2, kvCache: 'F32', flashAttention: false, sampler: 'greedy (temperature 0, no penalties)' };
  const tmp = mkdtempSync(join(tmpdir(), 'limelight-llamacpp-'));
  const FIXTURE_DIR = join(repoRoot(), 'test', 'fixtures', 'llamacpp');
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const ids = oracleIds();
  const prompt = ids.slice(0, ORACLE_PROMPT_LENGTH);
  try {
    for (const spec of ORACLE_MODELS) {
      const model = oracleModel(spec);
      const formats: Record<string, unknown> = {};
      for (const format of ORACLE_FORMATS) {
        const path = join(tmp, `${spec.name}-${format}.gguf`);
        writeOracleGguf(path, model, format);
        formats[format] = await runModel(llama, path, ids, prompt, format === 'F32');
        process.stdout.write(`${spec.name} ${format}: greedy ${(formats[format] as { greedy: number[] }).greedy.join(' ')}\n`);
      }
      // The LM head alone in each quantized format (the rest F32): a single matmul whose every
      // rounding the test can reproduce, so the format's decoding is checked tightly.
      const headOnly: Record<string, unknown> = {};
      if (!spec.config.tiedEmbeddings) {
        for (const type of ORACLE_HEAD_TYPES) {
          const path = join(tmp, `${spec.name}-head-${type}.gguf`);
          writeOracleHeadGguf(path, model, type);
          headOnly[type] = await runModel(llama, path, ids, null, false);
        }
      }
      const fixture = {
        about: `llama.cpp's logits and greedy ids for the '${spec.name}' model of tools/oracle/oracleModels.ts, by tools/oracle/llamaCppFixtures.ts`,
        llamaCpp,
        runSettings,
        model: spec.name,
        seed: spec.seed,
        config: spec.config,
        idsSeed: ORACLE_IDS_SEED,
        ids,
        prompt,
        topK: TOP_K,
        fullRowPositions: FULL_ROW_POSITIONS,
        formats,
        ...(Object.keys(headOnly).length > 0 ? { headOnly } : {}),
      };
      writeFileSync(join(FIXTURE_DIR, `${spec.name}.json`), JSON.stringify(fixture) + '\n');
    }
    const vocabs: Record<string, unknown> = {};
    for (const v of ORACLE_VOCABS) {
      const files = vocabFiles(v.pkg);
      const path = join(tmp, `${v.name}-vocab.gguf`);
      writeVocabGguf(path, v.arch, v.rows, tokenizerJsonGgufMetadata(files, v.pre, v.rows));
      const m: any = await llama.loadModel({ modelPath: path, vocabOnly: true });
      const strings: Record<string, number[]> = {};
      for (const { name, text } of TOKENIZER_STRINGS) {
        strings[name] = Array.from(m.tokenize(text, true) as number[]);
        // A tokenizer.json with an NFC normalizer (Qwen's) sees the NFC form; llama.cpp has no normalizer.
        if (text.normalize('NFC') !== text) strings[`${name} (NFC)`] = Array.from(m.tokenize(text.normalize('NFC'), true) as number[]);
      }
      vocabs[v.name] = {
        package: v.pkg,
        pre: v.pre,
        rows: v.rows,
        bos: m.tokens.bos,
        eos: m.tokens.eos,
        shouldPrependBos: m.tokens.shouldPrependBosToken,
        strings,
      };
      await m.dispose();
      process.stdout.write(`${v.name}: ${TOKENIZER_STRINGS.length} strings tokenized\n`);
    }
    const tokenizers = {
      about: "llama.cpp's token ids for test/fixtures/tokenizerStrings.ts, by tools/oracle/llamaCppFixtures.ts",
      llamaCpp,
      how: "llama_tokenize(text, add_special = false, parse_special = true) through node-llama-cpp's model.tokenize(text, true): special tokens in the text are parsed, and no BOS is ever added by this call (llama.cpp adds one only with add_special, when the vocabulary's add_bos flag is set: see shouldPrependBos). A string not in NFC also has the ids of its NFC form, under '<name> (NFC)'.",
      vocabs,
    };
    // One id list per line, so a change shows as the strings it touched.
    const text = JSON.stringify(tokenizers, null, 1).replace(/\[\s+([-\d,\s]+?)\s+\]/g, (_m, xs: string) => `[${xs.replace(/\s+/g, '')}]`);
    writeFileSync(join(FIXTURE_DIR, 'tokenizers.json'), text + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await llama.dispose?.();
  }
}

/** llama.cpp's top logits at every position of `ids`, whole rows too when asked, and greedy ids after `prompt` when given. */
async function runModel(llama: any, path: string, ids: number[], prompt: number[] | null, fullRows: boolean): Promise<unknown> {
  const model: any = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context: any = await model.createContext({
    contextSize: 64,
    batchSize: 64,
    threads: 2,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const seq: any = context.getSequence();
    const out: Array<{ next?: { logits?: Map<number, number> } } | undefined> = await seq.controlledEvaluate(
      ids.map((id) => [id, { generateNext: { logits: true, options: { temperature: 0 } } }]),
    );
    const top: Array<[number[], number[]]> = [];
    const full: number[][] = [];
    for (let t = 0; t < ids.length; t++) {
      const logits = out[t]?.next?.logits;
      if (logits === undefined || logits.size !== ORACLE_VOCAB) throw new Error(`${path}: llama.cpp gave no full logit row at position ${t} (${logits?.size} entries)`);
      const sorted = [...logits.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      top.push([sorted.slice(0, TOP_K).map((e) => e[0]), sorted.slice(0, TOP_K).map((e) => round(e[1]))]);
      if (fullRows && FULL_ROW_POSITIONS.includes(t)) {
        const row = new Array<number>(logits.size);
        for (const [id, v] of logits) row[id] = round(v);
        full.push(row);
      }
    }
    if (prompt === null) return { top };
    await seq.clearHistory();
    const greedy: number[] = [];
    const gen = seq.evaluate(prompt, { temperature: 0 });
    for (let i = 0; i < ORACLE_GREEDY_STEPS; i++) {
      const r = await gen.next();
      if (r.done === true) break;
      greedy.push(r.value as number);
    }
    await gen.return(undefined);
    return { top, ...(full.length > 0 ? { full } : {}), greedy };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
