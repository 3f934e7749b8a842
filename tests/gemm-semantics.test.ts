// matmul's BLAS semantics, C = alpha·op(A)·op(B) + beta·C, and PyTorch's empty products,
// against float64.
import { beforeAll, expect, test } from 'vitest';
import { allocate, init, matmul } from '../dist/index.js';
import { referenceMatmul } from '../dist/reference.js';
import { expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

test.each([[1, 1, 1], [5, 7, 3], [33, 17, 65], [64, 300, 24]])('alpha and beta at %i×%i×%i, every transpose', (m, k, n) => {
  for (const [alpha, beta] of [[1, 0], [2.5, 0], [1, 1], [-0.5, 2], [0.75, -1.25], [0, 3], [1, 0.5]]) {
    for (const options of [{}, { transposeA: true }, { transposeB: true }, { transposeA: true, transposeB: true }]) {
      const a = randomArray(m * k, m + k), b = randomArray(k * n, k + n), c0 = randomArray(m * n, n);
      const out = c0.slice();
      matmul(a, b, m, k, n, { ...options, alpha, beta, out });
      const product = referenceMatmul(a, b, m, k, n, options);
      const want = product.map((v, i) => alpha * v + beta * c0[i]);
      // The product's bound scaled by |alpha|, plus the roundings of the two scalings.
      const bound = productBound(a, b, m, k, n, options).map((e, i) => (Math.abs(alpha) + 1) * e + 4 * 2 ** -24 * (Math.abs(alpha * product[i]) + Math.abs(beta * c0[i])) + 1e-30);
      expectWithin(out, want, bound, `alpha ${alpha} beta ${beta} ${JSON.stringify(options)}`);
    }
  }
});

test('beta = 0 never reads out (NaN there does not leak); beta ≠ 0 needs out; bad alpha or beta are clear errors', () => {
  const a = randomArray(6, 1), b = randomArray(6, 2);
  const out = new Float32Array(4).fill(NaN);
  matmul(a, b, 2, 3, 2, { out, alpha: 2 });
  expect(out.every(Number.isFinite)).toBe(true);
  expect(() => matmul(a, b, 2, 3, 2, { beta: 1 })).toThrow('matmul: options.beta = 1 needs options.out, the C it scales');
  expect(() => matmul(a, b, 2, 3, 2, { alpha: NaN })).toThrow("matmul: options.alpha must be a finite number within float32's range; got NaN");
  // Finite doubles past float32's range would be ±∞ in the kernels (C all infinite): refused, and out left alone.
  const before = Float32Array.from(out);
  expect(() => matmul(a, b, 2, 3, 2, { alpha: 1e39, out })).toThrow(RangeError);
  expect(() => matmul(a, b, 2, 3, 2, { alpha: 1e39 })).toThrow("matmul: options.alpha must be a finite number within float32's range; got 1e+39");
  expect(() => matmul(a, b, 2, 3, 2, { beta: -1e39, out })).toThrow("matmul: options.beta must be a finite number within float32's range; got -1e+39");
  expect(out).toEqual(before);
  expect(() => matmul(a, b, 2, 3, 2, { alpha: 3.4e38 })).not.toThrow(); // the largest float32s are taken
  expect(() => matmul(a, b, 2, 3, 2, { beta: '1' as never, out })).toThrow(`matmul: options.beta must be a finite number within float32's range; got the string "1"`);
});

test('empty products as PyTorch: m or n = 0 give an empty C, k = 0 gives zeros (beta·C with out)', () => {
  expect(matmul(new Float32Array(0), randomArray(12, 1), 0, 3, 4)).toEqual(new Float32Array(0));
  expect(matmul(randomArray(6, 1), new Float32Array(0), 2, 3, 0)).toEqual(new Float32Array(0));
  expect(Array.from(matmul(new Float32Array(0), new Float32Array(0), 2, 0, 3))).toEqual([0, 0, 0, 0, 0, 0]);
  const out = Float32Array.from([1, 2, 3, 4]);
  expect(Array.from(matmul(new Float32Array(0), new Float32Array(0), 2, 0, 2, { out, beta: 0.5 }))).toEqual([0.5, 1, 1.5, 2]);
  expect(() => matmul(new Float32Array(1), new Float32Array(0), 1, 0, 1)).toThrow(/matmul: a must be a Float32Array of length 0/);
});

test('out aliasing an operand from allocate(), with beta: C is read before anything is written', () => {
  const m = 3, k = 3, n = 3;
  const a = allocate(9);
  a.set(randomArray(9, 7));
  const b = randomArray(9, 8);
  const c0 = a.slice();
  const want = referenceMatmul(c0, b, m, k, n).map((v, i) => v + 2 * c0[i]);
  matmul(a, b, m, k, n, { out: a, beta: 2 });
  expectWithin(a, want, want.map((v) => 1e-5 * (1 + Math.abs(v))), 'aliased');
  a.dispose();
});

test('alpha and beta far from 1 do not overflow on the way: alpha meets the product before C does', () => {
  // A tiny alpha on a large C: dividing C by alpha first (an earlier design) gave Infinity.
  const big = Float32Array.of(1e10);
  expect(matmul(Float32Array.of(3), Float32Array.of(2), 1, 1, 1, { alpha: 1e-30, beta: 1, out: big })[0]).toBe(1e10);
  // A product whose float32 value overflows, brought back by alpha: alpha is folded into an operand.
  const [m, k, n] = [2, 3, 4];
  const a = randomArray(m * k, 3).map((v) => v * 1e20), b = randomArray(k * n, 4).map((v) => v * 1e20);
  for (const [rows, cols] of [[m, n], [n, m]]) { // alpha folded into A (m ≤ n), then into B
    const left = rows === m ? a : b, right = rows === m ? b : a;
    const depth = k;
    const c0 = randomArray(rows * cols, 5);
    const out = c0.slice();
    matmul(left, right, rows, depth, cols, { alpha: 1e-40, beta: 1e-3, out, ...(rows === m ? {} : { transposeA: true, transposeB: true }) });
    const exact = referenceMatmul(left, right, rows, depth, cols, rows === m ? {} : { transposeA: true, transposeB: true });
    const want = exact.map((v, i) => 1e-40 * v + 1e-3 * c0[i]);
    expect(out.every(Number.isFinite), `${rows}×${cols}`).toBe(true);
    expectWithin(out, want, want.map((v) => 1e-5 * Math.abs(v) + 1e-9), `${rows}×${cols}`);
  }
});

test('alpha on operands read in place (allocate) scales a copy: the operands are left as they were', () => {
  for (const [m, k, n] of [[3, 5, 7], [7, 5, 3]]) {
    const a = allocate(m * k), b = allocate(k * n);
    a.set(randomArray(m * k, 11));
    b.set(randomArray(k * n, 12));
    const [a0, b0] = [a.slice(), b.slice()];
    const got = matmul(a, b, m, k, n, { alpha: -3 });
    const want = referenceMatmul(a0, b0, m, k, n).map((v) => -3 * v);
    expectWithin(got, want, productBound(a0, b0, m, k, n).map((e) => 4 * e + 1e-30), `${m}×${k}×${n}`);
    expect(a.slice()).toEqual(a0);
    expect(b.slice()).toEqual(b0);
    a.dispose();
    b.dispose();
  }
});
