import { madd } from "./simd";
import { f32GemmTile4x8 } from "./gemm-tile";

// A small depth (k ≤ RANK_MAX, kernels.ts): C is a sum of a few outer products, the
// weight gradient Xᵀ·dY of a small batch. The work is bound by reading and writing C,
// once each: every row of C is streamed once, in place, against the k rows of B, which
// stay in L1. The blocked product instead walks C tile by tile down its columns, which
// the prefetchers cannot follow, for a depth too small to pay for that.
//
// C (m×n, row stride ldc) = β·C + bias + A·B,
// A(i, p) = a[i·rsA + p·csA]; B(p, j) = b[p·rsB + j]; bias: n floats, or 0.
// Each element is computed by the same operations whatever the rows around it, so
// threads may cut C along rows or columns (on multiples of 4).
export function rankUpdate(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32,
  c: usize, ldc: i32, beta: f32, bias: usize,
): void {
  const aRow = <usize>rsA << 2, cRow = <usize>ldc << 2;
  // At depth 1 (one sample) a tile has nothing to reuse: each row of C is streamed alone.
  if (k == 1) {
    for (let i = 0; i < m; i++) outerRow(n, load<f32>(a + <usize>i * aRow), b, c + <usize>i * cRow, beta, bias);
    return;
  }
  let i = 0;
  for (; i + 4 <= m; i += 4) fourRows(n, k, a + <usize>i * aRow, aRow, csA, b, rsB, c + <usize>i * cRow, cRow, beta, bias);
  for (; i < m; i++) oneRow(n, k, a + <usize>i * aRow, csA, b, rsB, c + <usize>i * cRow, beta, bias);
}

// c = β·c + bias + x·b for one row of C at depth 1: the same operations
// as oneRow, with x broadcast once (a loop over the depth per vector halved it).
// @ts-ignore: decorator
@inline function outerRow(n: i32, x: f32, b: usize, c: usize, beta: f32, bias: usize): void {
  const xv = f32x4.splat(x);
  const width = <usize>n << 2, width4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < width4; o += 16) {
    let v = beta != 0 ? f32x4.mul(v128.load(c + o), f32x4.splat(beta)) : f32x4.splat(0);
    if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
    v128.store(c + o, madd(xv, v128.load(b + o), v));
  }
  for (; o < width; o += 4) {
    let v: f32 = beta != 0 ? beta * load<f32>(c + o) : 0;
    if (bias != 0) v += load<f32>(bias + o);
    store<f32>(c + o, v + x * load<f32>(b + o));
  }
}

// Four rows of C from four rows of A, aRow and cRow bytes apart, eight columns at a
// time: a 4×8 register tile over the k rows of B, each vector of B loaded once for
// the four rows.
function fourRows(
  n: i32, k: i32, a: usize, aRow: usize, csA: i32, b: usize, rsB: i32,
  c: usize, cRow: usize, beta: f32, bias: usize,
): void {
  const aStep = <usize>csA << 2, bStep = <usize>rsB << 2;
  const width = <usize>n << 2, width8 = <usize>(n & ~7) << 2;
  const a1 = a + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
  const c1 = c + cRow, c2 = c1 + cRow, c3 = c2 + cRow;
  let o: usize = 0;
  for (; o < width8; o += 32) {
    f32GemmTile4x8<f32>(k, a, a1, a2, a3, aStep, b + o, bStep, c + o, cRow, beta, bias != 0 ? bias + o : 0);
  }
  // The last n % 8 columns, row by row.
  if (o < width) {
    const rest = <i32>((width - o) >> 2);
    oneRow(rest, k, a, csA, b + o, rsB, c + o, beta, bias != 0 ? bias + o : 0);
    oneRow(rest, k, a1, csA, b + o, rsB, c1 + o, beta, bias != 0 ? bias + o : 0);
    oneRow(rest, k, a2, csA, b + o, rsB, c2 + o, beta, bias != 0 ? bias + o : 0);
    oneRow(rest, k, a3, csA, b + o, rsB, c3 + o, beta, bias != 0 ? bias + o : 0);
  }
}

function oneRow(n: i32, k: i32, a: usize, csA: i32, b: usize, rsB: i32, c: usize, beta: f32, bias: usize): void {
  const aStep = <usize>csA << 2, bStep = <usize>rsB << 2;
  const width = <usize>n << 2, width4 = <usize>(n & ~3) << 2;
  let o: usize = 0;
  for (; o < width4; o += 16) {
    let v = beta != 0 ? f32x4.mul(v128.load(c + o), f32x4.splat(beta)) : f32x4.splat(0);
    if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
    let row = b + o;
    for (let p: usize = 0, at: usize = 0; p < <usize>k; p++, at += aStep) {
      v = madd(v128.load32_splat(a + at), v128.load(row), v);
      row += bStep;
    }
    v128.store(c + o, v);
  }
  for (; o < width; o += 4) scalarColumn(k, a, aStep, b + o, bStep, c + o, beta, bias != 0 ? bias + o : 0);
}

// One element past the last whole vector, summed in the same order as a vector lane.
function scalarColumn(k: i32, a: usize, aStep: usize, b: usize, bStep: usize, c: usize, beta: f32, bias: usize): void {
  let v: f32 = beta != 0 ? beta * load<f32>(c) : 0;
  if (bias != 0) v += load<f32>(bias);
  for (let p = 0; p < k; p++) v += load<f32>(a + <usize>p * aStep) * load<f32>(b + <usize>p * bStep);
  store<f32>(c, v);
}
