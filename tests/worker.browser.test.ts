// Browser only: the default entry inside a module Web Worker (the .wasm found through
// import.meta.url and fetched from the worker), on a cross-origin-isolated page.
import { expect, test } from 'vitest';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import type { WorkerJob, WorkerResult } from './linear-worker.js';
import { expectWithin, initOptions, productBound, randomArray } from './support.js';

function runInWorker(job: WorkerJob): Promise<WorkerResult> {
  const worker = new Worker(new URL('./linear-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<WorkerResult>((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<WorkerResult>) => resolve(data);
    worker.onerror = (event) => reject(new Error(`the worker failed to start or threw: ${event.message}`));
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}

test('init(), forward and backward in a module Web Worker match the reference', async () => {
  expect(crossOriginIsolated, 'the page is served with COOP/COEP (vitest.config.ts)').toBe(true);
  const [batch, din, dout] = [37, 70, 45];
  const x = randomArray(batch * din, 1), dy = randomArray(batch * dout, 2);
  const result = await runInWorker({ simd: initOptions.simd, batch, inFeatures: din, outFeatures: dout, seed: 3, x, dy });
  if ('error' in result) throw new Error(`in the worker: ${result.error}`);

  expect(result.crossOriginIsolated).toBe(true);
  if (initOptions.simd !== 'auto') expect(result.simd).toBe(initOptions.simd);
  const { w, b } = result;
  expectWithin(result.y, referenceForward(x, w, b, batch, din, dout), productBound(x, w, batch, din, dout, {}, (_, j) => b[j]), 'Y');
  const want = referenceBackward(x, w, dy, batch, din, dout);
  expectWithin(result.dx, want.dx, productBound(dy, w, batch, dout, din, { transposeB: true }), 'dX');
  expectWithin(result.dw, want.dw, productBound(x, dy, din, batch, dout, { transposeA: true }), 'dW');
  expectWithin(result.db, want.db, productBound(new Float32Array(batch).fill(1), dy, 1, batch, dout), 'db');
});

test("the GEMM worker's script imported on the page itself listens to nothing (it would answer the page's messages)", async () => {
  const before = window.onmessage;
  await import('../dist/worker.js');
  expect(window.onmessage).toBe(before);
  window.postMessage({ module: null }, '*'); // would have reached its setup
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(window.onmessage).toBe(before);
});
