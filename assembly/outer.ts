import { madd } from "./simd";

// Depth 1 (k = 1): C is the outer product of a column and a row, the weight gradient
// Xᵀ·dY of a single sample. There is nothing to reuse, so packing would only add a
// copy of C's size: each row of C is streamed once, in place, against the row b,
// which stays in L1.
//
// C (m×n, row stride ldc) = (accumulate ? C : 0) + bias + a ⊗ b,
// a(i) = a[i·incA]; b and bias: n contiguous floats (bias may be 0).
export function outerProduct(
  m: i32, n: i32, a: usize, incA: i32, b: usize, c: usize, ldc: i32, accumulate: bool, bias: usize,
): void {
  const rowStride = <usize>ldc << 2;
  const aStep = <usize>incA << 2;
  const width = <usize>n << 2;
  const width4 = <usize>(n & ~3) << 2;
  for (let i = 0; i < m; i++) {
    const ai = load<f32>(a);
    const av = f32x4.splat(ai);
    let o: usize = 0;
    for (; o < width4; o += 16) {
      let v = accumulate ? v128.load(c + o) : f32x4.splat(0);
      if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
      v128.store(c + o, madd(av, v128.load(b + o), v));
    }
    for (; o < width; o += 4) {
      let v: f32 = accumulate ? load<f32>(c + o) : 0;
      if (bias != 0) v += load<f32>(bias + o);
      store<f32>(c + o, v + ai * load<f32>(b + o));
    }
    a += aStep;
    c += rowStride;
  }
}
