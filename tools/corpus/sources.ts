// Where the starter corpus comes from, pinned so a clean machine rebuilds the same data:
//   npm       packages that ship readable sources, installed with `npm install
//             --ignore-scripts` into a cache folder; the license is read from each
//             package.json and only permissive ones are kept
//   python    the standard library of Debian's python3.11 (apt: libpython3.11-stdlib), and
//             its test suite (libpython3.11-testsuite, fetched with `apt-get download` and
//             unpacked into the cache, so the system's Python is left as it is)
//   go        the standard library and toolchain of Debian's golang-1.19-src
// A source unit (what the train/val/test split assigns) is an npm package, a Python
// top-level module (each `test/` child on its own) or a Go package directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Language } from '../../engine/workspace/docstrings';
import { vendoredPath } from '../../engine/workspace/sourceFilters';

export const NPM_PACKAGES: Record<string, string> = {
  '@codemirror/autocomplete': '6.20.4',
  '@codemirror/commands': '6.11.1',
  '@codemirror/language': '6.13.1',
  '@codemirror/state': '6.7.6',
  '@codemirror/view': '6.43.15',
  '@lezer/common': '1.5.5',
  '@lezer/lr': '1.4.12',
  '@preact/signals-core': '1.14.5',
  '@reduxjs/toolkit': '2.14.0',
  '@sinclair/typebox': '0.34.52',
  '@tanstack/form-core': '1.33.5',
  '@tanstack/query-core': '5.108.0',
  '@tanstack/router-core': '1.171.39',
  '@tanstack/virtual-core': '3.19.11',
  '@tiptap/core': '3.34.0',
  '@trpc/server': '11.25.2',
  acorn: '8.19.0',
  ajv: '8.20.0',
  async: '3.2.6',
  axios: '1.21.1',
  'big.js': '7.0.1',
  'bignumber.js': '11.1.5',
  bluebird: '3.7.2',
  chai: '6.3.0',
  cheerio: '1.2.0',
  'class-validator': '0.15.1',
  commander: '14.0.3',
  'd3-array': '3.2.5',
  'd3-color': '3.1.1',
  'd3-force': '3.0.1',
  'd3-geo': '3.1.2',
  'd3-hierarchy': '3.1.3',
  'd3-interpolate': '3.0.2',
  'd3-scale': '4.0.3',
  'd3-selection': '3.0.1',
  'd3-shape': '3.2.1',
  'date-fns': '4.4.0',
  dayjs: '1.11.23',
  'decimal.js': '10.6.0',
  'drizzle-orm': '0.45.4',
  effect: '4.1.0',
  ejs: '7.0.2',
  eslint: '10.15.0',
  esprima: '4.0.1',
  express: '5.3.0',
  fastify: '5.12.8',
  'fp-ts': '2.16.11',
  graphql: '16.15.0',
  handlebars: '4.7.10',
  htmlparser2: '12.0.0',
  immer: '11.2.10',
  immutable: '5.2.1',
  'io-ts': '2.2.22',
  joi: '18.3.2',
  'js-yaml': '5.5.0',
  jszip: '3.10.2',
  knex: '3.3.0',
  koa: '3.3.0',
  kysely: '0.28.19',
  leaflet: '1.9.4',
  lib0: '0.2.120',
  'lodash-es': '4.18.1',
  luxon: '3.7.2',
  'markdown-it': '15.0.3',
  marked: '18.2.1',
  mathjs: '15.2.0',
  'matter-js': '0.20.0',
  micromark: '4.0.3',
  mobx: '7.1.3',
  'mobx-state-tree': '9.0.0',
  mocha: '12.0.3',
  moment: '2.31.0',
  msw: '2.15.0',
  mustache: '4.2.0',
  ol: '10.11.0',
  pg: '8.23.1',
  pino: '10.4.0',
  postcss: '8.5.33',
  preact: '11.2.0',
  'prosemirror-model': '1.25.13',
  'prosemirror-state': '1.4.4',
  'prosemirror-transform': '1.12.6',
  'prosemirror-view': '1.42.9',
  ramda: '0.32.0',
  redux: '5.0.1',
  rxjs: '7.8.2',
  semver: '7.8.6',
  sinon: '22.1.0',
  superagent: '10.4.2',
  svelte: '5.57.3',
  terser: '5.51.4',
  three: '0.187.0',
  'uglify-js': '3.19.3',
  underscore: '1.13.8',
  undici: '7.30.2',
  'vscode-uri': '3.2.0',
  'vue-router': '5.5.1',
  webpack: '5.112.2',
  winston: '3.19.0',
  ws: '8.23.0',
  xstate: '5.33.3',
  yjs: '13.6.33',
  yup: '1.7.1',
  zod: '4.6.7',
};

export const PYTHON_STDLIB = { dir: '/usr/lib/python3.11', debPackage: 'libpython3.11-stdlib', apt: 'python3.11', license: 'PSF-2.0' };
export const PYTHON_TESTSUITE = { debPackage: 'libpython3.11-testsuite', dir: 'usr/lib/python3.11', license: 'PSF-2.0' };
export const GO_SRC = { dir: '/usr/share/go-1.19/src', debPackage: 'golang-1.19-src', apt: 'golang-1.19-src', license: 'BSD-3-Clause' };

const PERMISSIVE = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BSD']);

/** Whether an SPDX expression allows use under a permissive license (an OR needs one, an AND needs all). */
export function permissiveLicense(spdx: string): boolean {
  const expr = spdx.trim().replace(/^\((.*)\)$/, '$1');
  if (/\s+OR\s+/.test(expr)) return expr.split(/\s+OR\s+/).some((p) => permissiveLicense(p));
  if (/\s+AND\s+/.test(expr)) return expr.split(/\s+AND\s+/).every((p) => permissiveLicense(p));
  return PERMISSIVE.has(expr);
}

export interface SourceFile {
  /** Path shown to the model: `package/relative/path` (npm), `relative/path` (python, go). */
  path: string;
  abs: string;
  language: Language;
}

export interface SourceUnit {
  /** Unique name: `npm:zod`, `python:json`, `go:net/http`. */
  unit: string;
  /** Split pool: units of one pool share the guarantee of held-out data. */
  pool: string;
  origin: 'npm' | 'python' | 'go';
  package: string;
  version: string;
  license: string;
  files: SourceFile[];
}

export function languageOf(path: string): Language | null {
  if (/\.d\.[cm]?ts$/.test(path)) return null;
  if (/\.(ts|tsx|mts|cts)$/.test(path)) return 'typescript';
  if (/\.(js|jsx|mjs|cjs)$/.test(path)) return 'javascript';
  if (path.endsWith('.py')) return 'python';
  if (path.endsWith('.go')) return 'go';
  return null;
}

function walk(dir: string, rel: string, out: { rel: string; abs: string }[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name === '__pycache__' || name === '.git') continue;
    const abs = join(dir, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) walk(abs, r, out);
    else if (st.isFile()) out.push({ rel: r, abs });
  }
}

function debVersion(pkg: string, apt: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`Debian package ${pkg} is not installed. Install it with: apt-get install ${apt}`);
  }
}

/** Downloads a Debian package and unpacks it under cacheDir/debs/<name> (once); its root and version. */
export function unpackDeb(cacheDir: string, pkg: string): { root: string; version: string } {
  const dir = join(cacheDir, 'debs');
  const root = join(dir, pkg);
  const stamp = join(root, '.version');
  if (!existsSync(stamp)) {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      throw new Error(`could not download the Debian package ${pkg}. Run \`apt-get update\` and try again.`);
    }
    const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}.`);
    execFileSync('dpkg-deb', ['-x', join(dir, deb), root]);
    writeFileSync(stamp, execFileSync('dpkg-deb', ['-f', join(dir, deb), 'Version'], { encoding: 'utf8' }).trim());
  }
  return { root, version: readFileSync(stamp, 'utf8').trim() };
}

/** Installs the pinned npm packages into cacheDir/npm (no install scripts run). */
export function installNpm(cacheDir: string): string {
  const dir = join(cacheDir, 'npm');
  mkdirSync(dir, { recursive: true });
  const manifest = { name: 'limelight-corpus-sources', private: true, dependencies: NPM_PACKAGES };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=optional', '--omit=peer', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  return join(dir, 'node_modules');
}

export interface Rejected {
  package: string;
  version: string;
  license: string;
  why: string;
}

/** npm units: a package's `src/` when it ships one (its sources, not its build), else the whole package. */
export function npmUnits(nodeModules: string, rejected: Rejected[]): SourceUnit[] {
  const units: SourceUnit[] = [];
  for (const [name, pinned] of Object.entries(NPM_PACKAGES)) {
    const root = join(nodeModules, name);
    const pj = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string; license?: unknown };
    const version = pj.version ?? pinned;
    const license = typeof pj.license === 'string' ? pj.license : '';
    if (!permissiveLicense(license)) {
      rejected.push({ package: name, version, license, why: 'license not MIT, Apache-2.0, BSD or ISC' });
      continue;
    }
    const all: { rel: string; abs: string }[] = [];
    walk(root, '', all);
    const code = all.filter((f) => languageOf(f.rel) !== null && !/\.min\.[cm]?js$/.test(f.rel) && !/(^|\/)(umd|cdn)(\/|\.)/.test(f.rel));
    const src = code.filter((f) => f.rel.startsWith('src/'));
    const chosen = src.length > 0 ? src : code;
    const files = chosen.map((f) => ({ path: `${name}/${f.rel}`, abs: f.abs, language: languageOf(f.rel) as Language }));
    const ts = files.filter((f) => f.language === 'typescript').length;
    units.push({ unit: `npm:${name}`, pool: ts * 2 > files.length ? 'npm-typescript' : 'npm-javascript', origin: 'npm', package: name, version, license, files });
  }
  return units;
}

export function pythonUnits(cacheDir: string): SourceUnit[] {
  const { dir, debPackage, apt, license } = PYTHON_STDLIB;
  if (!existsSync(dir)) throw new Error(`${dir} not found. Install Debian's Python 3.11 standard library: apt-get install ${apt}`);
  const suite = unpackDeb(cacheDir, PYTHON_TESTSUITE.debPackage);
  const trees = [
    { dir, version: debVersion(debPackage, apt), deb: debPackage },
    { dir: join(suite.root, PYTHON_TESTSUITE.dir), version: suite.version, deb: PYTHON_TESTSUITE.debPackage },
  ];
  const byUnit = new Map<string, { files: SourceFile[]; version: string; deb: string }>();
  for (const tree of trees) {
    const all: { rel: string; abs: string }[] = [];
    walk(tree.dir, '', all);
    for (const f of all) {
      if (languageOf(f.rel) !== 'python') continue;
      const parts = f.rel.split('/');
      if (/-packages$/.test(parts[0]) || parts[0].startsWith('config-')) continue;
      const top = parts[0].replace(/\.py$/, '');
      // The test package is most of the test suite: each of its children is a unit of its own.
      const unit = top === 'test' && parts.length > 1 ? `test/${parts[1].replace(/\.py$/, '')}` : top;
      const entry = byUnit.get(unit) ?? { files: [], version: tree.version, deb: tree.deb };
      entry.files.push({ path: f.rel, abs: f.abs, language: 'python' });
      byUnit.set(unit, entry);
    }
  }
  return [...byUnit].map(([unit, e]) => ({ unit: `python:${unit}`, pool: 'python', origin: 'python' as const, package: `${e.deb} (${unit})`, version: e.version, license, files: e.files }));
}

export function goUnits(): SourceUnit[] {
  const { dir, debPackage, apt, license } = GO_SRC;
  if (!existsSync(dir)) throw new Error(`${dir} not found. Install Debian's Go 1.19 sources: apt-get install ${apt}`);
  const version = debVersion(debPackage, apt);
  const all: { rel: string; abs: string }[] = [];
  walk(dir, '', all);
  const byUnit = new Map<string, SourceFile[]>();
  for (const f of all) {
    // Vendored copies and test data are not Go's own packages: leave them out of the split.
    if (languageOf(f.rel) !== 'go' || vendoredPath(f.rel)) continue;
    const unit = f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/')) : '.';
    const list = byUnit.get(unit) ?? [];
    list.push({ path: f.rel, abs: f.abs, language: 'go' });
    byUnit.set(unit, list);
  }
  return [...byUnit].map(([unit, files]) => ({ unit: `go:${unit}`, pool: 'go', origin: 'go' as const, package: `${debPackage} (${unit})`, version, license, files }));
}
