// Training checkpoints: everything needed to continue a run exactly where it stopped.
//   OUT/checkpoints/step-NNNNNN/state.safetensors   trained buffer (model or adapters), AdamW m and v
//   OUT/checkpoints/step-NNNNNN/trainer_state.json  step, data position, seed, options, loss history
//   OUT/checkpoints/latest.json                     which step folder is current
//   OUT/adapter_model.safetensors + adapter_config.json (LoRA, PEFT format)
//   or OUT/model.safetensors + config.json (full fine-tuning, Hugging Face format)
// A step folder is written whole under a temporary name and renamed into place, then
// latest.json (one atomic file) switches to it: a save killed at any moment leaves the
// previous checkpoint in charge, never a mix of two. A step saved twice (a cancel right after
// a periodic save) gets a new folder name (step-NNNNNN-1) rather than overwriting the current
// one. The exported weights are written, each file atomically, just before the switch: after
// a kill they are those of the current checkpoint or of the save that was cut short (which a
// resumed run repeats exactly), never older. Temporary files a killed save left are removed
// by the next save. The folder of the base model is never written to.
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { removeStaleTemps, tempPathFor, writeAdvice, writeFileAtomic } from '../io/atomicFile';
import { hfTensors } from './hfExport';
import { createLora, LoraError, saveAdapter, type Lora } from './lora';
import type { ModelConfig } from '../model/config';
import { CheckpointError, checkLatest, checkTrainerState, readCheckpointJson, TRAINER_STATE_FORMAT, type TrainerState } from './checkpointState';
import type { Trainer } from './trainer';

export const CHECKPOINTS = 'checkpoints';
const LATEST = 'latest.json';
const STATE = 'state.safetensors';
const TRAINER_STATE = 'trainer_state.json';

function sameDir(a: string, b: string): boolean {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

/**
 * Makes `outDir` ready for a run: refuses the base model's own folder and any folder that
 * holds a model but no Limelight checkpoints (someone else's checkpoint), creates it otherwise.
 */
export function prepareOutDir(outDir: string, baseModelDir: string): void {
  if (sameDir(outDir, baseModelDir)) throw new CheckpointError(`--out ${outDir} is the base model's folder; the base model is never overwritten. Choose another output folder.`);
  const looksLikeModel = ['model.safetensors', 'adapter_model.safetensors', 'config.json'].some((f) => existsSync(join(outDir, f)));
  // checkpoints/ is made before anything is exported, so a first save that was cut short
  // (weights written, latest.json not yet) still marks the folder as ours.
  if (looksLikeModel && !existsSync(join(outDir, CHECKPOINTS))) {
    throw new CheckpointError(`${outDir} already holds a model that this trainer did not write; refusing to overwrite it. Choose an empty or new output folder.`);
  }
  mkdirSync(join(outDir, CHECKPOINTS), { recursive: true });
}

/**
 * Writes the trained weights where users and PEFT look for them: the adapter, or a full HF
 * checkpoint. The config goes first, so that weights are never there without it.
 */
export function exportWeights(outDir: string, trainer: Trainer, baseModelDir: string): void {
  const { model, lora } = trainer;
  if (lora !== null) {
    saveAdapter(outDir, model.config, lora, baseModelDir);
    return;
  }
  writeFileAtomic(join(outDir, 'config.json'), readFileSync(join(baseModelDir, 'config.json'), 'utf8'));
  writeSafetensors(join(outDir, 'model.safetensors'), hfTensors(model.config, model.layout, model.params), { format: 'pt' });
}

const STEP_DIR = /^step-\d+(-\d+)?$/;

/** Saves a checkpoint of the run and the trained weights; returns the step folder. */
export function saveCheckpoint(outDir: string, trainer: Trainer, baseModelDir: string): string {
  const root = join(outDir, CHECKPOINTS);
  const failed = (e: unknown): CheckpointError => {
    const why = (e as NodeJS.ErrnoException).code === undefined ? (e as Error).message : `${writeAdvice(e)}.`;
    return new CheckpointError(`Saving the checkpoint at step ${trainer.step} in ${outDir} failed: ${why} The previous checkpoint is kept.`);
  };
  const opt = trainer.optimizer;
  const state: TrainerState = {
    format: TRAINER_STATE_FORMAT,
    version: 1,
    step: trainer.step,
    position: trainer.position,
    adamStep: opt.step,
    options: trainer.options,
    lora: trainer.lora?.options ?? null,
    baseModel: resolve(baseModelDir),
    datasetTokens: trainer.dataset.stream.length,
    losses: trainer.losses,
  };
  const stepName = `step-${String(trainer.step).padStart(6, '0')}`;
  let name = stepName;
  let tmp = '';
  try {
    mkdirSync(root, { recursive: true });
    removeStaleTemps(root);
    removeStaleTemps(outDir);
    for (let k = 1; existsSync(join(root, name)); k++) name = `${stepName}-${k}`;
    tmp = tempPathFor(join(root, name));
    mkdirSync(tmp);
    writeSafetensors(join(tmp, STATE), [
      { name: 'trainable', dtype: 'F32', shape: [opt.size], data: trainer.trainable() },
      { name: 'adamw.m', dtype: 'F32', shape: [opt.size], data: opt.m },
      { name: 'adamw.v', dtype: 'F32', shape: [opt.size], data: opt.v },
    ]);
    writeFileAtomic(join(tmp, TRAINER_STATE), JSON.stringify(state) + '\n');
    renameSync(tmp, join(root, name));
  } catch (e) {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
    throw failed(e);
  }
  const dir = join(root, name);
  try {
    exportWeights(outDir, trainer, baseModelDir);
    writeFileAtomic(join(root, LATEST), JSON.stringify({ stepDir: name }) + '\n');
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw failed(e);
  }
  for (const old of readdirSync(root)) {
    if (old === name || !STEP_DIR.test(old)) continue;
    // Renamed first: a kill while it is being deleted leaves a temp for the next save to remove.
    const doomed = tempPathFor(join(root, old));
    renameSync(join(root, old), doomed);
    rmSync(doomed, { recursive: true, force: true });
  }
  return dir;
}

/** The error for a checkpoint whose files are damaged: what was wrong and how to go on. */
function damaged(outDir: string): (what: string) => CheckpointError {
  return (what) => new CheckpointError(`${outDir}: the checkpoint cannot be read (${what}). Start a new run in another folder, or remove ${join(outDir, CHECKPOINTS)}.`);
}

/** The current step folder's name from latest.json, or null when there is no checkpoint. */
function latestStepDir(outDir: string): string | null {
  const latest = join(outDir, CHECKPOINTS, LATEST);
  if (!existsSync(latest)) return null;
  return checkLatest(readCheckpointJson(latest, damaged(outDir)), latest, damaged(outDir));
}

/** The state of the latest checkpoint in `outDir`, or null when there is none; every field is checked. */
export function readTrainerState(outDir: string): TrainerState | null {
  const stepDir = latestStepDir(outDir);
  if (stepDir === null) return null;
  const path = join(outDir, CHECKPOINTS, stepDir, TRAINER_STATE);
  const json = readCheckpointJson(path, damaged(outDir)) as Partial<TrainerState> | null;
  if (json?.format !== TRAINER_STATE_FORMAT || json.version !== 1) {
    throw damaged(outDir)(`${path} is not a ${TRAINER_STATE_FORMAT} version 1 file (format ${String(JSON.stringify(json?.format ?? null)).slice(0, 40)}, version ${String(JSON.stringify(json?.version ?? null)).slice(0, 40)})`);
  }
  return checkTrainerState(json, path, damaged(outDir));
}

/** The adapters a checkpoint trains, laid out afresh for `config` (null for full fine-tuning); restoreCheckpoint fills them. */
export function resumeLora(outDir: string, state: TrainerState, config: ModelConfig): Lora | null {
  if (state.lora === null) return null;
  try {
    return createLora(config, state.lora, state.options.seed);
  } catch (e) {
    if (!(e instanceof LoraError)) throw e;
    throw new CheckpointError(`${outDir}: the checkpoint's LoRA settings do not fit this model (${e.message}). Resume it with its own base model, or start a new run.`);
  }
}

/** Restores a trainer (built with the saved options and LoRA layout) to the latest checkpoint. */
export function restoreCheckpoint(outDir: string, trainer: Trainer): TrainerState {
  const state = readTrainerState(outDir);
  if (state === null) throw new CheckpointError(`${outDir} holds no checkpoint to resume; run without --resume to start one.`);
  if (state.datasetTokens !== trainer.dataset.stream.length) {
    throw new CheckpointError(`${outDir}: the training data changed since the checkpoint (${state.datasetTokens} tokens then, ${trainer.dataset.stream.length} now); resuming would not repeat the same run. Use the same --data, or start a new run.`);
  }
  if (trainer.options.seqLen > trainer.model.config.maxPositions) {
    throw new CheckpointError(`${outDir}: the checkpoint trains sequences of ${trainer.options.seqLen} tokens, longer than this model's context (${trainer.model.config.maxPositions}); it belongs to another model. Resume it with its own base model, or start a new run.`);
  }
  const file = readSafetensors(join(outDir, CHECKPOINTS, latestStepDir(outDir)!, STATE));
  const opt = trainer.optimizer;
  for (const name of ['trainable', 'adamw.m', 'adamw.v']) {
    if (file.info(name).numel !== opt.size) throw new CheckpointError(`${outDir}: the checkpoint's ${name} holds ${file.info(name).numel} values, this run trains ${opt.size}; it belongs to another model or LoRA setting. Resume it with its own base model, or start a new run.`);
  }
  file.tensorToFloat32('trainable', trainer.trainable());
  file.tensorToFloat32('adamw.m', opt.m);
  file.tensorToFloat32('adamw.v', opt.v);
  opt.step = state.adamStep;
  trainer.step = state.step;
  trainer.position = state.position;
  trainer.losses.length = 0;
  for (const l of state.losses) trainer.losses.push(l); // a spread of a long run's losses would overflow the stack
  return state;
}
