// Packed weights back to float32 rows, for the product that needs W the other way
// round: a frozen layer's dX = dZ·Wᵀ (FrozenLinear.backward), W read a block of columns
// at a time. bf16 expands exactly; int8 gives q·s_j, the weights its forward used.
import { PACKED_BF16, PACKED_INT8 } from "./abi.generated";
import { NR } from "./blocking";
import { HIGH_HALF, panelHigh, panelLow } from "./bf16";
import { int8PanelBytes, int8WeightAt } from "./int8";

// Writes columns j0 … j0 + width − 1 (j0 a multiple of NR) of the k×n B packed in
// `format` as a k×width row-major float32 block at dst. scales: int8's column scales.
// Panel by panel, each depth's NR weights to one row of dst.
export function unpackColumns(format: i32, k: i32, panels: usize, scales: usize, j0: i32, width: i32, dst: usize): void {
  const weight: usize = format == PACKED_INT8 ? 1 : format == PACKED_BF16 ? 2 : 4;
  const panelBytes = format == PACKED_INT8 ? int8PanelBytes(k) : <usize>k * NR * weight;
  const row = <usize>width << 2;
  const highHalf = i32x4.splat(HIGH_HALF);
  for (let c0 = 0; c0 < width; c0 += NR) {
    const panel = panels + <usize>((j0 + c0) / NR) * panelBytes;
    const cols = min(NR, width - c0);
    let out = dst + (<usize>c0 << 2);
    if (format == PACKED_INT8) {
      unpackInt8Panel(k, panel, scales + (<usize>(j0 + c0) << 2), cols, out, row);
      continue;
    }
    for (let p = 0; p < k; p++, out += row) {
      const at = panel + <usize>p * NR * weight;
      const depth = v128.load(at);
      const low = format == PACKED_BF16 ? panelLow<u16>(depth) : panelLow<f32>(depth);
      const high = format == PACKED_BF16 ? panelHigh<u16>(depth, at, highHalf) : panelHigh<f32>(depth, at, highHalf);
      if (cols == NR) {
        v128.store(out, low);
        v128.store(out, high, 16);
      } else {
        for (let c = 0; c < cols; c++) {
          const v = c < 4 ? low : high;
          store<f32>(out + (<usize>c << 2), lane(v, c & 3));
        }
      }
    }
  }
}

// One int8 panel (int8.ts: depth pairs, or quads after a header) as q·s in rows of dst:
// shuffles gather each depth's eight bytes, which widen to int32 and convert exactly
// (|q| ≤ 127). A part panel (cols < NR) goes column by column. scales: the panel's first
// column's scale.
function unpackInt8Panel(k: i32, panel: usize, scales: usize, cols: i32, out: usize, row: usize): void {
  if (cols < NR) {
    for (let p = 0; p < k; p++, out += row) {
      for (let c = 0; c < cols; c++) store<f32>(out + (<usize>c << 2), <f32>load<i8>(int8WeightAt(panel, p, c)) * load<f32>(scales + (<usize>c << 2)));
    }
    return;
  }
  const sLow = v128.load(scales), sHigh = v128.load(scales, 16);
  // Two depths at a time, p and p + 1: from their pair, or from the two halves of their quad.
  for (let p = 0; p < k; p += 2) {
    let pair: v128;
    if (ASC_FEATURE_RELAXED_SIMD) {
      const quad = int8WeightAt(panel, p & ~3, 0);
      const lo = v128.load(quad), hi = v128.load(quad, 16);
      pair = (p & 3) == 0
        ? i8x16.shuffle(lo, hi, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29)
        : i8x16.shuffle(lo, hi, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    } else {
      const both = v128.load(int8WeightAt(panel, p, 0));
      pair = i8x16.shuffle(both, both, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    }
    storeRow(i16x8.extend_low_i8x16_s(pair), sLow, sHigh, out);
    out += row;
    if (p + 1 < k) storeRow(i16x8.extend_high_i8x16_s(pair), sLow, sHigh, out);
    out += row;
  }
}

// Eight int16 weights of one depth, scaled, as eight floats at out.
// @ts-ignore: decorator
@inline function storeRow(q: v128, sLow: v128, sHigh: v128, out: usize): void {
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)), sLow));
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)), sHigh), 16);
}

// Lane `i` (0–3, not a constant) of v.
// @ts-ignore: decorator
@inline function lane(v: v128, i: i32): f32 {
  return i == 0 ? f32x4.extract_lane(v, 0) : i == 1 ? f32x4.extract_lane(v, 1) : i == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
