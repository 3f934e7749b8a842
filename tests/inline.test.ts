// The simd-linear/inline entry: the same API with the kernels embedded, no .wasm file read.
import { expect, test } from 'vitest';
import { backendInfo, init, Linear, matmul } from '../dist/inline.js';
import { initOptions } from './support.js';

test('init() from the embedded kernels, then the usual API', async () => {
  await init(initOptions);
  if (initOptions.simd !== 'auto') expect(backendInfo().simd).toBe(initOptions.simd);
  expect(matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1)).toEqual(new Float32Array([11]));
  const layer = Linear.fromTorch([[1, 0], [0, 1]], [1, 2]);
  expect(Array.from(layer.forward(new Float32Array([5, 6])))).toEqual([6, 8]);
  layer.dispose();
});
