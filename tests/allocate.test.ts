// allocate(): arrays in the module's memory that matmul reads in place — their lifetime
// (dispose, using, garbage), the memory growing under them, and bad input.
import { beforeAll, expect, test } from 'vitest';
import { allocate, init, Linear, matmul, memoryStats, ModuleArray } from '../dist/index.js';
import { runtime } from '../dist/internal.js';
import { expectProduct, expectSameBits, growing, initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** An array of module memory holding `values`. */
function allocated(values: Float32Array): ModuleArray {
  const array = allocate(values.length);
  array.set(values);
  return array;
}

/** Grows the module's memory by one page: views of it taken before are detached (unless it is shared). */
const growMemory = () => runtime('test').heap.memory.grow(1);
const shared = () => typeof SharedArrayBuffer === 'function' && runtime('test').heap.memory.buffer instanceof SharedArrayBuffer;

test('a zero-filled Float32Array of module memory, which matmul reads in place', () => {
  const [m, k, n] = [3, 37, 29];
  const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
  const x = allocate(m * k), w = allocated(b);
  expect(x).toBeInstanceOf(Float32Array);
  expect(x).toBeInstanceOf(ModuleArray);
  expect(x.length).toBe(m * k);
  expect(x.every((v) => v === 0)).toBe(true);
  x.set(a);
  expect(runtime('test').heap.addressOf(x)).toBe(x.byteOffset); // in place: the address matmul reads
  expectProduct(matmul(x, w, m, k, n), a, b, m, k, n);
  expectProduct(matmul(w, x, n, k, m, { transposeA: true, transposeB: true }), b, a, n, k, m, { transposeA: true, transposeB: true });
  // Derived arrays are plain Float32Arrays; a subarray is still read in place.
  expect(x.map((v) => v).constructor).toBe(Float32Array);
  const rows = x.subarray(k);
  expect(rows.constructor).toBe(Float32Array);
  expect(runtime('test').heap.addressOf(rows)).toBe(rows.byteOffset);
  expectProduct(matmul(rows, w, m - 1, k, n), a.subarray(k), b, m - 1, k, n);
  x.dispose();
  w.dispose();
});

test('the same array as a, b and out, and a layer\'s weight beside it', () => {
  const n = 24;
  const values = randomArray(n * n, 3);
  const x = allocated(values);
  const layer = new Linear(n, n, { seed: 4 });
  const want = matmul(values, values, n, n, n);
  expectSameBits(matmul(x, x, n, n, n, { out: x }), want);
  expectSameBits(x, want);
  expectProduct(matmul(x, layer.weight, n, n, n), want, layer.weight.slice(), n, n, n);
  layer.dispose();
  x.dispose();
});

test('after the memory grows, `current` views the same floats and matmul follows the array', () => {
  const [m, k, n] = [2, 16, 40];
  const a = randomArray(m * k, 5), b = randomArray(k * n, 6);
  const x = allocated(a), out = allocate(m * n);
  growMemory();
  if (!shared()) expect(x.length, 'the old view is detached').toBe(0);
  expectSameBits(x.current, a);
  expect(x.current).toBe(x.current); // one view until the memory grows again
  const y = matmul(x, b, m, k, n, { out });
  // out itself where growth left it whole (a shared memory's old buffer shows the same floats), else out viewed now.
  if (shared()) expect(y).toBe(out);
  else expect([y.buffer, y.byteOffset, y.length]).toEqual([out.current.buffer, out.current.byteOffset, m * n]);
  expectProduct(out.current, a, b, m, k, n);
  x.dispose();
  out.dispose();
});

test('operands and out from allocate while the call itself grows the memory', () => {
  const [m, k, n] = [3, 20, 33];
  const a = randomArray(m * k, 7), b = randomArray(k * n, 8);
  const x = allocated(a), out = allocate(m * n);
  const y = growing(() => matmul(x, b, m, k, n, { out }));
  expectProduct(out.current, a, b, m, k, n);
  if (shared()) expect(y).toBe(out);
  else expect([y.buffer, y.byteOffset]).toEqual([out.current.buffer, out.current.byteOffset]);
  x.dispose();
  out.dispose();
});

test('matmul returns the out it is given, an allocate() array too, unless growth detached it', () => {
  const a = allocated(randomArray(6, 9)), out = allocate(4);
  expect(matmul(a, a, 2, 3, 2, { out, transposeB: true })).toBe(out);
  expect(matmul(a, a, 2, 3, 2, { out: a.subarray(0, 4), transposeB: true })).toHaveLength(4);
  a.dispose();
  out.dispose();
});

test('dispose frees it (once), using frees it, and a disposed array is refused by name', () => {
  const before = memoryStats().liveBytes;
  const x = allocate(1000);
  const part = x.subarray(10, 11);
  expect(memoryStats().liveBytes).toBeGreaterThanOrEqual(before + 4000);
  x.dispose();
  x.dispose();
  expect(x.disposed).toBe(true);
  expect(memoryStats().liveBytes).toBe(before);
  expect(() => x.current).toThrow(/ModuleArray\.current: this array was disposed/);
  expect(() => matmul(x, new Float32Array(1000), 1, 1000, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
  expect(() => matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1, { out: x })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
  expect(() => matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1, { out: part })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
  // Its memory may be another layer's by now: no call writes through it, or reads it.
  const victim = new Linear(10, 100, { seed: 3 });
  const weights = victim.weight.slice();
  const layer = new Linear(10, 10, { seed: 4 });
  const frozen = layer.freeze({ weights: 'int8' });
  for (const l of [layer, frozen]) {
    expect(() => l.forward(new Float32Array(100), 10, x)).toThrow(/\.forward: out shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
    expect(() => l.forward(x, 100)).toThrow(/\.forward: x shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
  }
  layer.forward(new Float32Array(100), 10);
  expect(() => layer.backward(x)).toThrow(/Linear\.backward: dy shows memory that is freed or simd-linear's own, or runs past the live array it starts in/);
  expectSameBits(victim.weight, weights);
  for (const l of [victim, layer, frozen]) l.dispose();
  const y = allocate(10);
  y[Symbol.dispose]();
  expect(y.disposed).toBe(true);
  expect(memoryStats().liveBytes).toBe(before);
});

test('bad lengths are clear errors that allocate nothing', () => {
  const before = memoryStats().liveBytes;
  for (const bad of [0, -1, 1.5, NaN, Infinity, '3', null, undefined, 2 ** 53]) {
    expect(() => allocate(bad as number)).toThrow(/allocate: length must be a positive integer; got/);
  }
  expect(() => allocate(2 ** 40)).toThrow(/allocate/);
  expect(memoryStats().liveBytes).toBe(before);
});

test('only allocate makes one', () => {
  const { heap } = runtime('test');
  expect(() => new (ModuleArray as unknown as new (...args: unknown[]) => unknown)(heap, 0, 4)).toThrow(TypeError);
});
