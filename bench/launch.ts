// `npm run bench [-- <run.ts options>]`: bench/run.ts in a Node that can run simd-linear's
// relaxed-SIMD build, then, for a full run (no --set, or --set all), bench/threads.ts and
// bench/low-precision.ts and bench/lora.ts (alone with --set lowprecision or --set lora); all
// with garbage collection kept off helper threads.
// Node 20 (V8 11.3) validates relaxed SIMD only with --experimental-wasm-relaxed-simd, a flag
// NODE_OPTIONS refuses and a running process cannot turn on reliably; Node 21+ has it on by
// default and rejects the flag.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const args = process.argv.slice(2);
const { values } = parseArgs({ args, strict: false, options: { set: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
const major = Number(process.versions.node.split('.')[0]);
const relaxed = major <= 20 ? ['--experimental-wasm-relaxed-simd'] : [];
// V8 collects garbage on helper threads, which on this 2-vCPU machine run beside the kernel
// being timed: after ml-matrix's and the JS loops' garbage, every contender read 20–40% low (simd-linear 27.5 → 47.2 GFLOP/s at 256×1024×1024 with GC kept on
// the main thread, tfjs 27.9 → 37.4). Collection then happens between calls, on the main thread.
const gc = ['--single-threaded-gc'];

function run(script: string, nodeFlags: string[], scriptArgs: string[]): void {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...scriptArgs], { stdio: 'inherit' });
  if (child.error) throw child.error;
  if (child.status !== 0) process.exit(child.status ?? 1);
}

// Sets with a script of their own; a full run runs them after the suite.
const scripts: Record<string, string> = { lowprecision: './low-precision.ts', lora: './lora.ts' };
const own = typeof values.set === 'string' ? scripts[values.set] : undefined;
run(own ?? './run.ts', [...relaxed, ...gc], args);
if (!values.help && (values.set === undefined || values.set === 'all')) {
  run('./threads.ts', gc, []);
  for (const script of Object.values(scripts)) run(script, [...relaxed, ...gc], args);
}
