// What a user's resolver finds in the package: the entries, the .wasm files and the worker
// through `exports` (so init({ wasm, worker }) can point at hosted copies), and the subpaths
// through stub folders for resolvers that ignore `exports`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

const require = createRequire(import.meta.url);
const root = new URL('../', import.meta.url);

test('exports resolve the .wasm builds and the worker', () => {
  for (const wasm of ['simd-linear.wasm', 'simd-linear-relaxed.wasm', 'simd-linear-threads.wasm', 'simd-linear-relaxed-threads.wasm']) {
    const path = require.resolve(`simd-linear/wasm/${wasm}`);
    expect(path.endsWith(`dist/${wasm}`)).toBe(true);
    expect(existsSync(path)).toBe(true);
  }
  expect(require.resolve('simd-linear/worker').endsWith('dist/worker.js')).toBe(true);
});

test('inline/ and reference/ stub folders point resolvers without exports at the same files', () => {
  for (const sub of ['inline', 'reference']) {
    const stub = JSON.parse(readFileSync(new URL(`${sub}/package.json`, root), 'utf8'));
    expect(existsSync(new URL(`${sub}/${stub.main}`, root)), sub).toBe(true);
    expect(existsSync(new URL(`${sub}/${stub.types}`, root)), sub).toBe(true);
    const files: string[] = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).files;
    expect(files).toContain(`${sub}/package.json`);
  }
});

test('every sourceMappingURL in the packed .js names a map that is packed too, and carries its sources', () => {
  // --ignore-scripts: the build already ran; npm pack would otherwise run prepack (a rebuild).
  const [{ files }] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], {
    cwd: root, encoding: 'utf8',
  }));
  const packed = new Set((files as { path: string }[]).map((file) => file.path));
  const scripts = [...packed].filter((path) => path.endsWith('.js'));
  expect(scripts.length).toBeGreaterThan(3);
  for (const script of scripts) {
    const comment = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(new URL(script, root), 'utf8'));
    if (!comment) continue;
    const map = new URL(comment[1], new URL(script, root)).href.slice(root.href.length);
    expect(packed.has(map), `${script} points at ${map}`).toBe(true);
    const { sources, sourcesContent = [] } = JSON.parse(readFileSync(new URL(map, root), 'utf8'));
    expect(sourcesContent.filter(Boolean).length, `${map}: sources the package does not ship need their text`).toBe(sources.length);
  }
});

test('the minified entries keep the name of every class and function they export', async () => {
  for (const entry of ['index', 'inline', 'reference']) {
    const api: Record<string, unknown> = await import(`../dist/${entry}.js`);
    const renamed = Object.entries(api).filter(([name, value]) => typeof value === 'function' && value.name !== name);
    expect(renamed.map(([name, value]) => `${name} is named ${(value as () => void).name}`), entry).toEqual([]);
  }
});
