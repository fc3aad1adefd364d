// Fine-tune on Workspace through the engine worker: a `train` request streams progress and
// returns the result; a second worker keeps generating meanwhile (completions stay available
// during training); a model loaded with the trained adapter merged differs from the base; a
// cancel ends the request with the checkpoint kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../engine/worker/client';
import type { TrainProgress } from '../../engine/finetune/workspaceFineTune';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { writeTinyModel } from '../harness/tinyModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';

async function fixtureFiles(): Promise<{ path: string; text: string }[]> {
  const ws = fixtureWorkspace();
  try {
    return (await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: ['**/*.{ts,py,go,md}'], exclude: [] })).files.map(({ path, text }) => ({ path, text }));
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
}

test('train in one worker while another generates; the adapter loads merged; cancel keeps the checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'limelight-ftw-'));
  const trainer = new EngineClient();
  const engine = new EngineClient();
  try {
    const modelDir = writeTinyModel(join(dir, 'model'));
    const files = await fixtureFiles();
    await engine.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32' });
    const prompt = [1, 2, 3, 4];
    const base = await engine.generate({ promptIds: prompt, maxNewTokens: 4, stopTokenIds: [] });

    const progress: TrainProgress[] = [];
    const opts = { modelDir, files, mode: 'lora' as const, loraRank: 4, maxMinutes: 5, resume: false, steps: 6, seqLen: 32, batchSize: 2, lr: 5e-2, evalLines: 1, evalWindows: 2 };
    const training = trainer.train({ ...opts, outDir: join(dir, 'run') }, { onProgress: (p) => progress.push(p) });
    // Generation answers while the other worker trains.
    let answeredDuringTraining = false;
    while (progress.every((p) => p.phase !== 'saving')) {
      const r = await engine.generate({ promptIds: prompt, maxNewTokens: 2, stopTokenIds: [] });
      if (progress.length > 0 && progress.every((p) => p.phase !== 'saving')) answeredDuringTraining = r.newIds.length === 2 || answeredDuringTraining;
      await new Promise((done) => setTimeout(done, 20));
    }
    const result = await training;
    assert.ok(answeredDuringTraining, 'the engine generated while the trainer worked');
    assert.equal(result.status, 'completed');
    assert.ok(progress.some((p) => p.phase === 'training' && p.step === 6));
    assert.equal(JSON.parse(readFileSync(join(dir, 'run', 'adapter_config.json'), 'utf8')).r, 4);

    await engine.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32', adapterDir: join(dir, 'run') });
    const adapted = await engine.forward({ ids: prompt, pos: 0 });
    await engine.load({ modelDir, backend: 'js', threads: 1, weightFormat: 'f32' });
    const plain = await engine.forward({ ids: prompt, pos: 0 });
    assert.notDeepEqual(Array.from(adapted.logits.slice(0, 50)), Array.from(plain.logits.slice(0, 50)));
    assert.ok(base.newIds.length === 4);

    const ac = new AbortController();
    const cancelled = await trainer.train({ ...opts, steps: 400, outDir: join(dir, 'cut') }, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'training' && p.step >= 2) ac.abort();
      },
    });
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.step >= 2 && cancelled.step < 400);
    assert.ok(existsSync(join(dir, 'cut', 'checkpoints', 'latest.json')));
  } finally {
    await trainer.dispose();
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
