import { madd } from "./simd";

// A few rows of output (batch 1 to ROWS_MAX, kernels.ts). The work is bound by
// streaming B from memory, not by arithmetic, so B is read once, in place, along its
// contiguous direction, never packed: each part of B that is loaded serves every row
// of the batch while it is in L1. Two forms, by which direction of B is contiguous.
// Each element of C is computed by the same operations whatever the rows and columns
// around it, so a batch of one row gives the bits of that row in any batch, and
// threads may cut C anywhere along rows or columns.

// C (m×n) = β·C + bias + A·B with the rows of B contiguous (X·W).
// Every row of C accumulates four rows of B at a time, a quarter of B apart (rows p,
// p + k/4, p + k/2, p + 3k/4), so that B is read as four sequential streams far apart.
// Four neighbouring rows instead are four short streams a page each, which the hardware
// prefetchers follow well only while B sits in cache: measured at batch 1 on Zen 5
// (1×1024×1024 with B in L3, partly in L3, in memory: neighbours 56–59, 31–37 and
// 14–17 GB/s, far apart 62–70, 55–60 and 30–35; bench/microkernels.md). Rows of C go
// two at a time over the four rows of B, which are then still in L1 for the next two.
//
// A(i, p) = a[i·rsA + p·csA]; B(p, j) = b[p·rsB + j]; bias: n floats, or 0.
export function gemmRows(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32,
  c: usize, ldc: i32, beta: f32, bias: usize,
): void {
  const aRow = <usize>rsA << 2, aStep = <usize>csA << 2, bStep = <usize>rsB << 2, cRow = <usize>ldc << 2;
  for (let i = 0; i < m; i++) startRow(n, c + <usize>i * cRow, beta, bias);
  const quarter = k >> 2;
  const aFar = <usize>quarter * aStep, bFar = <usize>quarter * bStep;
  for (let p = 0; p < quarter; p++) {
    const ap = a + <usize>p * aStep, bp = b + <usize>p * bStep;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const ai = ap + <usize>i * aRow, ci = c + <usize>i * cRow;
      twoRowsOfFour(n, ai, ai + aRow, aFar, bp, bFar, ci, ci + cRow);
    }
    if (i < m) oneRowOfFour(n, ap + <usize>i * aRow, aFar, bp, bFar, c + <usize>i * cRow);
  }
  // The rows of B past 4·(k/4), one at a time.
  for (let p = quarter << 2; p < k; p++) {
    for (let i = 0; i < m; i++) {
      oneRowOfOne(n, load<f32>(a + <usize>i * aRow + <usize>p * aStep), b + <usize>p * bStep, c + <usize>i * cRow);
    }
  }
}

// y0 += Σ_r x0(r)·B(r), y1 += Σ_r x1(r)·B(r) over the four rows r of B far apart
// (x(r) at x + r·xFar, B(r) at b + r·bFar): each vector of B is loaded once for both rows.
// @ts-ignore: decorator
@inline function twoRowsOfFour(n: i32, x0: usize, x1: usize, xFar: usize, b: usize, bFar: usize, y0: usize, y1: usize): void {
  const x00 = v128.load32_splat(x0), x01 = v128.load32_splat(x0 + xFar);
  const x02 = v128.load32_splat(x0 + 2 * xFar), x03 = v128.load32_splat(x0 + 3 * xFar);
  const x10 = v128.load32_splat(x1), x11 = v128.load32_splat(x1 + xFar);
  const x12 = v128.load32_splat(x1 + 2 * xFar), x13 = v128.load32_splat(x1 + 3 * xFar);
  // The four rows of B and the second row of C, all walked with one offset from y0.
  const b0 = b - y0, b1 = b0 + bFar, b2 = b1 + bFar, b3 = b2 + bFar;
  const second = y1 - y0;
  const end = y0 + (<usize>n << 2), end4 = y0 + (<usize>(n & ~3) << 2);
  let yj = y0;
  for (; yj < end4; yj += 16) {
    let acc0 = v128.load(yj), acc1 = v128.load(yj + second);
    const w0 = v128.load(b0 + yj);
    acc0 = madd(x00, w0, acc0);
    acc1 = madd(x10, w0, acc1);
    const w1 = v128.load(b1 + yj);
    acc0 = madd(x01, w1, acc0);
    acc1 = madd(x11, w1, acc1);
    const w2 = v128.load(b2 + yj);
    acc0 = madd(x02, w2, acc0);
    acc1 = madd(x12, w2, acc1);
    const w3 = v128.load(b3 + yj);
    acc0 = madd(x03, w3, acc0);
    acc1 = madd(x13, w3, acc1);
    v128.store(yj, acc0);
    v128.store(yj + second, acc1);
  }
  for (; yj < end; yj += 4) {
    scalarOfFour(x0, xFar, b0 + yj, bFar, yj);
    scalarOfFour(x1, xFar, b0 + yj, bFar, yj + second);
  }
}

// y += Σ_r x(r)·B(r) over the four rows r of B far apart, for one row.
// @ts-ignore: decorator
@inline function oneRowOfFour(n: i32, x: usize, xFar: usize, b: usize, bFar: usize, y: usize): void {
  const x0 = v128.load32_splat(x), x1 = v128.load32_splat(x + xFar);
  const x2 = v128.load32_splat(x + 2 * xFar), x3 = v128.load32_splat(x + 3 * xFar);
  const b0 = b - y, b1 = b0 + bFar, b2 = b1 + bFar, b3 = b2 + bFar;
  const end = y + (<usize>n << 2), end4 = y + (<usize>(n & ~3) << 2);
  let yj = y;
  for (; yj < end4; yj += 16) {
    let acc = v128.load(yj);
    acc = madd(x0, v128.load(b0 + yj), acc);
    acc = madd(x1, v128.load(b1 + yj), acc);
    acc = madd(x2, v128.load(b2 + yj), acc);
    acc = madd(x3, v128.load(b3 + yj), acc);
    v128.store(yj, acc);
  }
  for (; yj < end; yj += 4) scalarOfFour(x, xFar, b0 + yj, bFar, yj);
}

// One element past the last whole vector, summed in the same order as a vector lane.
// @ts-ignore: decorator
@inline function scalarOfFour(x: usize, xFar: usize, b: usize, bFar: usize, y: usize): void {
  let acc = load<f32>(y);
  for (let r: usize = 0; r < 4; r++) acc += load<f32>(x + r * xFar) * load<f32>(b + r * bFar);
  store<f32>(y, acc);
}

// y += x·B(p) for one row of B.
// @ts-ignore: decorator
@inline function oneRowOfOne(n: i32, x: f32, row: usize, y: usize): void {
  const xv = f32x4.splat(x);
  const b = row - y;
  const end = y + (<usize>n << 2), end4 = y + (<usize>(n & ~3) << 2);
  let yj = y;
  for (; yj < end4; yj += 16) v128.store(yj, madd(xv, v128.load(b + yj), v128.load(yj)));
  for (; yj < end; yj += 4) store<f32>(yj, load<f32>(yj) + x * load<f32>(b + yj));
}

// C (m×n) = β·C + bias + A·B with the columns of B contiguous (dY·Wᵀ)
// and the rows of A: each C(i, j) is a dot product of row i of A with column j of B.
// Two rows of C by four columns a quarter of n apart (four long streams through B, for
// the reason gemmRows reads rows far apart): eight independent sums, each column loaded
// once for both rows. A last odd row takes six columns a sixth apart, which is as many
// sums as hide a fused multiply-add's latency for one row (relaxed build 1.15–1.25×
// faster than four at batch 1; eight spill); with them B in L3, partly, in memory read
// at 45, 49 and 23 GB/s, against 41, 26 and 17 for six neighbouring columns.
//
// A(i, p) = a[i·rsA + p]; B(p, j) = b[j·csB + p]; bias: n floats, or 0;
// sums: 9 vectors of scratch.
export function gemmDots(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, b: usize, csB: i32,
  c: usize, ldc: i32, beta: f32, bias: usize, sums: usize,
): void {
  const aRow = <usize>rsA << 2, cRow = <usize>ldc << 2, column = <usize>csB << 2;
  const depth4 = <usize>(k & ~3) << 2;
  let i = 0;
  while (i + 2 <= m) {
    // Relaxed build: three rows a pass where what is left allows it without a last
    // single row (W streamed fewer times: 1.1–1.2× at 3–9 rows). The SIMD build keeps
    // two: its multiply and add need a register more per product than a fused one, and
    // 9 sums + 6 loads then spill (0.47–0.60×).
    if (ASC_FEATURE_RELAXED_SIMD && (m - i == 3 || m - i >= 5)) {
      threeRowsOfDots(n, k, a + <usize>i * aRow, aRow, b, csB, c + <usize>i * cRow, cRow, beta, bias, sums);
      i += 3;
      continue;
    }
    const x0 = a + <usize>i * aRow, x1 = x0 + aRow;
    const y0 = c + <usize>i * cRow, y1 = y0 + cRow;
    const quarter = n >> 2;
    const far = <usize>quarter * column, yFar = <usize>quarter << 2;
    for (let j = 0; j < quarter; j++) {
      const c0 = b + <usize>j * column, c1 = c0 + far, c2 = c1 + far, c3 = c2 + far;
      let acc00 = f32x4.splat(0), acc01 = acc00, acc02 = acc00, acc03 = acc00;
      let acc10 = acc00, acc11 = acc00, acc12 = acc00, acc13 = acc00;
      for (let o: usize = 0; o < depth4; o += 16) {
        const u = v128.load(x0 + o), v = v128.load(x1 + o);
        const w0 = v128.load(c0 + o);
        acc00 = madd(u, w0, acc00);
        acc10 = madd(v, w0, acc10);
        const w1 = v128.load(c1 + o);
        acc01 = madd(u, w1, acc01);
        acc11 = madd(v, w1, acc11);
        const w2 = v128.load(c2 + o);
        acc02 = madd(u, w2, acc02);
        acc12 = madd(v, w2, acc12);
        const w3 = v128.load(c3 + o);
        acc03 = madd(u, w3, acc03);
        acc13 = madd(v, w3, acc13);
      }
      // The eight sums finished in one loop (one copy of finishDot in the code, not eight).
      v128.store(sums, acc00); v128.store(sums, acc01, 16); v128.store(sums, acc02, 32); v128.store(sums, acc03, 48);
      v128.store(sums, acc10, 64); v128.store(sums, acc11, 80); v128.store(sums, acc12, 96); v128.store(sums, acc13, 112);
      const o = <usize>j << 2;
      for (let r: usize = 0; r < 8; r++) {
        const x = r < 4 ? x0 : x1, y = r < 4 ? y0 : y1, q = r & 3;
        finishDot(v128.load(sums + (r << 4)), k, x, c0 + q * far, y + o + q * yFar, beta, bias != 0 ? bias + o + q * yFar : 0);
      }
    }
    for (let j = quarter << 2; j < n; j++) {
      const o = <usize>j << 2;
      oneDot(k, x0, b + <usize>j * column, y0 + o, beta, bias != 0 ? bias + o : 0);
      oneDot(k, x1, b + <usize>j * column, y1 + o, beta, bias != 0 ? bias + o : 0);
    }
    i += 2;
  }
  if (i < m) rowOfDots(n, k, a + <usize>i * aRow, b, csB, c + <usize>i * cRow, beta, bias);
}

// Three rows of C by three columns a third of n apart, as gemmDots's two by four: nine
// sums, each column loaded once for the three rows. sums: 9 vectors of scratch.
function threeRowsOfDots(
  n: i32, k: i32, x0: usize, xRow: usize, b: usize, csB: i32, y0: usize, yRow: usize, beta: f32, bias: usize, sums: usize,
): void {
  const column = <usize>csB << 2;
  const depth4 = <usize>(k & ~3) << 2;
  const third = n / 3;
  const far = <usize>third * column, yFar = <usize>third << 2;
  const x1 = x0 + xRow, x2 = x1 + xRow;
  for (let j = 0; j < third; j++) {
    const c0 = b + <usize>j * column, c1 = c0 + far, c2 = c1 + far;
    let acc00 = f32x4.splat(0), acc01 = acc00, acc02 = acc00;
    let acc10 = acc00, acc11 = acc00, acc12 = acc00;
    let acc20 = acc00, acc21 = acc00, acc22 = acc00;
    for (let o: usize = 0; o < depth4; o += 16) {
      const u = v128.load(x0 + o), v = v128.load(x1 + o), t = v128.load(x2 + o);
      const w0 = v128.load(c0 + o);
      acc00 = madd(u, w0, acc00);
      acc10 = madd(v, w0, acc10);
      acc20 = madd(t, w0, acc20);
      const w1 = v128.load(c1 + o);
      acc01 = madd(u, w1, acc01);
      acc11 = madd(v, w1, acc11);
      acc21 = madd(t, w1, acc21);
      const w2 = v128.load(c2 + o);
      acc02 = madd(u, w2, acc02);
      acc12 = madd(v, w2, acc12);
      acc22 = madd(t, w2, acc22);
    }
    v128.store(sums, acc00); v128.store(sums, acc01, 16); v128.store(sums, acc02, 32);
    v128.store(sums, acc10, 48); v128.store(sums, acc11, 64); v128.store(sums, acc12, 80);
    v128.store(sums, acc20, 96); v128.store(sums, acc21, 112); v128.store(sums, acc22, 128);
    const o = <usize>j << 2;
    for (let r: usize = 0; r < 9; r++) {
      const row = r / 3, q = r % 3;
      finishDot(v128.load(sums + (r << 4)), k, x0 + row * xRow, c0 + q * far, y0 + row * yRow + o + q * yFar, beta, bias != 0 ? bias + o + q * yFar : 0);
    }
  }
  for (let j = 3 * third; j < n; j++) {
    const o = <usize>j << 2;
    for (let row: usize = 0; row < 3; row++) {
      oneDot(k, x0 + row * xRow, b + <usize>j * column, y0 + row * yRow + o, beta, bias != 0 ? bias + o : 0);
    }
  }
}

// y = β·y + bias + x·B for one row, six columns a sixth of n apart.
function rowOfDots(n: i32, k: i32, x: usize, b: usize, csB: i32, y: usize, beta: f32, bias: usize): void {
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
    // Finished one by one, not through a loop over stored sums as the two-row form does:
    // at batch 1 the loop cost a third of a 1×64×64 call.
    const o = <usize>j << 2;
    const b0 = bias != 0 ? bias + o : 0;
    finishDot(acc0, k, x, c0, y + o, beta, b0);
    finishDot(acc1, k, x, c1, y + o + yFar, beta, b0 != 0 ? b0 + yFar : 0);
    finishDot(acc2, k, x, c2, y + o + 2 * yFar, beta, b0 != 0 ? b0 + 2 * yFar : 0);
    finishDot(acc3, k, x, c3, y + o + 3 * yFar, beta, b0 != 0 ? b0 + 3 * yFar : 0);
    finishDot(acc4, k, x, c4, y + o + 4 * yFar, beta, b0 != 0 ? b0 + 4 * yFar : 0);
    finishDot(acc5, k, x, c5, y + o + 5 * yFar, beta, b0 != 0 ? b0 + 5 * yFar : 0);
  }
  for (let j = 6 * sixth; j < n; j++) {
    const o = <usize>j << 2;
    oneDot(k, x, b + <usize>j * column, y + o, beta, bias != 0 ? bias + o : 0);
  }
}

// y = β·y + bias + x·column, one sum alone.
function oneDot(k: i32, x: usize, column: usize, y: usize, beta: f32, bias: usize): void {
  const depth4 = <usize>(k & ~3) << 2;
  let acc = f32x4.splat(0);
  for (let o: usize = 0; o < depth4; o += 16) acc = madd(v128.load(x + o), v128.load(column + o), acc);
  finishDot(acc, k, x, column, y, beta, bias);
}

// Sums the lanes of a dot product's accumulator, adds the depth past a multiple of 4,
// the old y and the bias, and stores y.
// @ts-ignore: decorator
@inline function finishDot(acc: v128, k: i32, x: usize, column: usize, y: usize, beta: f32, bias: usize): void {
  let v = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let o = <usize>(k & ~3) << 2; o < (<usize>k << 2); o += 4) v += load<f32>(x + o) * load<f32>(column + o);
  if (beta != 0) v += beta * load<f32>(y);
  if (bias != 0) v += load<f32>(bias);
  store<f32>(y, v);
}

// y = β·y + bias (n floats; bias 0 for none): where a row of output
// starts before its products are added on.
export function startRow(n: i32, y: usize, beta: f32, bias: usize): void {
  const yEnd = y + (<usize>n << 2);
  for (let yj = y; yj < yEnd; yj += 4) {
    let v: f32 = beta != 0 ? beta * load<f32>(yj) : 0;
    if (bias != 0) v += load<f32>(bias + (yj - y));
    store<f32>(yj, v);
  }
}
