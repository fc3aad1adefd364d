// Loads the remote backend's client (its HTTP transport) from its own bundle, dist/remote.js,
// beside the bundle that runs (the extension or the CLI), so that those bundles hold no network
// code and the privacy scan (test/unit/privacyBundles.test.ts) can prove it; in the transpiled
// tests (out/) it is client.js in this folder. Loaded only when the remote backend is chosen.
// Errors from the loaded copy are told apart with isRemoteError (remoteError.ts), not instanceof.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type RemoteClientModule = typeof import('./client');
export type { RemoteClient } from './client';

export function loadRemoteClient(): RemoteClientModule {
  const bundled = join(__dirname, 'remote.js');
  const path = existsSync(bundled) ? bundled : join(__dirname, 'client.js');
  try {
    return createRequire(__filename)(path) as RemoteClientModule;
  } catch (e) {
    throw new Error(`Limelight's remote backend could not be loaded from ${bundled} (${(e as Error).message.split('\n')[0]}). Reinstall the extension (or rebuild with node tools/build.mjs).`);
  }
}
