import { madd } from "./simd";
import { f32GemmTile4x8 } from "./gemm-tile";
import { packPanels } from "./pack";
import { NR } from "./blocking";

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
// panels: scratch for B packed, panelBytes long.
export function rankUpdate(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32,
  c: usize, ldc: i32, beta: f32, bias: usize, panels: usize, panelBytes: usize,
): void {
  const aRow = <usize>rsA << 2, cRow = <usize>ldc << 2;
  // At depth 1 (one sample) a tile has nothing to reuse: each row of C is streamed alone.
  if (k == 1) {
    for (let i = 0; i < m; i++) outerRow(n, load<f32>(a + <usize>i * aRow), b, c + <usize>i * cRow, beta, bias);
    return;
  }
  // The tiles read B packed in panels of NR columns (pack.ts): in place, rows of B a
  // multiple of 4 KiB apart put a tile's k lines of B and 4 of C in one L1 set, more
  // than its ways (8×1024×1024 ran at 0.6× 8×1000×1000). B is k rows against C's m ≥ 16,
  // so the copy is small beside C's stream.
  const whole = n & ~(NR - 1);
  const block = min(whole, <i32>(panelBytes / (<usize>k * 4 * NR)) * NR);
  const m4 = m & ~3;
  for (let j = 0; j < whole; j += block) {
    const width = min(block, whole - j), o = <usize>j << 2;
    packPanels(b + o, 1, rsB, width, k, NR, panels);
    for (let i = 0; i < m4; i += 4) {
      fourRows(width, k, a + <usize>i * aRow, aRow, csA, panels, c + <usize>i * cRow + o, cRow, beta, bias != 0 ? bias + o : 0);
    }
  }
  // The columns past whole panels and the rows past a multiple of 4, with B in place.
  if (whole < n) {
    const o = <usize>whole << 2;
    for (let i = 0; i < m4; i++) oneRow(n - whole, k, a + <usize>i * aRow, csA, b + o, rsB, c + <usize>i * cRow + o, beta, bias != 0 ? bias + o : 0);
  }
  for (let i = m4; i < m; i++) oneRow(n, k, a + <usize>i * aRow, csA, b, rsB, c + <usize>i * cRow, beta, bias);
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

// Four rows of C from four rows of A, aRow and cRow bytes apart, a panel of B at a
// time: a 4×8 register tile over its k depths, each vector of B loaded once for the
// four rows. n: a multiple of NR.
function fourRows(
  n: i32, k: i32, a: usize, aRow: usize, csA: i32, panels: usize,
  c: usize, cRow: usize, beta: f32, bias: usize,
): void {
  const aStep = <usize>csA << 2, panel = <usize>k * NR << 2;
  const a1 = a + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
  const width = <usize>n << 2;
  for (let o: usize = 0, b = panels; o < width; o += NR << 2, b += panel) {
    f32GemmTile4x8<f32>(k, a, a1, a2, a3, aStep, b, NR << 2, c + o, cRow, beta, bias != 0 ? bias + o : 0);
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
