// Requests beyond what wasm32 memory can hold fail clearly, and nothing breaks after.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, matmul, memoryStats } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

test('a layer bigger than 4 GiB is a RangeError naming the bytes, and smaller layers still work', () => {
  const before = memoryStats();
  // W and dW of 40000·30000 floats, b and db of 30000: 9,600,240,000 bytes.
  expect(() => new Linear(40_000, 30_000)).toThrow(RangeError);
  expect(() => new Linear(40_000, 30_000)).toThrow(/cannot allocate 9600240000 bytes: WebAssembly memory is limited to 4 GiB/);
  expect(memoryStats()).toEqual(before);

  const layer = new Linear(8, 4, { seed: 1 });
  expect(layer.forward(randomArray(16, 1))).toHaveLength(8);
  expect(() => layer.forward(new Float32Array(8 * 200_000_000), 200_000_000)).toThrow(/cannot allocate \d+ bytes/);
  expect(layer.backward(randomArray(8, 2))).toHaveLength(16); // the last good forward is still there
  layer.dispose();
});

test('a product whose result cannot fit is a RangeError naming the bytes', () => {
  const a = new Float32Array(70_000), b = new Float32Array(70_000);
  expect(() => matmul(a, b, 70_000, 1, 70_000)).toThrow(/cannot allocate 19600560000 bytes/);
  expect(matmul(new Float32Array([2]), new Float32Array([4]), 1, 1, 1)).toEqual(new Float32Array([8]));
});
