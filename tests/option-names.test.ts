// Every call that takes an options object refuses a key it does not know, naming it and the
// keys it takes: a misspelt option would otherwise be ignored and the call do something else,
// silently ({ transposeb: true } multiplies by B, not Bᵀ; PyTorch's weight_decay left AdamW's
// at its default). Nothing is made or changed by a refused call.
import { beforeAll, expect, test } from 'vitest';
import {
  AdamW, Dropout, ELU, GELU, init, LeakyReLU, Linear, LoRA, matmul, memoryStats, mse, SGD, Softplus, softmaxCrossEntropy,
} from '../dist/index.js';
import { initOptions } from './support.js';

beforeAll(() => init(initOptions));

const cases: [string, (layer: Linear) => unknown, RegExp][] = [
  ['new Linear', () => new Linear(3, 2, { activaton: 'relu' } as never), /^new Linear: options\.activaton is not an option; expected bias, seed, activation, negativeSlope$/],
  ['Linear.fromTorch', () => Linear.fromTorch([[1, 2, 3]], null, { seed: 3 } as never), /^Linear\.fromTorch: options\.seed is not an option; expected activation, negativeSlope$/],
  ['Linear.freeze', (layer) => layer.freeze({ weight: 'int8' } as never), /^Linear\.freeze: options\.weight is not an option; expected weights$/],
  ['new LoRA', (layer) => new LoRA(layer, { rank: 1, lora_alpha: 2 } as never), /^new LoRA: options\.lora_alpha is not an option; expected rank, alpha, seed$/],
  ['new SGD', (layer) => new SGD(layer.parameters(), { lr: 0.1, weight_decay: 0.1 } as never), /^new SGD: options\.weight_decay is not an option; expected lr, momentum, dampening, weightDecay, nesterov$/],
  ['new AdamW', (layer) => new AdamW(layer.parameters(), { weight_decay: 0 } as never), /^new AdamW: options\.weight_decay is not an option; expected lr, betas, eps, weightDecay$/],
  ['new Dropout', () => new Dropout(0.5, { sead: 1 } as never), /^new Dropout: options\.sead is not an option; expected seed$/],
  ['new LeakyReLU', () => new LeakyReLU({ negative_slope: 0.2 } as never), /^new LeakyReLU: options\.negative_slope is not an option; expected negativeSlope$/],
  ['new GELU', () => new GELU({ approx: 'tanh' } as never), /^new GELU: options\.approx is not an option; expected approximate$/],
  ['new ELU', () => new ELU({ a: 1 } as never), /^new ELU: options\.a is not an option; expected alpha$/],
  ['new Softplus', () => new Softplus({ beta: 1, treshold: 5 } as never), /^new Softplus: options\.treshold is not an option; expected beta, threshold$/],
  ['softmaxCrossEntropy', () => softmaxCrossEntropy(new Float32Array(2), new Int32Array([0]), 2, { ignore_index: 0 } as never), /^softmaxCrossEntropy: options\.ignore_index is not an option; expected weight, ignoreIndex, labelSmoothing$/],
];

test.each(cases)('%s refuses an unknown option by name, making nothing', (_, call, message) => {
  using layer = new Linear(3, 2, { seed: 1 });
  const weight = [...layer.weight];
  const before = memoryStats().liveBytes;
  expect(() => call(layer)).toThrow(TypeError);
  expect(() => call(layer)).toThrow(message);
  expect(memoryStats().liveBytes).toBe(before);
  expect([...layer.weight]).toEqual(weight);
});

test('matmul: a misspelt transpose is refused, not ignored, and out is left as it was', () => {
  const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([5, 6, 7, 8]);
  const out = new Float32Array([9, 9, 9, 9]);
  expect(() => matmul(a, b, 2, 2, 2, { transposeb: true, out } as never))
    .toThrow(/^matmul: options\.transposeb is not an option; expected transposeA, transposeB, out, alpha, beta$/);
  expect([...out]).toEqual([9, 9, 9, 9]);
  expect([...matmul(a, b, 2, 2, 2, { transposeB: true })]).toEqual([17, 23, 39, 53]);
});

test('inherited keys are options too, and keys an options object does not enumerate are not read', () => {
  const defaults = { transposeB: true };
  const inherited = Object.create(defaults) as { transposeB: boolean };
  const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([5, 6, 7, 8]);
  expect([...matmul(a, b, 2, 2, 2, inherited)]).toEqual([17, 23, 39, 53]);
  expect(() => matmul(a, b, 2, 2, 2, Object.create({ transpose: true }) as never)).toThrow(/options\.transpose is not an option/);
  const hidden = Object.defineProperty({}, 'note', { value: 'not enumerable', enumerable: false });
  expect(matmul(a, b, 2, 2, 2, hidden)).toHaveLength(4);
});

test('each option is read once: a Proxy or a getter that changes its answer cannot pass the checks with one value and run with another', () => {
  const reads = new Map<PropertyKey, number>();
  const counted = <T extends object>(target: T): T => new Proxy(target, {
    get: (t, key, receiver) => { reads.set(key, (reads.get(key) ?? 0) + 1); return Reflect.get(t, key, receiver); },
  });
  const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([1, 2, 3, 4, 5, 6]);
  const out = new Float32Array(6);
  expect([...matmul(a, b, 2, 2, 3, counted({ transposeB: false, alpha: 1, beta: 0, out }))]).toEqual([9, 12, 15, 19, 26, 33]);
  const layer = new Linear(3, 2, counted({ seed: 1, bias: false }));
  new AdamW(layer.parameters(), counted({ lr: 0.1, weightDecay: 0 }));
  expect([...reads.values()].every((n) => n === 1), JSON.stringify([...reads])).toBe(true);
  // transposeB true on its first read only: checked and run as true (B read as 3×2, transposed), or refused; never mixed.
  let first = true;
  const flipping = { get transposeB() { const answer = first; first = false; return answer; } };
  expect([...matmul(a, b, 2, 2, 3, flipping)]).toEqual([5, 11, 17, 11, 25, 39]);
  layer.dispose();
});

test('mse takes no options; init refuses an unknown key before and after it has run', async () => {
  expect(mse(new Float32Array([1]), new Float32Array([0])).loss).toBe(1);
  await expect(init({ thread: 2 } as never)).rejects.toThrow(/^init: options\.thread is not an option; expected simd, threads, wasm, worker$/);
  await expect(init(initOptions)).resolves.toBeUndefined(); // the runtime is as it was
});
