// The training pieces against float64 references: activations (fused and as layers),
// losses, optimizer steps, and finite-difference gradients through whole models.
import { beforeAll, describe, expect, test } from 'vitest';
import {
  AdamW, ELU, ReLU6, SiLU, Softplus, GELU, init, LeakyReLU, Linear, mse, ReLU, SGD, Sequential, Sigmoid, softmaxCrossEntropy, Tanh,
  type Activation, type Layer,
} from '../dist/index.js';
import { referenceForward } from '../dist/reference.js';
import { activations, adamwSteps, crossEntropy, sgdSteps } from './reference-nn.js';
import { centralDifference, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Activation kernels: within 10⁻⁶ of the float64 value (relative above 1). */
const close = (got: number, want: number) => Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));

const kinds = Object.keys(activations) as Activation[];
const layerOf = {
  relu: () => new ReLU(), leakyRelu: () => new LeakyReLU(), gelu: () => new GELU(), tanh: () => new Tanh(), sigmoid: () => new Sigmoid(),
  silu: () => new SiLU(), geluTanh: () => new GELU({ approximate: 'tanh' }), elu: () => new ELU(), relu6: () => new ReLU6(), softplus: () => new Softplus(),
};

describe.each(kinds)('activation %s', (kind) => {
  const { f, df } = activations[kind];
  const z = Float32Array.from({ length: 4003 }, (_, i) => (i - 2001) / 200); // -10 … 10, odd length for the tails

  test('as a layer: forward and backward against the reference', () => {
    const layer = layerOf[kind]();
    const y = layer.forward(z, 1);
    const dy = randomArray(z.length, 3);
    const dz = layer.backward(dy);
    for (let i = 0; i < z.length; i++) {
      expect(close(y[i], f(z[i])), `f(${z[i]}) = ${y[i]}, want ${f(z[i])}`).toBe(true);
      expect(close(dz[i], dy[i] * df(z[i])), `f'(${z[i]})`).toBe(true);
    }
    layer.dispose();
  });

  test('fused into Linear: Y = f(X·W + b), and dZ = dY ⊙ f′(Z) in backward', () => {
    for (const [batch, din, dout] of [[1, 33, 21], [7, 20, 13], [64, 100, 24], [9, 1, 37]]) {
      const fused = new Linear(din, dout, { seed: 5, activation: kind });
      const plain = new Linear(din, dout, { seed: 5 });
      const x = randomArray(batch * din, 6), dy = randomArray(batch * dout, 7);
      const zRef = referenceForward(x, fused.weight, fused.bias, batch, din, dout);
      const bound = productBound(x, fused.weight, batch, din, dout, {}, (_, j) => fused.bias![j]);
      const y = fused.forward(x);
      for (let i = 0; i < y.length; i++) {
        // Z's own rounding (the bound), carried through f (|f'| ≤ 1.13), plus f's.
        expect(Math.abs(y[i] - f(zRef[i])), `y[${i}]`).toBeLessThanOrEqual(1.13 * bound[i] + 1e-6 * Math.max(1, Math.abs(zRef[i])));
      }
      // Backward equals the plain layer's backward on dY ⊙ f'(Z).
      const z = plain.forward(x);
      const dz = dy.map((v, i) => v * df(z[i]));
      const dxPlain = plain.backward(Float32Array.from(dz));
      const dxFused = fused.backward(dy);
      for (let i = 0; i < dxFused.length; i++) expect(Math.abs(dxFused[i] - dxPlain[i])).toBeLessThan(1e-5 * (1 + Math.abs(dxPlain[i])));
      for (let i = 0; i < dout * din; i++) expect(Math.abs(fused.weightGrad[i] - plain.weightGrad[i])).toBeLessThan(1e-5 * (1 + Math.abs(plain.weightGrad[i])));
      fused.dispose();
      plain.dispose();
    }
  });
});

test('the leaky slope is configurable, fused or as a layer', () => {
  const z = new Float32Array([-2, -0.5, 0, 3]);
  expect(Array.from(new LeakyReLU({ negativeSlope: 0.2 }).forward(z))).toEqual([-0.4, -0.1, 0, 3].map(Math.fround));
  const layer = new Linear(1, 4, { bias: false, activation: 'leakyRelu', negativeSlope: 0.2 });
  layer.weight.set(z);
  expect(Array.from(layer.forward(new Float32Array([1])))).toEqual([-0.4, -0.1, 0, 3].map(Math.fround));
});

describe('losses', () => {
  test('softmaxCrossEntropy matches the reference, even for huge logits', () => {
    const classes = 10, batch = 13;
    const logits = randomArray(batch * classes, 1).map((v) => v * 5);
    logits[3] = 1000; // would overflow exp without the max subtracted
    logits[25] = -1000;
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % classes);
    const { loss, grad } = softmaxCrossEntropy(logits, labels, classes);
    const want = crossEntropy(logits, labels, classes);
    expect(Math.abs(loss - want.loss)).toBeLessThan(1e-5 * Math.max(1, want.loss));
    for (let i = 0; i < grad.length; i++) expect(Math.abs(grad[i] - want.grad[i])).toBeLessThan(1e-7);
    expect(softmaxCrossEntropy(logits, Uint8Array.from(labels), classes).loss).toBe(loss);
  });

  test('mse matches the reference, averaged over every element as PyTorch does', () => {
    const pred = randomArray(30, 1), target = randomArray(30, 2);
    const { loss, grad } = mse(pred, target);
    let want = 0;
    for (let i = 0; i < 30; i++) want += (pred[i] - target[i]) ** 2;
    expect(loss).toBeCloseTo(want / 30, 6);
    for (let i = 0; i < 30; i++) expect(grad[i]).toBeCloseTo((2 * (pred[i] - target[i])) / 30, 7);
  });

  test('bad labels and shapes are clear errors', () => {
    const logits = new Float32Array(6);
    expect(() => softmaxCrossEntropy(logits, new Int32Array([0, 3]), 3)).toThrow('softmaxCrossEntropy: labels[1] must be a class index in [0, 3) or ignoreIndex (-100); got 3');
    expect(() => softmaxCrossEntropy(logits, new Int32Array([0]), 3)).toThrow(/labels must hold one class index per row of logits \(2\); got an Int32Array of length 1/);
    expect(() => softmaxCrossEntropy(logits, [0, 1] as unknown as Int32Array, 3)).toThrow(/labels must be an Int32Array or Uint8Array/);
    expect(() => softmaxCrossEntropy(logits, new Int32Array([0, 1]), 4)).toThrow(/logits must hold whole rows of classes = 4; got a Float32Array of length 6/);
    expect(() => mse(new Float32Array(3), new Float32Array(4))).toThrow(/mse: target must be a Float32Array of length 3 \(pred.length\); got a Float32Array of length 4/);
  });
});

describe('optimizers follow PyTorch step for step', () => {
  // Three steps on a quadratic whose gradient depends on p: g = 2p − target (a bowl).
  const target = randomArray(37, 9);
  const gradient = (p: ArrayLike<number>) => Float64Array.from({ length: target.length }, (_, i) => 2 * p[i] - target[i]);

  function run(make: (params: ReturnType<Linear['parameters']>) => { step(): void }, steps: number) {
    const layer = new Linear(37, 1, { bias: false, seed: 3 });
    const p0 = layer.weight.slice();
    const optimizer = make(layer.parameters());
    for (let t = 0; t < steps; t++) {
      layer.weightGrad.set(gradient(layer.weight));
      optimizer.step();
    }
    const got = layer.weight.slice();
    layer.dispose();
    return { p0, got };
  }

  test.each([
    { lr: 0.1 }, { lr: 0.1, momentum: 0.9 }, { lr: 0.05, momentum: 0.9, dampening: 0.3 },
    { lr: 0.05, momentum: 0.8, nesterov: true }, { lr: 0.1, momentum: 0.5, weightDecay: 0.01 },
  ])('SGD %o', (options) => {
    const { p0, got } = run((params) => new SGD(params, options), 3);
    const want = sgdSteps(p0, (p) => gradient(p), 3, options);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6 * (1 + Math.abs(want[i])));
  });

  test.each([
    { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 },
    { lr: 0.01, betas: [0.8, 0.99] as [number, number], eps: 1e-6, weightDecay: 0.1 },
  ])('AdamW %o', (options) => {
    const { p0, got } = run((params) => new AdamW(params, options), 4);
    const want = adamwSteps(p0, (p) => gradient(p), 4, options);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6 * (1 + Math.abs(want[i])));
  });

  test('zeroGrad, bad options and disposed parameters', () => {
    const layer = new Linear(3, 2);
    const sgd = new SGD(layer, { lr: 0.1 });
    layer.weightGrad.fill(1);
    sgd.zeroGrad();
    expect(layer.weightGrad.every((v) => v === 0)).toBe(true);
    expect(() => new SGD(layer, { lr: -1 })).toThrow('new SGD: options.lr must be a number in [0, ∞); got -1');
    expect(() => new SGD(layer, { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
    expect(() => new AdamW(layer, { betas: [1, 0.9] })).toThrow(/options.betas\[0\] must be a number in \[0, 1\); got 1/);
    expect(() => new AdamW([1, 2] as never)).toThrow(/new AdamW: params must be a list of parameters/);
    sgd.lr = 0.5; // a schedule may change it between steps
    layer.weightGrad.fill(1);
    const before = layer.weight.slice();
    sgd.step();
    expect(layer.weight).toEqual(before.map((w) => Math.fround(w - 0.5)));
    expect(() => { sgd.lr = -0.5; }).toThrow('SGD.lr: lr must be a number in [0, ∞); got -0.5');
    sgd.lr = 0; // as PyTorch: a schedule may reach 0 (cosine annealing to eta_min = 0); the step then changes nothing
    const kept = layer.weight.slice();
    sgd.step();
    expect(layer.weight).toEqual(kept);
    const adam = new AdamW(layer);
    for (const bad of [-1, 1.5, NaN]) expect(() => { adam.steps = bad; }).toThrow(`AdamW.steps: steps must be a non-negative integer; got ${bad}`);
    adam.steps = 10;
    expect(adam.steps).toBe(10);
    layer.dispose();
    expect(() => sgd.step()).toThrow(/SGD\.step: params\[0\]: this Linear layer was disposed/);
  });

  test('an option given as null is a wrong type, never its default; a string is a TypeError, a number out of range a RangeError', () => {
    const layer = new Linear(3, 2);
    for (const key of ['lr', 'betas', 'eps', 'weightDecay']) {
      expect(() => new AdamW(layer, { [key]: null } as never), key).toThrow(TypeError);
    }
    expect(() => new AdamW(layer, { weightDecay: null } as never)).toThrow('new AdamW: options.weightDecay must be a number in [0, ∞); got null');
    for (const key of ['momentum', 'dampening', 'weightDecay', 'nesterov']) {
      expect(() => new SGD(layer, { lr: 0.1, [key]: null } as never), key).toThrow(TypeError);
    }
    expect(() => new SGD(layer, { lr: '0.1' } as never)).toThrow(TypeError);
    expect(() => new AdamW(layer, { betas: ['0.9', 0.999] } as never)).toThrow(TypeError);
    expect(() => new AdamW(layer, { eps: -1 })).toThrow(RangeError);
    const adam = new AdamW(layer);
    expect(() => { adam.lr = 'x' as never; }).toThrow(TypeError);
  });

  test('AdamW\'s first moment is ATen\'s lerp: β1 = 0 takes the gradient itself (m + (g − m) lost 1 to 1e8 − 1e8)', () => {
    const layer = new Linear(1, 1, { bias: false });
    layer.weight[0] = 0.5;
    const adam = new AdamW(layer, { lr: 0.1, betas: [0, 0], eps: 0, weightDecay: 0 });
    for (const g of [1e8, 1]) {
      layer.weightGrad[0] = g;
      adam.step(); // m = g and v = g², so each step moves the weight by lr
    }
    expect(layer.weight[0]).toBe(Math.fround(Math.fround(0.5 - 0.1) - 0.1));
  });
});

describe('gradients through whole models match finite differences', () => {
  const losses = {
    crossEntropy: (y: Float32Array) => softmaxCrossEntropy(y, new Int32Array([2, 0, 1]), 3),
    mse: (y: Float32Array) => mse(y, Float32Array.from({ length: y.length }, (_, i) => Math.sin(i))),
  };

  const models: [string, () => Layer[]][] = [
    ...kinds.map((kind): [string, () => Layer[]] => [`fused ${kind}`, () => [new Linear(5, 6, { seed: 1, activation: kind }), new Linear(6, 3, { seed: 2 })]]),
    ...kinds.map((kind): [string, () => Layer[]] => [`${kind} layer`, () => [new Linear(5, 6, { seed: 1 }), layerOf[kind](), new Linear(6, 3, { seed: 2 })]]),
  ];

  describe.each(Object.entries(losses))('%s', (_, lossOf) => {
    test.each(models)('%s', (_, layers) => {
      const model = new Sequential(layers());
      const x = randomArray(3 * 5, 4).map((v) => v * 2);
      const { grad } = lossOf(model.forward(x, 3));
      model.zeroGrad();
      const dx = model.backward(grad);
      const loss = (input: Float32Array) => lossOf(model.forward(input, 3)).loss;
      const check = (analytic: number, values: () => Float32Array, i: number, input: Float32Array, label: string) => {
        const numeric = centralDifference(() => loss(input), values, i);
        expect(Math.abs(analytic - numeric), `${label}: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(5e-3 * (1 + Math.abs(numeric)));
      };
      model.namedParameters().forEach(({ name, parameter }) => {
        const analytic = parameter.grad.slice();
        for (let i = 0; i < analytic.length; i++) check(analytic[i], () => parameter.value, i, x, `${name}[${i}]`);
      });
      const xs = x.slice();
      for (let i = 0; i < dx.length; i++) check(dx[i], () => xs, i, xs, `dx[${i}]`);
      model.dispose();
    });
  });
});

describe('Sequential', () => {
  test('widths must chain, and errors name the layer', () => {
    expect(() => new Sequential([new Linear(4, 3), new ReLU(), new Linear(5, 2)])).toThrow(
      'new Sequential: layers[2]: a Linear layer with inFeatures = 5 cannot take rows of 3 floats',
    );
    expect(() => new Sequential([])).toThrow(/layers must be a non-empty array of layers; got an Array of length 0/);
    expect(() => new Sequential([{} as Layer])).toThrow(/layers\[0\] must be a layer/);
  });

  test('forward and backward equal the layers run one by one', () => {
    const a = new Linear(8, 6, { seed: 1, activation: 'tanh' }), b = new Linear(6, 4, { seed: 2 });
    const a2 = new Linear(8, 6, { seed: 1, activation: 'tanh' }), b2 = new Linear(6, 4, { seed: 2 });
    const model = new Sequential([a, b]);
    const x = randomArray(5 * 8, 3), dy = randomArray(5 * 4, 4);
    expect(model.forward(x)).toEqual(b2.forward(a2.forward(x)));
    expect(model.backward(dy)).toEqual(a2.backward(b2.backward(dy)));
    expect(a.weightGrad).toEqual(a2.weightGrad);
    expect(model.namedParameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(() => model.backward(new Float32Array(3))).toThrow(/Sequential.backward: dy must be a Float32Array of length 20/);
    model.dispose();
    expect(() => a.weight).toThrow(/disposed/);
    expect(() => model.forward(x)).toThrow('Sequential.forward: this Sequential model was disposed');
  });
});
