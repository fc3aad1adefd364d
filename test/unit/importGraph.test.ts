// The import graph flows one way (docs/architecture.md): each engine folder is a layer that
// imports only from the layers below it, no file takes part in an import circle, the engine
// never reaches into the extension or VS Code, and the extension reaches the engine only
// through the worker protocol, its client and pure helpers. Read from the sources, type-only
// imports included: a type import is a dependency of the design even when esbuild drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');

interface ImportRules {
  engineLayers: string[][];
  extensionMayImport: string[];
}

/** The layer table and the extension's door, shared with eslint.config.mjs. */
const RULES = JSON.parse(readFileSync(join(ROOT, 'tools', 'importRules.json'), 'utf8')) as ImportRules;
const ENGINE_LAYERS = RULES.engineLayers;
const EXTENSION_MAY_IMPORT = RULES.extensionMayImport.map((r) => new RegExp(`^${r}$`));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Repository-relative path without extension, '/'-separated: 'engine/model/load'. */
function key(path: string): string {
  return relative(ROOT, path).split(sep).join('/').replace(/(\/index)?\.ts$/, '');
}

interface Graph {
  /** Module key -> the module keys it imports (relative imports only) and its bare imports. */
  local: Map<string, Set<string>>;
  bare: Map<string, Set<string>>;
}

function importGraph(roots: string[]): Graph {
  const local = new Map<string, Set<string>>();
  const bare = new Map<string, Set<string>>();
  for (const file of roots.flatMap((r) => sourceFiles(join(ROOT, r)))) {
    const text = readFileSync(file, 'utf8');
    const mine = new Set<string>();
    const pkgs = new Set<string>();
    for (const m of text.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?'([^']+)'/gm)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        pkgs.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec);
      const found = [`${target}.ts`, join(target, 'index.ts')].find((p) => existsSync(p));
      assert.ok(found, `${key(file)} imports ${spec}, which is not a TypeScript file`);
      mine.add(key(found));
    }
    local.set(key(file), mine);
    bare.set(key(file), pkgs);
  }
  return { local, bare };
}

/** The strongly connected groups of more than one module (Tarjan). */
function circles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) found.push(group.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The layer of an engine module ('engine/cli.ts' sits with cli/). */
function layerOf(mod: string): number {
  const folder = mod.split('/')[1]!;
  const layer = ENGINE_LAYERS.findIndex((l) => l.includes(folder));
  assert.notEqual(layer, -1, `engine/${folder} is in no layer: add it to engineLayers in tools/importRules.json and to docs/architecture.md`);
  return layer;
}

const graph = importGraph(['engine', 'extension']);

test('no module of the engine or the extension takes part in an import circle', () => {
  assert.deepEqual(circles(graph.local), []);
});

test('engine folders import only from the layers below them', () => {
  const upward: string[] = [];
  for (const [from, targets] of graph.local) {
    if (!from.startsWith('engine/')) continue;
    for (const to of targets) {
      assert.ok(to.startsWith('engine/'), `${from} imports ${to}: the engine never imports the extension`);
      const a = layerOf(from);
      const b = layerOf(to);
      if (from.split('/')[1] !== to.split('/')[1] && b >= a) upward.push(`${from} -> ${to}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('the engine never imports vscode', () => {
  const offenders = [...graph.bare].filter(([mod, pkgs]) => mod.startsWith('engine/') && pkgs.has('vscode')).map(([mod]) => mod);
  assert.deepEqual(offenders, []);
});

test('the extension reaches the engine only through the worker protocol, its client and pure helpers', () => {
  const reaching: string[] = [];
  for (const [from, targets] of graph.local) {
    if (!from.startsWith('extension/')) continue;
    for (const to of targets) if (to.startsWith('engine/') && !EXTENSION_MAY_IMPORT.some((r) => r.test(to))) reaching.push(`${from} -> ${to}`);
  }
  assert.deepEqual(reaching, []);
});

test('the layer table names every engine folder, and the checks see real imports', () => {
  const folders = readdirSync(join(ROOT, 'engine')).filter((f) => statSync(join(ROOT, 'engine', f)).isDirectory());
  for (const f of folders) layerOf(`engine/${f}/x`);
  // A check over an empty graph would pass whatever the code does.
  assert.ok(graph.local.get('engine/model/load')!.size > 3);
  assert.deepEqual(circles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]])), [['a', 'b', 'c']]);
});
