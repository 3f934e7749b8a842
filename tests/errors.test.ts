// Every public entry point with every bad argument: a clear error naming the argument,
// what was expected and what was given, and the layer left exactly as it was.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, matmul } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const f32 = (n: number) => new Float32Array(n);
const badSizes: [unknown, RegExp][] = [
  [0, /got 0/], [-3, /got -3/], [2.5, /got 2.5/], [NaN, /got NaN/], [Infinity, /got Infinity/],
  ['4', /got the string "4"/], [null, /got null/],
];

interface Case {
  name: string;
  call: (layer: Linear) => unknown;
  error: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;
  message: RegExp;
}

// The layer under test: 3 → 2, after one forward of batch 4 and one backward.
const cases: Case[] = [
  ...badSizes.map(([size, got]): Case => ({
    name: `new Linear inFeatures ${String(size)}`, call: () => new Linear(size as number, 2),
    error: typeof size === 'number' ? RangeError : TypeError, message: new RegExp(`new Linear: inFeatures must be a positive integer; ${got.source}`),
  })),
  ...badSizes.map(([size, got]): Case => ({
    name: `new Linear outFeatures ${String(size)}`, call: () => new Linear(2, size as number),
    error: typeof size === 'number' ? RangeError : TypeError, message: new RegExp(`outFeatures must be a positive integer; ${got.source}`),
  })),
  { name: 'new Linear bias not boolean', call: () => new Linear(2, 2, { bias: 1 as unknown as boolean }), error: TypeError, message: /options.bias must be a boolean; got 1/ },
  { name: 'new Linear seed NaN', call: () => new Linear(2, 2, { seed: NaN }), error: RangeError, message: /options.seed must be an integer; got NaN/ },
  { name: 'new Linear seed Math.random()', call: () => new Linear(2, 2, { seed: 0.37 }), error: RangeError, message: /options.seed must be an integer; got 0.37/ },
  { name: 'new Linear seed a string', call: () => new Linear(2, 2, { seed: '1' as never }), error: TypeError, message: /options.seed must be an integer; got the string "1"/ },

  { name: 'forward x Float64Array', call: (l) => l.forward(new Float64Array(12) as unknown as Float32Array), error: TypeError, message: /Linear.forward: x must be a Float32Array; got a Float64Array of length 12/ },
  { name: 'forward x plain array', call: (l) => l.forward([1, 2, 3] as unknown as Float32Array), error: TypeError, message: /x must be a Float32Array; got an Array of length 3/ },
  { name: 'forward x null', call: (l) => l.forward(null as unknown as Float32Array), error: TypeError, message: /x must be a Float32Array; got null/ },
  { name: 'forward x not whole rows', call: (l) => l.forward(f32(7)), error: RangeError, message: /x must hold whole rows of inFeatures = 3 floats; got a Float32Array of length 7/ },
  { name: 'forward x wrong length for batch', call: (l) => l.forward(f32(9), 2), error: RangeError, message: /x must be a Float32Array of length 6 \(batch·inFeatures = 2·3\); got a Float32Array of length 9/ },
  // A batch may be 0 (an empty batch, tests/empty-batch.test.ts), so x must then be empty.
  { name: 'forward batch 0 with rows', call: (l) => l.forward(f32(6), 0), error: RangeError, message: /Linear.forward: x must be a Float32Array of length 0 \(batch·inFeatures = 0·3\); got a Float32Array of length 6/ },
  ...badSizes.filter(([size]) => size !== 0).map(([size, got]): Case => ({
    name: `forward batch ${String(size)}`, call: (l) => l.forward(f32(6), size as number),
    error: typeof size === 'number' ? RangeError : TypeError, message: new RegExp(`Linear.forward: batch must be a non-negative integer; ${got.source}`),
  })),
  { name: 'forward out wrong length', call: (l) => l.forward(f32(6), 2, f32(5)), error: RangeError, message: /out must be a Float32Array of length 4 \(batch·outFeatures = 2·2\); got a Float32Array of length 5/ },
  { name: 'forward out wrong type', call: (l) => l.forward(f32(6), 2, new Float64Array(4) as unknown as Float32Array), error: TypeError, message: /out must be a Float32Array of length 4 .*got a Float64Array/ },

  { name: 'backward dy wrong length', call: (l) => l.backward(f32(7)), error: RangeError, message: /Linear.backward: dy must be a Float32Array of length 8 \(batch·outFeatures = 4·2, from the last forward\); got a Float32Array of length 7/ },
  { name: 'backward dy Float64Array', call: (l) => l.backward(new Float64Array(8) as unknown as Float32Array), error: TypeError, message: /dy must be a Float32Array of length 8.*got a Float64Array of length 8/ },
  { name: 'backward dy undefined', call: (l) => (l.backward as (dy?: Float32Array) => Float32Array)(), error: TypeError, message: /dy must be .*got undefined/ },
  { name: 'backward out wrong length', call: (l) => l.backward(f32(8), f32(3)), error: RangeError, message: /out must be a Float32Array of length 12 \(batch·inFeatures = 4·3\); got a Float32Array of length 3/ },
  { name: 'backward before forward', call: () => new Linear(3, 2).backward(f32(2)), error: Error, message: /Linear.backward: called before forward/ },

  { name: 'matmul k 1.5', call: () => matmul(f32(1), f32(1), 1, 1.5, 1), error: RangeError, message: /matmul: k must be a non-negative integer; got 1.5/ },
  { name: 'matmul n NaN', call: () => matmul(f32(1), f32(1), 1, 1, NaN), error: RangeError, message: /matmul: n must be a non-negative integer; got NaN/ },
  { name: 'matmul m -1', call: () => matmul(f32(1), f32(1), -1, 1, 1), error: RangeError, message: /matmul: m must be a non-negative integer; got -1/ },
  { name: 'matmul k Infinity', call: () => matmul(f32(1), f32(1), 1, Infinity, 1), error: RangeError, message: /matmul: k must be a non-negative integer; got Infinity/ },
  { name: 'matmul n a string', call: () => matmul(f32(1), f32(1), 1, 1, '1' as unknown as number), error: TypeError, message: /matmul: n must be a non-negative integer; got the string "1"/ },
  { name: 'matmul options null', call: () => matmul(f32(1), f32(1), 1, 1, 1, null as never), error: TypeError, message: /matmul: options must be an object \(\{ transposeA, transposeB, out, alpha, beta \}\); got null/ },
  { name: 'matmul transposeA not boolean', call: () => matmul(f32(1), f32(1), 1, 1, 1, { transposeA: 'yes' as never }), error: TypeError, message: /matmul: options.transposeA must be a boolean; got the string "yes"/ },
  { name: 'matmul a too short', call: () => matmul(f32(5), f32(6), 2, 3, 2), error: RangeError, message: /matmul: a must be a Float32Array of length 6 \(m·k = 2·3\); got a Float32Array of length 5/ },
  { name: 'matmul b transposed too long', call: () => matmul(f32(6), f32(7), 2, 3, 2, { transposeB: true }), error: RangeError, message: /matmul: b must be a Float32Array of length 6 \(n·k = 2·3, transposed\); got a Float32Array of length 7/ },
  { name: 'matmul a Float64Array', call: () => matmul(new Float64Array(6) as unknown as Float32Array, f32(6), 2, 3, 2), error: TypeError, message: /matmul: a must be a Float32Array of length 6.*got a Float64Array of length 6/ },
  { name: 'matmul b array', call: () => matmul(f32(6), [1, 2] as unknown as Float32Array, 2, 3, 2), error: TypeError, message: /matmul: b must be .*got an Array of length 2/ },
  { name: 'matmul out wrong length', call: () => matmul(f32(6), f32(6), 2, 3, 2, { out: f32(3) }), error: RangeError, message: /matmul: options.out must be a Float32Array of length 4 \(m·n = 2·2\); got a Float32Array of length 3/ },
];

test.each(cases)('$name', ({ call, error, message }) => {
  const layer = new Linear(3, 2, { seed: 5 });
  layer.forward(randomArray(12, 1));
  layer.backward(randomArray(8, 2));
  const before = [layer.weight, layer.bias!, layer.weightGrad, layer.biasGrad!].map((v) => v.slice());

  let thrown: unknown;
  try {
    call(layer);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(error);
  expect((thrown as Error).message).toMatch(message);

  // Nothing lost: bit-identical parameters and gradients, and the layer still works.
  const after = [layer.weight, layer.bias!, layer.weightGrad, layer.biasGrad!];
  after.forEach((values, i) => expect(new Uint32Array(values.slice().buffer)).toEqual(new Uint32Array(before[i].buffer)));
  expect(layer.backward(randomArray(8, 2))).toHaveLength(12);
  layer.dispose();
});

test('use after dispose throws on every member', () => {
  const layer = new Linear(3, 2);
  layer.dispose();
  layer.dispose(); // twice is harmless
  const uses: [string, () => unknown][] = [
    ['weight', () => layer.weight], ['bias', () => layer.bias], ['weightGrad', () => layer.weightGrad],
    ['biasGrad', () => layer.biasGrad], ['Linear.forward', () => layer.forward(f32(3))],
    ['Linear.backward', () => layer.backward(f32(2))], ['Linear.zeroGrad', () => layer.zeroGrad()],
  ];
  for (const [where, use] of uses) expect(use, where).toThrow(new RegExp(`${where}: this Linear layer was disposed`));
});
