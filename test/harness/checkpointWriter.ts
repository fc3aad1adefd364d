// A child process for the checkpoint-kill test: resumes the run in OUT (if any) and saves
// checkpoints in a loop, forever, until it is killed. Each save's buffers hold its step
// number (trainable = step, AdamW m = -step, v = step / 2, losses 1..step), so a reader can
// tell a whole checkpoint from a mix of two. Prints "saved N" after each save returns.
//   node checkpointWriter.js OUT BASE full|lora
import { configFromHF } from '../../engine/model/families';
import { randomModel } from '../../engine/model/init';
import { TokenDataset } from '../../engine/train/data';
import { Trainer, TRAINER_DEFAULTS } from '../../engine/train/trainer';
import { createLora } from '../../engine/train/lora';
import { prepareOutDir, readTrainerState, restoreCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';

export const WRITER_MODEL_JSON = { model_type: 'gpt2', vocab_size: 128, n_positions: 64, n_embd: 64, n_layer: 2, n_head: 2 };

/** The trainer both sides build: the writer saves it, the test restores into it. */
export function writerTrainer(mode: 'full' | 'lora'): Trainer {
  const config = configFromHF(WRITER_MODEL_JSON);
  const ids = Array.from({ length: 400 }, (_, i) => (i * 7) % 128);
  const dataset = new TokenDataset([ids], 0, 16, 1);
  const lora = mode === 'lora' ? createLora(config, { rank: 4, alpha: 8, dropout: 0, targetModules: ['c_attn', 'c_fc'] }, 3) : null;
  return new Trainer(randomModel(config, 5), dataset, { ...TRAINER_DEFAULTS, steps: 1_000_000, batchSize: 1, seqLen: 16 }, lora);
}

/** Fills the trainer's buffers with the values a save at `step` carries. */
export function markStep(trainer: Trainer, step: number): void {
  trainer.step = step;
  trainer.trainable().fill(step);
  trainer.optimizer.m.fill(-step);
  trainer.optimizer.v.fill(step / 2);
  trainer.optimizer.step = step;
  trainer.losses.splice(0, trainer.losses.length, ...Array.from({ length: step }, (_, i) => i + 1));
}

function main(): void {
  const [out, base, mode] = process.argv.slice(2) as [string, string, 'full' | 'lora'];
  const trainer = writerTrainer(mode);
  prepareOutDir(out, base);
  if (readTrainerState(out) !== null) restoreCheckpoint(out, trainer);
  process.stdout.write(`ready ${trainer.step}\n`);
  for (let step = trainer.step + 1; ; step++) {
    markStep(trainer, step);
    saveCheckpoint(out, trainer, base);
    process.stdout.write(`saved ${step}\n`);
  }
}

if (require.main === module) main();
