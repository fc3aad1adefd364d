// Starts the cached code-server on a fresh profile (user data, extensions, XDG folders)
// with everything that could reach the network turned off, and stops it by killing its
// whole process group (killing only the main PID leaves the file watcher running).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { codeServerBin } from './paths';
import { installCodeServer } from './install';

export interface CodeServerOptions {
  /** Folder for this run's user data, extensions, XDG folders and log. */
  profileDir: string;
  /** Folder opened in the workbench. */
  workspace: string;
  /** Install the extension from this .vsix ... */
  vsix?: string;
  /** ... or link this extension folder in as <publisher>.<name>-<version> (development). */
  extensionFolder?: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** User settings added to the defaults below. */
  settings?: Record<string, unknown>;
  /**
   * Deny every outbound connection in code-server and all its processes and worker threads
   * (noNetwork.ts, preloaded through NODE_OPTIONS) and record each attempt in this file.
   */
  netLog?: string;
  /** Leave workspace trust on, so the folder opens in Restricted Mode until trusted. */
  workspaceTrust?: boolean;
}

export interface RunningCodeServer {
  url: string;
  logPath: string;
  userDataDir: string;
  stop(): Promise<void>;
}

// No telemetry, update checks, start page, chat panel or gallery: without these the
// extension host was seen trying to reach a telemetry host despite --disable-telemetry.
const OFFLINE_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'security.workspace.trust.enabled': false,
};

const CLOSED_GALLERY = JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' });

// Keeps what the user changed in a reused profile (npm start), forcing only our keys.
// A settings.json we cannot parse (comments) is left alone rather than overwritten.
function writeUserSettings(path: string, forced: Record<string, unknown>): void {
  let existing: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      existing = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      console.warn(`Limelight: left ${path} as it is (not plain JSON); telemetry and update settings may be on in it.`);
      return;
    }
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...existing, ...forced }, null, 2));
  renameSync(tmp, path);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitHealthy(url: string, child: ChildProcess, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before it was ready. Its log (${logPath}):\n${logTail(logPath)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs / 1000} s. Its log (${logPath}):\n${logTail(logPath)}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // the group is already gone
  }
}

export async function startCodeServer(opts: CodeServerOptions): Promise<RunningCodeServer> {
  installCodeServer();
  const userDataDir = join(opts.profileDir, 'user-data');
  const extensionsDir = join(opts.profileDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(join(userDataDir, 'User', 'settings.json'), { ...OFFLINE_SETTINGS, ...(opts.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {}), ...opts.settings });
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: join(opts.profileDir, 'xdg-config'),
    XDG_DATA_HOME: join(opts.profileDir, 'xdg-data'),
    EXTENSIONS_GALLERY: CLOSED_GALLERY,
    ...(opts.netLog !== undefined ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${join(__dirname, 'noNetwork.js')}"`.trim(), LIMELIGHT_NET_LOG: opts.netLog } : {}),
  };
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (opts.vsix !== undefined) {
    const r = spawnSync(process.execPath, [codeServerBin(), ...dirs, '--install-extension', opts.vsix, '--force'], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`code-server refused to install ${opts.vsix}:\n${r.stdout}\n${r.stderr}`);
  }
  if (opts.extensionFolder !== undefined) {
    const manifest = JSON.parse(readFileSync(join(opts.extensionFolder, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    const link = join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
    rmSync(link, { recursive: true, force: true });
    symlinkSync(opts.extensionFolder, link);
  }

  const port = opts.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(opts.profileDir, 'code-server.log');
  const logFd = openSync(logPath, 'a');
  const args = [
    codeServerBin(),
    ...dirs,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    opts.workspace,
  ];
  // detached = setsid: code-server and all its children share one process group.
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    killGroup(child, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    // The group may outlive its leader (file watcher, extension host): finish it either way.
    killGroup(child, 'SIGKILL');
  };
  try {
    await waitHealthy(url, child, logPath, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, logPath, userDataDir, stop };
}
