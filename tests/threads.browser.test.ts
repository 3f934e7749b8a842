// Browser only: init({ threads: 2 }) on a cross-origin-isolated page: module Web Workers
// over one shared memory, results bitwise identical to one thread.
import { expect, test } from 'vitest';
import { backendInfo, init, Linear, matmul, shutdown } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

test('two threads in Chromium give the same bits as one', async () => {
  expect(crossOriginIsolated, 'the page is served with COOP/COEP (vitest.config.ts)').toBe(true);
  await init({ ...initOptions, threads: 2 });
  expect(backendInfo().threads).toBe(2);
  const work = () => {
    const a = randomArray(200 * 300, 1), b = randomArray(300 * 517, 2);
    const layer = new Linear(300, 517, { seed: 3, activation: 'relu' });
    const results = [
      matmul(a, b, 200, 300, 517), matmul(b, a, 517, 300, 200, { transposeA: true, transposeB: true }),
      layer.forward(a, 200), layer.backward(randomArray(200 * 517, 4)), layer.weightGrad.slice(),
    ];
    layer.dispose();
    return results;
  };
  const two = work();
  shutdown();
  expect(backendInfo().threads).toBe(1);
  const one = work();
  one.forEach((result, i) => expect(new Uint32Array(result.buffer), `result ${i}`).toEqual(new Uint32Array(two[i].buffer)));
});
