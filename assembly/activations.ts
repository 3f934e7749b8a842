// Elementwise activations and their derivatives, f32x4 at a time. Their kinds are
// numbered in scripts/abi.mjs, for both sides.
import { NONE, RELU, LEAKY_RELU, GELU, TANH, SIGMOID } from "./abi.generated";
export { NONE };

// y[i] = f(z[i]) for i < count (y may be z).
export function activate(kind: i32, slope: f32, z: usize, y: usize, count: i32): void {
  const end = z + (<usize>count << 2);
  const end4 = z + (<usize>(count & ~3) << 2);
  const offset = y - z;
  const s = f32x4.splat(slope);
  for (; z < end4; z += 16) v128.store(z + offset, forward4(kind, s, v128.load(z)));
  for (; z < end; z += 4) {
    store<f32>(z + offset, f32x4.extract_lane(forward4(kind, s, f32x4.splat(load<f32>(z))), 0));
  }
}

// dz[i] = dy[i]·f'(z[i]), with y = f(z) from the forward pass (dz may be dy).
export function activateBackward(kind: i32, slope: f32, z: usize, y: usize, dy: usize, dz: usize, count: i32): void {
  const s = f32x4.splat(slope);
  const count4 = count & ~3;
  let i = 0;
  for (; i < count4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dz + o, f32x4.mul(v128.load(dy + o), derivative4(kind, s, v128.load(z + o), v128.load(y + o))));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    const d = derivative4(kind, s, f32x4.splat(load<f32>(z + o)), f32x4.splat(load<f32>(y + o)));
    store<f32>(dz + o, load<f32>(dy + o) * f32x4.extract_lane(d, 0));
  }
}

// Applies f to an rows×cols block of z (row stride ld floats) into y: the GEMM's
// epilogue, run on each output tile while it is still in L1.
export function activateTile(kind: i32, slope: f32, z: usize, y: usize, rows: i32, cols: i32, ld: i32): void {
  const stride = <usize>ld << 2;
  for (let r = 0; r < rows; r++) {
    activate(kind, slope, z, y, cols);
    z += stride;
    y += stride;
  }
}

// @ts-ignore: decorator
@inline function forward4(kind: i32, slope: v128, z: v128): v128 {
  const zero = f32x4.splat(0);
  if (kind == RELU) return f32x4.max(z, zero);
  if (kind == LEAKY_RELU) return v128.bitselect(z, f32x4.mul(z, slope), f32x4.gt(z, zero));
  if (kind == GELU) return f32x4.mul(z, normalCdf4(z));
  if (kind == TANH) return tanh4(z);
  if (kind == SIGMOID) return sigmoid4(z);
  return z;
}

// @ts-ignore: decorator
@inline function derivative4(kind: i32, slope: v128, z: v128, y: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  if (kind == RELU) return v128.and(f32x4.gt(z, zero), one);
  if (kind == LEAKY_RELU) return v128.bitselect(one, slope, f32x4.gt(z, zero));
  if (kind == GELU) {
    // d/dz z·Φ(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
    const density = f32x4.mul(f32x4.splat(0.3989422804014327), exp4(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(z, z))));
    return f32x4.add(normalCdf4(z), f32x4.mul(z, density));
  }
  if (kind == TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (kind == SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  return one;
}

// e^x, to about 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial
// (Cephes' expf), 2^n built in the exponent bits. NaN stays NaN; large |x| saturates.
function exp4(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365447505531));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n = 2^h·2^(n−h), h = n/2, each built as an exponent field: one factor alone
  // could not reach the ends of n's range [−126, 128].
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const h = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  return f32x4.mul(f32x4.mul(p, i32x4.shl(i32x4.add(h, bias), 23)), i32x4.shl(i32x4.add(i32x4.sub(ni, h), bias), 23));
}

// 1 / (1 + e^−x)
function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// tanh x = sign(x)·(1 − e^−2|x|)/(1 + e^−2|x|); below |x| = 1/16 the odd Taylor
// series x − x³/3 + 2x⁵/15, which keeps the relative error small near zero.
function tanh4(x: v128): v128 {
  const one = f32x4.splat(1);
  const ax = f32x4.abs(x);
  const e = exp4(f32x4.mul(ax, f32x4.splat(-2)));
  const large = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const x2 = f32x4.mul(x, x);
  const series = f32x4.mul(ax, f32x4.add(one, f32x4.mul(x2, f32x4.add(f32x4.splat(-1.0 / 3.0), f32x4.mul(x2, f32x4.splat(2.0 / 15.0))))));
  const magnitude = v128.bitselect(series, large, f32x4.lt(ax, f32x4.splat(0.0625)));
  // Copy x's sign onto the magnitude (NaN passes through).
  const signBit = f32x4.splat(-0.0);
  return v128.or(v128.andnot(magnitude, signBit), v128.and(x, signBit));
}

// Φ(z) = ½·erfc(−z/√2), with erfc(t) = poly(1/(1 + p·t))·e^(−t²) for t ≥ 0 (Abramowitz
// and Stegun 7.1.26, |error| ≤ 1.5·10⁻⁷) and erfc(−t) = 2 − erfc(t).
function normalCdf4(z: v128): v128 {
  const t = f32x4.mul(f32x4.abs(z), f32x4.splat(0.7071067811865476));
  const one = f32x4.splat(1);
  const u = f32x4.div(one, f32x4.add(one, f32x4.mul(f32x4.splat(0.3275911), t)));
  let poly = f32x4.splat(1.061405429);
  poly = f32x4.add(f32x4.mul(poly, u), f32x4.splat(-1.453152027));
  poly = f32x4.add(f32x4.mul(poly, u), f32x4.splat(1.421413741));
  poly = f32x4.add(f32x4.mul(poly, u), f32x4.splat(-0.284496736));
  poly = f32x4.add(f32x4.mul(poly, u), f32x4.splat(0.254829592));
  const tail = f32x4.mul(f32x4.mul(f32x4.mul(poly, u), exp4(f32x4.neg(f32x4.mul(t, t)))), f32x4.splat(0.5)); // ½·erfc(t)
  return v128.bitselect(tail, f32x4.sub(one, tail), f32x4.lt(z, f32x4.splat(0)));
}
