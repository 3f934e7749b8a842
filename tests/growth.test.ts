// Views survive memory growth, and disposed layers give their memory back.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, matmul, memoryStats } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Forces WebAssembly memory to grow by allocating (and keeping) a layer bigger than all free space. */
function growMemory(): Linear {
  const { memoryBytes: before, liveBytes } = memoryStats();
  const side = Math.ceil(Math.sqrt((before - liveBytes) / 8)) + 256; // W and dW: 8 bytes per weight
  const big = new Linear(side, side, { seed: 0 });
  expect(memoryStats().memoryBytes).toBeGreaterThan(before);
  return big;
}

test('weights, gradients and results stay readable and writable across growth', () => {
  const [batch, din, dout] = [5, 33, 17];
  const layer = new Linear(din, dout, { seed: 1 });
  const x = randomArray(batch * din, 2), dy = randomArray(batch * dout, 3);
  const w = layer.weight.slice(), b = layer.bias!.slice();
  const staleView = layer.weight;

  const y = layer.forward(x);
  const keep = [growMemory()];
  expect(staleView.length).toBe(0); // a view taken before growth is detached: re-read the property
  expect(layer.weight).toEqual(w);
  expect(layer.bias).toEqual(b);
  expectWithin(y, referenceForward(x, w, b, batch, din, dout), productBound(x, w, batch, din, dout, {}, (_, j) => b[j]), 'Y');

  keep.push(growMemory());
  const dx = layer.backward(dy);
  keep.push(growMemory());
  const want = referenceBackward(x, w, dy, batch, din, dout);
  expectWithin(dx, want.dx, productBound(dy, w, batch, dout, din, { transposeB: true }), 'dX');
  expectWithin(layer.weightGrad, want.dw, productBound(x, dy, din, batch, dout, { transposeA: true }), 'dW');

  // Writes through a fresh view after growth reach the kernels.
  layer.weight.fill(0);
  layer.bias!.fill(1);
  keep.push(growMemory());
  expect(layer.forward(x).every((v) => v === 1)).toBe(true);
  expect(matmul(new Float32Array([2]), new Float32Array([5]), 1, 1, 1)).toEqual(new Float32Array([10]));
  for (const big of keep) big.dispose();
  layer.dispose();
});

test('dispose returns memory: create, train, dispose cycles keep memory flat', () => {
  const cycle = (i: number) => {
    const layer = new Linear(64 + (i % 7), 32 + (i % 5), { seed: i });
    layer.forward(randomArray((1 + (i % 9)) * layer.inFeatures, i));
    layer.backward(randomArray((1 + (i % 9)) * layer.outFeatures, i + 1));
    layer.dispose();
  };
  for (let i = 0; i < 50; i++) cycle(i);
  const warm = memoryStats();
  for (let i = 0; i < 500; i++) cycle(i);
  expect(memoryStats()).toEqual(warm);
});

test('memory grows between every pair of calls, and every call still reads and writes correctly', () => {
  const [batch, din, dout] = [3, 21, 11];
  const layer = new Linear(din, dout, { seed: 4 });
  const x = randomArray(batch * din, 5), dy = randomArray(batch * dout, 6);
  const kept: Linear[] = [];
  let w: Float32Array = new Float32Array(0);
  let y: Float32Array = new Float32Array(0);
  const steps: [string, () => void][] = [
    ['write weights', () => layer.weight.set(randomArray(din * dout, 7))],
    ['read weights', () => { w = layer.weight.slice(); expect(w).toEqual(randomArray(din * dout, 7)); }],
    ['write bias', () => layer.bias!.fill(0.25)],
    ['forward', () => { y = layer.forward(x); }],
    ['check Y', () => expectWithin(y, referenceForward(x, w, new Float32Array(dout).fill(0.25), batch, din, dout),
      productBound(x, w, batch, din, dout, {}, () => 0.25), 'Y')],
    ['backward', () => {
      const dx = layer.backward(dy);
      expectWithin(dx, referenceBackward(x, w, dy, batch, din, dout).dx, productBound(dy, w, batch, dout, din, { transposeB: true }), 'dX');
    }],
    ['read gradients', () => expectWithin(layer.weightGrad, referenceBackward(x, w, dy, batch, din, dout).dw,
      productBound(x, dy, din, batch, dout, { transposeA: true }), 'dW')],
    ['zeroGrad', () => layer.zeroGrad()],
    ['gradients are zero', () => expect(layer.weightGrad.every((v) => v === 0) && layer.biasGrad!.every((v) => v === 0)).toBe(true)],
    ['matmul', () => expectWithin(matmul(x, w, batch, din, dout), referenceForward(x, w, null, batch, din, dout), productBound(x, w, batch, din, dout), 'matmul')],
  ];
  for (const [name, step] of steps) {
    kept.push(growMemory());
    try {
      step();
    } catch (error) {
      throw new Error(`after growth, ${name}: ${(error as Error).message}`);
    }
  }
  for (const big of kept) big.dispose();
  layer.dispose();
});

test('memory grows geometrically: 200 layers of 256 KiB take O(log) grow steps, not one per layer', () => {
  const layers: Linear[] = [];
  let bytes = memoryStats().memoryBytes;
  let steps = 0;
  for (let i = 0; i < 200; i++) {
    layers.push(new Linear(256, 128, { seed: i, bias: false })); // W and dW: 256 KiB
    const now = memoryStats().memoryBytes;
    if (now !== bytes) { steps++; bytes = now; }
  }
  // 50 MiB from at most a few MiB: growing by half each time takes ≤ log1.5(50) ≈ 10 steps.
  expect(steps).toBeLessThanOrEqual(12);
  expect(memoryStats().liveBytes).toBeGreaterThanOrEqual(200 * 256 * 1024);
  for (const layer of layers) layer.dispose();
});
