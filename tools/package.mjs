// `npm run package [-- --target <vsce target>] [-- --out <file>]`
// Writes a .vsix with production bundles, media/, and onnxruntime-node holding the native
// binaries of ONE platform (each is 25-86 MB; shipping all would make a 300 MB package).
// Without --target it packages for this machine (or linux-x64) as limelight-<version>.vsix;
// with --target, as limelight-<target>-<version>.vsix.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

// vsce target -> onnxruntime-node's bin/napi-v6/<platform>/<arch> folder.
const ORT_BINARIES = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const host = `${process.platform}-${process.arch}`;
const explicitTarget = option('--target');
const target = explicitTarget ?? (host in ORT_BINARIES ? host : 'linux-x64');
if (!(target in ORT_BINARIES)) {
  console.error(
    `Limelight: cannot package for target "${target}": onnxruntime-node has no binary for it.\n` +
      `HINT: use one of ${Object.keys(ORT_BINARIES).join(', ')}.`,
  );
  process.exit(2);
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = option('--out') ?? (explicitTarget ? `limelight-${target}-${version}.vsix` : `limelight-${version}.vsix`);

// A clean dist/ so no development source map or stale bundle slips in; vsce's
// vscode:prepublish step then writes the production bundles.
rmSync(join(root, 'dist'), { recursive: true, force: true });

const tmp = mkdtempSync(join(tmpdir(), 'limelight-package-'));
const ignoreFile = join(tmp, '.vscodeignore');
writeFileSync(
  ignoreFile,
  readFileSync(join(root, '.vscodeignore'), 'utf8') + `!node_modules/onnxruntime-node/bin/napi-v6/${ORT_BINARIES[target]}/**\n`,
);
try {
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const args = ['package', '--target', target, '--out', out, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--no-rewrite-relative-links'];
  const r = spawnSync(process.execPath, [vsce, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('Limelight: vsce could not write the package (see above). HINT: run `npm ci` first, and check that `npm run build` passes.');
    process.exit(r.status ?? 1);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
