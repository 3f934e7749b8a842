// Trust: the same layer used twice, failed calls, views of the module's own memory,
// disposed layers, arrays and objects that lie. Every case here gave a wrong answer,
// or touched memory the call did not own, before the fix it names.
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  AdamW, init, LeakyReLU, Linear, matmul, memoryStats, mse, Parameter, ReLU, Sequential, SGD, softmaxCrossEntropy, Tanh,
  type Layer,
} from '../dist/index.js';
import { runtime } from '../dist/internal.js';
import { referenceMatmul } from '../dist/reference.js';
import { expectSameBits, expectWithin, growing, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));
afterEach(() => { vi.restoreAllMocks(); });

/** Element-wise a + b, in float64. */
const add = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a as ArrayLike<number>, (v, i) => v + b[i]);

/** A Linear with the same weights as `layer` (and memory of its own). */
function copyOf(layer: Linear): Linear {
  const copy = new Linear(layer.inFeatures, layer.outFeatures, { bias: layer.bias !== null, activation: layer.activation ?? undefined });
  copy.weight.set(layer.weight);
  if (layer.bias) copy.bias!.set(layer.bias);
  return copy;
}

/** Makes the heap's next allocations fail as exhausted memory does, after `after` successful ones. */
function exhaustMemory(after = 0): void {
  const heap = runtime('test').heap;
  const alloc = heap.alloc.bind(heap);
  let calls = 0;
  vi.spyOn(heap, 'alloc').mockImplementation((bytes: number) => {
    if (calls++ < after) return alloc(bytes);
    throw new RangeError(`simd-linear: cannot allocate ${bytes} bytes (exhausted, in a test)`);
  });
}

/** A fresh layer of `n` weights, 16 to a row, to take views of. */
const source = (rows: number) => new Linear(16, rows, { seed: rows });

describe('views of the module\'s own memory as inputs and out, while the call grows the memory', () => {
  test('matmul: a weight as a, as b, and as out', () => {
    const layer = source(40);
    const ones = new Float32Array(16).fill(1);
    const copy = layer.weight.slice();
    expectSameBits(growing(() => matmul(layer.weight, ones, 40, 16, 1)), matmul(copy, ones, 40, 16, 1), 'a');
    expectSameBits(growing(() => matmul(ones, layer.weight, 1, 16, 40, { transposeB: true })), matmul(ones, copy, 1, 16, 40, { transposeB: true }), 'b');
    const out = growing(() => matmul(new Float32Array(16 * 3).fill(1), new Float32Array(3 * 40).fill(1), 16, 3, 40, { out: layer.weight }));
    expect(layer.weight).toEqual(new Float32Array(16 * 40).fill(3));
    expect(out).toEqual(layer.weight);
    const square = source(16);
    const w = square.weight.slice();
    // a, b and out all one view: out is written last.
    growing(() => matmul(square.weight, square.weight, 16, 16, 16, { out: square.weight }));
    expectSameBits(square.weight, matmul(w, w, 16, 16, 16));
    square.dispose();
    layer.dispose();
  });

  test("matmul reads a layer's parameters in place (only C is allocated), and refuses a view reaching past them", () => {
    const layer = new Linear(24, 16, { seed: 56 });
    const heap = runtime('test').heap;
    const requests: number[] = [];
    const alloc = heap.alloc.bind(heap);
    vi.spyOn(heap, 'alloc').mockImplementation((bytes: number) => { requests.push(bytes); return alloc(bytes); });
    const dy = randomArray(3 * 16, 57);
    const copy = layer.weight.slice();
    // dX = dY·Wᵀ with W where it lives, and W·Wᵀ with both operands in place.
    expectSameBits(matmul(dy, layer.weight, 3, 16, 24, { transposeB: true }), matmul(dy, copy, 3, 16, 24, { transposeB: true }));
    expectSameBits(matmul(layer.weight, layer.weightGrad.fill(0.5), 24, 16, 24, { transposeB: true }), matmul(copy, new Float32Array(24 * 16).fill(0.5), 24, 16, 24, { transposeB: true }));
    // Requests 0 and 2 are the calls on the layer's memory (1 and 3 the references, all copied):
    // dY staged (3×16, a whole number of cache lines) and C (3×24); then C (24×24) alone.
    expect([requests[0], requests[2]]).toEqual([3 * 16 * 4 + 3 * 24 * 4, 24 * 24 * 4]);
    // A view reaching past the parameters' block shows memory that is not the layer's: staging may overwrite it.
    requests.length = 0;
    const beyond = new Float32Array(layer.weight.buffer, layer.weight.byteOffset, layer.weight.length * 5);
    expect(() => matmul(beyond, new Float32Array(16).fill(1), 24 * 5, 16, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
    expect(() => matmul(new Float32Array(16), new Float32Array(16), 1, 16, 1, { out: new Float32Array(layer.weight.buffer, 0, 1) }))
      .toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own/);
    expect(requests).toEqual([]);
    vi.restoreAllMocks();
    layer.dispose();
  });

  test('Linear.forward, FrozenLinear.forward and Sequential.forward on a weight, and into one', () => {
    const layer = new Linear(16, 8, { seed: 52 });
    const reference = copyOf(layer);
    const frozen = reference.freeze();
    const model = new Sequential([layer, new ReLU()]);
    const modelReference = new Sequential([reference, new ReLU()]);
    for (const rows of [1, 7, 33]) {
      const views = source(rows);
      const copy = views.weight.slice(); // rows×16 read as a batch of `rows`
      expectSameBits(growing(() => layer.forward(views.weight)), reference.forward(copy), `Linear ${rows}`);
      expectSameBits(growing(() => frozen.forward(views.weight)), frozen.forward(copy), `FrozenLinear ${rows}`);
      expectSameBits(growing(() => model.forward(views.weight)), modelReference.forward(copy), `Sequential ${rows}`);
      views.dispose();
    }
    // out: another layer's weight, as large as the output (a batch larger than before, so the model allocates).
    const target = new Linear(8, 40);
    const x = randomArray(40 * 16, 53);
    growing(() => model.forward(x, 40, target.weight));
    expect(target.weight).toEqual(modelReference.forward(x));
    model.dispose();
    modelReference.dispose();
    frozen.dispose();
    target.dispose();
  });

  test('softmaxCrossEntropy and mse on a weight', () => {
    const layer = source(50);
    const labels = new Int32Array(50).map((_, i) => i % 16);
    const copy = layer.weight.slice();
    const got = growing(() => softmaxCrossEntropy(layer.weight, labels, 16));
    const want = softmaxCrossEntropy(copy, labels, 16);
    expect(got.loss).toBe(want.loss);
    expectSameBits(got.grad, want.grad);
    const target = new Float32Array(copy.length).fill(0.5);
    const squared = growing(() => mse(layer.weight, target));
    const wanted = mse(copy, target);
    expect(squared.loss).toBe(wanted.loss);
    expectSameBits(squared.grad, wanted.grad);
    // The labels may view the module's memory too.
    const indices = new Int32Array(layer.weight.buffer, layer.weight.byteOffset, 4).fill(3);
    expect(growing(() => softmaxCrossEntropy(copy.subarray(0, 64), indices, 16)).loss).toBe(softmaxCrossEntropy(copy.subarray(0, 64), new Int32Array(4).fill(3), 16).loss);
    layer.dispose();
  });

  test('Linear.fromTorch with data viewing a weight', () => {
    const layer = source(24);
    const copy = layer.weight.slice();
    const built = growing(() => Linear.fromTorch({ shape: [24, 16], data: layer.weight }, layer.weight.subarray(0, 24)));
    expectSameBits(built.toTorch().weight.data, copy);
    expectSameBits(built.bias!, copy.subarray(0, 24));
    // The bias as toTorch() gives it ({ shape, data }), its data a view of the module's memory too.
    const again = growing(() => Linear.fromTorch({ shape: [24, 16], data: layer.weight }, { shape: [24], data: layer.weight.subarray(0, 24) }));
    expectSameBits(again.bias!, copy.subarray(0, 24));
    for (const l of [built, again]) l.dispose();
    layer.dispose();
  });
});

describe('a layer used at several positions', () => {
  test('one ReLU shared between layers: the gradients of a model of distinct ReLUs', () => {
    const [l1, l2, l3] = [new Linear(6, 5, { seed: 1 }), new Linear(5, 4, { seed: 2 }), new Linear(4, 3, { seed: 3 })];
    const copies = [l1, l2, l3].map(copyOf);
    const act = new ReLU();
    const shared = new Sequential([l1, act, l2, act, l3]);
    const distinct = new Sequential([copies[0], new ReLU(), copies[1], new ReLU(), copies[2]]);
    const x = randomArray(4 * 6, 4), dy = randomArray(4 * 3, 5);
    expect(shared.forward(x)).toEqual(distinct.forward(x));
    expect(shared.backward(dy)).toEqual(distinct.backward(dy));
    [l1, l2, l3].forEach((layer, i) => {
      expect(layer.weightGrad, `layer ${i} dW`).toEqual(copies[i].weightGrad);
      expect(layer.biasGrad, `layer ${i} db`).toEqual(copies[i].biasGrad);
    });
    shared.dispose();
    distinct.dispose();
  });

  test.each([1, 3, 8])('weight tying, Sequential([l, l]) at batch %i: l(l(x)), exact dX, dW summed over both uses', (batch) => {
    const tied = new Linear(64, 64, { seed: 7 });
    const [first, second] = [copyOf(tied), copyOf(tied)];
    const model = new Sequential([tied, tied]);
    const x = randomArray(batch * 64, 8), dy = randomArray(batch * 64, 9);
    const hidden = first.forward(x);
    const y = second.forward(hidden);
    expect(model.forward(x)).toEqual(y);
    const dHidden = second.backward(dy);
    const dx = first.backward(dHidden);
    expect(model.backward(dy)).toEqual(dx);
    // dW = Xᵀ·dH + Hᵀ·dY, against the float64 sums of both uses, within both products' bounds.
    const exact = add(referenceMatmul(x, dHidden, 64, batch, 64, { transposeA: true }), referenceMatmul(hidden, dy, 64, batch, 64, { transposeA: true }));
    const bound = add(productBound(x, dHidden, 64, batch, 64, { transposeA: true }), productBound(hidden, dy, 64, batch, 64, { transposeA: true }));
    expectWithin(tied.weightGrad, exact, bound, 'dW');
    const ones = new Float32Array(batch).fill(1);
    const exactBias = add(referenceMatmul(ones, dHidden, 1, batch, 64), referenceMatmul(ones, dy, 1, batch, 64));
    expectWithin(tied.biasGrad!, exactBias, add(productBound(ones, dHidden, 1, batch, 64), productBound(ones, dy, 1, batch, 64)), 'db');
    // PyTorch's parameters() gives a tied parameter once: an optimizer steps it once.
    expect(model.namedParameters().map(({ name }) => name)).toEqual(['0.weight', '0.bias']);
    expect(() => new SGD(model, { lr: 0.1 })).not.toThrow();
    model.dispose();
    first.dispose();
    second.dispose();
  });

  test('a tied model freezes to a tied frozen model: one packed copy, used twice, the same forward', () => {
    const tied = new Linear(64, 64, { seed: 14, activation: 'tanh' });
    const model = new Sequential([tied, tied]);
    const live = memoryStats().liveBytes;
    const frozen = model.freeze();
    expect(frozen.layers[0]).toBe(frozen.layers[1]);
    const single = tied.freeze();
    for (const batch of [1, 5]) {
      const x = randomArray(batch * 64, 15);
      expectSameBits(frozen.forward(x), single.forward(single.forward(x)), `batch ${batch}`);
    }
    single.dispose();
    frozen.dispose();
    expect(() => frozen.layers[0].forward(randomArray(64, 16), 1)).toThrow(/this FrozenLinear was disposed/);
    model.dispose();
    expect(memoryStats().liveBytes).toBeLessThan(live);
  });

  test("a layer's own forward/backward and a model's are independent", () => {
    const layer = new Linear(5, 3, { seed: 10 });
    const reference = copyOf(layer);
    const model = new Sequential([layer, new Tanh()]);
    const x = randomArray(10, 11), dy = randomArray(6, 12);
    layer.forward(x);
    reference.forward(x);
    model.forward(randomArray(15, 13));
    expect(layer.backward(dy)).toEqual(reference.backward(dy));
    model.dispose();
    reference.dispose();
  });
});

describe('a failed call leaves the last forward that succeeded, or a clear error', () => {
  test('Linear: a forward refused for its arguments or for memory, then backward differentiates the one before', () => {
    const layer = new Linear(8, 4, { seed: 20 });
    const reference = copyOf(layer);
    const x = randomArray(16, 21), dy = randomArray(8, 22);
    layer.forward(x);
    reference.forward(x);
    expect(() => layer.forward(new Float32Array(7))).toThrow(RangeError);
    exhaustMemory();
    expect(() => layer.forward(randomArray(8 * 64, 23))).toThrow(/cannot allocate/);
    vi.restoreAllMocks();
    expect(layer.backward(dy)).toEqual(reference.backward(dy));
    expect(layer.weightGrad).toEqual(reference.weightGrad);
    layer.dispose();
    reference.dispose();
  });

  test('Linear: a forward that fails after its buffers were replaced makes backward a clear error, not a wrong gradient', () => {
    const layer = new Linear(8, 4, { seed: 24 });
    layer.forward(randomArray(8, 25));
    const rt = runtime('test');
    vi.spyOn(rt, 'gemm').mockImplementation(() => { throw new Error('a worker died (in a test)'); });
    expect(() => layer.forward(randomArray(8 * 32, 26))).toThrow('a worker died');
    vi.restoreAllMocks();
    const grads = layer.weightGrad.slice();
    expect(() => layer.backward(randomArray(4, 27))).toThrow(/Linear.backward: called before forward, or after a forward that failed/);
    expect(layer.weightGrad).toEqual(grads);
    layer.dispose();
  });

  test('Sequential: a forward that fails at layer 2 for memory makes backward a clear error, the gradients untouched', () => {
    const layers = [new Linear(6, 5, { seed: 30 }), new ReLU(), new Linear(5, 4, { seed: 31 })];
    const model = new Sequential(layers);
    model.forward(randomArray(6, 32));
    const before = model.parameters().map((p) => p.grad.slice());
    exhaustMemory(3); // the model's input, layer 0 and the ReLU find room for a batch of 64; layer 2 does not
    expect(() => model.forward(randomArray(64 * 6, 33))).toThrow(/cannot allocate/);
    vi.restoreAllMocks();
    expect(() => model.backward(randomArray(4, 34))).toThrow(/Sequential.backward: called before forward, or after a forward that failed/);
    expect(model.parameters().map((p) => p.grad.slice())).toEqual(before);
    // The next forward works as if nothing had happened.
    const reference = new Sequential([copyOf(layers[0] as Linear), new ReLU(), copyOf(layers[2] as Linear)]);
    const x = randomArray(12, 35);
    expect(model.forward(x)).toEqual(reference.forward(x));
    model.dispose();
    reference.dispose();
  });

  test.each([0, 1, 2, 3])('an optimizer whose state allocation fails after %i allocations leaks nothing', (after) => {
    const model = new Sequential([new Linear(30, 20), new Linear(20, 10)]);
    for (const optimizer of [new AdamW(model), new SGD(model, { lr: 0.1, momentum: 0.9 })]) {
      const live = memoryStats().liveBytes;
      const weights = model.parameters().map((p) => p.value.slice());
      exhaustMemory(after);
      let stepped = true;
      try {
        optimizer.step();
      } catch (error) {
        stepped = false;
        expect(String(error)).toMatch(/cannot allocate/);
      }
      vi.restoreAllMocks();
      // Either the step ran whole, or it left no memory and no weight changed.
      if (!stepped) {
        expect(memoryStats().liveBytes).toBe(live);
        expect(model.parameters().map((p) => p.value.slice())).toEqual(weights);
      }
      expect(stepped).toBe(after > 0);
      optimizer.dispose();
    }
    model.dispose();
  });

  test('a backward that fails part-way leaves the gradients marked: step() refuses until zeroGrad()', () => {
    const layers = [new Linear(4, 3, { seed: 40 }), new Linear(3, 2, { seed: 41 })];
    const model = new Sequential(layers);
    const sgd = new SGD(model, { lr: 0.1 });
    model.forward(randomArray(8, 42));
    const rt = runtime('test');
    const gemm = rt.gemm.bind(rt);
    let calls = 0;
    // The first layer's dX product fails (as a dead worker makes it): the last layer's gradients are already accumulated.
    vi.spyOn(rt, 'gemm').mockImplementation((...args) => {
      if (++calls === 3) throw new Error('a kernel failed (in a test)');
      return gemm(...args);
    });
    expect(() => model.backward(randomArray(4, 43))).toThrow('a kernel failed');
    vi.restoreAllMocks();
    const weights = model.parameters().map((p) => p.value.slice());
    expect(() => sgd.step()).toThrow(/SGD\.step: params\[0\]: the gradient of parameter weight is incomplete \(a backward failed part-way\); call zeroGrad\(\)/);
    expect(model.parameters().map((p) => p.value.slice())).toEqual(weights);
    model.zeroGrad();
    model.forward(randomArray(8, 42));
    model.backward(randomArray(4, 43));
    expect(() => sgd.step()).not.toThrow();
    model.dispose();
  });
});

describe('a disposed layer in a model', () => {
  test('every use throws naming the layer index before anything changes', () => {
    const [a, b, c] = [new Linear(4, 4, { seed: 60 }), new Linear(4, 4, { seed: 61 }), new Linear(4, 4, { seed: 62 })];
    const model = new Sequential([a, new ReLU(), b, c]);
    model.forward(randomArray(8, 63));
    model.backward(randomArray(8, 64));
    const grads = a.weightGrad.slice();
    b.dispose();
    // Its memory goes to a new layer, which must not be written.
    const bystander = new Linear(4, 4, { seed: 65 });
    const weights = bystander.weight.slice();
    for (const use of [
      () => model.forward(randomArray(8, 66)), () => model.backward(randomArray(8, 67)), () => model.zeroGrad(),
      () => model.parameters(), () => model.freeze(),
    ]) expect(use).toThrow(/layers\[2\]: this Linear layer was disposed/);
    expect(a.weightGrad).toEqual(grads);
    expect(bystander.weight).toEqual(weights);
    bystander.dispose();
    model.dispose();
  });
});

describe('only documented names, only real arrays, only our own objects', () => {
  test.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])('activation %s is a TypeError naming the choices', (name) => {
    expect(() => new Linear(4, 3, { activation: name as 'relu' })).toThrow(/new Linear: options.activation must be one of 'relu', 'leakyRelu'/);
  });

  test('arrays whose length, byteLength or buffer lie are read for what they are, or refused', () => {
    const victim = new Linear(64, 64, { seed: 70 });
    const weights = victim.weight.slice();
    class Liar extends Float32Array {
      override get byteLength() { return 0; }
      override get length() { return 4; }
      override get buffer() { return new ArrayBuffer(0); }
    }
    const a = new Liar(randomArray(64 * 64, 71)), b = new Liar(randomArray(64 * 64, 72));
    expect(matmul(a, b, 64, 64, 64)).toEqual(matmul(new Float32Array(a), new Float32Array(b), 64, 64, 64));
    expect(mse(a, b).loss).toBe(mse(new Float32Array(a), new Float32Array(b)).loss);
    const labels = new Int32Array(64);
    expect(softmaxCrossEntropy(a, labels, 64).loss).toBe(softmaxCrossEntropy(new Float32Array(a), labels, 64).loss);
    expect(victim.forward(new Liar(64)).length).toBe(64);
    // A Proxy is not a Float32Array: refused, naming the argument.
    const proxy = new Proxy(randomArray(64 * 64, 73), {});
    expect(() => matmul(proxy, b, 64, 64, 64)).toThrow(/matmul: a must be a Float32Array of length 4096 \(m·k = 64·64\); got an object/);
    expect(() => mse(proxy, b)).toThrow(/mse: pred must be a Float32Array; got an object/);
    const fake = Object.create(Float32Array.prototype);
    expect(() => victim.forward(fake)).toThrow(/Linear.forward: x must be a Float32Array; got an object/);
    expect(() => softmaxCrossEntropy(fake, labels, 64)).toThrow(/softmaxCrossEntropy: logits must be a Float32Array; got an object/);
    expect(victim.weight).toEqual(weights);
    victim.dispose();
  });

  test('a detached array is named as such', () => {
    const x = new Float32Array(8);
    structuredClone(x.buffer, { transfer: [x.buffer] });
    const layer = new Linear(4, 2);
    expect(() => layer.forward(x)).toThrow(/Linear.forward: x must be a Float32Array; got a Float32Array whose ArrayBuffer was detached/);
    layer.dispose();
  });

  test('a Parameter cannot be made or imitated: optimizers take only the parameters of our layers', () => {
    const victim = new Linear(4, 4, { seed: 74 });
    const weights = victim.weight.slice();
    const [weight] = victim.parameters();
    expect(() => new (Parameter as unknown as new (...args: unknown[]) => Parameter)('weight', [4, 4], {}, () => {})).toThrow(/new Parameter: parameters come from a layer's parameters\(\)/);
    const imitation = Object.create(Parameter.prototype) as Parameter;
    expect(() => new SGD([imitation], { lr: 1 })).toThrow(/new SGD: params must be a list of parameters/);
    expect(() => new SGD([weight, weight], { lr: 1 })).toThrow(/new SGD: params\[1\] is the same tensor as params\[0\] \(weight\)/);
    expect(() => new AdamW([...victim.parameters(), victim.parameters()[0]])).toThrow(/new AdamW: params\[2\] is the same tensor as params\[0\]/);
    expect(victim.weight).toEqual(weights);
    victim.dispose();
  });

  test("an object with the library's internal method names gets no addresses: it is a user's layer, through copies", () => {
    const victim = new Linear(4, 4, { seed: 75 });
    const weights = victim.weight.slice();
    const impostor = { forwardAt: () => 0, backwardAt: () => 0, outputWidth: (w: number) => w, parameters: () => [], zeroGrad() {}, dispose() {} };
    expect(() => new Sequential([impostor as unknown as Layer])).toThrow(/new Sequential: layers\[0\] must be a layer/);
    const disguised = { ...impostor, forward: (x: Float32Array) => x };
    const model = new Sequential([disguised, new Linear(4, 2, { seed: 76 })]);
    expect(model.forward(randomArray(4, 77))).toHaveLength(2);
    expect(victim.weight).toEqual(weights);
    model.dispose();
    victim.dispose();
  });

  test("a user's layer: forward and backward on Float32Arrays, gradients flow through it", () => {
    const double: Layer = { forward: (x) => x.map((v) => 2 * v), backward: (dy) => dy.map((v) => 2 * v) };
    const [l1, l2] = [new Linear(5, 4, { seed: 78 }), new Linear(4, 3, { seed: 79 })];
    const model = new Sequential([l1, double, l2]);
    const [c1, c2] = [copyOf(l1), copyOf(l2)];
    const x = randomArray(10, 80), dy = randomArray(6, 81);
    const y = c2.forward(c1.forward(x).map((v) => 2 * v));
    expect(model.forward(x)).toEqual(y);
    expect(model.backward(dy)).toEqual(c1.backward(c2.backward(dy).map((v) => 2 * v)));
    expect(l1.weightGrad).toEqual(c1.weightGrad);
    expect(l2.weightGrad).toEqual(c2.weightGrad);
    // A layer that returns the wrong length is named.
    const broken = new Sequential([l1, { forward: () => new Float32Array(3) }]);
    expect(() => broken.forward(x)).toThrow(/Sequential.forward: layers\[1\].forward must return a Float32Array of whole rows for batch = 2; got a Float32Array of length 3/);
    expect(() => new Sequential([l1, { forward: (v: Float32Array) => v }]).backward(dy)).toThrow(/called before forward/);
    model.dispose();
    c1.dispose();
    c2.dispose();
  });

  test('clear errors where internal messages leaked', () => {
    expect(() => new LeakyReLU(null as unknown as object)).toThrow(/new LeakyReLU: options must be an object \(\{ negativeSlope \}\); got null/);
    const layer = new Linear(3, 2);
    layer.forward(randomArray(3, 82));
    expect(() => layer.backward(randomArray(2, 83), null as unknown as Float32Array)).toThrow(/Linear.backward: out must be a Float32Array of length 3 \(batch·inFeatures = 1·3\); got null/);
    const model = new Sequential([layer, new ReLU()]);
    model.forward(randomArray(3, 84));
    layer.dispose();
    expect(() => model.backward(randomArray(2, 85))).toThrow(/Sequential.backward: layers\[0\]: this Linear layer was disposed/);
    model.dispose();
  });
});

describe("a user's layer that misbehaves", () => {
  test('re-entering its own model, or disposing it, is a clear error; the model cannot be rewired', () => {
    const inner = new Linear(4, 4, { seed: 90 });
    let model: Sequential;
    const reentrant: Layer = { forward: (x) => model.forward(x) };
    model = new Sequential([inner, reentrant]);
    expect(() => model.forward(randomArray(4, 91))).toThrow(/Sequential.forward: called from inside a layer of this same model/);
    const victim = new Linear(4, 4, { seed: 92 });
    const disposer: Layer = { forward: (x) => { victim.dispose(); return x; } };
    const second = new Sequential([disposer, victim]);
    expect(() => second.forward(randomArray(4, 93))).toThrow(/Sequential.forward: layers\[1\]: this Linear layer was disposed/);
    expect(() => (model.layers as Layer[]).push(victim)).toThrow(TypeError);
    // The model works again once its layer stops re-entering it.
    const ok = new Sequential([inner, { forward: (x: Float32Array) => x }]);
    expect(ok.forward(randomArray(4, 94))).toHaveLength(4);
    ok.dispose();
  });
});
