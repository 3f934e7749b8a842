// `node --import tsx bench/growth.ts [runs]` (after `npm run build`): what growing the
// memory costs. Each run is a fresh process that creates 1000 `new Linear(512, 512)`
// (W and dW: 2 MB each) into a memory that must grow, disposes them, and creates them
// again into the memory now large enough (its pages already touched). A third pass, in
// a process of its own, creates them into memory grown in one step but never touched:
// the pages' first touch (the OS zero-filling them, about 1 s per GiB here) is a cost
// of using new memory that no growth policy avoids; the rest is what growing adds.
// A fresh process per run, because a grown memory never shrinks. Prints the medians.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LAYERS = 1000;
const SIDE = 512;

interface Run { growingMs: number; grownMs: number; untouchedMs: number; growSteps: number; memoryBytes: number }

/** One run, in this process: the times of both passes and how often the memory grew. */
async function measure(mode: 'fresh' | 'untouched'): Promise<Partial<Run>> {
  const { init, Linear, memoryStats } = await import('../dist/index.js');
  const { runtime } = await import('../dist/internal.js');
  await init();
  if (mode === 'untouched') {
    // One grow to more than the pass needs, through the heap; none of its pages written.
    const { heap } = runtime('bench');
    heap.release(heap.alloc(LAYERS * 2.1 * 2 ** 20));
  }
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
  if (mode === 'untouched') return { untouchedMs: growing.ms };
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

function child(mode: 'fresh' | 'untouched'): Partial<Run> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as Partial<Run>;
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measure(process.argv[3] as 'fresh' | 'untouched')));
} else {
  const runs = Number(process.argv[2] ?? 5);
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const run = { ...child('fresh'), ...child('untouched') } as Run;
    results.push(run);
    console.log(
      `run ${i + 1}: growing ${run.growingMs.toFixed(0)} ms, grown ${run.grownMs.toFixed(0)} ms, ` +
      `grown untouched ${run.untouchedMs.toFixed(0)} ms, ` +
      `${run.growSteps} grow steps, memory ${(run.memoryBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  const growing = median(results.map((r) => r.growingMs));
  const grown = median(results.map((r) => r.grownMs));
  const untouched = median(results.map((r) => r.untouchedMs));
  console.log(
    `median of ${runs}: growing ${growing.toFixed(0)} ms, grown ${grown.toFixed(0)} ms (ratio ${(growing / grown).toFixed(2)}×), ` +
    `grown untouched ${untouched.toFixed(0)} ms (ratio ${(growing / untouched).toFixed(2)}×)`,
  );
}
