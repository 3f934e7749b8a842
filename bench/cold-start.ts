// `node --import tsx bench/cold-start.ts [--runs N]`: process start to the first forward result in
// Node (a 64×784 batch through a 784→128 Linear), above an empty `node`, for the default entry
// and /inline; medians of N fresh processes each, taken in turns so that drift spreads evenly.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(args.runs);
const dist = new URL('../dist/', import.meta.url).href;

const programs: Record<string, string> = {
  'empty node': '',
  'simd-linear': `
    const { init, Linear } = await import('${dist}index.js');
    await init();
    new Linear(784, 128).forward(new Float32Array(64 * 784), 64);`,
  'simd-linear/inline': `
    const { init, Linear } = await import('${dist}inline.js');
    await init();
    new Linear(784, 128).forward(new Float32Array(64 * 784), 64);`,
};

/** Milliseconds from spawning `node` to its exit, for one run of `program`. */
function once(program: string): number {
  const start = performance.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', program], { stdio: 'ignore' });
  return performance.now() - start;
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(programs).map((name) => [name, []]));
for (let i = 0; i < runs; i++) for (const [name, program] of Object.entries(programs)) samples[name].push(once(program));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const empty = median(samples['empty node']);
console.log(`cold start, median of ${runs} processes (node ${process.versions.node}); empty node ${empty.toFixed(0)} ms`);
for (const name of Object.keys(programs).slice(1)) console.log(`  ${name.padEnd(20)} +${(median(samples[name]) - empty).toFixed(0)} ms`);
