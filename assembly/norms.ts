// Σ x² over count floats, for clipGradNorm: four float32 lanes squared exactly into
// float64 pairs and summed in float64, so a norm over millions of gradients keeps its
// float32 digits.
export function sumOfSquares(x: usize, count: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const count4 = count & ~3;
  for (let i = 0; i < count4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const low = f64x2.promote_low_f32x4(v), high = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(low, low));
    b = f64x2.add(b, f64x2.mul(high, high));
  }
  let sum = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (let i = count4; i < count; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}
