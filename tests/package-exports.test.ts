// What a user's resolver finds in the package: the entries, the .wasm files and the worker
// through `exports` (so init({ wasm, worker }) can point at hosted copies), and the subpaths
// through stub folders for resolvers that ignore `exports`.
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
