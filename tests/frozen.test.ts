// Linear.freeze(): the packed-weight kernels (gemm_packed_b, and its batch-1 path) against
// the float64 reference on shapes straddling the tile and every cache block, the
// snapshot's semantics, and its errors.
import { beforeAll, describe, expect, test } from 'vitest';
import { backendInfo, FrozenLinear, GELU, init, LeakyReLU, Linear, memoryStats, ReLU, Sequential, type Activation, type Layer } from '../dist/index.js';
import { referenceForward } from '../dist/reference.js';
import { activations } from './reference-nn.js';
import { expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Checks frozen.forward against the float64 reference for the layer's parameters at freeze time. */
function expectFrozenForward(batch: number, din: number, dout: number, bias = true, seed = 1): void {
  const layer = new Linear(din, dout, { bias, seed: batch + din + dout + seed });
  const w = layer.weight.slice();
  const b = layer.bias?.slice() ?? null;
  const frozen = layer.freeze();
  const x = randomArray(batch * din, seed);
  expectWithin(frozen.forward(x, batch), referenceForward(x, w, b, batch, din, dout),
    productBound(x, w, batch, din, dout, {}, (_, j) => b?.[j] ?? 0), `${batch}×${din}×${dout}${bias ? '' : ' no bias'}`);
  frozen.dispose();
  layer.dispose();
}

describe('forward matches the reference', () => {
  test('every edge of the register tile, on depths around the two-step batch-1 loop', () => {
    const { tile } = backendInfo();
    for (let batch = 1; batch <= tile.rows + 1; batch++) {
      for (let dout = 1; dout <= 2 * tile.cols + 1; dout++) {
        for (const din of [1, 2, 3, 8, 9]) expectFrozenForward(batch, din, dout, (batch + dout) % 2 === 0);
      }
    }
  });

  test('shapes straddling each cache block', () => {
    const { blocks: { rows: mc, depth: kc, cols: nc } } = backendInfo();
    for (const [batch, din, dout] of [
      [mc + 1, kc + 1, 17], [2, 2 * kc + 3, 9], [mc - 1, kc - 1, nc + 5], [7, kc, nc + 8], [1, 3 * kc + 1, nc + 3],
    ]) expectFrozenForward(batch, din, dout);
  });

  test('batch 1 (one stream of packed W) and rows 4 KiB apart', () => {
    for (const [batch, din, dout] of [[1, 1024, 1024], [1, 784, 128], [1, 2053, 1031], [1, 1, 4099], [13, 64, 1024], [150, 33, 1024]]) {
      expectFrozenForward(batch, din, dout);
    }
  });

  test('batch 1 over every count of panels past whole streams (three of them)', () => {
    for (let panels = 1; panels <= 10; panels++) {
      for (const dout of [8 * panels, 8 * panels - 3]) expectFrozenForward(1, 19, dout, panels % 2 === 0);
    }
  });

  test('1×1×1 and primes', () => {
    for (const [batch, din, dout] of [[1, 1, 1], [2, 3, 5], [7, 11, 13], [31, 37, 41], [97, 101, 103], [1, 257, 263]]) {
      expectFrozenForward(batch, din, dout, true);
      expectFrozenForward(batch, din, dout, false);
    }
  });

  test.each(Object.keys(activations) as Activation[])('a fused activation (%s) as the layer applies it', (kind) => {
    const { f } = activations[kind];
    for (const [batch, din, dout] of [[1, 33, 21], [1, 64, 8], [7, 20, 13], [64, 100, 24]]) {
      const layer = new Linear(din, dout, { seed: 5, activation: kind });
      const frozen = layer.freeze();
      expect(frozen.activation).toBe(kind);
      const x = randomArray(batch * din, 6);
      const z = referenceForward(x, layer.weight, layer.bias, batch, din, dout);
      const bound = productBound(x, layer.weight, batch, din, dout, {}, (_, j) => layer.bias![j]);
      const y = frozen.forward(x);
      for (let i = 0; i < y.length; i++) {
        // Z's own rounding (the bound) carried through f (|f'| ≤ 1.13), plus f's.
        expect(Math.abs(y[i] - f(z[i])), `y[${i}]`).toBeLessThanOrEqual(1.13 * bound[i] + 1e-6 * Math.max(1, Math.abs(z[i])));
      }
      frozen.dispose();
      layer.dispose();
    }
  });
});

test('a snapshot: later changes to the layer do not reach it, and it outlives the layer', () => {
  const layer = new Linear(40, 24, { seed: 2 });
  const x = randomArray(3 * 40, 3);
  const frozen = layer.freeze();
  const before = frozen.forward(x);
  layer.weight.fill(0.5);
  layer.bias!.fill(-1);
  expect(frozen.forward(x)).toEqual(before);
  const refrozen = layer.freeze();
  expectWithin(refrozen.forward(x), layer.forward(x), new Float32Array(3 * 24).fill(1e-5), 'refrozen');
  layer.dispose();
  expect(frozen.forward(x)).toEqual(before);
  frozen.dispose();
  refrozen.dispose();
});

test('forward into out, any batch in turn, and the same answer twice', () => {
  const layer = new Linear(30, 20, { seed: 4 });
  const frozen = layer.freeze();
  for (const batch of [1, 9, 1, 64, 2]) {
    const x = randomArray(batch * 30, batch);
    const out = new Float32Array(batch * 20);
    expect(frozen.forward(x, batch, out)).toBe(out);
    expect(frozen.forward(x)).toEqual(out);
  }
  frozen.dispose();
  layer.dispose();
});

test('bad input throws naming the argument, expected and actual values', () => {
  const layer = new Linear(6, 4);
  const frozen = layer.freeze();
  expect(() => frozen.forward(new Float32Array(7))).toThrow(/FrozenLinear.forward: x must hold whole rows of inFeatures = 6 floats; got a Float32Array of length 7/);
  expect(() => frozen.forward([1, 2, 3, 4, 5, 6] as unknown as Float32Array)).toThrow(/FrozenLinear.forward: x must be a Float32Array/);
  expect(() => frozen.forward(new Float32Array(12), 0)).toThrow(/FrozenLinear.forward: x must be a Float32Array of length 0 \(batch·inFeatures = 0·/);
  expect(() => frozen.forward(new Float32Array(12), 3)).toThrow(/FrozenLinear.forward: x must be a Float32Array of length 18 \(batch·inFeatures = 3·6\); got a Float32Array of length 12/);
  expect(() => frozen.forward(new Float32Array(12), 2, new Float32Array(7))).toThrow(/FrozenLinear.forward: out must be a Float32Array of length 8 \(batch·outFeatures = 2·4\); got a Float32Array of length 7/);
  expect(() => new (FrozenLinear as unknown as new () => unknown)()).toThrow(/^FrozenLinear: made by layer\.freeze\(\), not constructed$/);
  frozen.forward(new Float32Array(12), 2);
  for (const dy of [5, [1, 2, 3, 4, 5, 6, 7, 8], new Float32Array(7)]) {
    expect(() => frozen.backward(dy as Float32Array)).toThrow(/^FrozenLinear\.backward: dy must be a Float32Array of length 8 \(batch·outFeatures = 2·4, from the last forward\); got /);
  }
  frozen.dispose();
  layer.dispose();
});

test('dispose frees the copy; use after dispose throws; freeze of a disposed layer throws', () => {
  const layer = new Linear(100, 50);
  const live = memoryStats().liveBytes;
  const frozen = layer.freeze();
  frozen.forward(new Float32Array(100));
  expect(memoryStats().liveBytes).toBeGreaterThan(live);
  frozen.dispose();
  frozen.dispose(); // twice is harmless
  expect(memoryStats().liveBytes).toBe(live);
  expect(() => frozen.forward(new Float32Array(100))).toThrow(/FrozenLinear.forward: this FrozenLinear was disposed/);
  layer.dispose();
  expect(() => layer.freeze()).toThrow(/Linear.freeze: this Linear layer was disposed/);
});

describe('Sequential.freeze()', () => {
  const model = (seed: number) => new Sequential([
    new Linear(50, 40, { seed, activation: 'relu' }), new LeakyReLU({ negativeSlope: 0.2 }), new Linear(40, 30, { seed: seed + 1 }),
    new GELU(), new Linear(30, 7, { seed: seed + 2, bias: false }), new ReLU(),
  ]);

  test('forward matches the model it was frozen from, at batch 1 and more', () => {
    const trained = model(1);
    const frozen = trained.freeze();
    expect(frozen.inFeatures).toBe(50);
    expect(frozen.parameters()).toEqual([]);
    for (const batch of [1, 2, 13, 1]) {
      const x = randomArray(batch * 50, batch);
      const want = trained.forward(x);
      const got = frozen.forward(x, batch);
      expectWithin(got, want, want.map((v) => 1e-5 * (1 + Math.abs(v))), `batch ${batch}`);
    }
    frozen.dispose();
    trained.dispose();
  });

  test('a snapshot: training the model afterwards does not change it; it outlives the model', () => {
    const trained = model(2);
    const frozen = trained.freeze();
    const x = randomArray(4 * 50, 9);
    const before = frozen.forward(x);
    for (const { parameter } of trained.namedParameters()) parameter.value.fill(0.25);
    expect(frozen.forward(x)).toEqual(before);
    trained.dispose();
    expect(frozen.forward(x)).toEqual(before);
    frozen.dispose();
  });

  test('errors: bad x, use after dispose, a layer that cannot be frozen (nothing left allocated)', () => {
    const trained = model(3);
    const frozen = trained.freeze();
    expect(() => frozen.forward(new Float32Array(7))).toThrow(/Sequential.forward: x must hold whole rows of inFeatures = 50 floats; got a Float32Array of length 7/);
    expect(() => frozen.forward(new Float32Array(50), 1, new Float32Array(3))).toThrow(/Sequential.forward: out must be a Float32Array of length 7 \(batch·output width = 1·7\); got a Float32Array of length 3/);
    frozen.forward(new Float32Array(50));
    expect(() => frozen.backward(new Float32Array(6))).toThrow(/Sequential.backward: dy must be a Float32Array of length 7/);
    expect(frozen.backward(new Float32Array(7))).toHaveLength(50); // dX through the frozen layers
    frozen.dispose();
    frozen.dispose();
    expect(() => frozen.forward(new Float32Array(50))).toThrow(/Sequential.forward: this Sequential model was disposed/);

    const layer = new Linear(50, 7);
    // A layer of the user's own, without freeze() (optional in Layer): an identity.
    const identity: Layer = { forward: (x) => x, backward: (dy) => dy };
    const custom = new Sequential([layer, identity]);
    const live = memoryStats().liveBytes;
    expect(() => custom.freeze()).toThrow(/Sequential.freeze: layers\[1\] has no freeze\(\), so it cannot be copied/);
    expect(memoryStats().liveBytes).toBe(live);
    custom.dispose();
    trained.dispose();
    expect(() => trained.freeze()).toThrow(/Sequential.freeze: this Sequential model was disposed/);
  });
});

test('a Sequential mixing frozen and trainable layers trains the trainable ones; the frozen ones have no parameters', () => {
  const base = new Linear(6, 5, { seed: 1 });
  const head = new Linear(5, 3, { seed: 2 });
  const model = new Sequential([base.freeze(), new ReLU(), head]);
  expect(model.parameters()).toHaveLength(2); // the head's weight and bias only
  expect(model.forward(randomArray(12, 1), 2)).toHaveLength(6);
  expect(model.backward(randomArray(6, 2))).toHaveLength(12);
  expect(Array.from(head.weightGrad).some((v) => v !== 0)).toBe(true);
  expect(Array.from(base.weightGrad).every((v) => v === 0)).toBe(true);
  expect(() => new Sequential([base.freeze(), new Linear(4, 2)])).toThrow(/new Sequential: layers\[1\]: a Linear layer with inFeatures = 4 cannot take rows of 5 floats/);
  model.dispose();
  base.dispose();
});
