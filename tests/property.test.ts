// Property-based cross-checks: random shapes concentrated on tile and block edges,
// random values, every result element within the float32 summation bound of the
// float64 reference. SIMD_LINEAR_FUZZ_RUNS sets the number of cases (e.g. 10000
// locally); the seed is fixed (SIMD_LINEAR_FUZZ_SEED) so CI is repeatable.
import fc from 'fast-check';
import { beforeAll, test } from 'vitest';
import { backendInfo, init, Linear, matmul } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { expectProduct, expectWithin, initOptions, productBound, testEnv } from './support.js';

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
