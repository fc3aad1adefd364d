// One end-to-end test file's VS Code: its workspace in a fresh temporary folder, code-server
// with the packaged .vsix and the file's settings, and the workbench open in headless
// Chromium; closed (and the folder removed) in the file's `after` hook. Also the readers every
// such test uses on what the run leaves behind (the Limelight log).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { packagedVsix, repoRoot, resultsDir } from './paths';
import { startCodeServer, type CodeServerOptions, type RunningCodeServer } from './server';
import { openWorkbench, requireChromium, type Workbench } from './workbench';

export interface E2eSession {
  /** The run's temporary folder: the workspace, profiles, models; removed when the session closes. */
  tmp: string;
  workspace: string;
  server: RunningCodeServer;
  wb: Workbench;
  /** Save code-server's log as test-results/<logName> when the session closes. */
  logName?: string;
}

/** What code-server is started with beyond the profile, the workspace and the .vsix. */
export type SessionServerOptions = Omit<CodeServerOptions, 'profileDir' | 'workspace' | 'vsix' | 'extensionFolder'>;

export interface E2eSessionOptions {
  /** Makes the workspace folder inside a new temporary folder (its parent) and returns its path. */
  workspace: () => string;
  /** Writes what the run needs beside the workspace (models, settings files) and returns code-server's options. */
  prepare?: (tmp: string, workspace: string) => SessionServerOptions;
  /** Browser requests to other hosts are refused and their URLs pushed here. */
  remoteRequests?: string[];
  logName?: string;
}

/** test/fixtures/sample-workspace copied into a new temporary folder. */
export function sampleWorkspace(): string {
  const workspace = join(mkdtempSync(join(tmpdir(), 'limelight-e2e-')), 'sample-workspace');
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });
  return workspace;
}

export async function openE2eSession(o: E2eSessionOptions): Promise<E2eSession> {
  requireChromium();
  const vsix = packagedVsix();
  const workspace = o.workspace();
  const tmp = dirname(workspace);
  let server: RunningCodeServer | undefined;
  try {
    server = await startCodeServer({ profileDir: join(tmp, 'profile'), workspace, vsix, ...o.prepare?.(tmp, workspace) });
    const wb = await openWorkbench(server.url, join(tmp, 'browser'), o.remoteRequests);
    return { tmp, workspace, server, wb, logName: o.logName };
  } catch (e) {
    // Nothing is left running, and code-server's log is kept for the diagnosis.
    if (server) {
      await server.stop();
      if (o.logName) saveLog(server, o.logName);
    }
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function closeE2eSession(s: E2eSession | undefined): Promise<void> {
  if (!s) return;
  await s.wb.close();
  await s.server.stop();
  if (s.logName) saveLog(s.server, s.logName);
  rmSync(s.tmp, { recursive: true, force: true });
}

/** The workbench page; fails the test that asks when the session never opened. */
export function sessionPage(s: E2eSession | undefined): Page {
  if (!s) throw new Error('the workbench did not open (see the before hook\'s error)');
  return s.wb.page;
}

function saveLog(server: RunningCodeServer, name: string): void {
  if (existsSync(server.logPath)) cpSync(server.logPath, join(resultsDir(), name));
}

/** The text of every file under `dir` whose name ends with `suffix`, joined by newlines ('' when dir is missing). */
export function readTree(dir: string, suffix: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .map((p) => (statSync(p).isDirectory() ? readTree(p, suffix) : p.endsWith(suffix) ? readFileSync(p, 'utf8') : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** Everything the extension has written to its output channel so far (VS Code keeps it under the profile's logs). */
export function limelightLog(s: E2eSession | undefined): string {
  return s ? readTree(join(s.server.userDataDir, 'logs'), 'Limelight.log') : '';
}
