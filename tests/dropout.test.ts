// Dropout: inverted dropout in training mode with the draws of its seeded generator, the
// same mask in backward, the identity in eval mode; Sequential.train() / eval(); frozen
// copies run eval.
import { beforeAll, expect, test } from 'vitest';
import { Dropout, init, Linear, ReLU, Sequential } from '../dist/index.js';
import { uniformGenerator } from '../dist/internal.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

test("training mode: element i kept iff the generator's i-th draw ≥ p, kept values scaled by 1/(1 − p); backward uses the same mask", () => {
  const p = 0.3, seed = 11;
  const layer = new Dropout(p, { seed });
  const x = randomArray(1000, 1);
  const next = uniformGenerator(seed);
  const scale = Math.fround(1 / (1 - p));
  for (let call = 0; call < 2; call++) {
    const keep = Array.from({ length: x.length }, () => next() >= p);
    const y = layer.forward(x, 4);
    expect(Array.from(y)).toEqual(Array.from(x, (v, i) => (keep[i] ? Math.fround(v * scale) : v * 0)));
    const dy = randomArray(1000, 2 + call);
    expect(Array.from(layer.backward(dy))).toEqual(Array.from(dy, (v, i) => (keep[i] ? Math.fround(v * scale) : v * 0)));
  }
  const kept = Array.from(layer.forward(x)).filter((v) => v !== 0).length;
  expect(Math.abs(kept / 1000 - 0.7)).toBeLessThan(0.06);
  layer.dispose();
});

test('the same seed gives the same masks; eval mode is the identity; p = 0 and p = 1', () => {
  const a = new Dropout(0.5, { seed: 3 }), b = new Dropout(0.5, { seed: 3 });
  const x = randomArray(64, 4);
  expect(Array.from(a.forward(x))).toEqual(Array.from(b.forward(x)));
  expect(a.training).toBe(true);
  expect(Array.from(a.eval().forward(x))).toEqual(Array.from(x));
  expect(Array.from(a.backward(x))).toEqual(Array.from(x));
  expect(Array.from(new Dropout(0).forward(x))).toEqual(Array.from(x));
  expect(Array.from(new Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
  expect(() => new Dropout(1.5)).toThrow('new Dropout: p must be a probability in [0, 1]; got 1.5');
  expect(() => new Dropout(1.5)).toThrow(RangeError);
  expect(() => new Dropout('0.5' as never)).toThrow(TypeError); // not read as 0.5
  expect(() => new Dropout(null as never)).toThrow('new Dropout: p must be a probability in [0, 1]; got null');
  expect(() => new Dropout(0.5, { seed: NaN })).toThrow('new Dropout: options.seed must be an integer; got NaN');
  expect(() => new Dropout(0.5, { seed: 0.25 })).toThrow('new Dropout: options.seed must be an integer; got 0.25');
  expect(() => a.backward(new Float32Array(3))).toThrow(/Dropout.backward: dy must be a Float32Array of length 64/);
  for (const l of [a, b]) l.dispose();
});

test('Sequential.train() and eval() switch every Dropout; frozen copies run eval; gradients flow through the mask', () => {
  const first = new Linear(8, 16, { seed: 1 }), drop = new Dropout(0.5, { seed: 2 }), last = new Linear(16, 3, { seed: 3 });
  const model = new Sequential([first, new ReLU(), drop, last]);
  const x = randomArray(4 * 8, 5);
  expect(model.training).toBe(true);
  const trainingOutput = model.forward(x, 4).slice();
  model.eval();
  expect([model.training, drop.training]).toEqual([false, false]);
  const evalOutput = model.forward(x, 4).slice();
  expect(trainingOutput).not.toEqual(evalOutput);
  // Eval equals the model without the Dropout.
  expect(Array.from(evalOutput)).toEqual(Array.from(new Sequential([first, new ReLU(), last]).forward(x, 4)));
  model.train();
  model.forward(x, 4);
  model.zeroGrad();
  model.backward(new Float32Array(12).fill(1));
  expect(Array.from(first.weightGrad).some((v) => v !== 0)).toBe(true);
  const frozen = model.freeze();
  expect(frozen.training).toBe(false);
  const frozenOutput = frozen.forward(x, 4).slice();
  frozenOutput.forEach((v, i) => expect(v).toBeCloseTo(evalOutput[i], 5)); // packed W: another summation order
  frozen.train();
  expect(Array.from(frozen.forward(x, 4))).toEqual(Array.from(frozenOutput));
  frozen.dispose();
  model.dispose();
});
