// The package as npm would publish it, and projects that install it: shared by the bundler
// smoke tests (scripts/bundlers/run.mjs) and the consumer type checks (scripts/types/run.mjs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repo = fileURLToPath(new URL('../', import.meta.url));

/**
 * `npm pack` of the repository as built, into `into`; the tarball's path. --ignore-scripts
 * skips `prepack` (a full rebuild): the npm scripts and `npm test` build first, and a rebuild
 * here would rewrite dist/ under the other test files running beside the smoke tests.
 */
export async function pack(into) {
  if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', into, '--loglevel=error'], { cwd: repo });
  const tarball = (await readdir(into)).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no .tgz in ${into}`);
  return join(into, tarball);
}

/** Installs the tarball in the project at `dir`; it has no dependencies, so no registry traffic. */
export async function installTarball(dir, tarball) {
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir });
}
