// LoRA adapters: forward, dA, dB, dX and merge against float64 formulas of
// Y = f(X·W + b + s·(X·Aᵀ)·Bᵀ), s = alpha/rank, on Linear and frozen bases of every
// format; finite differences through a model mixing frozen layers, adapters and
// trainable layers; the base untouched; bad input.
import { beforeAll, describe, expect, test } from 'vitest';
import { AdamW, allocate, backendInfo, init, Linear, LoRA, memoryStats, ReLU, Sequential, type Activation, type FrozenLinear, type WeightsFormat } from '../dist/index.js';
import { referenceMatmul } from '../dist/reference.js';
import { uniformGenerator } from '../dist/internal.js';
import { effectiveWeights } from './weights.js';
import { activations } from './reference-nn.js';
import { centralDifference, expectWithin, growing, initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const abs = (values: ArrayLike<number>) => Float64Array.from(values, Math.abs);
const u = 2 ** -24;

/** The adapter's math in float64, from W as the base's kernels use it. */
function reference(w: Float32Array, bias: Float32Array | null, a: Float32Array, b: Float32Array, x: Float32Array, dy: Float32Array,
  batch: number, din: number, dout: number, rank: number, s: number, kind?: Activation, zKernel?: Float32Array) {
  const xa = referenceMatmul(x, a, batch, din, rank, { transposeB: true }); // X·Aᵀ
  const z = referenceMatmul(x, w, batch, din, dout);
  const lowRank = referenceMatmul(xa, b, batch, rank, dout, { transposeB: true });
  for (let i = 0; i < batch; i++) for (let j = 0; j < dout; j++) z[i * dout + j] += (bias?.[j] ?? 0) + s * lowRank[i * dout + j];
  const f = kind ? activations[kind].f : (v: number) => v, df = kind ? activations[kind].df : () => 1;
  const y = z.map(f);
  // f′ at the Z the kernels computed, where given: int8's Z moves by its quantization of x, enough to cross a kink.
  const dz = Float64Array.from(dy, (v, i) => v * df(zKernel ? zKernel[i] : z[i]));
  const g = referenceMatmul(dz, b, batch, dout, rank); // dZ·B
  const dB = referenceMatmul(dz, xa, dout, batch, rank, { transposeA: true }).map((v) => s * v);
  const dA = referenceMatmul(g, x, rank, batch, din, { transposeA: true }).map((v) => s * v);
  const dx = referenceMatmul(dz, w, batch, dout, din, { transposeB: true });
  const ga = referenceMatmul(g, a, batch, rank, din);
  for (let i = 0; i < dx.length; i++) dx[i] += s * ga[i];
  // Magnitudes for the bounds: every term as absolute values.
  const mz = referenceMatmul(abs(x), abs(w), batch, din, dout);
  const mLow = referenceMatmul(referenceMatmul(abs(x), abs(a), batch, din, rank, { transposeB: true }), abs(b), batch, rank, dout, { transposeB: true });
  const magnitudeZ = mz.map((v, i) => v + Math.abs(bias?.[i % dout] ?? 0) + Math.abs(s) * mLow[i]);
  return { z, y, dz, dA, dB, dx, magnitudeZ, depth: din + rank };
}

type Base = 'Linear' | WeightsFormat;
const bases: Base[] = ['Linear', 'f32', 'bf16', 'int8'];

function makeBase(kind: Base, din: number, dout: number, seed: number, activation?: Activation): { layer: Linear; base: Linear | FrozenLinear; w: Float32Array } {
  const layer = new Linear(din, dout, { seed, activation });
  const base = kind === 'Linear' ? layer : layer.freeze({ weights: kind });
  return { layer, base, w: kind === 'Linear' ? layer.weight.slice() : effectiveWeights(layer.weight, din, dout, kind) };
}

describe.each(bases)('on a %s base', (kind) => {
  test.each([undefined, 'relu', 'gelu', 'tanh'] as (Activation | undefined)[])('forward, dA, dB, dX against float64 (activation %s)', (activation) => {
    for (const [batch, din, dout, rank, alpha] of [[1, 1, 1, 1, 1], [3, 17, 11, 4, 8], [8, 64, 40, 8, 16], [13, 9, 300, 2, 1], [2, 300, 13, 5, 5]]) {
      const { layer, base, w } = makeBase(kind, din, dout, batch + din, activation);
      const lora = new LoRA(base, { rank, alpha, seed: 3 });
      lora.loraB.set(randomArray(dout * rank, 4)); // a trained B (a new one is zero)
      const x = randomArray(batch * din, 5), dy = randomArray(batch * dout, 6);
      const bias = layer.bias!.slice();
      let zKernel: Float32Array | undefined;
      if (kind === 'int8' && activation) {
        // Z from a twin without the activation: the same base weights, A and B.
        const twin = makeBase(kind, din, dout, batch + din);
        const twinLora = new LoRA(twin.base, { rank, alpha, seed: 3 });
        twinLora.loraB.set(lora.loraB);
        zKernel = twinLora.forward(x, batch);
        for (const l of [twinLora, twin.base, twin.layer]) l.dispose();
      }
      const want = reference(w, bias, lora.loraA.slice(), lora.loraB.slice(), x, dy, batch, din, dout, rank, alpha / rank, activation, zKernel);
      const label = `${kind} ${activation ?? 'linear'} ${batch}×${din}×${dout} r${rank}`;
      // Kernels' rounding in Z, carried through f (|f′| ≤ 1.13), plus f's own error; int8 adds its quantization
      // of x (to 8 bits, or 7 on the relaxed build) and W.
      const quantized = kind === 'int8' ? 2 / (backendInfo().simd === 'relaxed' ? 63 : 127) : 0;
      const zBound = want.magnitudeZ.map((m) => 2 * (want.depth + 2) * u * m + quantized * m + 1e-6 * Math.max(1, m) + 1e-30);
      expectWithin(lora.forward(x, batch), want.y, zBound.map((e) => 1.13 * e + 1e-6), `${label} forward`);
      lora.zeroGrad();
      const dx = lora.backward(dy);
      const gradBound = (values: Float64Array, scale: number) => values.map((v) => 1e-4 * scale + 1e-4 * Math.abs(v));
      expectWithin(lora.loraBGrad, want.dB, gradBound(want.dB, 1), `${label} dB`);
      expectWithin(lora.loraAGrad, want.dA, gradBound(want.dA, 1), `${label} dA`);
      expectWithin(dx, want.dx, gradBound(want.dx, 1), `${label} dX`);
      // The base is never touched.
      expect(Array.from(layer.weightGrad).every((v) => v === 0), `${label} base dW`).toBe(true);
      lora.dispose();
      if (base !== layer) base.dispose();
      layer.dispose();
    }
  });

  test('a new adapter leaves the output unchanged; merge() gives a Linear of W + s·(B·A)ᵀ with the same output', () => {
    const { layer, base } = makeBase(kind, 20, 12, 7, 'relu');
    const lora = new LoRA(base, { rank: 3, alpha: 6, seed: 1 });
    const x = randomArray(5 * 20, 2);
    expect(Array.from(lora.forward(x, 5))).toEqual(Array.from(base.forward(x, 5)));
    lora.loraB.set(randomArray(12 * 3, 3));
    const merged = lora.merge();
    expect(merged.activation).toBe('relu');
    expectWithin(merged.forward(x, 5), lora.forward(x, 5), new Float64Array(60).fill(kind === 'int8' ? 0.05 : 1e-5), 'merged');
    expect(Array.from(merged.bias!)).toEqual(Array.from(layer.bias!));
    merged.dispose();
    lora.dispose();
    if (base !== layer) base.dispose();
    layer.dispose();
  });
});

test('parameters are [A, B] with PEFT names and PyTorch shapes; A starts U(±1/√in), B at zero', () => {
  const base = new Linear(64, 32, { seed: 1 });
  const lora = new LoRA(base, { rank: 4, seed: 9 });
  expect(lora.parameters().map((p) => [p.name, p.torchShape])).toEqual([['lora_A.weight', [4, 64]], ['lora_B.weight', [32, 4]]]);
  expect(lora.alpha).toBe(4);
  expect(Math.max(...Array.from(lora.loraA, Math.abs))).toBeLessThanOrEqual(1 / 8);
  expect(Math.max(...Array.from(lora.loraA, Math.abs))).toBeGreaterThan(0.1);
  expect(Array.from(lora.loraB).every((v) => v === 0)).toBe(true);
  expect(Array.from(new LoRA(base, { rank: 4, seed: 9 }).loraA)).toEqual(Array.from(lora.loraA));
  const next = uniformGenerator(9);
  expect(Array.from(lora.loraA)).toEqual(Array.from(Float32Array.from({ length: 4 * 64 }, () => (2 * next() - 1) / 8)));
  const model = new Sequential([lora]);
  expect(model.namedParameters().map((p) => p.name)).toEqual(['0.lora_A.weight', '0.lora_B.weight']);
  lora.dispose();
  base.dispose();
});

test('finite differences through a model of a frozen backbone, an adapter and a trainable head; AdamW moves only A, B and the head', () => {
  const backbone = new Linear(9, 8, { seed: 1, activation: 'tanh' });
  const adapted = new Linear(8, 7, { seed: 2, activation: 'gelu' });
  const head = new Linear(7, 3, { seed: 3 });
  const lora = new LoRA(adapted, { rank: 2, alpha: 4, seed: 4 });
  lora.loraB.set(randomArray(14, 5));
  const model = new Sequential([backbone.freeze(), lora, new ReLU(), head]);
  const x = randomArray(4 * 9, 6), target = randomArray(12, 7);
  const loss = () => { const y = model.forward(x, 4); let c = 0; for (let i = 0; i < y.length; i++) c += 0.5 * (y[i] - target[i]) ** 2; return c; };
  model.zeroGrad();
  const y = model.forward(x, 4);
  const dx = model.backward(Float32Array.from(y, (v, i) => v - target[i]));
  const check = (label: string, grad: Float32Array, values: () => Float32Array, indices: number[]) => {
    for (const i of indices) {
      const numeric = centralDifference(loss, values, i, 1e-2);
      expect(Math.abs(grad[i] - numeric), `${label}[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
  };
  check('dA', lora.loraAGrad, () => lora.loraA, [0, 5, 15]);
  check('dB', lora.loraBGrad, () => lora.loraB, [0, 7, 13]);
  check('dHead', head.weightGrad, () => head.weight, [0, 10, 20]);
  check('dX', dx, () => x, [0, 17, 35]);
  const before = { adapted: adapted.weight.slice(), backbone: backbone.weight.slice(), a: lora.loraA.slice() };
  const optimizer = new AdamW(model.parameters(), { lr: 0.01 });
  expect(model.parameters()).toHaveLength(4); // A, B, head weight and bias
  optimizer.step();
  expect(Array.from(adapted.weight)).toEqual(Array.from(before.adapted));
  expect(Array.from(backbone.weight)).toEqual(Array.from(before.backbone));
  expect(Array.from(adapted.weightGrad).every((v) => v === 0)).toBe(true);
  expect(Array.from(lora.loraA)).not.toEqual(Array.from(before.a));
  optimizer.dispose();
  model.dispose();
  for (const l of [backbone, adapted]) l.dispose();
});

test('bad input: clear errors naming the argument; dispose frees the adapter, not the base', () => {
  const base = new Linear(6, 4, { seed: 1 });
  expect(() => new LoRA(base, { rank: 0 })).toThrow('new LoRA: options.rank must be a positive integer; got 0');
  expect(() => new LoRA(base, { rank: 2.5 })).toThrow('new LoRA: options.rank must be a positive integer; got 2.5');
  expect(() => new LoRA(base, { rank: 5 })).toThrow('new LoRA: options.rank must be at most min(inFeatures, outFeatures) = 4; got 5');
  expect(() => new LoRA(base, { rank: 2, alpha: NaN })).toThrow('new LoRA: options.alpha must be a finite number; got NaN');
  expect(() => new LoRA(base, { rank: 2, alpha: Infinity })).toThrow(RangeError);
  expect(() => new LoRA(base, undefined as never)).toThrow(/new LoRA: options must be an object \(\{ rank, alpha, seed \}\); got undefined/);
  expect(() => new LoRA({} as never, { rank: 1 })).toThrow(/new LoRA: base must be a Linear or a FrozenLinear; got an object/);
  const lora = new LoRA(base, { rank: 2 });
  expect(() => new LoRA(lora as never, { rank: 1 })).toThrow(/new LoRA: base is a LoRA adapter; an adapter on an adapter is not supported/);
  expect(() => lora.backward(new Float32Array(4))).toThrow('LoRA.backward: called before forward, or after a forward that failed; run forward(x) first');
  lora.forward(randomArray(6, 1));
  expect(() => lora.backward(new Float32Array(3))).toThrow(/LoRA.backward: dy must be a Float32Array of length 4/);
  const live = memoryStats().liveBytes;
  lora.dispose();
  expect(memoryStats().liveBytes).toBeLessThan(live);
  expect(() => lora.forward(randomArray(6, 1))).toThrow('LoRA.forward: this LoRA adapter was disposed');
  expect(base.forward(randomArray(6, 1))).toHaveLength(4); // the base lives on
  const other = new LoRA(base, { rank: 1 });
  base.dispose();
  expect(() => other.forward(randomArray(6, 1))).toThrow('LoRA.forward: the base layer of this adapter was disposed');
  expect(() => new LoRA(base, { rank: 1 })).toThrow('new LoRA: base was disposed');
  other.dispose();
});

test('x, dy and out that are views of our own memory, while the call grows it; an adapter used twice in a model', () => {
  const base = new Linear(6, 6, { seed: 1, activation: 'tanh' });
  const frozen = base.freeze({ weights: 'int8' });
  const lora = new LoRA(frozen, { rank: 2, seed: 2 });
  lora.loraB.set(randomArray(12, 3));
  // Reference results on plain arrays.
  const x = base.weight.slice(0, 12), dy = randomArray(12, 4);
  const want = lora.forward(x, 2).slice(), wantDx = lora.backward(dy).slice();
  const fresh = new LoRA(frozen, { rank: 2, seed: 2 });
  fresh.loraB.set(lora.loraB);
  // x: a view of the base's W; out: an allocate() array; the first allocation of each call grows the memory.
  const out = allocate(12);
  const y = growing(() => fresh.forward(base.weight.subarray(0, 12), 2, out));
  expect(Array.from(y)).toEqual(Array.from(want));
  const dyView = allocate(12);
  dyView.set(dy);
  const dx = growing(() => fresh.backward(dyView.current, new Float32Array(12)));
  expect(Array.from(dx)).toEqual(Array.from(wantDx));
  const frozenDx = growing(() => { frozen.forward(x, 2); return frozen.backward(dyView.current); });
  expect(frozenDx).toHaveLength(12);
  // The same adapter twice: each place has its own tape, and both add to dA and dB.
  const model = new Sequential([lora, lora]);
  model.zeroGrad();
  model.forward(x, 2);
  model.backward(dy);
  expect(lora.loraBGrad.some((v) => v !== 0)).toBe(true);
  expect(Array.from(frozen.parameters())).toEqual([]);
  for (const l of [out, dyView]) l.dispose();
  fresh.dispose();
  lora.dispose();
  frozen.dispose();
  base.dispose();
});
