// A Sequential inside a Sequential keeps its last forward only (it is one of your layers to the
// outer model): used at two positions, or in two models, a backward would differentiate the
// other forward. That is refused before anything changes; a failed backward marks every gradient
// it may have begun, nested ones included; a refused forward keeps the forward before it.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, loadStateDict, Sequential, SGD, stateDict } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const ranOther = /layers\[\d\] \(a Sequential\) ran another forward since this model's: at two positions or in two models, use its layers/;

test('a nested Sequential at two positions: forward as PyTorch, backward refused, nothing changed', () => {
  const inner = new Linear(3, 3, { seed: 1 });
  const block = new Sequential([inner]);
  const model = new Sequential([block, block]);
  const flat = new Sequential([inner, inner]); // the same weights, tied in a flat model
  const x = randomArray(6, 2), dy = randomArray(6, 3);
  expect(model.forward(x, 2)).toEqual(flat.forward(x, 2));
  const grads = inner.parameters().map((p) => p.grad.slice());
  expect(() => model.backward(dy)).toThrow(ranOther);
  expect(() => model.backward(dy)).toThrow(/layers\[0\]/);
  expect(inner.parameters().map((p) => p.grad)).toEqual(grads);
  expect(flat.backward(dy)).toHaveLength(6); // the flat form differentiates both uses
  for (const m of [model, flat]) m.dispose();
});

test('one block in two models: the model whose forward the block ran last may backpropagate, the other is refused', () => {
  const block = new Sequential([new Linear(2, 2, { seed: 4 })]);
  const a = new Sequential([block]), b = new Sequential([block]);
  a.forward(randomArray(2, 5), 1);
  b.forward(randomArray(2, 6), 1);
  expect(() => a.backward(randomArray(2, 7))).toThrow(ranOther);
  expect(b.backward(randomArray(2, 7))).toHaveLength(2);
  a.forward(randomArray(2, 5), 1);
  expect(a.backward(randomArray(2, 7))).toHaveLength(2);
  block.dispose();
});

test('a backward failing between two uses of a parameter in nested models leaves it marked: step() refuses', () => {
  const thrower = { forward: (x: Float32Array) => x, backward: (): Float32Array => { throw new Error('boom'); } };
  const l = new Linear(4, 4, { seed: 1 });
  const model = new Sequential([new Sequential([l]), thrower, new Sequential([l])]);
  const optimizer = new SGD(model, { lr: 0.1 });
  model.forward(randomArray(4, 1), 1);
  expect(() => model.backward(randomArray(4, 2))).toThrow('boom');
  const weight = l.weight.slice();
  expect(() => optimizer.step()).toThrow(/incomplete/);
  expect(l.weight).toEqual(weight);
  model.zeroGrad();
  expect(() => optimizer.step()).not.toThrow();
  model.dispose();
});

test('an empty forward refused for its out keeps the forward before it', () => {
  const model = new Sequential([new Linear(3, 2, { seed: 1 })]);
  model.forward(randomArray(6, 1), 2);
  expect(() => model.forward(new Float32Array(0), 0, new Float32Array(5))).toThrow(/out/);
  expect(model.backward(randomArray(4, 2))).toHaveLength(6);
  model.dispose();
});

test('loadStateDict refuses a shape with holes (they are no sizes), changing nothing', () => {
  const layer = new Linear(3, 2, { seed: 1 });
  const model = new Sequential([layer]);
  const state = stateDict(model);
  const weight = layer.weight.slice();
  for (const shape of [new Array(2), [, 3], [2, , ]]) { // eslint-disable-line no-sparse-arrays
    const bad = { ...state, '0.weight': { shape: shape as number[], data: new Float32Array(6) } };
    expect(() => loadStateDict(model, bad)).toThrow(/0\.weight/);
  }
  expect(layer.weight).toEqual(weight);
  model.dispose();
});

test('optimizers: an empty parameter list is an error (as torch.optim\'s), and zeroGrad() checks every parameter before zeroing any', () => {
  const frozen = new Sequential([new Linear(2, 2, { seed: 1 }).freeze()]);
  expect(() => new SGD(frozen, { lr: 0.1 })).toThrow(/new SGD: got an empty parameter list/);
  expect(() => new SGD([], { lr: 0.1 })).toThrow(TypeError);
  const kept = new Linear(2, 2, { seed: 2 }), gone = new Linear(2, 2, { seed: 3 });
  const optimizer = new SGD([...kept.parameters(), ...gone.parameters()], { lr: 0.1 });
  kept.forward(randomArray(2, 1), 1);
  kept.backward(randomArray(2, 2));
  const grad = kept.weightGrad.slice();
  gone.dispose();
  expect(() => optimizer.zeroGrad()).toThrow(/SGD\.zeroGrad: params\[2\]/);
  expect(kept.weightGrad).toEqual(grad);
  frozen.dispose();
  kept.dispose();
});

test('backward needs no parameter names: a layer of yours with two unnamed weights trains (only naming it refuses)', () => {
  const a = new Linear(4, 4, { seed: 1 }), b = new Linear(4, 4, { seed: 2 });
  const block = {
    inFeatures: 4, outFeatures: 4,
    forward: (x: Float32Array, batch: number) => b.forward(a.forward(x, batch), batch),
    backward: (dy: Float32Array) => a.backward(b.backward(dy)),
    parameters: () => [...a.parameters(), ...b.parameters()],
  };
  const model = new Sequential([block, new Linear(4, 2, { seed: 3 })]);
  const y = model.forward(randomArray(8, 1), 2);
  expect(model.backward(randomArray(y.length, 2))).toHaveLength(8);
  expect(a.weightGrad.some((g) => g !== 0)).toBe(true);
  expect(() => model.parameters()).toThrow(/two parameters named 'weight'/);
  for (const l of [model, a, b]) l.dispose();
});

test('an empty or failed forward of the nested model counts too: the outer backward is refused before anything changes', () => {
  const head = new Linear(2, 2, { seed: 5 });
  const inner = new Sequential([new Linear(2, 2, { seed: 6 })]);
  const outer = new Sequential([inner, head]);
  outer.forward(randomArray(2, 1), 1);
  inner.forward(new Float32Array(0), 0);
  const grad = head.weightGrad.slice();
  expect(() => outer.backward(randomArray(2, 2))).toThrow(ranOther);
  expect(head.weightGrad).toEqual(grad);
  outer.forward(randomArray(2, 1), 1);
  expect(() => inner.forward(new Float32Array(3), 1)).toThrow(); // 3 floats are no row of 2
  expect(outer.backward(randomArray(2, 2))).toHaveLength(2); // a refused forward changed nothing
  outer.dispose();
});
