// `node --import tsx bench/growth.ts [runs]` (after `npm run build`): what growing the
// memory costs. Each run is a fresh process that creates 1000 `new Linear(512, 512)`
// (W and dW: 2 MB each) into a memory that must grow, disposes them, and creates them
// again into the memory now large enough. A fresh process per run, because a grown
// memory never shrinks. Prints the medians and their ratio (growing / grown).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LAYERS = 1000;
const SIDE = 512;

interface Run { growingMs: number; grownMs: number; growSteps: number; memoryBytes: number }

/** One run, in this process: the times of both passes and how often the memory grew. */
async function measure(): Promise<Run> {
  const { init, Linear, memoryStats } = await import('../dist/index.js');
  await init();
  let growSteps = 0;
  let bytes = memoryStats().memoryBytes;
  const pass = (): { ms: number; layers: InstanceType<typeof Linear>[] } => {
    const layers: InstanceType<typeof Linear>[] = [];
    const start = performance.now();
    for (let i = 0; i < LAYERS; i++) {
      layers.push(new Linear(SIDE, SIDE, { seed: i }));
      const now = memoryStats().memoryBytes;
      if (now !== bytes) { growSteps++; bytes = now; }
    }
    return { ms: performance.now() - start, layers };
  };
  const growing = pass();
  for (const layer of growing.layers) layer.dispose();
  const grown = pass();
  for (const layer of grown.layers) layer.dispose();
  return { growingMs: growing.ms, grownMs: grown.ms, growSteps, memoryBytes: bytes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measure()));
} else {
  const runs = Number(process.argv[2] ?? 5);
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8' });
    const run = JSON.parse(out.trim().split('\n').pop()!) as Run;
    results.push(run);
    console.log(
      `run ${i + 1}: growing ${run.growingMs.toFixed(0)} ms, grown ${run.grownMs.toFixed(0)} ms, ` +
      `${run.growSteps} grow steps, memory ${(run.memoryBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  const growing = median(results.map((r) => r.growingMs));
  const grown = median(results.map((r) => r.grownMs));
  console.log(
    `median of ${runs}: growing ${growing.toFixed(0)} ms, grown ${grown.toFixed(0)} ms, ratio ${(growing / grown).toFixed(2)}×`,
  );
}
