// softmaxCrossEntropy's options against torch.nn.CrossEntropyLoss's definition (mean
// reduction), written from PyTorch's documentation in float64: class weights, ignoreIndex,
// label smoothing (with weights), their gradients by finite differences, bad options.
import { beforeAll, describe, expect, test } from 'vitest';
import { init, softmaxCrossEntropy, type CrossEntropyOptions } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** PyTorch's mean CrossEntropyLoss: ((1 − ε)·Σ w_y·(−log p_y) + (ε/C)·Σ Σ_c w_c·(−log p_c)) / Σ w_y over rows kept. */
function reference(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, { weight, ignoreIndex = -100, labelSmoothing = 0 }: CrossEntropyOptions = {}): number {
  const w = (c: number) => (weight ? weight[c] : 1);
  let nll = 0, smooth = 0, total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === ignoreIndex) continue;
    const row = Array.from({ length: classes }, (_, c) => logits[i * classes + c]);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    nll += w(labels[i]) * (logSum - row[labels[i]]);
    smooth += row.reduce((s, v, c) => s + w(c) * (logSum - v), 0);
    total += w(labels[i]);
  }
  return ((1 - labelSmoothing) * nll + (labelSmoothing / classes) * smooth) / total;
}

const classes = 5, batch = 6;
const logits = randomArray(batch * classes, 1).map((v) => 3 * v);
const labels = Int32Array.from([0, 4, 2, -100, 1, 4]);
const weight = Float32Array.from([0.5, 2, 1, 0.25, 3]);

const others = Int32Array.from([0, 4, 2, 3, 1, 4]);

describe.each<[string, CrossEntropyOptions, Int32Array]>([
  ['ignoreIndex (default −100)', {}, labels],
  ['class weights', { weight }, labels],
  ['label smoothing', { labelSmoothing: 0.1 }, labels],
  ['weights and label smoothing', { weight, labelSmoothing: 0.3 }, labels],
  ['a negative class weight (PyTorch checks none)', { weight: Float32Array.from([0.5, -2, 1, 0.25, 3]), labelSmoothing: 0.1 }, labels],
  ['another ignoreIndex, a class', { ignoreIndex: 4, weight, labelSmoothing: 0.2 }, others],
])('%s', (_, options, labels) => {
  test('loss and gradient as PyTorch defines them', () => {
    const { loss, grad } = softmaxCrossEntropy(logits, labels, classes, options);
    const want = reference(logits, labels, classes, options);
    expect(Math.abs(loss - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
    const eps = 1e-3;
    for (let k = 0; k < logits.length; k++) {
      const up = Float64Array.from(logits), down = Float64Array.from(logits);
      up[k] += eps;
      down[k] -= eps;
      const numeric = (reference(up, labels, classes, options) - reference(down, labels, classes, options)) / (2 * eps);
      expect(Math.abs(grad[k] - numeric), `grad[${k}]`).toBeLessThan(1e-5);
    }
    const ignored = options.ignoreIndex ?? -100;
    labels.forEach((label, i) => { if (label === ignored) expect(Array.from(grad.subarray(i * classes, (i + 1) * classes)).every((v) => v === 0)).toBe(true); });
  });
});

test('large logits: the loss keeps float32 precision (log Σ is not added to the row max first)', () => {
  for (const row of [[1e8, 1e8], [50000, 49990, 49995], [30, 20, 25], [-1e6, -1e6 - 3]]) {
    for (const labelSmoothing of [0, 0.1]) {
      const { loss } = softmaxCrossEntropy(Float32Array.from(row), Int32Array.from([0]), row.length, { labelSmoothing });
      const want = reference(Float32Array.from(row), [0], row.length, { labelSmoothing });
      // Float32's own limit: log Σ of a sum near 1 is good to a few ulps of 1, absolutely.
      expect(Math.abs(loss - want), `${row}, labelSmoothing ${labelSmoothing}`).toBeLessThan(1e-6 * want + 2 ** -22);
    }
  }
});

test('every row ignored: the loss is NaN (0 / 0, as PyTorch) and the gradient zero', () => {
  const { loss, grad } = softmaxCrossEntropy(logits.subarray(0, 10), Int32Array.from([-100, -100]), classes);
  expect(loss).toBeNaN();
  expect(Array.from(grad).every((v) => v === 0)).toBe(true);
});

test('kept weights summing to 0 under a loss that is not: ±∞, as PyTorch divides (NaN only for 0 / 0)', () => {
  const rows = Float32Array.from([2, 0, 1, 0, 3, 1]), labels = Int32Array.from([0, 1]);
  const weight = Float32Array.from([1, -1, 2]);
  const want = reference(rows, labels, 3, { weight });
  expect(Math.abs(want)).toBe(Infinity);
  expect(softmaxCrossEntropy(rows, labels, 3, { weight }).loss).toBe(want);
});

test('every kept row of weight 0: NaN with label smoothing too (it was +∞), as PyTorch\'s 0 / 0', () => {
  const zeroFirst = Float32Array.from([0, 1, 1, 1, 1]);
  for (const labelSmoothing of [0, 0.2, 1]) {
    const { loss, grad } = softmaxCrossEntropy(logits.subarray(0, 10), Int32Array.from([0, 0]), classes, { weight: zeroFirst, labelSmoothing });
    expect(loss, `labelSmoothing ${labelSmoothing}`).toBeNaN();
    expect(grad).toHaveLength(10);
  }
});

test('bad options are clear errors', () => {
  const l = Int32Array.from([0, 1, 2, 3, 4, 0]);
  expect(() => softmaxCrossEntropy(logits, l, classes, { weight: new Float32Array(4) })).toThrow(/softmaxCrossEntropy: options.weight must be a Float32Array of length 5 \(one per class\); got a Float32Array of length 4/);
  expect(() => softmaxCrossEntropy(logits, l, classes, { weight: Float32Array.from([1, 1, Infinity, 1, 1]) })).toThrow('softmaxCrossEntropy: options.weight[2] must be a finite number; got Infinity');
  expect(() => softmaxCrossEntropy(logits, l, classes, { labelSmoothing: 1.5 })).toThrow('softmaxCrossEntropy: options.labelSmoothing must be a number in [0, 1]; got 1.5');
  expect(() => softmaxCrossEntropy(logits, l, classes, { ignoreIndex: 0.5 })).toThrow('softmaxCrossEntropy: options.ignoreIndex must be an integer; got 0.5');
  for (const [options, type] of [[{ ignoreIndex: 0.5 }, RangeError], [{ ignoreIndex: '1' }, TypeError], [{ labelSmoothing: 2 }, RangeError], [{ labelSmoothing: '0.1' }, TypeError]] as const) {
    expect(() => softmaxCrossEntropy(logits, l, classes, options as never), JSON.stringify(options)).toThrow(type);
  }
  expect(() => softmaxCrossEntropy(logits, l, classes, 7 as never)).toThrow(/softmaxCrossEntropy: options must be an object/);
  expect(() => softmaxCrossEntropy(logits, Int32Array.from([0, 1, 2, 3, 4, -1]), classes)).toThrow('softmaxCrossEntropy: labels[5] must be a class index in [0, 5) or ignoreIndex (-100); got -1');
  // An ignoreIndex beyond int32 ignores nothing (no label can equal it).
  expect(softmaxCrossEntropy(logits, l, classes, { ignoreIndex: 2 ** 40 + 1 }).loss).toBeCloseTo(reference(logits, l, classes), 6);
});
