// a·b + c on f32x4: fused where the relaxed-SIMD build allows (one rounding, and no
// register for the product), else a multiply then an add.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(c, f32x4.mul(a, b));
}
