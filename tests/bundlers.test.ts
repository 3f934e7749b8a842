// The bundler smoke tests (scripts/bundlers/run.mjs) as a test CI can opt into with
// SIMD_LINEAR_BUNDLERS=1: they pack dist/ as built, install and build six consumers (about 30 s).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/bundlers/run.mjs', import.meta.url));
// Once per run (the 'fixed' project): the project's SIMD build means nothing to the consumers.
const enabled = process.env.SIMD_LINEAR_BUNDLERS === '1' && inject('simd') !== 'relaxed';

it.runIf(enabled)('every bundler and Node consumer loads simd-linear from the packed tarball', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { maxBuffer: 16 << 20 }).catch((error) => {
    // A failing consumer exits 1: show the script's own report rather than only the exit code.
    throw new Error(`${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  expect(stdout).toMatch(/\| consumer +\| build ok/);
}, 600_000);
