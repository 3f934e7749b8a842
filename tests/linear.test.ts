// The layer's three products and bias gradient against the float64 reference,
// accumulation, initialisation, and a finite-difference check of the gradients.
import { beforeAll, describe, expect, test } from 'vitest';
import { init, Linear } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { uniformGenerator } from '../dist/internal.js';
import { centralDifference, expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const shapes = [
  [1, 1, 1], [3, 5, 7], [4, 8, 8], [5, 9, 17], [32, 784, 128], [97, 101, 103], [64, 300, 10], [1, 1024, 33], [300, 3, 2],
  [5, 1, 1031], [1, 2053, 1031], // depth 1 (an outer product); batch 1 with W of 8 MiB
];

describe.each(shapes)('batch %i, %i → %i', (batch, din, dout) => {
  for (const bias of [true, false]) {
    test(`forward, dX, dW, db${bias ? '' : ' (no bias)'}`, () => {
      const layer = new Linear(din, dout, { bias, seed: batch + din + dout });
      const x = randomArray(batch * din, 1);
      const dy = randomArray(batch * dout, 2);
      const w = layer.weight.slice();
      const b = layer.bias?.slice() ?? null;

      const y = layer.forward(x, batch);
      expectWithin(y, referenceForward(x, w, b, batch, din, dout),
        productBound(x, w, batch, din, dout, {}, (_, j) => b?.[j] ?? 0), 'Y');

      const dx = layer.backward(dy);
      const want = referenceBackward(x, w, dy, batch, din, dout);
      expectWithin(dx, want.dx, productBound(dy, w, batch, dout, din, { transposeB: true }), 'dX');
      expectWithin(layer.weightGrad, want.dw, productBound(x, dy, din, batch, dout, { transposeA: true }), 'dW');
      if (bias) expectWithin(layer.biasGrad!, want.db, productBound(new Float32Array(batch).fill(1), dy, 1, batch, dout), 'db');
      else expect(layer.biasGrad).toBeNull();
      layer.dispose();
    });
  }
});

// Batch 1 after batch 1 is the depth-1 (outer product) path accumulating onto itself.
test.each([[6, 12], [1, 1]])('backward accumulates over calls until zeroGrad (batches %i then %i)', (batch1, batch2) => {
  const [din, dout] = [70, 9];
  const layer = new Linear(din, dout, { seed: 3 });
  const w = layer.weight.slice();
  const x1 = randomArray(batch1 * din, 4), dy1 = randomArray(batch1 * dout, 5);
  const x2 = randomArray(batch2 * din, 6), dy2 = randomArray(batch2 * dout, 7);
  layer.forward(x1);
  layer.backward(dy1);
  layer.forward(x2);
  layer.backward(dy2);
  const g1 = referenceBackward(x1, w, dy1, batch1, din, dout);
  const g2 = referenceBackward(x2, w, dy2, batch2, din, dout);
  const dw = g1.dw.map((v, i) => v + g2.dw[i]);
  const db = g1.db.map((v, i) => v + g2.db[i]);
  // Two accumulations: the bound of a product over both batches.
  const xs = new Float32Array([...x1, ...x2]);
  const dys = new Float32Array([...dy1, ...dy2]);
  const rows = batch1 + batch2;
  expectWithin(layer.weightGrad, dw, productBound(xs, dys, din, rows, dout, { transposeA: true }), 'dW');
  expectWithin(layer.biasGrad!, db, productBound(new Float32Array(rows).fill(1), dys, 1, rows, dout), 'db');

  layer.zeroGrad();
  expect(layer.weightGrad.every((v) => v === 0)).toBe(true);
  expect(layer.biasGrad!.every((v) => v === 0)).toBe(true);
  layer.dispose();
});

test('backward twice after one forward adds the same gradient twice', () => {
  const [batch, din, dout] = [2, 5, 3];
  const layer = new Linear(din, dout, { seed: 8 });
  const x = randomArray(batch * din, 9), dy = randomArray(batch * dout, 10);
  layer.forward(x);
  const dx1 = layer.backward(dy);
  expect(layer.backward(dy)).toEqual(dx1);
  const twice = referenceBackward(x, layer.weight, dy, batch, din, dout).dw.map((v) => 2 * v);
  const xx = new Float32Array([...x, ...x]), dydy = new Float32Array([...dy, ...dy]);
  expectWithin(layer.weightGrad, twice, productBound(xx, dydy, din, 2 * batch, dout, { transposeA: true }), 'dW');
  layer.dispose();
});

describe('initialisation', () => {
  test('uniform in ±1/√inFeatures, as PyTorch', () => {
    const layer = new Linear(400, 300, { seed: 1 });
    const bound = 1 / Math.sqrt(400);
    for (const values of [layer.weight, layer.bias!]) {
      expect(Math.max(...values)).toBeLessThanOrEqual(bound);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-bound);
      expect(Math.max(...values)).toBeGreaterThan(0.95 * bound);
      expect(Math.min(...values)).toBeLessThan(-0.95 * bound);
    }
    const mean = layer.weight.reduce((s, v) => s + v, 0) / layer.weight.length;
    expect(Math.abs(mean)).toBeLessThan(0.01 * bound);
    expect(layer.weightGrad.every((v) => v === 0)).toBe(true);
    layer.dispose();
  });

  test('the same seed gives the same weights; another seed others', () => {
    const [a, b, c] = [1, 1, 2].map((seed) => new Linear(20, 10, { seed }));
    expect(a.weight).toEqual(b.weight);
    expect(a.bias).toEqual(b.bias);
    expect(a.weight).not.toEqual(c.weight);
    // Pinned values: the seed means the same weights on every platform and version.
    expect(Array.from(a.weight.slice(0, 3))).toEqual([0.056829195469617844, -0.22238335013389587, 0.01227468904107809]);
    expect(a.bias![9]).toBe(0.2083550989627838);
    for (const layer of [a, b, c]) layer.dispose();
  });

  test('W then b are the seed\'s draws of uniformGenerator, as JavaScript computes them, for any integer seed (its low 32 bits)', () => {
    for (const seed of [0, 1, -1, 2 ** 32 + 5, -(2 ** 40) - 3, 0xffffffff]) {
      const [din, dout] = [37, 5];
      const layer = new Linear(din, dout, { seed });
      const next = uniformGenerator(seed), bound = 1 / Math.sqrt(din);
      const want = Float32Array.from({ length: din * dout + dout }, () => (2 * next() - 1) * bound);
      expectSameBits(layer.weight, want.subarray(0, din * dout), `W, seed ${seed}`);
      expectSameBits(layer.bias!, want.subarray(din * dout), `b, seed ${seed}`);
      layer.dispose();
    }
  });

  test('weights written through the view are used by forward', () => {
    const layer = new Linear(2, 2, { seed: 1 });
    layer.weight.set([1, 2, 3, 4]);
    layer.bias!.set([10, 20]);
    expect(Array.from(layer.forward(new Float32Array([1, 1, 2, 0])))).toEqual([14, 26, 12, 24]);
    layer.dispose();
  });
});

test('gradients match finite differences of a loss through the layer', () => {
  // C = Σ g·Y + ½ΣY², so dC/dY = g + Y. Central differences are exact for a
  // quadratic, leaving only float32 rounding in C.
  const [batch, din, dout] = [3, 5, 4];
  const layer = new Linear(din, dout, { seed: 11 });
  const x = randomArray(batch * din, 12);
  const g = randomArray(batch * dout, 13);
  const loss = (input: Float32Array): number => {
    const y = layer.forward(input, batch);
    let c = 0;
    for (let i = 0; i < y.length; i++) c += g[i] * y[i] + 0.5 * y[i] * y[i];
    return c;
  };
  const y = layer.forward(x, batch);
  const dx = layer.backward(g.map((v, i) => v + y[i]));
  const dw = layer.weightGrad.slice();
  const db = layer.biasGrad!.slice();

  const numeric = (values: () => Float32Array, i: number, input: Float32Array) => centralDifference(() => loss(input), values, i);
  const close = (analytic: number, fd: number) => expect(Math.abs(analytic - fd)).toBeLessThan(2e-3 * (1 + Math.abs(fd)));
  for (let i = 0; i < dw.length; i++) close(dw[i], numeric(() => layer.weight, i, x));
  for (let j = 0; j < db.length; j++) close(db[j], numeric(() => layer.bias!, j, x));
  const xs = x.slice();
  for (let i = 0; i < dx.length; i++) close(dx[i], numeric(() => xs, i, xs));
  layer.dispose();
});

describe('PyTorch layout', () => {
  test('fromTorch takes nn.Linear tensors (weight out×in) and toTorch gives them back', () => {
    const layer = Linear.fromTorch([[1, 2, 3], [4, 5, 6]], [0.5, -0.5]);
    expect([layer.inFeatures, layer.outFeatures]).toEqual([3, 2]);
    expect(Array.from(layer.weight)).toEqual([1, 4, 2, 5, 3, 6]); // in×out here
    expect(Array.from(layer.forward(new Float32Array([1, 1, 1])))).toEqual([6.5, 14.5]);
    const torch = layer.toTorch();
    expect(torch.weight.shape).toEqual([2, 3]);
    expect(Array.from(torch.weight.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(torch.bias!.data)).toEqual([0.5, -0.5]);
    const again = Linear.fromTorch(torch.weight, torch.bias!.data, { activation: 'relu' });
    expect(again.weight).toEqual(layer.weight);
    expect(again.activation).toBe('relu');
    expect(Linear.fromTorch({ shape: [1, 2], data: new Float32Array([3, 4]) }).bias).toBeNull();
    const roundTrip = Linear.fromTorch(torch.weight, torch.bias); // toTorch()'s bias as it is
    expect([roundTrip.weight, roundTrip.bias]).toEqual([layer.weight, layer.bias]);
    for (const l of [layer, again, roundTrip]) l.dispose();
  });

  test('fromTorch rejects ragged or mis-sized tensors clearly', () => {
    expect(() => Linear.fromTorch([[1, 2], [3]])).toThrow(/Linear.fromTorch: weight must be a non-empty out×in array of equal rows/);
    expect(() => Linear.fromTorch([[1, 2]], [1, 2])).toThrow('Linear.fromTorch: bias must hold outFeatures = 1 numbers or be null; got an Array of length 2');
    expect(() => Linear.fromTorch({ shape: [2, 2], data: new Float32Array(3) })).toThrow(/weight.data must be a Float32Array of length 4 \(out·in = 2·2\)/);
  });

  test('fromTorch takes numbers only: holes, strings, null, booleans, objects, deeper nesting and BigInts are refused by position', () => {
    const cases: [unknown, unknown, string][] = [
      // eslint-disable-next-line no-sparse-arrays
      [[[1, , 3], [4, 5, 6]], null, 'weight[0][1] must be a number; got undefined'],
      [[[1, 'x', 3]], null, 'weight[0][1] must be a number; got the string "x"'],
      [[[1, 2], [null, 4]], null, 'weight[1][0] must be a number; got null'],
      [[[true, 2]], null, 'weight[0][0] must be a number; got a boolean'],
      [[[[1], [2]]], null, 'weight[0][0] must be a number; got an Array of length 1'],
      [[[1n, 2]], null, 'weight[0][0] must be a number; got a bigint'],
      [[[1, 2], [3, 4]], ['a', null], 'bias[0] must be a number; got the string "a"'],
      [[[1, 2], [3, 4]], { shape: [3], data: new Float32Array(3) }, 'bias.shape must be [2]; got an Array of length 1'],
      [[[1, 2], [3, 4]], { shape: [2], data: [1, 2] }, 'bias.data must be a Float32Array of length 2 (outFeatures)'],
      [[[1, 2], [3, 4]], 7, 'bias must hold outFeatures = 2 numbers or be null; got 7'],
    ];
    for (const [weight, bias, message] of cases) {
      expect(() => Linear.fromTorch(weight as number[][], bias as number[]), message).toThrow(`Linear.fromTorch: ${message}`);
    }
  });
});
