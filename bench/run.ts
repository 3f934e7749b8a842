// `npm run bench`: the layer's forward and backward against the plain-JS reference,
// in GFLOP/s from tinybench's median latency, with the ratio between them.
import { Bench } from 'tinybench';
import { init, Linear } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { label, productFlops, shapeSets, type Shape } from './shapes.js';

interface Row { shape: string; pass: string; simd: number; reference: number }

function randomArray(length: number): Float32Array {
  return Float32Array.from({ length }, () => Math.random() * 2 - 1);
}

/** Median GFLOP/s of `fn` doing `flops` per call; warmed up first so V8 has optimised it. */
async function gflops(fn: () => void, flops: number, slow = false): Promise<number> {
  const bench = new Bench({
    time: slow ? 300 : 800, iterations: slow ? 3 : 20, warmupTime: slow ? 0 : 200, warmupIterations: slow ? 1 : 10,
  });
  bench.add('task', fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`benchmark failed: ${result.state}`);
  return flops / (result.latency.p50 * 1e6);
}

async function measure(shape: Shape): Promise<Row[]> {
  const { batch, inFeatures: din, outFeatures: dout } = shape;
  const layer = new Linear(din, dout, { seed: 1 });
  const x = randomArray(batch * din), dy = randomArray(batch * dout);
  const y = new Float32Array(batch * dout), dx = new Float32Array(batch * din);
  const w = layer.weight.slice(), b = layer.bias!.slice();
  const flops = productFlops(shape);
  layer.forward(x, batch, y);
  const rows = [
    {
      shape: label(shape), pass: 'forward',
      simd: await gflops(() => layer.forward(x, batch, y), flops),
      reference: await gflops(() => referenceForward(x, w, b, batch, din, dout), flops, true),
    },
    {
      shape: label(shape), pass: 'backward (dX + dW + db)',
      simd: await gflops(() => layer.backward(dy, dx), 2 * flops),
      reference: await gflops(() => referenceBackward(x, w, dy, batch, din, dout), 2 * flops, true),
    },
  ];
  layer.dispose();
  return rows;
}

await init();
const rows: Row[] = [];
for (const shape of shapeSets.core) rows.push(...(await measure(shape)));
console.log('GFLOP/s, median of tinybench samples (single thread)');
console.table(rows.map((r) => ({
  'B×d_in×d_out': r.shape,
  pass: r.pass,
  'simd-linear': r.simd.toFixed(1),
  'JS reference': r.reference.toFixed(2),
  'ratio': `${(r.simd / r.reference).toFixed(0)}×`,
})));
