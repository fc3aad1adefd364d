// Reading a training checkpoint's JSON files (latest.json, trainer_state.json) without trusting
// them: a resumed run is rebuilt from these values (batch and sequence sizes allocate the
// activations, the position indexes the data), so every field is checked for type and range
// before anything is allocated, and a damaged file is a CheckpointError naming it.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { DataPosition } from './data';
import type { LoraOptions } from './lora';
import type { TrainerOptions } from './trainer';

export const TRAINER_STATE_FORMAT = 'limelight-trainer-state';

/** trainer_state.json: where a run stands, what it was started with. */
export interface TrainerState {
  format: typeof TRAINER_STATE_FORMAT;
  version: 1;
  step: number;
  position: DataPosition;
  adamStep: number;
  options: TrainerOptions;
  lora: LoraOptions | null;
  baseModel: string;
  /** Tokens in the dataset when the run started: a different count means different data. */
  datasetTokens: number;
  losses: number[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}


type Fail = (what: string) => CheckpointError;

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The parsed JSON of a checkpoint file; `fail` builds the error for a file that cannot be read. */
export function readCheckpointJson(path: string, fail: Fail): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fail(`${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fail(`${path} is not valid JSON: ${(e as Error).message.slice(0, 120)}`);
  }
}

/** The step folder named by latest.json: a plain folder name, never a path out of the checkpoints folder. */
export function checkLatest(json: unknown, path: string, fail: Fail): string {
  const stepDir = (json as { stepDir?: unknown } | null)?.stepDir;
  if (typeof stepDir !== 'string' || stepDir === '' || stepDir.length > 255 || stepDir === '.' || stepDir === '..' || basename(stepDir) !== stepDir || /[\\/\0]/.test(stepDir)) {
    throw fail(`${path} must name the current step folder as {"stepDir": "step-NNNNNN"} (got ${shown(stepDir)})`);
  }
  return stepDir;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Limits no run of this engine reaches: larger values are damage, refused before allocating. */
const MAX = { steps: 1e9, batchSize: 1024, seqLen: 1 << 20, tokensPerBatch: 1 << 20, gradAccum: 1024, datasetTokens: 2 ** 31, losses: 1e8, rank: 4096 };

/** Checks every field a resumed run uses; returns the state with NaN losses (saved as null) restored. */
export function checkTrainerState(json: unknown, path: string, fail: Fail): TrainerState {
  const bad = (field: string, want: string, got: unknown): CheckpointError => fail(`${path}: "${field}" must be ${want} (got ${shown(got)})`);
  if (!isObject(json)) throw fail(`${path} must hold a JSON object (got ${shown(json)})`);
  const count = (obj: Record<string, unknown>, key: string, field: string, min: number, max: number): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(field, `a whole number from ${min} to ${max}`, v);
    return v;
  };
  const real = (obj: Record<string, unknown>, key: string, field: string, ok: (x: number) => boolean, want: string): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(field, want, v);
    return v;
  };
  const flag = (obj: Record<string, unknown>, key: string, field: string): boolean => {
    if (typeof obj[key] !== 'boolean') throw bad(field, 'true or false', obj[key]);
    return obj[key] as boolean;
  };
  count(json, 'step', 'step', 0, MAX.steps);
  count(json, 'adamStep', 'adamStep', 0, MAX.steps);
  const datasetTokens = count(json, 'datasetTokens', 'datasetTokens', 2, MAX.datasetTokens);
  if (typeof json.baseModel !== 'string') throw bad('baseModel', 'the base model folder', json.baseModel);
  const o = json.options;
  if (!isObject(o)) throw bad('options', 'an object of trainer options', o);
  count(o, 'steps', 'options.steps', 1, MAX.steps);
  const B = count(o, 'batchSize', 'options.batchSize', 1, MAX.batchSize);
  const T = count(o, 'seqLen', 'options.seqLen', 1, Math.min(MAX.seqLen, datasetTokens - 1));
  if (B * T > MAX.tokensPerBatch) throw fail(`${path}: options.batchSize x options.seqLen is ${B * T} tokens, more than ${MAX.tokensPerBatch} per batch`);
  count(o, 'gradAccum', 'options.gradAccum', 1, MAX.gradAccum);
  count(o, 'warmupSteps', 'options.warmupSteps', 0, MAX.steps);
  count(o, 'seed', 'options.seed', -(2 ** 53 - 1), 2 ** 53 - 1);
  real(o, 'lr', 'options.lr', (x) => x > 0, 'a positive number');
  real(o, 'minLr', 'options.minLr', (x) => x >= 0, 'a number >= 0');
  real(o, 'weightDecay', 'options.weightDecay', (x) => x >= 0, 'a number >= 0');
  real(o, 'beta1', 'options.beta1', (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  real(o, 'beta2', 'options.beta2', (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  real(o, 'eps', 'options.eps', (x) => x > 0, 'a positive number');
  if (o.clipNorm !== null) real(o, 'clipNorm', 'options.clipNorm', (x) => x > 0, 'a positive number or null');
  flag(o, 'noDecayNormsAndBiases', 'options.noDecayNormsAndBiases');
  flag(o, 'recompute', 'options.recompute');
  const p = json.position;
  if (!isObject(p)) throw bad('position', 'the data position {"epoch", "index"}', p);
  count(p, 'epoch', 'position.epoch', 0, MAX.steps);
  count(p, 'index', 'position.index', 0, Math.floor((datasetTokens - 1) / T));
  const lora = json.lora;
  if (lora !== null) {
    if (!isObject(lora)) throw bad('lora', 'null or the LoRA options', lora);
    count(lora, 'rank', 'lora.rank', 1, MAX.rank);
    real(lora, 'alpha', 'lora.alpha', (x) => x > 0, 'a positive number');
    real(lora, 'dropout', 'lora.dropout', (x) => x >= 0 && x < 1, 'a number in [0, 1)');
    const t = lora.targetModules;
    if (!Array.isArray(t) || t.length === 0 || !t.every((m) => typeof m === 'string' && m !== '' && m.length <= 200)) throw bad('lora.targetModules', 'a list of module names', t);
  }
  const losses = json.losses;
  if (!Array.isArray(losses) || losses.length > MAX.losses || !losses.every((l) => l === null || (typeof l === 'number' && Number.isFinite(l)))) {
    throw bad('losses', 'a list of numbers (null where a loss was not a number)', Array.isArray(losses) ? `a list of ${losses.length} with ${shown(losses.find((l) => l !== null && typeof l !== 'number'))}` : losses);
  }
  const state = json as unknown as TrainerState;
  return { ...state, losses: losses.map((l: number | null) => (l === null ? NaN : l)) };
}
