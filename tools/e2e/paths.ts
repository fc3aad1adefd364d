// Where the end-to-end tools keep the real VS Code (code-server) and the browser.
// The install lives outside the repository so that every clone and every run reuses it.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The newest code-server whose engines.node is 20 (VS Code 1.100); see docs/e2e.md.
export const CODE_SERVER_VERSION = '4.100.3';

export const repoRoot = join(__dirname, '..', '..', '..');

export function cacheDir(): string {
  return process.env.LIMELIGHT_E2E_CACHE ?? join(homedir(), '.cache', 'limelight-e2e');
}

export function codeServerHome(): string {
  return join(cacheDir(), `code-server-${CODE_SERVER_VERSION}`);
}

export function codeServerPackage(): string {
  return join(codeServerHome(), 'node_modules', 'code-server');
}

export function codeServerBin(): string {
  return join(codeServerPackage(), 'out', 'node', 'entry.js');
}

export const chromiumPath = process.env.LIMELIGHT_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots and logs of the e2e runs (gitignored); made on first use. */
export function resultsDir(): string {
  const dir = join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The packaged .vsix the e2e suite installs; `npm run test:e2e` packages it first. */
export function packagedVsix(): string {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const vsix = join(repoRoot, `limelight-${version}.vsix`);
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing. HINT: run \`npm run package\` (npm run test:e2e does it first).`);
  return vsix;
}
