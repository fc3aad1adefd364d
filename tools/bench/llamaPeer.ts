// llama.cpp as the benchmark's side-by-side peer, through node-llama-cpp 3.22.1.
// It is not a devDependency: the registry here has no mac/win builds of its native packages,
// so a lock file that names it fails `npm ci` on every fresh machine. Instead the benchmark
// installs it once into a cache folder outside the repository (prebuilt linux-x64 binaries
// come inside the registry packages; nothing else is downloaded) and loads it from there.
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const LLAMA_PEER_VERSION = '3.22.1';

export function llamaPeerDir(): string {
  return process.env.LIMELIGHT_BENCH_CACHE ?? join(homedir(), '.cache', 'limelight-bench');
}

/** Installs node-llama-cpp into the cache when missing; returns the folder to import it from, or why it cannot be had. */
export function ensureLlamaPeer(): { dir: string } | { error: string } {
  const dir = llamaPeerDir();
  const pkg = join(dir, 'node_modules', 'node-llama-cpp', 'package.json');
  if (existsSync(pkg)) return { dir: join(dir, 'node_modules', 'node-llama-cpp') };
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--prefix', dir, `node-llama-cpp@${LLAMA_PEER_VERSION}`], { stdio: 'ignore', timeout: 600_000 });
  } catch (e) {
    return { error: `could not install node-llama-cpp@${LLAMA_PEER_VERSION} into ${dir} (${(e as Error).message.split('\n')[0]}); the peer rows are skipped` };
  }
  return existsSync(pkg) ? { dir: join(dir, 'node_modules', 'node-llama-cpp') } : { error: `node-llama-cpp did not install into ${dir}` };
}
