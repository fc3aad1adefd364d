// One build script for every bundle (see package.json "scripts").
//   node tools/build.mjs            production bundles into dist/ (minified, no source maps)
//   node tools/build.mjs --dev      development bundles with source maps
//   node tools/build.mjs --tests    also transpile every .ts file (tests included) into out/
// Entry points: the extension (vscode and onnxruntime-node stay external), the engine
// worker, the CLI and the webview scripts under media/src.
import * as esbuild from 'esbuild';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasm } from './build-wasm.mjs';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = new Set(process.argv.slice(2));
const dev = args.has('--dev') || args.has('--tests');

function listTs(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules') continue;
    // Fixture folders hold sample workspaces (not to be built); modules directly in them are shared test data.
    if (name === 'fixtures') {
      out.push(...readdirSync(p).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && statSync(join(p, f)).isFile()).map((f) => join(p, f)));
      continue;
    }
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: dev ? 'linked' : false,
  minify: !dev,
  keepNames: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

const nodeEntries = [
  { in: 'extension/extension.ts', out: 'extension', external: ['vscode', 'onnxruntime-node'] },
  { in: 'engine/worker/main.ts', out: 'worker', external: ['onnxruntime-node'] },
  { in: 'engine/cli.ts', out: 'cli', external: ['onnxruntime-node'], banner: '#!/usr/bin/env node' },
  // The Hugging Face download client, the one bundle with network code; the extension and the CLI load it on a download.
  { in: 'engine/download/main.ts', out: 'download', external: [] },
  // The remote backend's client (HTTP to the user's inference server); loaded when the backend is remote.
  { in: 'engine/remote/client.ts', out: 'remote', external: [] },
  // Compute threads of the js backend's pool, started from next to whichever bundle runs it.
  { in: 'engine/runtime/poolWorker.ts', out: 'poolWorker', external: [] },
].filter((e) => existsSync(join(root, e.in)));

await buildWasm();

const builds = nodeEntries.map((e) =>
  esbuild.build({
    ...common,
    entryPoints: { [e.out]: e.in },
    outdir: 'dist',
    external: e.external,
    banner: e.banner ? { js: e.banner } : undefined,
  }),
);

const webviewEntries = listTs(join(root, 'media', 'src')).filter((p) => !p.includes(`${join('media', 'src', 'shared')}`));
if (webviewEntries.length > 0) {
  builds.push(
    esbuild.build({
      ...common,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      entryPoints: webviewEntries.map((p) => relative(root, p)),
      outdir: 'dist/media',
    }),
  );
}

if (args.has('--tests')) {
  rmSync(join(root, 'out'), { recursive: true, force: true });
  const files = ['engine', 'extension', 'test', 'tools', 'media/src'].flatMap((d) => listTs(join(root, d)));
  builds.push(
    esbuild.build({
      entryPoints: files.map((p) => relative(root, p)),
      outdir: 'out',
      outbase: '.',
      bundle: false,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'inline',
      logLevel: 'warning',
      absWorkingDir: root,
    }),
  );
}

await Promise.all(builds);
