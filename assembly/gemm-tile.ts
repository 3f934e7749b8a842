// The register tiles of the blocked GEMM: MR×8 (MR = 5 SIMD, 6 relaxed; blocking.ts), and
// MR×4 for a last panel of at most four columns. The microkernels of BLIS and XNNPACK
// (f32_gemm_5x8__simd, f32_gemm_6x8__relaxed), named by their tile.
import { MR } from "./blocking";
import { madd } from "./simd";

// C[MR×8] = (accumulate ? C : 0) + bias[8] + Σ_p a[p][0..MR] ⊗ b[p][0..8]
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
  kc: i32, a: usize, b: usize, bStride: usize, bias: usize, c: usize, rowStride: usize, accumulate: bool,
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
  if (accumulate) {
    acc0x0123 = f32x4.add(acc0x0123, v128.load(c + 0 * rowStride));
    acc0x4567 = f32x4.add(acc0x4567, v128.load(c + 0 * rowStride, 16));
    acc1x0123 = f32x4.add(acc1x0123, v128.load(c + 1 * rowStride));
    acc1x4567 = f32x4.add(acc1x4567, v128.load(c + 1 * rowStride, 16));
    acc2x0123 = f32x4.add(acc2x0123, v128.load(c + 2 * rowStride));
    acc2x4567 = f32x4.add(acc2x4567, v128.load(c + 2 * rowStride, 16));
    acc3x0123 = f32x4.add(acc3x0123, v128.load(c + 3 * rowStride));
    acc3x4567 = f32x4.add(acc3x4567, v128.load(c + 3 * rowStride, 16));
    acc4x0123 = f32x4.add(acc4x0123, v128.load(c + 4 * rowStride));
    acc4x4567 = f32x4.add(acc4x4567, v128.load(c + 4 * rowStride, 16));
    if (MR > 5) {
      acc5x0123 = f32x4.add(acc5x0123, v128.load(c + 5 * rowStride));
      acc5x4567 = f32x4.add(acc5x4567, v128.load(c + 5 * rowStride, 16));
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

// C[MR×4] = (accumulate ? C : 0) + bias[4] + Σ_p a[p][0..MR] ⊗ b[p][0..4]: the last
// panel of B when at most four columns are left (an output layer of 10 classes is one
// 8-wide panel and one of 2), so half an 8-wide tile is not spent on zero padding.
// Same arguments and layout as f32GemmTileMRx8, with 4 floats of B per p; each element
// is summed in the same order as there.
export function f32GemmTileMRx4(
  kc: i32, a: usize, b: usize, bStride: usize, bias: usize, c: usize, rowStride: usize, accumulate: bool,
): void {
  const start = bias != 0 ? v128.load(bias) : f32x4.splat(0);
  let acc0 = start, acc1 = start, acc2 = start, acc3 = start, acc4 = start, acc5 = start;
  if (accumulate) {
    acc0 = f32x4.add(acc0, v128.load(c + 0 * rowStride));
    acc1 = f32x4.add(acc1, v128.load(c + 1 * rowStride));
    acc2 = f32x4.add(acc2, v128.load(c + 2 * rowStride));
    acc3 = f32x4.add(acc3, v128.load(c + 3 * rowStride));
    acc4 = f32x4.add(acc4, v128.load(c + 4 * rowStride));
    if (MR > 5) acc5 = f32x4.add(acc5, v128.load(c + 5 * rowStride));
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
