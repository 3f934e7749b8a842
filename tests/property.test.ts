// Property-based cross-checks: random shapes concentrated on tile and block edges,
// random values, every result element within the float32 summation bound of the
// float64 reference. SIMD_LINEAR_FUZZ_RUNS sets the number of cases (e.g. 10000
// locally); the seed is fixed (SIMD_LINEAR_FUZZ_SEED) so CI is repeatable.
import fc from 'fast-check';
import { beforeAll, test } from 'vitest';
import { backendInfo, init, Linear, matmul, ReLU, Sequential, Tanh, type Layer } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { referenceMatmul } from '../dist/reference.js';
import { expectProduct, expectSameBits, expectWithin, initOptions, productBound, testEnv } from './support.js';

const runs = Number(testEnv.SIMD_LINEAR_FUZZ_RUNS ?? 40);
const seed = Number(testEnv.SIMD_LINEAR_FUZZ_SEED ?? 20261125);

beforeAll(() => init(initOptions));

/** Long local runs (SIMD_LINEAR_FUZZ_RUNS=10000) take minutes: the time allowed grows with the cases. */
const timeout = 60_000 + runs * 100;

/** Sizes around every edge of the kernels: the tile, the packing unroll (4), each block. */
function edgeSize(max: number): fc.Arbitrary<number> {
  const { tile, blocks } = backendInfo();
  const edges = [1, 2, 3, 4, 5, tile.rows, tile.cols, 2 * tile.cols, blocks.depth, blocks.rows, 1024]
    .flatMap((e) => [e - 1, e, e + 1])
    .filter((e) => e >= 1 && e <= max);
  return fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 1, max }));
}

/** m, k, n with at most ~4·10⁶ multiply-adds, so the float64 reference stays quick. */
const shapes = (): fc.Arbitrary<[number, number, number]> => fc
  .tuple(edgeSize(300), edgeSize(600), edgeSize(1100))
  .filter(([m, k, n]) => m * k * n <= 4e6);

/** Finite float32 values of mixed magnitudes, including zeros and subnormal-free small ones. */
const values = (length: number, valueSeed: number): Float32Array => {
  const out = new Float32Array(length);
  let state = valueSeed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = state / 2 ** 32;
    out[i] = i % 17 === 0 ? 0 : (u * 2 - 1) * 2 ** ((state % 9) - 4);
  }
  return out;
};

test('matmul, all transposes, against the reference', () => {
  fc.assert(
    fc.property(shapes(), fc.boolean(), fc.boolean(), fc.integer(), ([m, k, n], transposeA, transposeB, valueSeed) => {
      const a = values(m * k, valueSeed);
      const b = values(k * n, valueSeed + 1);
      const options = { transposeA, transposeB };
      expectProduct(matmul(a, b, m, k, n, options), a, b, m, k, n, options, `${m}×${k}×${n} ${transposeA}/${transposeB}`);
    }),
    { numRuns: runs, seed },
  );
}, timeout);

test('Linear forward, dX, dW, db against the reference', () => {
  fc.assert(
    fc.property(shapes(), fc.boolean(), fc.integer(), ([batch, din, dout], bias, valueSeed) => {
      const layer = new Linear(din, dout, { bias, seed: valueSeed });
      try {
        const x = values(batch * din, valueSeed), dy = values(batch * dout, valueSeed + 1);
        const w = layer.weight.slice(), b = layer.bias?.slice() ?? null;
        const label = `${batch}×${din}×${dout}`;
        expectWithin(layer.forward(x, batch), referenceForward(x, w, b, batch, din, dout),
          productBound(x, w, batch, din, dout, {}, (_, j) => b?.[j] ?? 0), `Y ${label}`);
        const dx = layer.backward(dy);
        const want = referenceBackward(x, w, dy, batch, din, dout);
        expectWithin(dx, want.dx, productBound(dy, w, batch, dout, din, { transposeB: true }), `dX ${label}`);
        expectWithin(layer.weightGrad, want.dw, productBound(x, dy, din, batch, dout, { transposeA: true }), `dW ${label}`);
        if (bias) expectWithin(layer.biasGrad!, want.db, productBound(new Float32Array(batch).fill(1), dy, 1, batch, dout), `db ${label}`);
      } finally {
        layer.dispose();
      }
    }),
    { numRuns: Math.max(1, runs >> 1), seed },
  );
}, timeout);

/**
 * Models that reuse layers: positions drawn, with repetition, from a pool of Linears of
 * one width and two shared activations. The reference runs the same chain of distinct
 * copies, call by call: the forward and dX must be the same bits, and each pooled
 * Linear's gradient the sum of its copies', within the bounds of every product summed.
 */
test('models that use a layer at several positions: as distinct copies, gradients summed', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }), fc.integer(),
      (batch, width, linears, picks, valueSeed) => {
        const pool: Layer[] = [...Array.from({ length: linears }, (_, i) => new Linear(width, width, { seed: valueSeed + i })), new ReLU(), new Tanh()];
        const positions = picks.map((pick) => pool[pick % pool.length]);
        const model = new Sequential(positions);
        const copies = positions.map((layer) => copyOfLayer(layer));
        try {
          const x = values(batch * width, valueSeed), dy = values(batch * width, valueSeed + 1);
          const inputs: Float32Array[] = [x];
          for (const copy of copies) inputs.push(copy.forward(inputs[inputs.length - 1], batch));
          expectSameBits(model.forward(x, batch), inputs[inputs.length - 1], 'Y');
          const gradients: Float32Array[] = [dy]; // gradients[j]: arriving at position copies.length − 1 − j
          for (let i = copies.length - 1; i >= 0; i--) gradients.push(copies[i].backward!(gradients[gradients.length - 1]));
          expectSameBits(model.backward(dy), gradients[gradients.length - 1], 'dX');
          pool.forEach((layer) => {
            if (!(layer instanceof Linear)) return;
            const uses = positions.flatMap((p, i) => (p === layer ? [i] : []));
            const exact = new Float64Array(width * width), bound = new Float64Array(width * width);
            const exactBias = new Float64Array(width), boundBias = new Float64Array(width);
            const ones = new Float32Array(batch).fill(1);
            for (const i of uses) {
              const dz = gradients[copies.length - 1 - i];
              add(exact, referenceMatmul(inputs[i], dz, width, batch, width, { transposeA: true }));
              add(bound, productBound(inputs[i], dz, width, batch, width, { transposeA: true }));
              add(exactBias, referenceMatmul(ones, dz, 1, batch, width));
              add(boundBias, productBound(ones, dz, 1, batch, width));
            }
            expectWithin(layer.weightGrad, exact, bound, `dW of a Linear used at ${uses.join(', ')}`);
            expectWithin(layer.biasGrad!, exactBias, boundBias, `db of a Linear used at ${uses.join(', ')}`);
          });
        } finally {
          model.dispose();
          copies.forEach((copy) => copy.dispose!());
        }
      },
    ),
    { numRuns: Math.max(1, runs >> 1), seed },
  );
}, timeout);

/** A copy with memory of its own: a Linear with the same weights, a fresh activation. */
function copyOfLayer(layer: Layer): Layer {
  if (layer instanceof ReLU) return new ReLU();
  if (layer instanceof Tanh) return new Tanh();
  const linear = layer as Linear;
  const copy = new Linear(linear.inFeatures, linear.outFeatures);
  copy.weight.set(linear.weight);
  copy.bias!.set(linear.bias!);
  return copy;
}

function add(sum: Float64Array, terms: ArrayLike<number>): void {
  for (let i = 0; i < sum.length; i++) sum[i] += terms[i];
}
