import { MR, NR } from "./blocking";

// C[4×8] = (accumulate ? C : 0) + bias[8] + Σ_p a[p][0..4] ⊗ b[p][0..8]
//
// a: packed A panel, MR floats per p (one column of the 4-row block).
// b: packed B panel, NR floats per p (one row of the 8-column block).
// bias: NR floats added to every row, or 0 for none.
// c: top-left of the tile, rowStride bytes between rows.
// Registers: acc<row>x<cols> hold C row by column quad; 8 + b0/b1 + one splat = 11 v128.
export function microkernel4x8(
  kc: i32, a: usize, b: usize, bias: usize, c: usize, rowStride: usize, accumulate: bool,
): void {
  let acc0x0123 = f32x4.splat(0), acc0x4567 = f32x4.splat(0);
  if (bias != 0) {
    acc0x0123 = v128.load(bias);
    acc0x4567 = v128.load(bias, 16);
  }
  let acc1x0123 = acc0x0123, acc1x4567 = acc0x4567;
  let acc2x0123 = acc0x0123, acc2x4567 = acc0x4567;
  let acc3x0123 = acc0x0123, acc3x4567 = acc0x4567;

  for (let p = 0; p < kc; p++) {
    const b0123 = v128.load(b);
    const b4567 = v128.load(b, 16);
    let ai = v128.load32_splat(a);
    acc0x0123 = f32x4.add(acc0x0123, f32x4.mul(ai, b0123));
    acc0x4567 = f32x4.add(acc0x4567, f32x4.mul(ai, b4567));
    ai = v128.load32_splat(a, 4);
    acc1x0123 = f32x4.add(acc1x0123, f32x4.mul(ai, b0123));
    acc1x4567 = f32x4.add(acc1x4567, f32x4.mul(ai, b4567));
    ai = v128.load32_splat(a, 8);
    acc2x0123 = f32x4.add(acc2x0123, f32x4.mul(ai, b0123));
    acc2x4567 = f32x4.add(acc2x4567, f32x4.mul(ai, b4567));
    ai = v128.load32_splat(a, 12);
    acc3x0123 = f32x4.add(acc3x0123, f32x4.mul(ai, b0123));
    acc3x4567 = f32x4.add(acc3x4567, f32x4.mul(ai, b4567));
    a += MR << 2;
    b += NR << 2;
  }

  const c0 = c, c1 = c0 + rowStride, c2 = c1 + rowStride, c3 = c2 + rowStride;
  if (accumulate) {
    acc0x0123 = f32x4.add(acc0x0123, v128.load(c0));
    acc0x4567 = f32x4.add(acc0x4567, v128.load(c0, 16));
    acc1x0123 = f32x4.add(acc1x0123, v128.load(c1));
    acc1x4567 = f32x4.add(acc1x4567, v128.load(c1, 16));
    acc2x0123 = f32x4.add(acc2x0123, v128.load(c2));
    acc2x4567 = f32x4.add(acc2x4567, v128.load(c2, 16));
    acc3x0123 = f32x4.add(acc3x0123, v128.load(c3));
    acc3x4567 = f32x4.add(acc3x4567, v128.load(c3, 16));
  }
  v128.store(c0, acc0x0123); v128.store(c0, acc0x4567, 16);
  v128.store(c1, acc1x0123); v128.store(c1, acc1x4567, 16);
  v128.store(c2, acc2x0123); v128.store(c2, acc2x4567, 16);
  v128.store(c3, acc3x0123); v128.store(c3, acc3x4567, 16);
}
