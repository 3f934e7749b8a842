// A module Web Worker using simd-linear as an app would off the main thread: init(),
// then one forward and one backward of a layer, everything posted back to
// tests/worker.browser.test.ts, which checks it against the float64 reference.
import { backendInfo, init, Linear, type InitOptions } from '../dist/index.js';

export interface WorkerJob {
  simd: InitOptions['simd'];
  batch: number;
  inFeatures: number;
  outFeatures: number;
  seed: number;
  x: Float32Array;
  dy: Float32Array;
}

export type WorkerResult = { error: string } | {
  simd: string;
  crossOriginIsolated: boolean;
  w: Float32Array; b: Float32Array;
  y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array;
};

self.onmessage = async ({ data: job }: MessageEvent<WorkerJob>) => {
  let result: WorkerResult;
  try {
    await init({ simd: job.simd });
    const layer = new Linear(job.inFeatures, job.outFeatures, { seed: job.seed });
    const w = layer.weight.slice(), b = layer.bias!.slice(); // copies: the views live in wasm memory
    const y = layer.forward(job.x, job.batch);
    const dx = layer.backward(job.dy);
    result = {
      simd: backendInfo().simd, crossOriginIsolated,
      w, b, y, dx, dw: layer.weightGrad.slice(), db: layer.biasGrad!.slice(),
    };
    layer.dispose();
  } catch (error) {
    result = { error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) };
  }
  postMessage(result);
};
