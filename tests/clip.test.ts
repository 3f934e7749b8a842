// clipGradNorm against torch.nn.utils.clip_grad_norm_'s definition, in float64.
import { beforeAll, expect, test } from 'vitest';
import { clipGradNorm, init, Linear, Sequential } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

function modelWithGradients() {
  const a = new Linear(13, 7, { seed: 1 }), b = new Linear(7, 3, { seed: 2 });
  const model = new Sequential([a, b]);
  model.forward(randomArray(5 * 13, 3), 5);
  model.backward(randomArray(15, 4));
  return { model, grads: () => model.parameters().map((p) => p.grad.slice()) };
}

const norm = (grads: Float32Array[]) => Math.sqrt(grads.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0));

test('returns the L2 norm of all gradients; scales them by maxNorm / (norm + 1e-6) when that is below 1', () => {
  const { model, grads } = modelWithGradients();
  const before = grads();
  const total = norm(before);
  expect(clipGradNorm(model, total * 2)).toBeCloseTo(total, 5);
  expect(grads()).toEqual(before); // above the norm: unchanged
  const maxNorm = total / 3;
  expect(clipGradNorm(model.parameters(), maxNorm)).toBeCloseTo(total, 5);
  const coefficient = maxNorm / (total + 1e-6);
  grads().forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(before[i][j] * coefficient, 6)));
  expect(norm(grads())).toBeCloseTo(maxNorm, 5);
  model.dispose();
});

test('each tensor counted once; a NaN gradient makes all NaN, as PyTorch; bad input is a clear error', () => {
  const { model, grads } = modelWithGradients();
  const params = model.parameters();
  const total = norm(grads());
  expect(clipGradNorm([...params, params[0]], Infinity)).toBeCloseTo(total, 5);
  expect(() => clipGradNorm(model, -1)).toThrow('clipGradNorm: maxNorm must be a number ≥ 0; got -1');
  expect(() => clipGradNorm(model, -1)).toThrow(RangeError);
  expect(() => clipGradNorm(model, '1' as never)).toThrow(TypeError);
  expect(() => clipGradNorm(model, NaN)).toThrow('clipGradNorm: maxNorm must be a number ≥ 0; got NaN');
  expect(() => clipGradNorm([{}] as never, 1)).toThrow(/clipGradNorm: params must be a list of parameters/);
  params[0].grad[0] = NaN;
  expect(clipGradNorm(model, 1)).toBeNaN();
  expect(grads().every((g) => g.every(Number.isNaN))).toBe(true);
  model.dispose();
  expect(() => clipGradNorm(params, 1)).toThrow(/clipGradNorm: params\[0\]: this Linear layer was disposed/); // which one, named
});

test("normType as torch's norm_type: any p > 0, Infinity or 'inf' (the largest |g|); anything else is a clear error", () => {
  const { model, grads } = modelWithGradients();
  const flat = grads().flatMap((g) => [...g]);
  const pNorm = (p: number) => (p === Infinity ? Math.max(...flat.map(Math.abs)) : flat.reduce((s, v) => s + Math.abs(v) ** p, 0) ** (1 / p));
  // Summed in float64, returned in float32: within float32's rounding of the float64 norm.
  for (const p of [1, 0.5, 3, Infinity]) expect(Math.abs(clipGradNorm(model, 1e9, p) / pNorm(p) - 1), `p = ${p}`).toBeLessThan(2 ** -24);
  expect(clipGradNorm(model, 1e9, 'inf')).toBe(Math.fround(pNorm(Infinity)));
  expect(clipGradNorm(model, 1e9, 2)).toBe(clipGradNorm(model, 1e9));
  const unclipped = grads();
  for (const bad of [0, -1, NaN, -Infinity]) {
    expect(() => clipGradNorm(model, 1, bad)).toThrow(new RangeError(`clipGradNorm: normType must be a number > 0, Infinity or 'inf'; got ${bad}`));
  }
  expect(() => clipGradNorm(model, 1, '2' as never)).toThrow(new TypeError("clipGradNorm: normType must be a number > 0, Infinity or 'inf'; got the string \"2\""));
  expect(grads()).toEqual(unclipped); // a refused call changes nothing
  // Clipping by the largest |g|: every gradient scaled so that it is maxNorm.
  const before = grads(), largest = pNorm(Infinity);
  clipGradNorm(model, largest / 4, Infinity);
  const coefficient = Math.fround(Math.fround(largest / 4) / (Math.fround(largest) + 1e-6));
  grads().forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(before[i][j] * coefficient, 6)));
  model.dispose();
});
