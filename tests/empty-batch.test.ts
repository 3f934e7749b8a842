// Empty batches, as PyTorch and tfjs: a forward of 0 rows returns an empty array, its
// backward an empty dX, and no gradient changes; layer sizes stay positive integers.
import { beforeAll, expect, test } from 'vitest';
import { Dropout, GELU, init, Linear, LoRA, mse, ReLU, Sequential, softmaxCrossEntropy } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

test('Linear, FrozenLinear, LoRA, activations, Dropout and Sequential on a batch of 0', () => {
  const layer = new Linear(5, 3, { seed: 1, activation: 'relu' });
  const frozen = layer.freeze({ weights: 'int8' });
  const lora = new LoRA(layer, { rank: 2 });
  const model = new Sequential([new Linear(5, 4, { seed: 2 }), new GELU(), new Dropout(0.5), new Linear(4, 3, { seed: 3 })]);
  const empty = new Float32Array(0);
  for (const [name, l] of Object.entries({ layer, frozen, lora, model, relu: new ReLU(), dropout: new Dropout(0.2) })) {
    // A real batch first, so that an empty one must not backpropagate through it.
    l.forward(randomArray(2 * 5, 3), name === 'relu' || name === 'dropout' ? 1 : 2);
    const grads = l.parameters().map((p) => p.grad.slice());
    expect(l.forward(empty), name).toEqual(new Float32Array(0));
    expect(l.forward(empty, 0), name).toEqual(new Float32Array(0));
    expect(l.backward!(empty), name).toEqual(new Float32Array(0));
    expect(l.parameters().map((p) => p.grad.slice()), name).toEqual(grads);
    expect(() => l.backward!(new Float32Array(3)), name).toThrow(/dy must be a Float32Array of length 0 \(the last forward had no rows\)/);
  }
  // The losses of no rows: NaN (the mean of nothing, as PyTorch's), and an empty gradient.
  for (const { loss, grad } of [softmaxCrossEntropy(empty, new Int32Array(0), 10), mse(empty, empty)]) {
    expect(loss).toBeNaN();
    expect(grad).toEqual(new Float32Array(0));
  }
  expect(() => softmaxCrossEntropy(empty, new Int32Array(1), 10)).toThrow(/labels must hold one class index per row of logits \(0\)/);
  expect(() => new Linear(0, 3)).toThrow('new Linear: inFeatures must be a positive integer; got 0');
  expect(() => layer.forward(new Float32Array(3))).toThrow(/Linear.forward: x must hold whole rows of inFeatures = 5 floats/);
  for (const l of [lora, frozen, model, layer]) l.dispose();
});
