// Linear.freeze({ weights: 'int8' | 'bf16' }): the low-precision kernels against exact
// references of their arithmetic (int8: the integer products reproduced in JS, so the
// output is checked bit for bit; bf16: W rounded in JS, then the float64 product), then
// against the float64 layer within the bounds the README states, on every tile edge,
// batch 1 and beyond, every activation; and the option's errors.
import { beforeAll, describe, expect, test } from 'vitest';
import { backendInfo, init, Linear, memoryStats, ReLU, Sequential, type Activation } from '../dist/index.js';
import { referenceForward } from '../dist/reference.js';
import { activations } from './reference-nn.js';
import { expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const f32 = Math.fround;

/** Round half to even, as wasm's `nearest`. */
function nearestEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** scale = max |v| / levels in float32; NaN when a value is not finite. */
function scaleOf(values: ArrayLike<number>, levels: number): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]));
  return Number.isFinite(largest) && largest <= 3.4028234663852886e38 ? f32(largest / levels) : NaN;
}

function quantize(v: number, scale: number, levels: number): number {
  const q = nearestEven(f32(v / scale));
  return Number.isNaN(q) ? 0 : Math.min(Math.max(q, -levels), levels);
}

/** Input rows are quantized to 8 bits on the SIMD build, 7 on the relaxed one (README). */
const inputLevels = () => (backendInfo().simd === 'relaxed' ? 63 : 127);

/** The int8 layer's arithmetic, exactly: quantized x and W, integer sums, then float32 scaling and bias. */
function int8Forward(x: Float32Array, w: Float32Array, b: Float32Array | null, batch: number, din: number, dout: number) {
  const sw = Array.from({ length: dout }, (_, j) => scaleOf(Array.from({ length: din }, (_, p) => w[p * dout + j]), 127));
  const qw = Float64Array.from(w, (v, at) => quantize(v, sw[at % dout], 127));
  const levels = inputLevels();
  const y = new Float32Array(batch * dout);
  const sx: number[] = [];
  for (let i = 0; i < batch; i++) {
    const row = x.subarray(i * din, (i + 1) * din);
    const s = scaleOf(row, levels);
    sx.push(s);
    const qx = Float64Array.from(row, (v) => quantize(v, s, levels));
    for (let j = 0; j < dout; j++) {
      let dot = 0;
      for (let p = 0; p < din; p++) dot += qx[p] * qw[p * dout + j];
      y[i * dout + j] = f32(f32(0 + (b?.[j] ?? 0)) + f32(f32(f32(dot) * s) * sw[j]));
    }
  }
  return { y, sx, sw };
}

/** |y − y_f64| per element: Σ_p (|x_p|·s_j/2 + |W_pj|·s_x + s_x·s_j/2), plus the float32 bound. */
function int8Bound(x: Float32Array, w: Float32Array, b: Float32Array | null, batch: number, din: number, dout: number, sx: number[], sw: number[]) {
  const f32Bound = productBound(x, w, batch, din, dout, {}, (_, j) => b?.[j] ?? 0);
  return f32Bound.map((e, at) => {
    const i = Math.floor(at / dout), j = at % dout;
    let sum = 0;
    for (let p = 0; p < din; p++) sum += Math.abs(x[i * din + p]) * sw[j] / 2 + Math.abs(w[p * dout + j]) * sx[i] + sx[i] * sw[j] / 2;
    return sum + e;
  });
}

/** Round to nearest-even bfloat16, as a float32. */
function bf16(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  if (Number.isNaN(v)) return NaN;
  const rounded = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(Uint32Array.of(rounded >>> 0).buffer)[0];
}

function layerFor(din: number, dout: number, bias: boolean, seed: number, activation?: Activation) {
  const layer = new Linear(din, dout, { bias, seed, activation });
  return { layer, w: layer.weight.slice(), b: layer.bias?.slice() ?? null };
}

function expectInt8(batch: number, din: number, dout: number, bias = true, seed = 1): void {
  const { layer, w, b } = layerFor(din, dout, bias, batch + din + dout + seed);
  const frozen = layer.freeze({ weights: 'int8' });
  const x = randomArray(batch * din, seed);
  const got = frozen.forward(x, batch);
  const label = `int8 ${batch}×${din}×${dout}${bias ? '' : ' no bias'}`;
  const exact = int8Forward(x, w, b, batch, din, dout);
  expectSameBits(got, exact.y, label);
  expectWithin(got, referenceForward(x, w, b, batch, din, dout), int8Bound(x, w, b, batch, din, dout, exact.sx, exact.sw), label);
  frozen.dispose();
  layer.dispose();
}

function expectBf16(batch: number, din: number, dout: number, bias = true, seed = 1): void {
  const { layer, w, b } = layerFor(din, dout, bias, batch + din + dout + seed);
  const frozen = layer.freeze({ weights: 'bf16' });
  const x = randomArray(batch * din, seed);
  const got = frozen.forward(x, batch);
  const label = `bf16 ${batch}×${din}×${dout}${bias ? '' : ' no bias'}`;
  const rounded = Float32Array.from(w, bf16);
  const extra = (_: number, j: number) => b?.[j] ?? 0;
  // The kernel's product of the rounded W, to float32 accuracy ...
  expectWithin(got, referenceForward(x, rounded, b, batch, din, dout), productBound(x, rounded, batch, din, dout, {}, extra), label);
  // ... and so the f32 layer's to 2⁻⁸·Σ|x·W| more.
  const magnitude = referenceForward(x.map(Math.abs), w.map(Math.abs), null, batch, din, dout);
  const bound = productBound(x, w, batch, din, dout, {}, extra).map((e, at) => e + 2 ** -8 * magnitude[at]);
  expectWithin(got, referenceForward(x, w, b, batch, din, dout), bound, label);
  frozen.dispose();
  layer.dispose();
}

const formats = { int8: expectInt8, bf16: expectBf16 };

describe.each(Object.entries(formats))('%s weights', (format, expectFormat) => {
  test('every edge of the 4×8 tile, odd and even depths', () => {
    for (let batch = 1; batch <= 9; batch++) {
      for (let dout = 1; dout <= 17; dout++) {
        for (const din of [1, 2, 3, 5, 8, 9]) expectFormat(batch, din, dout, (batch + dout) % 2 === 0);
      }
    }
  });

  test('batch 1 to 17 on widths around 4 KiB rows, and long depths', () => {
    for (let batch = 1; batch <= 17; batch++) expectFormat(batch, 67, batch % 2 ? 1024 : 1031, batch % 3 === 0);
    for (const [batch, din, dout] of [[1, 1024, 1024], [1, 2053, 1031], [1, 1, 4099], [3, 4096, 24], [64, 300, 40]]) {
      expectFormat(batch, din, dout);
    }
  });

  test('batch 1 over every count of panels past whole streams (bf16 reads four, int8 three)', () => {
    // 1 to 13 panels of 8 columns, the last whole or ragged: none, one, two or three left over.
    for (let panels = 1; panels <= 13; panels++) {
      for (const dout of [8 * panels, 8 * panels - 3]) expectFormat(1, 19, dout, panels % 2 === 0);
    }
  });

  test('1×1×1 and primes', () => {
    for (const [batch, din, dout] of [[1, 1, 1], [2, 3, 5], [7, 11, 13], [31, 37, 41], [97, 101, 103], [1, 257, 263]]) {
      expectFormat(batch, din, dout, true);
      expectFormat(batch, din, dout, false);
    }
  });

  test.each(Object.keys(activations) as Activation[])('a fused activation (%s)', (kind) => {
    const { f } = activations[kind];
    for (const [batch, din, dout] of [[1, 33, 21], [5, 20, 13], [64, 100, 24]]) {
      const plain = layerFor(din, dout, true, 7);
      const fused = new Linear(din, dout, { seed: 7, activation: kind });
      const frozen = fused.freeze({ weights: format as 'int8' | 'bf16' });
      const unfused = plain.layer.freeze({ weights: format as 'int8' | 'bf16' });
      const x = randomArray(batch * din, 3);
      const z = unfused.forward(x, batch);
      const want = Float64Array.from(z, (v) => f(v));
      expectWithin(frozen.forward(x, batch), want, want.map((v) => 4e-6 * Math.max(1, Math.abs(v))), `${format} ${kind}`);
      for (const l of [frozen, unfused, fused, plain.layer]) l.dispose();
    }
  });

  test('the frozen layer reports its format; its memory is the packed weights', () => {
    const layer = new Linear(512, 256, { seed: 1 });
    const before = memoryStats().liveBytes;
    const full = layer.freeze();
    const f32Bytes = memoryStats().liveBytes - before;
    full.dispose();
    const low = layer.freeze({ weights: format as 'int8' | 'bf16' });
    const lowBytes = memoryStats().liveBytes - before;
    expect(low.weights).toBe(format);
    expect(full.weights).toBe('f32');
    // int8: a quarter of the weights' bytes plus a scale a column; bf16: half.
    const share = format === 'int8' ? 0.25 : 0.5;
    expect(lowBytes).toBeLessThan((share + 0.05) * f32Bytes);
    low.dispose();
    layer.dispose();
  });

  test('a model frozen in the format freezes every Linear in it so', () => {
    const model = new Sequential([new Linear(20, 16, { seed: 1 }), new ReLU(), new Linear(16, 10, { seed: 2 })]);
    const frozen = model.freeze({ weights: format as 'int8' | 'bf16' });
    const x = randomArray(3 * 20, 5);
    const layers = frozen.layers as readonly { weights?: string }[];
    expect([layers[0].weights, layers[2].weights]).toEqual([format, format]);
    const byLayer = (frozen.layers[2].forward(frozen.layers[1].forward(frozen.layers[0].forward(x, 3), 3), 3));
    expectSameBits(frozen.forward(x, 3), byLayer.slice());
    frozen.dispose();
    model.dispose();
  });
});

describe('freezing what is frozen', () => {
  const all = ['f32', 'bf16', 'int8'] as const;

  test.each(all)('a %s frozen layer copies itself bit for bit, or takes another format from the values it computes with', (format) => {
    const layer = new Linear(37, 21, { seed: 5, activation: 'gelu' });
    const frozen = layer.freeze({ weights: format });
    layer.dispose();
    const x = randomArray(3 * 37, 2);
    const want = frozen.forward(x, 3).slice();
    for (const copy of [frozen.freeze(), frozen.freeze({}), frozen.freeze({ weights: format })]) {
      expect(copy.weights).toBe(format);
      expectSameBits(copy.forward(x, 3), want, `${format} copy`);
      copy.dispose();
    }
    const values = (frozen as unknown as { weightValues(): Float32Array }).weightValues();
    for (const other of all.filter((f) => f !== format)) {
      const converted = frozen.freeze({ weights: other });
      const direct = new Linear(37, 21, { seed: 5, activation: 'gelu' });
      direct.weight.set(values);
      const reference = direct.freeze({ weights: other });
      expect(converted.weights).toBe(other);
      expectSameBits(converted.forward(x, 3), reference.forward(x, 3), `${format} → ${other}`);
      for (const l of [converted, direct, reference]) l.dispose();
    }
    const model = new Sequential([frozen, new Linear(21, 4, { seed: 6 })]);
    const modelBits = model.forward(x, 3).slice();
    const copy = model.freeze();
    expect((copy.layers[0] as typeof frozen).weights).toBe(format);
    expectSameBits(copy.forward(x, 3), modelBits, 'a frozen backbone under a head, frozen again');
    const again = copy.freeze({ weights: 'bf16' });
    expect(again.layers.map((l) => (l as typeof frozen).weights)).toEqual(['bf16', 'bf16']);
    again.dispose();
    frozen.dispose();
    expect(() => frozen.freeze()).toThrow(/FrozenLinear\.freeze: this FrozenLinear was disposed/);
    copy.dispose();
    model.dispose();
  });

  test('bad options are refused by name, nothing made', () => {
    const frozen = new Linear(4, 4).freeze({ weights: 'bf16' });
    const before = memoryStats().liveBytes;
    expect(() => frozen.freeze({ weights: 'int4' } as never)).toThrow(/FrozenLinear\.freeze: options\.weights must be 'f32', 'bf16' or 'int8'; got the string "int4"/);
    expect(() => frozen.freeze(1 as never)).toThrow(/FrozenLinear\.freeze: options must be an object \(\{ weights \}\); got 1/);
    expect(memoryStats().liveBytes).toBe(before);
    frozen.dispose();
  });
});

describe('int8 edge cases', () => {
  test('a row holding NaN or ±Inf gives NaN for that row only; a zero row gives the bias', () => {
    const layer = new Linear(5, 3, { seed: 4 });
    const frozen = layer.freeze({ weights: 'int8' });
    const x = Float32Array.from([1, NaN, 2, 3, 4, 0.5, Infinity, 1, 1, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
    const y = frozen.forward(x, 4);
    expect(Array.from(y.subarray(0, 6)).every(Number.isNaN)).toBe(true);
    expect(Array.from(y.subarray(6, 9))).toEqual(Array.from(layer.bias!));
    expect(Array.from(y.subarray(9)).some(Number.isNaN)).toBe(false);
    frozen.dispose();
    layer.dispose();
  });

  test('every input and weight at ± its maximum: the widest products and pair sums stay exact', () => {
    // q = ±127 for W and ±127 (SIMD) or ±63 (relaxed: stored as 1 and 127) for x, signs mixed and all alike,
    // on depths of every remainder by 4, at batch 1 (the streaming kernel) and 5 (the tile).
    for (const din of [4093, 4094, 4095, 4096]) {
      for (const batch of [1, 5]) {
        const layer = new Linear(din, 19, { seed: din });
        const w = layer.weight;
        for (let at = 0; at < w.length; at++) w[at] = at % 19 < 9 ? 0.5 : (at * 7) % 3 === 0 ? -0.5 : 0.5;
        const x = Float32Array.from({ length: batch * din }, (_, at) => (at < din || at % 5 === 0 ? 2 : -2));
        const frozen = layer.freeze({ weights: 'int8' });
        expectSameBits(frozen.forward(x, batch), int8Forward(x, w.slice(), layer.bias!.slice(), batch, din, 19).y, `±max ${batch}×${din}`);
        frozen.dispose();
        layer.dispose();
      }
    }
  });

  test('rows and columns of values far from 1: scaled by the row, then the column, within float32', () => {
    // s_x·s_j alone would overflow (1e22 by 1e21: the result NaN, where it is 0 + the error bound) or be
    // subnormal (1e-20 by 1e-20: 9% off), while the result is a normal float.
    const cases: [number, number, number, (p: number) => number][] = [
      [1e22, 1e21, 2, (p) => p], [1e-20, 1e-20, 4096, () => 1], [7e-21, 7e-21, 4096, () => 1], [1e-21, 1e-21, 65536, () => 1], [3e30, 1e-30, 5, () => 1],
    ];
    for (const [xs, ws, din, rowWeight] of cases) {
      const layer = new Linear(din, 3, { bias: false, seed: 1 });
      layer.weight.forEach((_, at, w) => { w[at] = ws * rowWeight(Math.floor(at / 3)) * (1 + ((at * 7) % 5) / 4); });
      // x: the large row value first, meeting W's zero row (the first case: [1e22, 1]).
      const x = Float32Array.from({ length: din }, (_, p) => (din === 2 && p === 1 ? 1 : xs * (1 - ((p * 3) % 4) / 5)));
      const frozen = layer.freeze({ weights: 'int8' });
      const got = frozen.forward(x);
      const exact = int8Forward(x, layer.weight.slice(), null, 1, din, 3);
      expectSameBits(got, exact.y, `x ${xs}, W ${ws}`);
      expectWithin(got, referenceForward(x, layer.weight, null, 1, din, 3), int8Bound(x, layer.weight, null, 1, din, 3, exact.sx, exact.sw), `x ${xs}, W ${ws}`);
      frozen.dispose();
      layer.dispose();
    }
  });

  test('a zero column of W gives its bias; the call leaves the input as it was', () => {
    const layer = new Linear(6, 4, { seed: 2 });
    for (let p = 0; p < 6; p++) layer.weight[p * 4 + 1] = 0;
    const frozen = layer.freeze({ weights: 'int8' });
    const x = randomArray(12, 9);
    const copy = x.slice();
    const y = frozen.forward(x, 2);
    expect([y[1], y[5]]).toEqual([layer.bias![1], layer.bias![1]]);
    expectSameBits(x, copy);
    frozen.dispose();
    layer.dispose();
  });
});

describe('bad options', () => {
  test('an unknown format is a TypeError naming weights and the choices; nothing is made', () => {
    const layer = new Linear(4, 4);
    const model = new Sequential([layer]);
    const before = memoryStats().liveBytes;
    for (const weights of ['int4', 'F32', 8, null, {}]) {
      expect(() => layer.freeze({ weights } as never)).toThrow(/Linear\.freeze: options\.weights must be 'f32', 'bf16' or 'int8'; got/);
      expect(() => model.freeze({ weights } as never)).toThrow(/Sequential\.freeze: options\.weights must be/);
    }
    expect(() => layer.freeze(3 as never)).toThrow(/Linear\.freeze: options must be an object \(\{ weights \}\); got 3/);
    expect(memoryStats().liveBytes).toBe(before);
    const plain = layer.freeze({});
    expect(plain.weights).toBe('f32');
    plain.dispose();
    model.dispose();
  });
});

test('int8 refuses a depth whose exact int32 sums could overflow, naming inFeatures', () => {
  const limit = Math.floor((2 ** 31 - 1) / (127 * 127));
  const layer = new Linear(limit + 1, 1, { bias: false });
  const before = memoryStats().liveBytes;
  expect(() => layer.freeze({ weights: 'int8' })).toThrow(`Linear.freeze: int8 weights need inFeatures ≤ ${limit} (their products are summed exactly in int32); got ${limit + 1}`);
  expect(memoryStats().liveBytes).toBe(before);
  const bf16 = layer.freeze({ weights: 'bf16' });
  const x = new Float32Array(limit + 1).fill(1);
  expect(bf16.forward(x)[0]).toBeCloseTo(layer.forward(x)[0], 0);
  bf16.dispose();
  layer.dispose();
  // At the limit, the largest sum there can be (every product 127·127) is still exact.
  const deepest = new Linear(limit, 1, { bias: false });
  deepest.weight.fill(-1);
  const int8 = deepest.freeze({ weights: 'int8' });
  const y = int8.forward(new Float32Array(limit).fill(2));
  expect(Math.abs(y[0] + 2 * limit) / (2 * limit)).toBeLessThan(1e-6);
  int8.dispose();
  deepest.dispose();
});
