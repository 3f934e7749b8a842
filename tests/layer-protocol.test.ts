// The layer protocol: what Sequential and serialization need of a layer, so that a
// layer of a new kind (a user's own, here one wrapping a Linear) plugs in unchanged.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, loadSafetensors, ReLU, saveSafetensors, Sequential, SGD, type Layer, type Parameter } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** A layer of the user's own: a Linear scaled by 2, declaring its widths and offering the Linear's parameters. */
class Doubled implements Layer {
  readonly inner: Linear;
  constructor(readonly inFeatures: number, readonly outFeatures: number, seed: number) {
    this.inner = new Linear(inFeatures, outFeatures, { seed });
  }
  forward(x: Float32Array, batch: number): Float32Array {
    return this.inner.forward(x, batch).map((v) => 2 * v);
  }
  backward(dy: Float32Array): Float32Array {
    return this.inner.backward(dy.map((v) => 2 * v));
  }
  parameters(): Parameter[] { return this.inner.parameters(); }
  zeroGrad(): void { this.inner.zeroGrad(); }
  dispose(): void { this.inner.dispose(); }
}

test("each parameter states its PyTorch layout: a Linear weight is out×in there, a bias as here", () => {
  const [weight, bias] = new Linear(4, 3).parameters();
  expect([weight.shape, weight.torchShape, bias.shape, bias.torchShape]).toEqual([[4, 3], [3, 4], [3], [3]]);
  expect(Object.isFrozen(weight.torchShape)).toBe(true);
});

test("a user's layer with parameters of ours is trained, named and saved like a Linear", () => {
  const doubled = new Doubled(3, 2, 2);
  const model = new Sequential([new Linear(4, 3, { seed: 1 }), new ReLU(), doubled]);
  expect(model.inFeatures).toBe(4);
  expect(model.namedParameters().map(({ name, parameter }) => [name, parameter.torchShape])).toEqual([
    ['0.weight', [3, 4]], ['0.bias', [3]], ['2.weight', [2, 3]], ['2.bias', [2]],
  ]);
  const state = model.stateDict();
  expect(state['2.weight'].data).toEqual(doubled.inner.toTorch().weight.data);
  const bytes = saveSafetensors(model);
  const copy = new Sequential([new Linear(4, 3, { seed: 7 }), new ReLU(), new Doubled(3, 2, 8)]);
  loadSafetensors(copy, bytes);
  const x = randomArray(8, 3);
  expect(copy.forward(x)).toEqual(model.forward(x));
  model.backward(randomArray(4, 4));
  expect(doubled.inner.biasGrad!.some((v) => v !== 0)).toBe(true);
  model.zeroGrad();
  expect(doubled.inner.biasGrad!.every((v) => v === 0)).toBe(true);
  model.dispose();
  copy.dispose();
  expect(() => doubled.inner.weight).toThrow(/disposed/);
});

test("the model's zeroGrad() zeroes a user layer's parameters without a zeroGrad() of its own, and makes them whole", () => {
  const inner = new Linear(3, 2, { seed: 4 });
  const bare: Layer = { forward: (x, batch) => inner.forward(x, batch), backward: (dy) => inner.backward(dy), parameters: () => inner.parameters() };
  const model = new Sequential([new Linear(4, 3, { seed: 1 }), bare]);
  const optimizer = new SGD(model, { lr: 0.1 });
  model.forward(randomArray(8, 3));
  model.backward(randomArray(4, 4));
  expect(inner.weightGrad.some((v) => v !== 0)).toBe(true);
  model.zeroGrad();
  expect(inner.weightGrad.every((v) => v === 0) && inner.biasGrad!.every((v) => v === 0)).toBe(true);
  // A backward failing part-way leaves the gradients incomplete; the model's zeroGrad() makes them whole again.
  model.forward(randomArray(8, 3));
  const failing = new Sequential([new Linear(4, 3, { seed: 1 }), { forward: bare.forward, backward: () => { throw new Error('boom'); }, parameters: bare.parameters }]);
  failing.forward(randomArray(8, 3));
  expect(() => failing.backward(randomArray(4, 4))).toThrow('boom');
  expect(() => optimizer.step()).toThrow(/SGD\.step: params\[2\]: the gradient of parameter weight is incomplete/);
  failing.zeroGrad();
  optimizer.step();
  failing.dispose();
  model.dispose();
});

test("the model's zeroGrad() needs no names: a user layer of two Linears with parameters() alone, and errors name the layer", () => {
  const a = new Linear(3, 3, { seed: 1 }), b = new Linear(3, 3, { seed: 2 });
  const params = [...a.parameters(), ...b.parameters()]; // kept: still listed after b is disposed
  const pair: Layer = { forward: (x, batch) => b.forward(a.forward(x, batch), batch), backward: (dy) => a.backward(b.backward(dy)), parameters: () => params };
  const model = new Sequential([new Sequential([pair])]);
  model.forward(randomArray(6, 1), 2);
  model.backward(randomArray(6, 2));
  model.zeroGrad();
  expect([a.weightGrad, b.weightGrad, b.biasGrad!].every((g) => g.every((v) => v === 0))).toBe(true);
  const grad = a.weightGrad.fill(1).slice();
  b.dispose();
  expect(() => model.zeroGrad()).toThrow(/^Sequential\.zeroGrad: layers\[0\]: layers\[0\]: this Linear layer was disposed/);
  expect(a.weightGrad).toEqual(grad); // nothing zeroed
  a.dispose();
});

test("declared widths of a user's layer chain like a Linear's and are held to", () => {
  expect(() => new Sequential([new Linear(4, 3), new Doubled(5, 2, 1)])).toThrow(/new Sequential: layers\[1\]: a layer with inFeatures = 5 cannot take rows of 3 floats/);
  const first = new Sequential([new Doubled(6, 2, 1), new ReLU()]);
  expect(first.inFeatures).toBe(6);
  expect(first.forward(randomArray(12, 2))).toHaveLength(4); // batch 2, from inFeatures
  expect(() => first.forward(randomArray(12, 2), 2, new Float32Array(5))).toThrow(/Sequential.forward: out must be a Float32Array of length 4 \(batch·output width = 2·2\); got a Float32Array of length 5/);
  const liar: Layer = { inFeatures: 2, outFeatures: 3, forward: () => new Float32Array(4) };
  expect(() => new Sequential([liar]).forward(randomArray(2, 3))).toThrow(/Sequential.forward: layers\[0\].forward must return a Float32Array of 3 floats; got a Float32Array of length 4/);
  first.dispose();
});

test("a model's output width is known past a layer of unknown width, so a wrong out is refused before anything runs", () => {
  let calls = 0;
  const free: Layer = { forward: (x) => { calls++; return x; }, backward: (dy) => dy };
  const model = new Sequential([new Linear(3, 4, { seed: 1 }), free, new ReLU(), new Linear(4, 2, { seed: 2 }), new ReLU()]);
  expect([model.inFeatures, model.outFeatures]).toEqual([3, 2]);
  const x = randomArray(6, 1);
  model.forward(x, 2);
  expect(() => model.forward(x, 2, new Float32Array(5))).toThrow('Sequential.forward: out must be a Float32Array of length 4 (batch·output width = 2·2); got a Float32Array of length 5');
  expect(calls).toBe(1);
  expect(model.backward(new Float32Array(4))).toHaveLength(6); // the forward before it is still there
  expect(new Sequential([new Linear(3, 4), free]).outFeatures).toBeUndefined();
  model.dispose();
});

test('a subclass of ours with fields of its own, of any short name, trains in a Sequential as the class does', () => {
  const names = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$'];
  const tag = <T extends object>(layer: T): T => Object.assign(layer, Object.fromEntries(names.map((name) => [name, 'mine'])));
  const plain = new Sequential([new Linear(4, 3, { seed: 1 }), new ReLU(), new Linear(3, 2, { seed: 2 })]);
  const tagged = new Sequential([tag(new Linear(4, 3, { seed: 1 })), tag(new ReLU()), tag(new Linear(3, 2, { seed: 2 }))]);
  const x = randomArray(8, 3), dy = randomArray(4, 4);
  expect(tagged.forward(x, 2)).toEqual(plain.forward(x, 2));
  expect(tagged.backward(dy)).toEqual(plain.backward(dy));
  expect(tagged.parameters().map((p) => [...p.grad])).toEqual(plain.parameters().map((p) => [...p.grad]));
  class Tagged extends Linear { h = 'head'; t = 0; l = 'label'; }
  const model = new Sequential([new Tagged(4, 2, { seed: 5 })]);
  model.forward(x, 2);
  expect(model.backward(dy)).toHaveLength(8);
  [plain, tagged, model].forEach((m) => m.dispose());
});
