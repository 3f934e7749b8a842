// Starts bench/run.ts in a Node that can run simd-linear's relaxed-SIMD build. Node 20 (V8 11.3)
// validates relaxed SIMD only with --experimental-wasm-relaxed-simd, a flag NODE_OPTIONS refuses
// and a running process cannot turn on reliably; Node 21+ has it on by default and rejects the flag.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
const flags = major <= 20 ? ['--experimental-wasm-relaxed-simd'] : [];
const run = fileURLToPath(new URL('./run.ts', import.meta.url));
const child = spawnSync(process.execPath, [...flags, '--import', 'tsx', run, ...process.argv.slice(2)], { stdio: 'inherit' });
if (child.error) throw child.error;
process.exit(child.status ?? 1);
