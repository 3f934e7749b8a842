// FrozenLinear.backward: dX = (dY ⊙ f′(Z))·Wᵀ through the frozen weights, for every
// weights format (W as the forward used it: bf16 rounded, int8 as q·s) and activation,
// against float64; a frozen backbone under a trainable head, checked by finite differences.
import { beforeAll, describe, expect, test } from 'vitest';
import { init, Linear, memoryStats, ReLU, Sequential, type Activation, type WeightsFormat } from '../dist/index.js';
import { referenceMatmul } from '../dist/reference.js';
import { activations } from './reference-nn.js';
import { centralDifference, expectWithin, initOptions, randomArray } from './support.js';
import { effectiveWeights } from './weights.js';

beforeAll(() => init(initOptions));

const formats: WeightsFormat[] = ['f32', 'bf16', 'int8'];
const kinds = [undefined, ...Object.keys(activations)] as (Activation | undefined)[];

function expectBackward(format: WeightsFormat, kind: Activation | undefined, batch: number, din: number, dout: number): void {
  const layer = new Linear(din, dout, { seed: batch + din + dout, activation: kind });
  const twin = new Linear(din, dout, { seed: batch + din + dout }); // the same W and b, no activation: gives Z
  const frozen = layer.freeze({ weights: format }), plain = twin.freeze({ weights: format });
  const w = effectiveWeights(layer.weight, din, dout, format);
  const x = randomArray(batch * din, 1), dy = randomArray(batch * dout, 2);
  frozen.forward(x, batch);
  const z = plain.forward(x, batch);
  const df = kind ? activations[kind].df : () => 1;
  const dz = Float64Array.from(dy, (v, i) => v * df(z[i]));
  const want = referenceMatmul(dz, w, batch, dout, din, { transposeB: true });
  // The product's rounding, and the derivative kernel's error (1e-6·max(1, |f′|), as tests/training.test.ts holds it) carried through W.
  const abs = (values: ArrayLike<number>) => Float64Array.from(values, Math.abs);
  const magnitude = referenceMatmul(abs(dz), abs(w), batch, dout, din, { transposeB: true });
  const derivative = referenceMatmul(dy.map((v, i) => Math.abs(v) * Math.max(1, Math.abs(df(z[i])))), abs(w), batch, dout, din, { transposeB: true });
  const bound = magnitude.map((m, i) => 2 * (dout + 1) * 2 ** -24 * m + (kind ? 1e-6 * derivative[i] : 0) + 1e-30);
  expectWithin(frozen.backward(dy), want, bound, `${format} ${kind ?? 'linear'} ${batch}×${din}×${dout}`);
  for (const l of [frozen, plain, layer, twin]) l.dispose();
}

describe.each(formats)('%s weights', (format) => {
  test.each(kinds.map((k) => [k ?? 'no activation', k]))('backward with %s, shapes straddling the unpacked blocks and tiles', (_, kind) => {
    for (const [batch, din, dout] of [[1, 1, 1], [1, 33, 21], [3, 20, 13], [7, 5, 257], [17, 64, 300], [64, 100, 24], [2, 513, 9]]) {
      expectBackward(format, kind as Activation | undefined, batch, din, dout);
    }
  });

  test('backward before forward, wrong dy or out, use after dispose: clear errors, nothing written', () => {
    const layer = new Linear(4, 3, { seed: 1 });
    const frozen = layer.freeze({ weights: format });
    expect(() => frozen.backward(new Float32Array(3))).toThrow('FrozenLinear.backward: called before forward, or after a forward that failed; run forward(x) first');
    frozen.forward(randomArray(8, 1), 2);
    expect(() => frozen.backward(new Float32Array(5))).toThrow(/FrozenLinear.backward: dy must be a Float32Array of length 6 \(batch·outFeatures = 2·3, from the last forward\); got a Float32Array of length 5/);
    expect(() => frozen.backward(new Float32Array(6), new Float32Array(7))).toThrow(/FrozenLinear.backward: out must be a Float32Array of length 8/);
    const out = new Float32Array(8);
    expect(frozen.backward(new Float32Array(6).fill(1), out)).toBe(out);
    expect(frozen.parameters()).toEqual([]);
    frozen.dispose();
    expect(() => frozen.backward(new Float32Array(6))).toThrow('FrozenLinear.backward: this FrozenLinear was disposed');
    layer.dispose();
  });

  test('a frozen backbone under a trainable head: the head learns, finite differences agree, the backbone never changes', () => {
    const backbone = new Linear(7, 6, { seed: 3, activation: 'tanh' });
    const frozen = backbone.freeze({ weights: format });
    const head = new Linear(6, 4, { seed: 4 });
    const model = new Sequential([frozen, new ReLU(), head]);
    const x = randomArray(3 * 7, 5), target = randomArray(12, 6);
    // C = ½·Σ (y − t)², so dC/dY = y − t.
    const loss = () => { const y = model.forward(x, 3); let c = 0; for (let i = 0; i < y.length; i++) c += 0.5 * (y[i] - target[i]) ** 2; return c; };
    const y = model.forward(x, 3);
    model.zeroGrad();
    const dx = model.backward(Float32Array.from(y, (v, i) => v - target[i]));
    for (const i of [0, 5, 11, 23]) {
      const numeric = centralDifference(loss, () => head.weight, i, 1e-2);
      expect(Math.abs(head.weightGrad[i] - numeric), `dW[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
    // int8's dX is the gradient through the dequantized W (straight through the quantization of x, which
    // makes the forward a step function of x at the scale of s_x): finite differences measure the steps.
    if (format !== 'int8') {
      for (const i of [0, 4, 13, 20]) {
        const numeric = centralDifference(loss, () => x, i, 1e-2);
        expect(Math.abs(dx[i] - numeric), `dX[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
      }
    }
    expect(model.parameters().map((p) => p.name)).toEqual(['weight', 'bias']);
    expect(Array.from(backbone.weightGrad).every((v) => v === 0)).toBe(true);
    model.dispose();
    backbone.dispose();
  });
});

test('a frozen layer used only for inference never makes the backward buffers', () => {
  const layer = new Linear(256, 256, { seed: 1 });
  const frozen = layer.freeze({ weights: 'int8' });
  frozen.forward(randomArray(256, 1));
  const before = memoryStats().liveBytes;
  for (let i = 0; i < 3; i++) frozen.forward(randomArray(256, i));
  expect(memoryStats().liveBytes).toBe(before);
  frozen.backward(randomArray(256, 9));
  expect(memoryStats().liveBytes).toBeGreaterThan(before);
  frozen.dispose();
  layer.dispose();
});
