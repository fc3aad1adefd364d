// Planted secrets (test/harness/plantedSecrets.ts) never leave the files that hold them: not
// into the fine-tune data (training and held-out documents, line tasks), not into Export
// Training Data, and not into a completion: the context ring that lends other open files'
// excerpts to the prompt skips every file the secret rules skip, so neither the prompt, the
// log line nor the Explain Last Completion page can carry one. Each check also shows that a
// clean file does get through, so an empty result cannot pass by accident.
import { requireFimTemplate } from '../../engine/tokenizer/fimTemplates';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTokenizer } from '../../engine/tokenizer/tokenizer';
import { heldOutDocuments, lineTasks, trainingDocuments } from '../../engine/finetune/workspaceDataset';
import { exportTrainingData } from '../../engine/finetune/workspaceExport';
import { selectWorkspaceFiles } from '../../engine/workspace/workspaceFiles';
import { ContextRing, holdsSecret, selectChunks } from '../../engine/complete/contextRing';
import { CompletionSession } from '../../engine/complete/session';
import { PromptBuilder } from '../../engine/complete/prompt';
import { LocalEngine } from '../../engine/complete/localEngine';
import { explainMarkdown, formatRecordLine } from '../../engine/complete/explain';
import { Generator } from '../../engine/generate/generator';
import { createReferenceBackend } from '../../engine/runtime/referenceBackend';
import { echoModel } from '../harness/echoModel';
import { fixtureWorkspace } from '../harness/finetuneWorkspace';
import { plantedSecretIn, SECRET_FILES } from '../harness/plantedSecrets';

const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: string[] }> } } };
const props = manifest.contributes.configuration.properties;
const tok = getTokenizer('p50k_edit');
const fim = requireFimTemplate(tok, 'p50k_edit');

function allText(dir: string): string {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .map((p) => (statSync(p).isDirectory() ? allText(p) : readFileSync(p, 'utf8')))
    .join('\n');
}

test('the fine-tune data and Export Training Data hold no planted secret', async () => {
  const ws = fixtureWorkspace();
  const out = mkdtempSync(join(tmpdir(), 'limelight-export-'));
  try {
    const sel = await selectWorkspaceFiles([{ name: 'ws', path: ws }], { include: props['limelight.fineTune.include']!.default, exclude: props['limelight.fineTune.exclude']!.default });
    for (const f of SECRET_FILES) assert.ok(sel.skipped.some((s) => s.path === f && (s.reason === 'secret' || s.reason === 'secret-file')), `${f} is skipped as a secret`);
    assert.ok(sel.files.some((f) => f.path === 'src/shape.ts'), 'clean files are kept');
    const docs = [...trainingDocuments(fim, sel.files, 1), ...heldOutDocuments(fim, sel.files)].map((d) => tok.decode(d)).join('\n');
    assert.match(docs, /Anything with an area/);
    assert.equal(plantedSecretIn(docs), null);
    const tasks = lineTasks(fim, sel.files, 64, 512).map((t) => `${t.path}\n${tok.decode(t.promptIds)}\n${t.expected}`).join('\n');
    assert.equal(plantedSecretIn(tasks), null);
    // Skip details say what was found, never the secret itself.
    assert.equal(plantedSecretIn(JSON.stringify(sel.skipped)), null);
    exportTrainingData(out, sel.files);
    const exported = allText(out);
    assert.match(exported, /Anything with an area/);
    assert.equal(plantedSecretIn(exported), null);
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test('the context ring skips every file the secret rules skip', () => {
  for (const f of SECRET_FILES) assert.ok(holdsSecret(f, readFileSync(join(process.cwd(), 'test', 'fixtures', 'finetune-workspace', f), 'utf8')), f);
  assert.ok(!holdsSecret('src/shape.ts', 'export const sides = 4;\n'));
  // By content whatever the name, and by name whatever the content.
  assert.ok(holdsSecret('notes.md', 'token: ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'));
  assert.ok(holdsSecret('deploy/id_ed25519', 'nothing to see'));
});

test('a completion with secret-bearing files open carries no secret into its prompt, log line or Explain page', async () => {
  const ws = fixtureWorkspace();
  try {
    const ring = new ContextRing();
    const visit = (rel: string): void => {
      const text = readFileSync(join(ws, rel), 'utf8');
      ring.note(rel, text, Math.floor(text.length / 2));
    };
    visit('src/circle.ts');
    for (const f of SECRET_FILES) visit(f);
    const engine = new LocalEngine(new Generator(createReferenceBackend(echoModel(tok.encode('foo')[0]))), tok);
    const session = new CompletionSession(new PromptBuilder(fim), engine, { debounceMs: 0, maxNewTokens: 4, contextTokens: 2000 }, ring);
    const text = readFileSync(join(ws, 'src', 'shape.ts'), 'utf8') + '\nconst answer = ';
    const r = await session.complete({ path: 'src/shape.ts', languageId: 'typescript', text, offset: text.length }, 'invoke');
    assert.equal(r.outcome, 'shown', r.reason);
    assert.deepEqual(
      r.prompt!.chunks.map((c) => c.path),
      ['src/circle.ts'],
      'only the clean file lends an excerpt',
    );
    const explain = explainMarkdown(r);
    assert.match(explain, /### Context: src\/circle\.ts/);
    assert.equal(plantedSecretIn(explain), null);
    assert.equal(plantedSecretIn(formatRecordLine(r)), null);
    assert.equal(plantedSecretIn(tok.decode(r.prompt!.ids)), null);
  } finally {
    rmSync(join(ws, '..'), { recursive: true, force: true });
  }
});

test('the ring judges a large file by its excerpt, and leaves out a line too long to scan', () => {
  const ring = new ContextRing();
  const filler = 'export const x = 1;\n'.repeat(20_000); // ~400 KB, over the training size cap
  const key = 'const k = "AKIA' + 'ABCDEFGHIJKLMNOP";\n';
  ring.note('big-near.ts', filler + key + filler, filler.length + 5);
  ring.note('big-far.ts', key + filler + filler, key.length + filler.length);
  // A key's body in the excerpt while its header is 30 lines up, in a small file: the whole file is checked.
  const pem = '-----BEGIN RSA PRIVATE KEY-----\n' + 'PLANTED_SECRET_BODY\n'.repeat(30) + '-----END RSA PRIVATE KEY-----\n';
  ring.note('small-key.ts', pem, pem.length - 40);
  assert.doesNotThrow(() => ring.note('minified.js', 'x'.repeat(10 * 1024 * 1024), 5_000_000));
  const chunks = selectChunks(ring.excerpts(), 'other.ts', 1e9, (c) => c.text.length);
  assert.deepEqual(
    chunks.map((c) => c.path),
    ['big-far.ts'],
  );
  assert.equal(plantedSecretIn(chunks.map((c) => c.text).join('\n')), null);
  assert.doesNotMatch(chunks[0]!.text, /AKIA/);
});
