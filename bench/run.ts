// `npm run bench [-- --set <name>] [--quick] [--out <dir>]`: the performance suite. Measures
// every shape of the chosen sets (contenders in turn within each shape), the training step and
// the peak between shapes; prints the tables, writes latest.json and chart.svg.
// Started by bench/launch.ts, which enables relaxed SIMD on Node 20.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendInfo, init } from '../dist/index.js';
import { writeChart } from './chart.js';
import { createContenders } from './contenders.js';
import { bestPeaks, measurePeaks } from './peak.js';
import { writeJson, formatReport } from './report.js';
import { bestBuild, derive, machine, type Measurement, type Results } from './results.js';
import { label, selectShapes, shapeSets } from './shapes.js';
import { measureShape, measureTrainingStep } from './suite.js';
import { plans } from './timing.js';

const { values: args } = parseArgs({
  options: {
    set: { type: 'string', default: 'all' },
    quick: { type: 'boolean', default: false },
    skip: { type: 'string', default: '' },
    shapes: { type: 'string', default: '' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench -- [--set all|${Object.keys(shapeSets).join('|')}] [--quick] [--out <dir>]
  --set    shape set to run (default all: every set, each shape once)
  --quick  short timings, for a smoke test; numbers are rough
  --skip   contenders to leave out, by name, comma-separated (e.g. ml-matrix,JS: the float64
           loops add minutes to a set of many shapes and nothing to small-batch ratios)
  --shapes only these shapes of the set, batch×in×out comma-separated (e.g. 1x1000x1000,4x512x512)
  --out    where latest.json and chart.svg go (default bench/results for a full run;
           bench/results/partial for one set, so the committed results stay whole)
A full run (--set all) ends with the threads bench (npm run bench:threads).`);
  process.exit(0);
}

const plan = args.quick ? plans.quick : plans.full;
const only = new Set(args.shapes.split(',').filter(Boolean).map((s) => s.replaceAll('x', '×')));
const entries = selectShapes(args.set).filter((e) => !only.size || only.has(label(e.shape)));
if (!entries.length) throw new Error(`--shapes ${args.shapes}: none of them is in the set ${args.set}`);
const started = performance.now();

await init(); // the layer-level numbers use what an application gets: relaxed where the runtime has it
const layerBuild = backendInfo().simd;
const created = await createContenders();
const skipped = new Set(args.skip.split(',').filter(Boolean));
const contenders = created.contenders.filter((c) => !skipped.has(c.name));
const { notes, tfjs } = created;
if (skipped.size) notes.push(`left out: ${[...skipped].join(', ')}`);
// The peak is re-measured after every shape and the best kept: a ceiling is what the core does when
// the neighbours are quiet, and the load on this shared machine drifts over a run of minutes.
let peak = await measurePeaks(plan);

const measurements: Measurement[] = [];
const lastMlp = entries.map((e) => e.set).lastIndexOf('mlp'); // the training step goes with the MLP's shapes
for (const [i, entry] of entries.entries()) {
  console.error(`[${i + 1}/${entries.length}] ${entry.set}: ${entry.shape.name} (at ${((performance.now() - started) / 1e3).toFixed(0)} s)`);
  measurements.push(...(await measureShape(entry, contenders, plan, layerBuild)));
  if (i === lastMlp) measurements.push(...(await measureTrainingStep(tfjs.tf, plan, layerBuild)));
  peak = bestPeaks(peak, await measurePeaks(plan));
}
derive(measurements, peak);

const results: Results = {
  machine: machine(),
  options: {
    set: args.set,
    quick: args.quick,
    callLimits: Object.fromEntries(contenders.flatMap((c) => (c.limit ? [[c.name, c.limit.seconds * plan.limitScale]] : []))),
  },
  peak,
  layerBuild,
  bestBuild: bestBuild(measurements),
  contenders: {
    ...Object.fromEntries(contenders.map((c) => [c.name, c.description])),
    'simd-linear layer': `the public API (init, Linear, Linear.freeze) on the ${layerBuild} build: forward / backward with copies in and out`,
  },
  notes: [...notes, `node flags: ${process.execArgv.filter((a) => a.startsWith('--') && a !== '--import').join(' ') || 'none'}`, `${args.quick ? 'quick' : 'full'} run took ${((performance.now() - started) / 60e3).toFixed(1)} min`],
  measurements,
};
console.log(formatReport(results));
const out = resolve(args.out ?? fileURLToPath(new URL(args.set === 'all' ? './results' : './results/partial', import.meta.url)));
console.log(`\nwrote ${writeJson(out, results)} and ${writeChart(out, results)}`);
