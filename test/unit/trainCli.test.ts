// `limelight train-step` and `limelight train` driven in-process through their command objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../engine/cli/args';
import { trainStepCommand } from '../../engine/cli/commands/trainStep';
import { trainCommand } from '../../engine/cli/commands/train';
import { readSafetensors } from '../../engine/io/safetensors';

const ORACLE = join(process.cwd(), 'test', 'fixtures', 'oracle');

async function quietly<T>(run: () => Promise<T>): Promise<{ result: T; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  let stdout = '';
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { result: await run(), stdout };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
}

test('train-step prints the loss and writes grads.safetensors and after.safetensors with HF names matching PyTorch', async () => {
  const out = mkdtempSync(join(tmpdir(), 'limelight-step-'));
  try {
    for (const name of ['gpt2-tiny', 'llama-tiny']) {
      const dir = join(ORACLE, name);
      const argv = ['--model', dir, '--batch', join(dir, 'reference.safetensors'), '--lr', '0.01', '--weight-decay', '0.1', '--out', join(out, name)];
      const { result, stdout } = await quietly(() => trainStepCommand.run(parseArgs(argv, trainStepCommand.options)));
      assert.equal(result, 0);
      const { loss } = JSON.parse(stdout) as { loss: number };
      const expected = readSafetensors(join(dir, 'reference.safetensors')).tensorToFloat32('train_loss')[0]!;
      assert.ok(Math.abs(loss - expected) / expected < 1e-5, `${name}: loss ${loss} vs ${expected}`);
      const grads = readSafetensors(join(out, name, 'grads.safetensors'));
      const refGrads = readSafetensors(join(dir, 'grads.safetensors'));
      assert.deepEqual(grads.names().sort(), refGrads.names().sort());
      for (const t of refGrads.names()) {
        const a = grads.tensorToFloat32(t);
        const b = refGrads.tensorToFloat32(t);
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `${name} ${t}[${i}]`);
      }
      const after = readSafetensors(join(out, name, 'after.safetensors'));
      assert.deepEqual(after.names().sort(), readSafetensors(join(dir, 'after_adamw.safetensors')).names().sort());
    }
    await assert.rejects(() => trainStepCommand.run(parseArgs(['--model', join(ORACLE, 'gpt2-tiny'), '--batch', join(ORACLE, 'gpt2-tiny', 'model.safetensors'), '--out', out], trainStepCommand.options)), /no tensor "train_batch"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train refuses the model folder as --out, a missing checkpoint for --resume, and a missing --data', async () => {
  const model = join(ORACLE, 'gpt2-tiny');
  const out = mkdtempSync(join(tmpdir(), 'limelight-train-'));
  try {
    const run = (argv: string[]): Promise<number> => trainCommand.run(parseArgs(argv, trainCommand.options));
    await assert.rejects(() => run(['--model', model, '--data', 'README.md', '--out', model]), /never overwritten/);
    await assert.rejects(() => run(['--model', model, '--data', 'README.md', '--out', out, '--resume']), /no checkpoint to resume/);
    await assert.rejects(() => run(['--model', model, '--out', out]), /--data is required/);
    assert.ok(!existsSync(join(model, 'checkpoints')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
