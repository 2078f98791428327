// The layering rules of ARCHITECTURE.md, checked by reading every import in src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const srcRoot = join(repoRoot, 'src');

function findRepoRoot(from: string): string {
  let dir = from;
  for (;;) {
    try {
      if (statSync(join(dir, 'package.json')).isFile() && statSync(join(dir, 'src')).isDirectory()) return dir;
    } catch {
      // keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${from}`);
    dir = parent;
  }
}

interface SourceImport {
  file: string; // relative to src/, with '/' separators
  specifier: string;
  target: string | undefined; // resolved path relative to src/, without extension, for relative imports
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[^.\w])import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function collectImports(): SourceImport[] {
  const imports: SourceImport[] = [];
  for (const path of listSources(srcRoot)) {
    const text = readFileSync(path, 'utf8');
    const file = relative(srcRoot, path).split(sep).join('/');
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier === undefined) continue;
      const target = specifier.startsWith('.')
        ? relative(srcRoot, resolve(dirname(path), specifier)).split(sep).join('/').replace(/\.(js|ts)$/, '')
        : undefined;
      imports.push({ file, specifier, target });
    }
  }
  return imports;
}

const imports = collectImports();
const layer = (path: string): string => path.split('/')[0] ?? '';
const within = (path: string, folder: string): boolean => path === folder || path.startsWith(`${folder}/`);

function violations(rule: (imp: SourceImport) => boolean): string[] {
  return imports.filter(rule).map((imp) => `${imp.file} imports '${imp.specifier}'`);
}

test('imports were found (the checker reads the tree)', () => {
  assert.ok(imports.length > 0, 'no import statements found under src/');
});

test('every relative import stays inside src/', () => {
  assert.deepEqual(violations((i) => i.target !== undefined && i.target.startsWith('..')), []);
});

test('src/raft imports nothing outside itself (no node:*, no packages)', () => {
  assert.deepEqual(
    violations((i) => layer(i.file) === 'raft' && (i.target === undefined || layer(i.target) !== 'raft')),
    [],
  );
});

test('src/archive imports only src/api, src/util and packages', () => {
  assert.deepEqual(
    violations(
      (i) => layer(i.file) === 'archive' && i.target !== undefined && !['archive', 'api', 'util'].includes(layer(i.target)),
    ),
    [],
  );
});

test('src/server never imports src/snapshot, src/client or src/cli', () => {
  assert.deepEqual(
    violations(
      (i) => layer(i.file) === 'server' && i.target !== undefined && ['snapshot', 'client', 'cli'].includes(layer(i.target)),
    ),
    [],
  );
});

test('src/snapshot reads src/server only through its read-only data-dir module', () => {
  const allowed = ['server/datadir-reader'];
  assert.deepEqual(
    violations(
      (i) =>
        layer(i.file) === 'snapshot' &&
        i.target !== undefined &&
        layer(i.target) === 'server' &&
        !allowed.some((a) => within(i.target!, a)),
    ),
    [],
  );
});

test('src/api and src/util depend on no higher layer', () => {
  const higher = ['raft', 'server', 'client', 'archive', 'snapshot', 'cli'];
  assert.deepEqual(
    violations((i) => ['api', 'util'].includes(layer(i.file)) && i.target !== undefined && higher.includes(layer(i.target))),
    [],
  );
  assert.deepEqual(violations((i) => layer(i.file) === 'util' && i.target !== undefined && layer(i.target) === 'api'), []);
});

test('only src/cli reads argv, writes to the terminal or exits the process', () => {
  const offenders: string[] = [];
  const pattern = /process\.(argv|exit\(|stdout\.write|stderr\.write)|console\.(log|error|warn|info)\(/;
  for (const path of listSources(srcRoot)) {
    const file = relative(srcRoot, path).split(sep).join('/');
    if (layer(file) === 'cli') continue;
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (pattern.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('*')) {
        offenders.push(`${file}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});
