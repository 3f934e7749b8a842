// The bundler and runtime smoke tests (scripts/bundlers/run.mjs) and the consumer type checks
// (scripts/types/run.mjs) as tests CI can opt into with
// SIMD_LINEAR_BUNDLERS=1: they pack dist/ as built, install it in a score of consumer
// projects (bundlers loaded in Chromium and Firefox, Node 20/22/24, Bun, Deno; about a minute).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';

const script = (path: string) => fileURLToPath(new URL(`../scripts/${path}`, import.meta.url));
// Once per run (the 'fixed' project): the project's SIMD build means nothing to the consumers.
const enabled = process.env.SIMD_LINEAR_BUNDLERS === '1' && inject('simd') !== 'relaxed';

/** Runs a smoke-test script; a failure shows the script's own report rather than only the exit code. */
async function report(path: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [script(path)], { maxBuffer: 16 << 20 }).catch((error) => {
    throw new Error(`${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  return stdout;
}

it.runIf(enabled)('every bundler and runtime consumer loads simd-linear from the packed tarball', async () => {
  expect(await report('bundlers/run.mjs')).toMatch(/\| consumer +\| build ok/);
}, 600_000);

it.runIf(enabled)('the packed types check under strict settings in every module mode, and publint and attw pass', async () => {
  expect(await report('types/run.mjs')).toMatch(/^ok {3}attw$/m);
}, 300_000);
