// simd-linear/reference, the float64 oracle: right on products worked by hand, and strict
// about its arguments (an array too short would give NaN everywhere, too long a silent cut).
import { expect, test } from 'vitest';
import { referenceBackward, referenceForward, referenceMatmul } from '../dist/reference.js';

test('products worked by hand, with and without transposes', () => {
  const a = [1, 2, 3, 4, 5, 6]; // 2×3
  const b = [7, 8, 9, 10, 11, 12]; // 3×2
  expect(Array.from(referenceMatmul(a, b, 2, 3, 2))).toEqual([58, 64, 139, 154]);
  expect(Array.from(referenceMatmul([1, 4, 2, 5, 3, 6], [7, 9, 11, 8, 10, 12], 2, 3, 2, { transposeA: true, transposeB: true }))).toEqual([58, 64, 139, 154]);
  expect(Array.from(referenceForward([1, 1], [1, 2, 3, 4], [10, 20], 1, 2, 2))).toEqual([14, 26]);
  const { dx, dw, db } = referenceBackward([1, 2], [1, 2, 3, 4], [1, -1], 1, 2, 2);
  expect([Array.from(dx), Array.from(dw), Array.from(db)]).toEqual([[-1, -1], [1, -1, 2, -2], [1, -1]]);
});

test('sizes that are not whole numbers, and arrays of the wrong length, are refused by name', () => {
  expect(() => referenceMatmul([1, 2], [1], 1, 2, 1)).toThrow('referenceMatmul: b must hold 2 numbers; got length 1');
  expect(() => referenceMatmul([1, 2, 3], [1, 2], 1, 2, 1)).toThrow('referenceMatmul: a must hold 2 numbers; got length 3');
  expect(() => referenceMatmul([1], [1], 1.5, 1, 1)).toThrow('referenceMatmul: m must be an integer ≥ 0; got 1.5');
  expect(() => referenceForward([1, 1], [1, 2, 3, 4], [10], 1, 2, 2)).toThrow('referenceForward: bias must hold 2 numbers; got length 1');
  expect(() => referenceBackward([1, 2], [1, 2, 3, 4], [1], 1, 2, 2)).toThrow('referenceBackward: dy must hold 2 numbers; got length 1');
  expect(referenceMatmul([], [], 0, 3, 0)).toEqual(new Float64Array(0));
});

test('entries that are not numbers, and transposes that are not booleans, are refused by name', () => {
  expect(() => referenceMatmul({ length: 2 } as never, [1, 2], 1, 2, 1)).toThrow('referenceMatmul: a[0] must be a number; got undefined');
  expect(() => referenceMatmul([1, '2'] as never, [1, 2], 1, 2, 1)).toThrow('referenceMatmul: a[1] must be a number; got string');
  expect(() => referenceForward([1, 1], [1, 2, 3, 4], [1, null] as never, 1, 2, 2)).toThrow('referenceForward: bias[1] must be a number; got object');
  expect(() => referenceMatmul([1, 2], [1, 2], 1, 2, 1, { transposeA: 'false' as never })).toThrow('referenceMatmul: options.transposeA must be a boolean; got string');
  expect(() => referenceMatmul([1, 2], [1, 2], 1, 2, 1, { transposeb: true } as never)).toThrow('referenceMatmul: options.transposeb is not an option; expected transposeA, transposeB');
  expect(() => referenceMatmul([1, 2], [1, 2], 1, 2, 1, null as never)).toThrow('referenceMatmul: options must be an object ({ transposeA, transposeB }); got null');
  expect(Array.from(referenceMatmul(Float32Array.of(1, 2), [3, 4], 1, 2, 1, { transposeB: true }))).toEqual([11]);
});
