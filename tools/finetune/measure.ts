// The goal measured without the starter model: a small p50k_edit GPT-2 is first
// trained from scratch on one permissively licensed project (the "base" that never sees the
// target), then Fine-tune on Workspace adapts it with LoRA to another project under a time
// budget; the held-out loss and line-completion edit similarity before and after are printed
// as a markdown table. Both projects are read with the workspace file rules.
//   npm run build:tests && node out/tools/finetune/measure.js \
//     --base-data node_modules/eslint/lib --base-minutes 6 \
//     --data node_modules/protobufjs/src --minutes 10 --out /tmp/limelight-measure
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { fineTuneWorkspace } from '../../engine/finetune/workspaceFineTune';
import { writeTinyModel } from '../../test/harness/tinyModel';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: string[] }> } } };
const props = manifest.contributes.configuration.properties;

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required.`);
  return v;
}

async function files(dir: string) {
  const sel = await selectWorkspaceFiles([{ name: 'data', path: resolve(dir) }], { include: props['limelight.fineTune.include']!.default, exclude: props['limelight.fineTune.exclude']!.default });
  return sel.files;
}

async function main(): Promise<void> {
  const out = resolve(arg('out'));
  const baseRun = join(out, 'base');
  if (!existsSync(join(baseRun, 'result.json'))) {
    const init = writeTinyModel(join(out, 'init'), { nEmbd: Number(arg('n-embd', '64')), nLayer: Number(arg('n-layer', '2')), nHead: 4, nPositions: 256 });
    const base = await fineTuneWorkspace(
      { modelDir: init, outDir: baseRun, files: await files(arg('base-data')), mode: 'full', loraRank: 8, maxMinutes: Number(arg('base-minutes', '6')), resume: false, seqLen: 128, batchSize: 4, lr: 3e-3, maxEpochs: 20, evalLines: 8, evalWindows: 8 },
      (p) => process.stderr.write(`\rbase ${p.phase} ${p.step}/${p.steps} loss ${p.loss?.toFixed(3) ?? '-'}   `),
    );
    process.stderr.write(`\nbase model: ${base.step} steps, held-out loss ${base.before.loss.toFixed(3)} -> ${base.after?.loss.toFixed(3)}\n`);
  }
  const started = Date.now();
  const r = await fineTuneWorkspace(
    { modelDir: baseRun, outDir: join(out, `lora-${Date.now()}`), files: await files(arg('data')), mode: 'lora', loraRank: Number(arg('rank', '8')), maxMinutes: Number(arg('minutes', '10')), resume: false, seqLen: Number(arg('seq-len', '128')), batchSize: 4, lr: Number(arg('lr', '2e-3')), maxEpochs: 20, evalLines: 32, evalWindows: 24 },
    (p) => process.stderr.write(`\rlora ${p.phase} ${p.step}/${p.steps} loss ${p.loss?.toFixed(3) ?? '-'} ${p.tokensPerSecond ? Math.round(p.tokensPerSecond) + ' tok/s' : ''}   `),
  );
  process.stderr.write('\n');
  process.stdout.write(`${r.report}\nwall time of the fine-tune: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
