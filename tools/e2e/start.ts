// `npm start`: opens Limelight (this checkout, built by prestart) in a real VS Code on the
// sample workspace. VS Code desktop when `code` is on PATH; otherwise the cached
// code-server (installed on first use), served on 127.0.0.1 until Ctrl+C.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './paths';
import { startCodeServer } from './server';

const fixture = join(repoRoot, 'test', 'fixtures', 'sample-workspace');

function hasDesktopCode(): boolean {
  const r = spawnSync('code', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

async function main(): Promise<void> {
  if (hasDesktopCode()) {
    const r = spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${repoRoot}`, fixture], { stdio: 'inherit' });
    if (r.status === 0) console.log('Limelight: opened the sample workspace in VS Code with this checkout as a development extension.');
    process.exitCode = r.status ?? 1;
    return;
  }
  // A copy of the sample workspace, so edits made while trying Limelight stay out of git.
  const workspace = join(cacheDir(), 'sample-workspace');
  if (!existsSync(workspace)) cpSync(fixture, workspace, { recursive: true });
  const port = Number(process.env.LIMELIGHT_PORT ?? 0);
  const server = await startCodeServer({ profileDir: join(cacheDir(), 'start-profile'), workspace, extensionFolder: repoRoot, port });
  console.log(`\nLimelight is running in VS Code (code-server) at:\n\n  ${server.url}/?folder=${encodeURI(workspace)}\n`);
  console.log(`Open that address in a browser on this machine. Log: ${server.logPath}. Press Ctrl+C to stop.`);
  const stop = (): void => {
    console.log('\nLimelight: stopping code-server...');
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
