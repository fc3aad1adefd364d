// `limelight train-step`: one training step on a given batch, for checking the engine against
// PyTorch: mean next-token cross-entropy of the int64 `train_batch` (B, T), its gradients and
// one AdamW update (betas 0.9 / 0.999, eps 1e-8), written with Hugging Face tensor names.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../io/safetensors';
import { createActivations, lossAndGrads } from '../../train/gradients';
import { nextTokenBatch } from '../../train/data';
import { AdamW } from '../../train/adamw';
import { hfTensors } from '../../train/hfExport';
import { UsageError, type ParsedArgs } from '../args';
import type { CliCommand } from '../command';
import { MODEL_OPTIONS, modelDir, openModel } from '../modelOptions';

export const trainStepCommand: CliCommand = {
  name: 'train-step',
  summary: 'One training step on a batch: print the loss, write the gradients and the weights after one AdamW update.',
  usage: '--model DIR --batch FILE.safetensors --out DIR [--lr 0.01] [--weight-decay 0.1]',
  options: [
    ...MODEL_OPTIONS.filter((o) => o.name === 'model'),
    { name: 'batch', kind: 'string', value: 'FILE', help: 'safetensors file holding the int64 tensor train_batch (B, T) (required)' },
    { name: 'out', kind: 'string', value: 'DIR', help: 'folder for grads.safetensors (grad.<HF name>) and after.safetensors (after_adamw.<HF name>) (required)' },
    { name: 'lr', kind: 'number', value: 'LR', help: 'AdamW learning rate (default 0.001, as torch)' },
    { name: 'weight-decay', kind: 'number', value: 'WD', help: 'AdamW decoupled weight decay, applied to every parameter (default 0.01, as torch)' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    const batchPath = args.string('batch');
    if (!batchPath) throw new UsageError('--batch is required: a safetensors file with an int64 tensor train_batch of shape (B, T).');
    const out = args.string('out');
    if (!out) throw new UsageError('--out is required: the folder to write grads.safetensors and after.safetensors into.');
    const lr = args.number('lr', 1e-3);
    const weightDecay = args.number('weight-decay', 1e-2);
    if (!(lr >= 0) || !(weightDecay >= 0)) throw new UsageError('--lr and --weight-decay must be numbers >= 0.');
    if (resolve(out) === resolve(modelDir(args))) throw new UsageError('--out is the model folder; the model is never overwritten. Choose another folder.');
    const file = readSafetensors(batchPath);
    if (!file.has('train_batch')) throw new UsageError(`${batchPath} has no tensor "train_batch" (it holds ${file.names().slice(0, 8).join(', ') || 'no tensors'}).`);
    const shape = file.info('train_batch').shape;
    if (shape.length !== 2 || shape[0]! < 1 || shape[1]! < 2) throw new UsageError(`${batchPath}: train_batch must be (B, T) with T >= 2 (got [${shape.join(', ')}]).`);
    const [B, T] = shape as [number, number];
    const model = openModel(args);
    const batch = nextTokenBatch(file.tensorToInt32('train_batch'), B, T);
    const grads = new Float32Array(model.layout.total);
    const loss = lossAndGrads(model, batch, createActivations(model.config, B, T), grads);
    mkdirSync(out, { recursive: true });
    writeSafetensors(join(out, 'grads.safetensors'), hfTensors(model.config, model.layout, grads, 'grad.'));
    new AdamW(model.layout.total, { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay }).update(model.params, grads);
    writeSafetensors(join(out, 'after.safetensors'), hfTensors(model.config, model.layout, model.params, 'after_adamw.'));
    process.stdout.write(JSON.stringify({ loss }) + '\n');
    return 0;
  },
};
