// Pre-script of `npm start` and `npm test`: on a fresh clone, installs the locked npm
// dependencies so that each README command does its own set-up. Does nothing when they
// are already installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('Limelight: installing npm dependencies (npm ci)...');
  const r = spawnSync('npm', ['ci'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('Limelight: `npm ci` failed. HINT: check that the npm registry is reachable and Node is version 20 or newer, then run it again.');
    process.exit(r.status ?? 1);
  }
}
