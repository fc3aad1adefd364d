// Installs code-server once into the cache folder, offline but for the npm registry.
// Its own postinstall would download ripgrep and argon2 from GitHub, so we install with
// --ignore-scripts and redo the postinstall's work by hand (docs/e2e.md has the why of
// each step). A marker file is written last: a half-finished install is started over.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODE_SERVER_VERSION, codeServerHome, codeServerPackage } from './paths';

const MARKER = 'limelight-install-complete';

// Native modules code-server loads; each must load under this Node or the server fails late.
const NATIVE_MODULES = ['@vscode/spdlog', 'node-pty', 'native-watchdog', 'kerberos', '@vscode/deviceid', '@parcel/watcher'];

export function codeServerInstalled(): boolean {
  const marker = join(codeServerHome(), MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === CODE_SERVER_VERSION;
}

function run(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): void {
  const env = { ...process.env, npm_config_nodedir: '/usr', npm_config_audit: 'false', npm_config_fund: 'false', ...extraEnv };
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    throw new Error(
      `code-server install step failed: \`${cmd} ${args.join(' ')}\` in ${cwd} (exit ${r.status ?? r.signal}).\n` +
        'HINT: it needs the npm registry and Debian packages build-essential, python3, libkrb5-dev, ripgrep ' +
        '(apt-get install -y build-essential python3 libkrb5-dev ripgrep); then run `node out/tools/e2e/install.js` again.',
    );
  }
}

function link(target: string, path: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}

export function installCodeServer(log: (line: string) => void = console.log): void {
  if (codeServerInstalled()) return;
  if (!existsSync('/usr/include/node/node.h')) {
    throw new Error('Node headers not found in /usr/include/node: native modules of code-server cannot build.\nHINT: install Node 20 with its headers (Debian/NodeSource nodejs package).');
  }
  if (!existsSync('/usr/bin/rg')) throw new Error('ripgrep not found at /usr/bin/rg.\nHINT: apt-get install -y ripgrep');
  const home = codeServerHome();
  const started = Date.now();
  log(`Installing code-server ${CODE_SERVER_VERSION} into ${home} (once; about 2 minutes)...`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'package.json'), JSON.stringify({ name: 'limelight-e2e-code-server', private: true }, null, 2));
  run('npm', ['install', `code-server@${CODE_SERVER_VERSION}`, '--ignore-scripts', '--no-save'], home);
  run('npm', ['rebuild', 'argon2'], home, { npm_config_build_from_source: 'true' });

  const vscode = join(codeServerPackage(), 'lib', 'vscode');
  run('npm', ['install', '--omit=dev', '--ignore-scripts'], vscode);
  const rgBin = join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgBin, { recursive: true });
  copyFileSync('/usr/bin/rg', join(rgBin, 'rg'));
  run('npm', ['rebuild', '--foreground-scripts'], vscode, { npm_config_yes: 'true' });
  link('node_modules', join(vscode, 'node_modules.asar'));
  link('code-linux.sh', join(vscode, 'bin', 'remote-cli', 'code-server'));
  link('browser-linux.sh', join(vscode, 'bin', 'helpers', 'browser.sh'));
  run('npm', ['install', '--omit=dev'], join(vscode, 'extensions'));

  for (const mod of NATIVE_MODULES) {
    run(process.execPath, ['-e', `require(${JSON.stringify(mod)})`], vscode);
  }
  run(process.execPath, ['-e', 'require("argon2")'], codeServerPackage());
  writeFileSync(join(home, MARKER), CODE_SERVER_VERSION + '\n');
  log(`code-server ${CODE_SERVER_VERSION} installed in ${Math.round((Date.now() - started) / 1000)} s.`);
}

if (require.main === module) {
  try {
    installCodeServer();
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
