import { madd } from "./simd";

// One row of output (batch 1). The work is bound by streaming B from memory, not by
// arithmetic, so B is read once, in place, along its contiguous direction, and never
// packed. Two forms, by which direction of B is contiguous:

// y = (accumulate ? y : 0) + bias + x·B with the rows of B contiguous (X·W): y
// accumulates four rows of B at a time, a quarter of B apart (rows p, p + k/4, p + k/2,
// p + 3k/4), so that B is read as four sequential streams far apart. Four neighbouring
// rows instead are four short streams a page each, which the hardware prefetchers
// follow well only while B sits in cache: measured at batch 1 on Zen 5 (1×1024×1024
// with B in L3, partly in L3, in memory: neighbours 56–59, 31–37 and 14–17 GB/s, far
// apart 62–70, 55–60 and 30–35; bench/microkernels.md). Each y[j] sums its rows in
// the same order whatever the split of the columns.
//
// x(p) = x[p·incX]; B(p, j) = b[p·rsB + j]; y and bias: n contiguous floats.
export function gemvRows(
  n: i32, k: i32, x: usize, incX: i32, b: usize, rsB: i32, y: usize, accumulate: bool, bias: usize,
): void {
  const xStep = <usize>incX << 2;
  const rowStep = <usize>rsB << 2;
  const yEnd = y + (<usize>n << 2);
  const yEnd4 = y + (<usize>(n & ~3) << 2);
  startRow(n, y, accumulate, bias);
  const quarter = k >> 2;
  const xFar = <usize>quarter * xStep, bFar = <usize>quarter * rowStep;
  for (let p = 0; p < quarter; p++) {
    const x0 = v128.load32_splat(x), x1 = v128.load32_splat(x + xFar);
    const x2 = v128.load32_splat(x + 2 * xFar), x3 = v128.load32_splat(x + 3 * xFar);
    // The four rows, all walked with one offset from y.
    const b0 = b - y, b1 = b0 + bFar, b2 = b1 + bFar, b3 = b2 + bFar;
    let yj = y;
    for (; yj < yEnd4; yj += 16) {
      let acc = v128.load(yj);
      acc = madd(x0, v128.load(b0 + yj), acc);
      acc = madd(x1, v128.load(b1 + yj), acc);
      acc = madd(x2, v128.load(b2 + yj), acc);
      acc = madd(x3, v128.load(b3 + yj), acc);
      v128.store(yj, acc);
    }
    for (; yj < yEnd; yj += 4) {
      let acc = load<f32>(yj);
      for (let r = 0; r < 4; r++) acc += load<f32>(x + <usize>r * xFar) * load<f32>(b0 + <usize>r * bFar + yj);
      store<f32>(yj, acc);
    }
    x += xStep;
    b += rowStep;
  }
  // The rows past 4·(k/4), one at a time.
  x += 3 * xFar;
  b += 3 * bFar;
  for (let p = quarter << 2; p < k; p++) {
    const xs = load<f32>(x);
    const xv = f32x4.splat(xs);
    const row = b - y;
    let yj = y;
    for (; yj < yEnd4; yj += 16) v128.store(yj, madd(xv, v128.load(row + yj), v128.load(yj)));
    for (; yj < yEnd; yj += 4) store<f32>(yj, load<f32>(yj) + xs * load<f32>(row + yj));
    x += xStep;
    b += rowStep;
  }
}

// y = (accumulate ? y : 0) + bias + x·B with the columns of B contiguous (dY·Wᵀ):
// each y[j] is a dot product of x with column j of B, six columns at a time: six
// independent chains hide a fused multiply-add's latency where four did not
// (relaxed build 1.15–1.25× faster at batch 1, plain SIMD unchanged; eight spill).
// The six are a sixth of the columns apart, for the reason gemvRows takes rows far
// apart: six long streams (1×1024×1024 with B in L3, partly, in memory: 45, 49 and
// 23 GB/s, against 41, 26 and 17 for six neighbouring columns).
//
// x: k contiguous floats; B(p, j) = b[j·csB + p]; y and bias: n contiguous floats.
export function gemvDots(
  n: i32, k: i32, x: usize, b: usize, csB: i32, y: usize, accumulate: bool, bias: usize,
): void {
  const column = <usize>csB << 2;
  const depth4 = <usize>(k & ~3) << 2;
  const sixth = n / 6;
  const far = <usize>sixth * column;
  const yFar = <usize>sixth << 2;
  for (let j = 0; j < sixth; j++) {
    const c0 = b + <usize>j * column, c1 = c0 + far, c2 = c1 + far, c3 = c2 + far;
    const c4 = c3 + far, c5 = c4 + far;
    let acc0 = f32x4.splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0, acc5 = acc0;
    for (let o: usize = 0; o < depth4; o += 16) {
      const xv = v128.load(x + o);
      acc0 = madd(xv, v128.load(c0 + o), acc0);
      acc1 = madd(xv, v128.load(c1 + o), acc1);
      acc2 = madd(xv, v128.load(c2 + o), acc2);
      acc3 = madd(xv, v128.load(c3 + o), acc3);
      acc4 = madd(xv, v128.load(c4 + o), acc4);
      acc5 = madd(xv, v128.load(c5 + o), acc5);
    }
    const o = <usize>j << 2;
    finishDot(acc0, k, x, c0, y + o, accumulate, bias != 0 ? bias + o : 0);
    finishDot(acc1, k, x, c1, y + o + yFar, accumulate, bias != 0 ? bias + o + yFar : 0);
    finishDot(acc2, k, x, c2, y + o + 2 * yFar, accumulate, bias != 0 ? bias + o + 2 * yFar : 0);
    finishDot(acc3, k, x, c3, y + o + 3 * yFar, accumulate, bias != 0 ? bias + o + 3 * yFar : 0);
    finishDot(acc4, k, x, c4, y + o + 4 * yFar, accumulate, bias != 0 ? bias + o + 4 * yFar : 0);
    finishDot(acc5, k, x, c5, y + o + 5 * yFar, accumulate, bias != 0 ? bias + o + 5 * yFar : 0);
  }
  for (let j = 6 * sixth; j < n; j++) {
    const c0 = b + <usize>j * column;
    let acc0 = f32x4.splat(0);
    for (let o: usize = 0; o < depth4; o += 16) acc0 = madd(v128.load(x + o), v128.load(c0 + o), acc0);
    const o = <usize>j << 2;
    finishDot(acc0, k, x, c0, y + o, accumulate, bias != 0 ? bias + o : 0);
  }
}

// Sums the lanes of a dot product's accumulator, adds the depth past a multiple of 4,
// the old y and the bias, and stores y.
function finishDot(acc: v128, k: i32, x: usize, column: usize, y: usize, accumulate: bool, bias: usize): void {
  let v = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let o = <usize>(k & ~3) << 2; o < (<usize>k << 2); o += 4) v += load<f32>(x + o) * load<f32>(column + o);
  if (accumulate) v += load<f32>(y);
  if (bias != 0) v += load<f32>(bias);
  store<f32>(y, v);
}

// y = (accumulate ? y : 0) + bias (n floats; bias 0 for none): where a row of output
// starts before its products are added on.
export function startRow(n: i32, y: usize, accumulate: bool, bias: usize): void {
  const yEnd = y + (<usize>n << 2);
  for (let yj = y; yj < yEnd; yj += 4) {
    let v: f32 = accumulate ? load<f32>(yj) : 0;
    if (bias != 0) v += load<f32>(bias + (yj - y));
    store<f32>(yj, v);
  }
}
