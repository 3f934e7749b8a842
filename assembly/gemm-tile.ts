// The register tiles of the blocked GEMM: MR×8 (MR = 5 SIMD, 6 relaxed; blocking.ts), and
// MR×4 for a last panel of at most four columns; and 4×8 over the whole depth, for the
// streaming kernels. The microkernels of BLIS and XNNPACK
// (f32_gemm_5x8__simd, f32_gemm_6x8__relaxed), named by their tile.
import { MR } from "./blocking";
import { madd } from "./simd";
import { HIGH_HALF, panelHigh, panelLow } from "./bf16";

// C[MR×8] = β·C + bias[8] + Σ_p a[p][0..MR] ⊗ b[p][0..8]
//
// MR is 5 (SIMD: mul + add) or 6 (relaxed SIMD: fused multiply-add); see blocking.ts.
// a: packed A panel, MR floats per p (one column of the MR-row block).
// b: 8 floats per p, bStride bytes apart: a packed panel (32) or rows of B in place.
// bias: 8 floats added to every row, or 0 for none.
// c: top-left of the tile, rowStride bytes between rows.
//
// acc<row>x<cols> holds row `row`, columns `cols`; a<row> is A's value for that row
// broadcast. The shape of this code is measured, not incidental (bench/microkernels.md):
// V8 keeps this loop in registers only when each broadcast is used right after its
// load and when the epilogue does nothing but store, so C and the bias are folded
// into the accumulators before the loop.
export function f32GemmTileMRx8(
  kc: i32, a: usize, b: usize, bStride: usize, bias: usize, c: usize, rowStride: usize, beta: f32,
): void {
  let acc0x0123 = f32x4.splat(0);
  let acc0x4567 = f32x4.splat(0);
  if (bias != 0) {
    acc0x0123 = v128.load(bias);
    acc0x4567 = v128.load(bias, 16);
  }
  let acc1x0123 = acc0x0123;
  let acc1x4567 = acc0x4567;
  let acc2x0123 = acc0x0123;
  let acc2x4567 = acc0x4567;
  let acc3x0123 = acc0x0123;
  let acc3x4567 = acc0x4567;
  let acc4x0123 = acc0x0123;
  let acc4x4567 = acc0x4567;
  let acc5x0123 = acc0x0123;
  let acc5x4567 = acc0x4567;
  if (beta != 0) {
    const scale = f32x4.splat(beta);
    acc0x0123 = f32x4.add(acc0x0123, f32x4.mul(v128.load(c + 0 * rowStride), scale));
    acc0x4567 = f32x4.add(acc0x4567, f32x4.mul(v128.load(c + 0 * rowStride, 16), scale));
    acc1x0123 = f32x4.add(acc1x0123, f32x4.mul(v128.load(c + 1 * rowStride), scale));
    acc1x4567 = f32x4.add(acc1x4567, f32x4.mul(v128.load(c + 1 * rowStride, 16), scale));
    acc2x0123 = f32x4.add(acc2x0123, f32x4.mul(v128.load(c + 2 * rowStride), scale));
    acc2x4567 = f32x4.add(acc2x4567, f32x4.mul(v128.load(c + 2 * rowStride, 16), scale));
    acc3x0123 = f32x4.add(acc3x0123, f32x4.mul(v128.load(c + 3 * rowStride), scale));
    acc3x4567 = f32x4.add(acc3x4567, f32x4.mul(v128.load(c + 3 * rowStride, 16), scale));
    acc4x0123 = f32x4.add(acc4x0123, f32x4.mul(v128.load(c + 4 * rowStride), scale));
    acc4x4567 = f32x4.add(acc4x4567, f32x4.mul(v128.load(c + 4 * rowStride, 16), scale));
    if (MR > 5) {
      acc5x0123 = f32x4.add(acc5x0123, f32x4.mul(v128.load(c + 5 * rowStride), scale));
      acc5x4567 = f32x4.add(acc5x4567, f32x4.mul(v128.load(c + 5 * rowStride, 16), scale));
    }
  }
  for (let p = 0; p < kc; p++) {
    const b0123 = v128.load(b);
    const b4567 = v128.load(b, 16);
    const a0 = v128.load32_splat(a, 0);
    acc0x0123 = madd(a0, b0123, acc0x0123);
    acc0x4567 = madd(a0, b4567, acc0x4567);
    const a1 = v128.load32_splat(a, 4);
    acc1x0123 = madd(a1, b0123, acc1x0123);
    acc1x4567 = madd(a1, b4567, acc1x4567);
    const a2 = v128.load32_splat(a, 8);
    acc2x0123 = madd(a2, b0123, acc2x0123);
    acc2x4567 = madd(a2, b4567, acc2x4567);
    const a3 = v128.load32_splat(a, 12);
    acc3x0123 = madd(a3, b0123, acc3x0123);
    acc3x4567 = madd(a3, b4567, acc3x4567);
    const a4 = v128.load32_splat(a, 16);
    acc4x0123 = madd(a4, b0123, acc4x0123);
    acc4x4567 = madd(a4, b4567, acc4x4567);
    if (MR > 5) {
      const a5 = v128.load32_splat(a, 20);
      acc5x0123 = madd(a5, b0123, acc5x0123);
      acc5x4567 = madd(a5, b4567, acc5x4567);
    }
    a += MR << 2;
    b += bStride;
  }
  v128.store(c + 0 * rowStride, acc0x0123);
  v128.store(c + 0 * rowStride, acc0x4567, 16);
  v128.store(c + 1 * rowStride, acc1x0123);
  v128.store(c + 1 * rowStride, acc1x4567, 16);
  v128.store(c + 2 * rowStride, acc2x0123);
  v128.store(c + 2 * rowStride, acc2x4567, 16);
  v128.store(c + 3 * rowStride, acc3x0123);
  v128.store(c + 3 * rowStride, acc3x4567, 16);
  v128.store(c + 4 * rowStride, acc4x0123);
  v128.store(c + 4 * rowStride, acc4x4567, 16);
  if (MR > 5) {
    v128.store(c + 5 * rowStride, acc5x0123);
    v128.store(c + 5 * rowStride, acc5x4567, 16);
  }
}

// C[MR×4] = β·C + bias[4] + Σ_p a[p][0..MR] ⊗ b[p][0..4]: the last
// panel of B when at most four columns are left (an output layer of 10 classes is one
// 8-wide panel and one of 2), so half an 8-wide tile is not spent on zero padding.
// Same arguments and layout as f32GemmTileMRx8, with 4 floats of B per p; each element
// is summed in the same order as there.
export function f32GemmTileMRx4(
  kc: i32, a: usize, b: usize, bStride: usize, bias: usize, c: usize, rowStride: usize, beta: f32,
): void {
  const start = bias != 0 ? v128.load(bias) : f32x4.splat(0);
  let acc0 = start, acc1 = start, acc2 = start, acc3 = start, acc4 = start, acc5 = start;
  if (beta != 0) {
    const scale = f32x4.splat(beta);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(c + 0 * rowStride), scale));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(c + 1 * rowStride), scale));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(c + 2 * rowStride), scale));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(c + 3 * rowStride), scale));
    acc4 = f32x4.add(acc4, f32x4.mul(v128.load(c + 4 * rowStride), scale));
    if (MR > 5) acc5 = f32x4.add(acc5, f32x4.mul(v128.load(c + 5 * rowStride), scale));
  }
  for (let p = 0; p < kc; p++) {
    const b0123 = v128.load(b);
    acc0 = madd(v128.load32_splat(a, 0), b0123, acc0);
    acc1 = madd(v128.load32_splat(a, 4), b0123, acc1);
    acc2 = madd(v128.load32_splat(a, 8), b0123, acc2);
    acc3 = madd(v128.load32_splat(a, 12), b0123, acc3);
    acc4 = madd(v128.load32_splat(a, 16), b0123, acc4);
    if (MR > 5) acc5 = madd(v128.load32_splat(a, 20), b0123, acc5);
    a += MR << 2;
    b += bStride;
  }
  v128.store(c + 0 * rowStride, acc0);
  v128.store(c + 1 * rowStride, acc1);
  v128.store(c + 2 * rowStride, acc2);
  v128.store(c + 3 * rowStride, acc3);
  v128.store(c + 4 * rowStride, acc4);
  if (MR > 5) v128.store(c + 5 * rowStride, acc5);
}

// C[4×8] = β·C + bias[8] + Σ_p A(·, p) ⊗ B(p) over the whole depth k,
// A and B in place: rows of A at a0…a3 (a row may repeat, for a part tile), depths
// aStep bytes apart; 8 weights of B per depth, bStep bytes apart (a packed panel: 32,
// or 16 of bfloat16 with W = u16; rows of B in place: their stride); C's rows cRow apart. The tile of the streaming
// kernels (rank-k.ts, gemm-packed-rows.ts), where B, not arithmetic, is the bound: 8
// accumulators, latency-bound in the blocked product, keep up with a stream of B.
// Each element is (C or 0), then + bias, then its products in depth order, as in
// f32GemmTile2x16: a row has the same bits in either.
export function f32GemmTile4x8<W>(
  k: i32, a0: usize, a1: usize, a2: usize, a3: usize, aStep: usize,
  b: usize, bStep: usize, c: usize, cRow: usize, beta: f32, bias: usize,
): void {
  let v0 = f32x4.splat(0), u0 = v0, v1 = v0, u1 = v0, v2 = v0, u2 = v0, v3 = v0, u3 = v0;
  if (beta != 0) {
    const scale = f32x4.splat(beta);
    v0 = f32x4.mul(v128.load(c), scale); u0 = f32x4.mul(v128.load(c, 16), scale);
    v1 = f32x4.mul(v128.load(c + cRow), scale); u1 = f32x4.mul(v128.load(c + cRow, 16), scale);
    v2 = f32x4.mul(v128.load(c + 2 * cRow), scale); u2 = f32x4.mul(v128.load(c + 2 * cRow, 16), scale);
    v3 = f32x4.mul(v128.load(c + 3 * cRow), scale); u3 = f32x4.mul(v128.load(c + 3 * cRow, 16), scale);
  }
  if (bias != 0) {
    const bv = v128.load(bias), bu = v128.load(bias, 16);
    v0 = f32x4.add(v0, bv); u0 = f32x4.add(u0, bu);
    v1 = f32x4.add(v1, bv); u1 = f32x4.add(u1, bu);
    v2 = f32x4.add(v2, bv); u2 = f32x4.add(u2, bu);
    v3 = f32x4.add(v3, bv); u3 = f32x4.add(u3, bu);
  }
  const highHalf = i32x4.splat(HIGH_HALF);
  for (let p = 0, at: usize = 0; p < k; p++, at += aStep) {
    const depth = v128.load(b);
    const w = panelLow<W>(depth), x = panelHigh<W>(depth, b, highHalf);
    const s0 = v128.load32_splat(a0 + at);
    v0 = madd(s0, w, v0);
    u0 = madd(s0, x, u0);
    const s1 = v128.load32_splat(a1 + at);
    v1 = madd(s1, w, v1);
    u1 = madd(s1, x, u1);
    const s2 = v128.load32_splat(a2 + at);
    v2 = madd(s2, w, v2);
    u2 = madd(s2, x, u2);
    const s3 = v128.load32_splat(a3 + at);
    v3 = madd(s3, w, v3);
    u3 = madd(s3, x, u3);
    b += bStep;
  }
  v128.store(c, v0); v128.store(c, u0, 16);
  v128.store(c + cRow, v1); v128.store(c + cRow, u1, 16);
  v128.store(c + 2 * cRow, v2); v128.store(c + 2 * cRow, u2, 16);
  v128.store(c + 3 * cRow, v3); v128.store(c + 3 * cRow, u3, 16);
}

// One or two rows of C (`rows`; a1 is not read for one) against two panels of B at
// once, the second `far` bytes after the first (C's columns 8 to 15; bias too): the
// rows a few-row product leaves past a multiple of four. One or two rows alone on one
// panel would keep too few chains of multiply-adds going to keep up with the stream of
// B (the batch-1 kernel runs three streams for this, gemv-packed.ts). Each element is
// summed as in f32GemmTile4x8.
export function f32GemmTile2x16<W>(
  rows: i32, k: i32, a0: usize, a1: usize, aStep: usize, b: usize, far: usize, bStep: usize,
  c: usize, cRow: usize, beta: f32, bias: usize,
): void {
  let v0 = f32x4.splat(0), u0 = v0, q0 = v0, r0 = v0, v1 = v0, u1 = v0, q1 = v0, r1 = v0;
  if (rows < 2) a1 = a0; // computed twice, stored once: no branch in the loop
  if (beta != 0) {
    const scale = f32x4.splat(beta);
    v0 = f32x4.mul(v128.load(c), scale); u0 = f32x4.mul(v128.load(c, 16), scale);
    q0 = f32x4.mul(v128.load(c, 32), scale); r0 = f32x4.mul(v128.load(c, 48), scale);
    if (rows > 1) {
      v1 = f32x4.mul(v128.load(c + cRow), scale); u1 = f32x4.mul(v128.load(c + cRow, 16), scale);
      q1 = f32x4.mul(v128.load(c + cRow, 32), scale); r1 = f32x4.mul(v128.load(c + cRow, 48), scale);
    }
  }
  if (bias != 0) {
    const bv = v128.load(bias), bu = v128.load(bias, 16), bq = v128.load(bias, 32), br = v128.load(bias, 48);
    v0 = f32x4.add(v0, bv); u0 = f32x4.add(u0, bu); q0 = f32x4.add(q0, bq); r0 = f32x4.add(r0, br);
    v1 = f32x4.add(v1, bv); u1 = f32x4.add(u1, bu); q1 = f32x4.add(q1, bq); r1 = f32x4.add(r1, br);
  }
  const highHalf = i32x4.splat(HIGH_HALF);
  for (let p = 0, at: usize = 0; p < k; p++, at += aStep) {
    const depth = v128.load(b), farDepth = v128.load(b + far);
    const w = panelLow<W>(depth), x = panelHigh<W>(depth, b, highHalf);
    const y = panelLow<W>(farDepth), z = panelHigh<W>(farDepth, b + far, highHalf);
    const s0 = v128.load32_splat(a0 + at);
    v0 = madd(s0, w, v0);
    u0 = madd(s0, x, u0);
    q0 = madd(s0, y, q0);
    r0 = madd(s0, z, r0);
    const s1 = v128.load32_splat(a1 + at);
    v1 = madd(s1, w, v1);
    u1 = madd(s1, x, u1);
    q1 = madd(s1, y, q1);
    r1 = madd(s1, z, r1);
    b += bStep;
  }
  v128.store(c, v0); v128.store(c, u0, 16); v128.store(c, q0, 32); v128.store(c, r0, 48);
  if (rows > 1) { v128.store(c + cRow, v1); v128.store(c + cRow, u1, 16); v128.store(c + cRow, q1, 32); v128.store(c + cRow, r1, 48); }
}
