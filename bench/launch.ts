// `npm run bench [-- <run.ts options>]`: bench/run.ts in a Node that can run simd-linear's
// relaxed-SIMD build, then, for a full run (no --set, or --set all), bench/threads.ts.
// Node 20 (V8 11.3) validates relaxed SIMD only with --experimental-wasm-relaxed-simd, a flag
// NODE_OPTIONS refuses and a running process cannot turn on reliably; Node 21+ has it on by
// default and rejects the flag.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const args = process.argv.slice(2);
const { values } = parseArgs({ args, strict: false, options: { set: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
const major = Number(process.versions.node.split('.')[0]);
const flags = major <= 20 ? ['--experimental-wasm-relaxed-simd'] : [];

function run(script: string, nodeFlags: string[], scriptArgs: string[]): void {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...scriptArgs], { stdio: 'inherit' });
  if (child.error) throw child.error;
  if (child.status !== 0) process.exit(child.status ?? 1);
}

run('./run.ts', flags, args);
if (!values.help && (values.set === undefined || values.set === 'all')) run('./threads.ts', [], []);
