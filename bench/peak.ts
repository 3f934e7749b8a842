// The ceiling every simd-linear number is compared with: bench/peak.as.ts, compiled here
// for each build (plain SIMD mul + add; relaxed SIMD fused madd) and timed like a contender.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { hasRelaxedSimd } from '../dist/internal.js';
import { Timer, type Plan } from './timing.js';

export type Build = 'fixed' | 'relaxed';

/** GFLOP/s of the peak kernel per build; a build absent where the runtime cannot run it. */
export type Peaks = Partial<Record<Build, number>>;

const source = fileURLToPath(new URL('./peak.as.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../build/', import.meta.url));
const features: Record<Build, string> = { fixed: 'simd', relaxed: 'simd,relaxed-simd' };
/** Loop trips per call: about 1.5 ms at 60 GFLOP/s, long against the timer, short against the budget. */
const ITERATIONS = 1_000_000;

/** build/peak[-relaxed].wasm, recompiled when bench/peak.as.ts is newer. */
function compile(build: Build): string {
  const out = `${outDir}peak${build === 'relaxed' ? '-relaxed' : ''}.wasm`;
  const stale = (() => {
    try { return statSync(out).mtimeMs < statSync(source).mtimeMs; } catch { return true; }
  })();
  if (stale) {
    mkdirSync(outDir, { recursive: true });
    const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
    // Run from bench/ so asc does not pick up the package's asconfig.json (which would add assembly/index.ts).
    execFileSync(process.execPath, [
      asc, 'peak.as.ts', '-O3', '--noAssert', '--runtime', 'stub', '--enable', features[build], '-o', out,
    ], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: 'inherit' });
  }
  return out;
}

interface PeakExports {
  peak(n: number, m: number, c: number): number;
  CHAINS: WebAssembly.Global;
  reserve(bytes: number): number;
  read(at: number, bytes: number): number;
  memory: WebAssembly.Memory;
}

/** One call of the peak kernel and its flops, instantiated once per build (it stays tiered up). */
const instances = new Map<Build, { call: () => number; flops: number; exports: PeakExports }>();

async function instance(build: Build): Promise<{ call: () => number; flops: number; exports: PeakExports }> {
  let kernel = instances.get(build);
  if (!kernel) {
    const { instance } = await WebAssembly.instantiate(readFileSync(compile(build)), { env: { abort() {} } });
    const exports = instance.exports as unknown as PeakExports;
    kernel = { call: () => exports.peak(ITERATIONS, 0.999, 0.001), flops: ITERATIONS * (exports.CHAINS.value as number) * 8, exports };
    instances.set(build, kernel);
  }
  return kernel;
}

/**
 * A plain read loop over `bytes` bytes of its own (as many as a product streams of W),
 * in the peak module's memory: the rate a kernel streaming W is held against.
 */
export async function readLoop(bytes: number): Promise<() => number> {
  let loop = readLoops.get(bytes);
  if (!loop) {
    const { exports } = await instance('fixed');
    const at = exports.reserve(bytes);
    // Written first: pages never written all map to one zero page, which stays in cache.
    new Uint8Array(exports.memory.buffer, at, bytes).fill(1);
    loop = () => exports.read(at, bytes);
    readLoops.set(bytes, loop); // memory is only ever added to the module: one loop per size
  }
  return loop;
}
const readLoops = new Map<number, () => number>();

async function measure(build: Build, plan: Plan): Promise<number> {
  const { call, flops } = await instance(build);
  const timer = await Timer.start(call, plan);
  if (!(timer instanceof Timer)) throw new Error(`peak ${build}: ${timer.skipped}`);
  await timer.round(); // one round: the peak is measured again after every shape
  return flops / (timer.result().p50Ms * 1e6);
}

/** The peak of each build this runtime validates. */
export async function measurePeaks(plan: Plan): Promise<Peaks> {
  const peaks: Peaks = { fixed: await measure('fixed', plan) };
  if (hasRelaxedSimd()) peaks.relaxed = await measure('relaxed', plan);
  return peaks;
}

/** The higher of two peak measurements per build: a noisy neighbour only ever lowers the peak. */
export function bestPeaks(a: Peaks, b: Peaks): Peaks {
  const out: Peaks = {};
  for (const build of ['fixed', 'relaxed'] as const) {
    const best = Math.max(a[build] ?? 0, b[build] ?? 0);
    if (best > 0) out[build] = best;
  }
  return out;
}
