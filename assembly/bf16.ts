// bfloat16 weights (Linear.freeze({ weights: 'bf16' })): W rounded to the nearest-even
// bfloat16, half the bytes of float32, expanded back to float32 in the kernel as it is
// read. A bfloat16 is the high half of a float32, so the expansion is exact and costs a
// shift or a mask. The f32 kernels over packed panels read bf16 panels as they are,
// instantiated for u16 (gemv-packed.ts, gemm-packed-rows.ts): same panels of NR
// columns, k deep, with NR bfloat16s a depth instead of NR floats.
import { NR } from "./blocking";

// Within a depth, i32 lane t holds columns t (low half) and t + 4 (high half), so
// that one load gives all eight and a shift or a mask gives either four.
export const HIGH_HALF: i32 = 0xffff0000;

// Columns 0–3 and 4–7 of the depth at p, as f32x4, of panels of W: f32 or u16 (bf16),
// given v = v128.load(p) (loaded once by the caller for both: Binaryen at shrinkLevel 1
// does not always merge repeated loads, and V8 does not).
// @ts-ignore: decorator
@inline export function panelLow<W>(v: v128): v128 {
  return sizeof<W>() == 4 ? v : i32x4.shl(v, 16);
}

// highHalf: i32x4.splat(HIGH_HALF), made once outside the loop.
// @ts-ignore: decorator
@inline export function panelHigh<W>(v: v128, p: usize, highHalf: v128): v128 {
  return sizeof<W>() == 4 ? v128.load(p, 16) : v128.and(v, highHalf);
}

/** Bytes of a k×n B packed as bfloat16 panels. */
export function packedBf16Bytes(k: i32, n: i32): usize {
  return (<usize>k * <usize>((n + NR - 1) / NR * NR)) << 1;
}

// Round to nearest, ties to even; NaN stays NaN (quieted: rounding could carry a
// NaN's payload into the exponent's Inf), ±Inf stays.
function bf16(value: f32): u16 {
  const bits = reinterpret<u32>(value);
  if (value != value) return <u16>((bits >> 16) | 0x40);
  return <u16>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

// Packs op(B) (k×n, op(B)(p, j) = b[p·rsB + j·csB]) as bfloat16 panels at dst, the last zero-padded.
export function packBf16(k: i32, n: i32, b: usize, rsB: i32, csB: i32, dst: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    for (let p = 0; p < k; p++) {
      for (let c = 0; c < NR; c++) {
        const j = j0 + c;
        const value: f32 = j < n ? load<f32>(b + ((<usize>p * <usize>rsB + <usize>j * <usize>csB) << 2)) : 0;
        // Column c at u16 2c (c < 4) or 2(c − 4) + 1.
        const slot = c < 4 ? c << 1 : ((c - 4) << 1) + 1;
        store<u16>(dst + (<usize>slot << 1), bf16(value));
      }
      dst += NR << 1;
    }
  }
}
