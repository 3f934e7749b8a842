// The GEMM through `matmul`: every edge of the 4×8 tile, every cache block, every transpose.
import { beforeAll, describe, expect, test } from 'vitest';
import { backendInfo, init, matmul } from '../dist/index.js';
import { expectProduct, initOptions, randomArray } from './support.js';

const transposes = [
  { transposeA: false, transposeB: false },
  { transposeA: false, transposeB: true },
  { transposeA: true, transposeB: false },
  { transposeA: true, transposeB: true },
];
const name = (o: { transposeA: boolean; transposeB: boolean }) => `${o.transposeA ? 'Aᵀ' : 'A'}·${o.transposeB ? 'Bᵀ' : 'B'}`;

let seed = 1;
function check(m: number, k: number, n: number, options: (typeof transposes)[number]): void {
  const a = randomArray(m * k, seed++);
  const b = randomArray(k * n, seed++);
  expectProduct(matmul(a, b, m, k, n, options), a, b, m, k, n, options, `${m}×${k}×${n} ${name(options)}`);
}

beforeAll(() => init(initOptions));

test('runs the build this project asked for', () => {
  if (initOptions.simd !== 'auto') expect(backendInfo().simd).toBe(initOptions.simd);
});

describe.each(transposes)('matmul $transposeA $transposeB', (options) => {
  test('every edge of the register tile: m 1..MR+1, n 1..2·NR+1, k around the packing unroll', () => {
    const { tile } = backendInfo();
    for (let m = 1; m <= tile.rows + 1; m++) {
      for (let n = 1; n <= 2 * tile.cols + 1; n++) {
        for (const k of [1, 2, 3, 4, 5, 7, 8, 9, 17]) check(m, k, n, options);
      }
    }
  });

  test('shapes straddling each cache block', () => {
    const { blocks: { rows: mc, depth: kc, cols: nc } } = backendInfo();
    for (const m of [mc - 1, mc, mc + 1]) check(m, 13, 11, options);
    for (const k of [kc - 1, kc, kc + 1, 2 * kc + 3]) check(5, k, 11, options);
    for (const n of [nc - 1, nc, nc + 1]) check(5, 13, n, options);
    check(mc + 3, kc + 5, nc + 9, options);
    // B with rows 4 KiB apart: streamed in place up to 12 rows of C, each panel copied
    // first up to a block of A, packed past it (ALIASED_DIRECT_ROWS in assembly/gemm.ts).
    for (const m of [12, 13, mc, mc + 1]) check(m, kc + 3, 1024, options);
  });

  test('a single row (the batch-1 paths) on ragged depths and widths', () => {
    for (const [k, n] of [[1, 1], [7, 3], [8, 33], [9, 31], [301, 67], [1031, 129], [64, 64], [2053, 1031]]) check(1, k, n, options);
  });

  test('depth 1 (an outer product) on ragged heights and widths', () => {
    for (const [m, n] of [[2, 1], [7, 3], [37, 1031], [300, 5]]) check(m, 1, n, options);
  });

  test('1×1×1 and primes', () => {
    check(1, 1, 1, options);
    check(97, 101, 103, options);
    check(1, 257, 13, options);
    check(31, 1, 37, options);
  });
});

test('a thin product (Aᵀ, n ≤ 12) longer than the scratch holds at once', () => {
  // gemm computes Cᵀ for these in chunks of rows of C: 43,344 at n = 12, 173,392 at n = 3
  // (THIN_FLOATS / n, rounded down to whole tiles, in assembly/gemm.ts).
  check(2 * 43_344 + 17, 3, 12, transposes[2]);
  check(173_392 + 13, 2, 3, transposes[3]);
});

test('a large product: 512×512×512', () => {
  check(512, 512, 512, transposes[0]);
});

test('out receives the result, and may alias an input', () => {
  const a = randomArray(6 * 6, 7);
  const b = randomArray(6 * 6, 8);
  const expected = matmul(a, b, 6, 6, 6);
  const out = new Float32Array(36);
  expect(matmul(a, b, 6, 6, 6, { out })).toBe(out);
  expect(out).toEqual(expected);
  const aliased = a.slice();
  matmul(aliased, b, 6, 6, 6, { out: aliased });
  expect(aliased).toEqual(expected);
});

test.each([
  [9, 300, 17], [1, 300, 17], [1, 37, 1024], [6, 37, 1024], [13, 5, 2049], [1, 1, 1], [1, 2053, 1031], [37, 1, 1031],
])('exact on small integers, whatever the summation order: %i×%i×%i', (m, k, n) => {
  // Products and sums of these stay integers below 2²⁴: every order of summation is exact.
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 5) - 2);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 3) % 7) - 3);
  for (const options of transposes) {
    const c = matmul(a, b, m, k, n, options);
    const want = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (options.transposeA ? a[p * m + i] : a[i * k + p]) * (options.transposeB ? b[j * k + p] : b[p * n + j]);
      }
      want[i * n + j] = s;
    }
    expect(c, name(options)).toEqual(want);
  }
});

test('an empty product zeroes out with the engine\'s own fill, not a method the array overrides', () => {
  class Unfilled extends Float32Array {
    override fill(): this { return this; }
  }
  for (const [k, alpha] of [[0, 1], [1, 0]]) {
    const out = new Unfilled(4);
    out.set([7, 7, 7, 7]);
    expect(matmul(new Float32Array(2 * k), new Float32Array(2 * k), 2, k, 2, { out, alpha })).toBe(out);
    expect(Array.from(out), `k ${k}, alpha ${alpha}`).toEqual([0, 0, 0, 0]);
  }
});
