// Loads the download client from its own bundle, dist/download.js, beside the bundle that runs
// (the extension or the CLI), so that those bundles hold no network code at all and the
// privacy scan (test/unit/privacyBundles.test.ts) can prove it; in the transpiled tests (out/)
// it is main.js in this folder. Loaded on the first download only. The extension imports this
// module alone (its types included) from engine/download.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type Downloader = typeof import('./main');
export type { DownloadProgress, DownloadResult, RepoFile } from './main';

export function loadDownloader(): Downloader {
  const bundled = join(__dirname, 'download.js');
  const path = existsSync(bundled) ? bundled : join(__dirname, 'main.js');
  try {
    return createRequire(__filename)(path) as Downloader;
  } catch (e) {
    throw new Error(`Limelight's download module could not be loaded from ${bundled} (${(e as Error).message.split('\n')[0]}). Reinstall the extension (or rebuild with node tools/build.mjs).`);
  }
}
