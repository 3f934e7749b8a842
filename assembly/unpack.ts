// Packed weights back to float32 rows, for the product that needs W the other way
// round: a frozen layer's dX = dZ·Wᵀ (FrozenLinear.backward), W read a block of columns
// at a time. bf16 expands exactly; int8 gives q·s_j, the weights its forward used.
import { PACKED_BF16, PACKED_INT8 } from "./abi.generated";
import { NR } from "./blocking";
import { HIGH_HALF, panelHigh, panelLow } from "./bf16";
import { pairedDepth } from "./int8";

// Writes columns j0 … j0 + width − 1 (j0 a multiple of NR) of the k×n B packed in
// `format` as a k×width row-major float32 block at dst. scales: int8's column scales.
// Panel by panel, each depth's NR weights to one row of dst.
export function unpackColumns(format: i32, k: i32, panels: usize, scales: usize, j0: i32, width: i32, dst: usize): void {
  const weight: usize = format == PACKED_INT8 ? 1 : format == PACKED_BF16 ? 2 : 4;
  const depth = format == PACKED_INT8 ? pairedDepth(k) : k;
  const panelBytes = <usize>depth * NR * weight;
  const row = <usize>width << 2;
  const highHalf = i32x4.splat(HIGH_HALF);
  for (let c0 = 0; c0 < width; c0 += NR) {
    const panel = panels + <usize>((j0 + c0) / NR) * panelBytes;
    const cols = min(NR, width - c0);
    let out = dst + (<usize>c0 << 2);
    for (let p = 0; p < k; p++, out += row) {
      if (format == PACKED_INT8) {
        const at = panel + (<usize>(p >> 1) << 4) + <usize>(p & 1);
        for (let c = 0; c < cols; c++) {
          store<f32>(out + (<usize>c << 2), <f32>load<i8>(at + (<usize>c << 1)) * load<f32>(scales + (<usize>(j0 + c0 + c) << 2)));
        }
        continue;
      }
      const at = panel + <usize>p * NR * weight;
      const low = format == PACKED_BF16 ? panelLow<u16>(at) : panelLow<f32>(at);
      const high = format == PACKED_BF16 ? panelHigh<u16>(at, highHalf) : panelHigh<f32>(at, highHalf);
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

// Lane `i` (0–3, not a constant) of v.
// @ts-ignore: decorator
@inline function lane(v: v128, i: i32): f32 {
  return i == 0 ? f32x4.extract_lane(v, 0) : i == 1 ? f32x4.extract_lane(v, 1) : i == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
