// The activations added for PyTorch parity (SiLU, GELU tanh, ELU, ReLU6, Softplus): values
// within a stated number of float32 ulps of float64 on a dense grid and across magnitudes,
// derivatives, non-finite inputs as PyTorch propagates them, the layers' own parameters
// (ELU alpha, Softplus beta and threshold) and their errors. Fused forms: tests/training.test.ts.
import { beforeAll, describe, expect, test } from 'vitest';
import { ELU, GELU, init, LeakyReLU, Linear, ReLU, ReLU6, Sigmoid, SiLU, Softplus } from '../dist/index.js';
import { activations } from './reference-nn.js';
import { initOptions } from './support.js';

beforeAll(() => init(initOptions));

const grid = (() => {
  const values: number[] = [];
  for (let i = -40000; i <= 40000; i++) values.push(i / 1000);
  for (let e = -40; e <= 1; e++) for (const s of [1, -1]) for (const m of [1, 1.37, 3.3]) values.push(s * m * 10 ** e);
  return Float32Array.from(values);
})();

/** One float32 ulp at v (the spacing of floats around it; the smallest subnormal at 0). */
const ulp = (v: number) => (v === 0 ? 2 ** -149 : 2 ** Math.max(Math.floor(Math.log2(Math.abs(Math.fround(v)))) - 23, -149));

// Measured with this grid (README's table): [ulps where |z| ≤ 5, ulps anywhere]. GELU tanh's tail is ill-conditioned:
// a rounding of the inner cubic in float32 moves e^(2u) by tens of ulps once y is below 1e-6.
const ULPS = { silu: [3, 3], geluTanh: [40, 160], elu: [2, 2], relu6: [0, 0], softplus: [3, 3] } as const;
const layers = { silu: () => new SiLU(), geluTanh: () => new GELU({ approximate: 'tanh' }), elu: () => new ELU(), relu6: () => new ReLU6(), softplus: () => new Softplus() };

describe.each(Object.keys(ULPS) as (keyof typeof ULPS)[])('%s', (name) => {
  const { f, df } = activations[name];

  test('within its stated ulps of float64, and its derivative within 2e-6 (relative above 1)', () => {
    const layer = layers[name]();
    const y = layer.forward(grid, 1);
    const d = layer.backward(new Float32Array(grid.length).fill(1));
    const [near, anywhere] = ULPS[name];
    const bad: string[] = [];
    for (let i = 0; i < grid.length && bad.length < 5; i++) {
      const z = grid[i], want = f(z);
      // Below 2⁻¹⁰⁰ float32 keeps few digits: an absolute error there (and 0 for a result that underflows).
      const error = Math.abs(want) >= 2 ** -100 ? Math.abs(y[i] - want) / ulp(want) : Math.abs(y[i] - want) / 1e-35;
      if (!(error <= (Math.abs(z) <= 5 ? near : anywhere) + 0.5)) bad.push(`f(${z}) = ${y[i]}, want ${want} (${error.toFixed(1)} ulp)`);
      const wd = df(z);
      if (!(Math.abs(d[i] - wd) <= 2e-6 * Math.max(1, Math.abs(wd)))) bad.push(`f'(${z}) = ${d[i]}, want ${wd}`);
    }
    expect(bad).toEqual([]);
    layer.dispose();
  });
});

// GELU's exact (erf) form, as the README's table states it: Φ comes from Abramowitz and Stegun 7.1.26, whose erf is
// within 1.5e-7 absolutely, so below −2, where y is small, the error is that absolute one times |z|/2, not ulps.
test('GELU(): within 7 ulps from −1 up, 39 in [−2, −1], and 7.5e-8·|z| (plus an ulp) below −2', () => {
  const gelu = new GELU();
  const y = gelu.forward(grid, 1);
  const bad: string[] = [];
  grid.forEach((z, i) => {
    const want = activations.gelu.f(z), error = Math.abs(y[i] - want);
    if (Math.abs(want) < 2 ** -100) return;
    const ok = z >= -1 ? error <= 7.5 * ulp(want) : z >= -2 ? error <= 39.5 * ulp(want) : error <= 7.5e-8 * Math.abs(z) + ulp(want);
    if (!ok && bad.length < 5) bad.push(`gelu(${z}) = ${y[i]}, want ${want}`);
  });
  expect(bad).toEqual([]);
  gelu.dispose();
});

// e^x is finite up to ln(FLT_MAX) ≈ 88.72: σ(z) = 1/(1 + e^−z) and SiLU there are normal or subnormal floats, not a
// clamped e^88.38 (which had SiLU 2–38% off between −88.72 and −88.38; the dense grid above stops at ±40).
test('near the end of e^x\'s range: SiLU within its ulps, Sigmoid within one, layer and fused alike', () => {
  const z = Float32Array.from({ length: 173 }, (_, i) => -88.72 + i / 100);
  const silu = new SiLU(), sigmoid = new Sigmoid();
  const fused = Linear.fromTorch([[1]], null, { activation: 'silu' });
  const bad: string[] = [];
  const check = (name: string, y: Float32Array, f: (z: number) => number, ulps: number) => z.forEach((v, i) => {
    const error = Math.abs(y[i] - f(v)) / ulp(f(v));
    if (!(error <= ulps + 0.5)) bad.push(`${name}(${v}) = ${y[i]}, want ${f(v)} (${error.toFixed(1)} ulp)`);
  });
  check('SiLU', silu.forward(z, 1), activations.silu.f, ULPS.silu[1]);
  check('fused silu', fused.forward(z, z.length), activations.silu.f, ULPS.silu[1]);
  check('Sigmoid', sigmoid.forward(z, 1), activations.sigmoid.f, 1);
  expect(bad).toEqual([]);
  for (const l of [silu, sigmoid, fused]) l.dispose();
});

// PyTorch's threshold_backward and hardtanh_backward select dY where the unit is on: an infinite or NaN dY
// where it is off gives 0 (a product would give ∞·0 = NaN), and a NaN z lets dY through (NaN ≤ 0 is false).
test('ReLU, ReLU6 and ELU backward select as PyTorch does: ∞ where a unit is off is 0, a NaN z passes dY', () => {
  const z = Float32Array.of(-1, -1, 2, NaN, 7, -0.5);
  const dy = Float32Array.of(Infinity, NaN, 3, 4, -Infinity, 5);
  const relu = new ReLU(), relu6 = new ReLU6(), elu = new ELU();
  for (const l of [relu, relu6, elu]) l.forward(z, 1);
  expect(Array.from(relu.backward(dy))).toEqual([0, 0, 3, 4, -Infinity, 0]);
  expect(Array.from(relu6.backward(dy))).toEqual([0, 0, 3, 4, 0, 0]);
  expect(Array.from(elu.backward(dy)).slice(2, 4)).toEqual([3, 4]); // 1 for z = NaN, as elu_backward's z ≤ 0 test
  // Fused into a Linear: the unit off (z = −1) takes no part of an infinite dY, in dX, dW or db.
  const layer = Linear.fromTorch([[1], [1]], [-2, 0], { activation: 'relu' }); // z = x − 2 and x
  layer.forward(Float32Array.of(1), 1); // z = [−1, 1]
  expect(Array.from(layer.backward(Float32Array.of(Infinity, 2)))).toEqual([2]);
  expect(Array.from(layer.weightGrad)).toEqual([0, 2]);
  expect(Array.from(layer.biasGrad!)).toEqual([0, 2]);
  for (const l of [relu, relu6, elu, layer]) l.dispose();
});

test('non-finite inputs come out as PyTorch gives them', () => {
  const special = Float32Array.of(-Infinity, Infinity, NaN);
  const want = { silu: [NaN, Infinity, NaN], geluTanh: [NaN, Infinity, NaN], elu: [-1, Infinity, NaN], relu6: [0, 6, NaN], softplus: [0, Infinity, NaN] };
  for (const [name, values] of Object.entries(want)) {
    const layer = layers[name as keyof typeof layers]();
    expect(Array.from(layer.forward(special, 1)), name).toEqual(values);
    layer.dispose();
  }
});

test("the layers' parameters: ELU alpha, Softplus beta and threshold, GELU's approximate; bad values are clear errors", () => {
  const z = Float32Array.of(-2, -0.5, 0.5, 3, 30);
  const elu = new ELU({ alpha: 0.5 });
  expect(Array.from(elu.forward(z, 1))).toEqual(Array.from(z, (v) => Math.fround(v > 0 ? v : 0.5 * Math.expm1(v))).map((v, i) => (i < 2 ? expect.closeTo(v, 7) : v)));
  const softplus = new Softplus({ beta: 2, threshold: 5 });
  const y = softplus.forward(z, 1);
  Array.from(z).forEach((v, i) => expect(y[i]).toBeCloseTo(2 * v > 5 ? v : Math.log1p(Math.exp(2 * v)) / 2, 6));
  expect(y[3]).toBe(3); // 2·3 > 5: x itself
  const dy = softplus.backward(new Float32Array(5).fill(1));
  Array.from(z).forEach((v, i) => expect(dy[i]).toBeCloseTo(2 * v > 5 ? 1 : 1 / (1 + Math.exp(-2 * v)), 6));
  expect(() => new ELU({ alpha: NaN })).toThrow('new ELU: options.alpha must be a finite number; got NaN');
  expect(() => new Softplus({ beta: 0 })).toThrow('new Softplus: options.beta must be positive; got 0');
  expect(() => new Softplus({ threshold: Infinity })).toThrow('new Softplus: options.threshold must be a finite number; got Infinity');
  expect(() => new GELU({ approximate: 'erf' as never })).toThrow(`new GELU: options.approximate must be 'none' or 'tanh'; got the string "erf"`);
  expect(() => new ELU(3 as never)).toThrow('new ELU: options must be an object ({ alpha }); got 3');
  // null is not a value left out (the default): it is refused, as a slope of null would be anywhere else.
  expect(() => new ELU({ alpha: null } as never)).toThrow('new ELU: options.alpha must be a finite number; got null');
  expect(() => new LeakyReLU({ negativeSlope: null } as never)).toThrow('new LeakyReLU: options.negativeSlope must be a finite number; got null');
  expect(() => new GELU({ approximate: null } as never)).toThrow(`new GELU: options.approximate must be 'none' or 'tanh'; got null`);
  expect(() => new Linear(2, 2, { activation: 'swish' as never })).toThrow(/options.activation must be one of .*'silu', 'geluTanh', 'elu', 'relu6', 'softplus'; got the string "swish"/);
  for (const l of [elu, softplus]) l.dispose();
});

test('fused, ELU has alpha 1 and Softplus beta 1 whatever negativeSlope says', () => {
  const z = Float32Array.of(-1, 0.5);
  for (const activation of ['elu', 'softplus'] as const) {
    const layer = new Linear(1, 2, { bias: false, activation, negativeSlope: 0.2 });
    layer.weight.set(z);
    const y = layer.forward(Float32Array.of(1));
    Array.from(z).forEach((v, i) => expect(y[i]).toBeCloseTo(activations[activation].f(v), 6));
    layer.dispose();
  }
});
