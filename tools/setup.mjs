// Pre-script of `npm start` and `npm test`, so that each README command does its own set-up on
// a fresh machine: first the Debian packages the end-to-end tests need (Chromium to drive the
// editor; ripgrep, the Kerberos headers, a C++ toolchain and Python to install code-server the
// first time), then the locked npm dependencies. As root with apt-get, it installs what is
// missing; otherwise it stops at once with the one command to run. Does nothing when all is there.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The Debian packages missing for this script's caller (`npm test` needs all; `npm start` none when VS Code's `code` is there). */
function missingPackages() {
  const testing = process.env.npm_lifecycle_event !== 'prestart';
  if (!testing && onPath('code')) return [];
  const need = [];
  if (testing && !existsSync(process.env.LIMELIGHT_CHROMIUM ?? '/usr/bin/chromium') && !onPath('chromium')) need.push('chromium');
  if (!onPath('rg')) need.push('ripgrep');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) need.push('libkrb5-dev');
  if (!onPath('make') || !onPath('g++')) need.push('build-essential');
  if (!onPath('python3')) need.push('python3');
  return need;
}

if (process.platform === 'linux') {
  const need = missingPackages();
  if (need.length > 0) {
    const install = ['install', '-y', ...need];
    if (!onPath('apt-get')) {
      console.warn(`Limelight: the end-to-end tests need ${need.join(', ')} (Debian package names), and this system has no apt-get. Install them with your package manager; until then those tests fail.`);
    } else if (process.getuid?.() !== 0) {
      console.error(`Limelight: the end-to-end tests need Debian packages that are missing: ${need.join(' ')}. Install them, then run this again:\n\n  sudo apt-get update && sudo apt-get ${install.join(' ')}\n`);
      process.exit(1);
    } else {
      console.log(`Limelight: installing Debian packages: ${need.join(' ')} (apt-get)...`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      for (const args of [['update'], install]) {
        const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
        if (r.status !== 0) {
          console.error(`Limelight: \`apt-get ${args.join(' ')}\` failed (see above). HINT: check that the Debian mirrors are reachable, then run this again.`);
          process.exit(r.status ?? 1);
        }
      }
    }
  }
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('Limelight: installing npm dependencies (npm ci)...');
  const r = spawnSync('npm', ['ci'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('Limelight: `npm ci` failed. HINT: check that the npm registry is reachable and Node is version 20 or newer, then run it again.');
    process.exit(r.status ?? 1);
  }
}
