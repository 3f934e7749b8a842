// Elementwise activations and their derivatives, f32x4 at a time. Their kinds are
// numbered in scripts/abi.mjs, for both sides.
import { NONE, RELU, LEAKY_RELU, GELU, TANH, SIGMOID, SILU, GELU_TANH, ELU, RELU6, SOFTPLUS } from "./abi.generated";
export { NONE };

// Softplus returns z itself where β·z is above this: PyTorch's default, and the fused one's.
const FUSED_THRESHOLD: f32 = 20;

// y[i] = f(z[i]) for i < count (y may be z). slope: the leaky ReLU's slope, ELU's alpha
// or Softplus's β; threshold: Softplus's. The last one to three elements go through
// the same vector code, so that each kind's code is here once (it is most of the module).
export function activate(kind: i32, slope: f32, threshold: f32, z: usize, y: usize, count: i32): void {
  const s = f32x4.splat(slope), t = f32x4.splat(threshold);
  for (let i = 0; i < count; i += 4) {
    const o = <usize>i << 2, left = count - i;
    storeLanes(y + o, forward4(kind, s, t, loadLanes(z + o, left)), left);
  }
}

// dz[i] = dy[i]·f'(z[i]), with y = f(z) from the forward pass (dz may be dy). ReLU and
// ReLU6 select dy where z is not cut off, as PyTorch does (an infinite dy where the unit is
// off gives 0, not ∞·0 = NaN; a NaN z lets dy through): their derivative4 is that mask.
export function activateBackward(kind: i32, slope: f32, threshold: f32, z: usize, y: usize, dy: usize, dz: usize, count: i32): void {
  const s = f32x4.splat(slope), t = f32x4.splat(threshold);
  for (let i = 0; i < count; i += 4) {
    const o = <usize>i << 2, left = count - i;
    const d = derivative4(kind, s, t, loadLanes(z + o, left), loadLanes(y + o, left));
    const g = loadLanes(dy + o, left);
    storeLanes(dz + o, kind == RELU || kind == RELU6 ? v128.and(g, d) : f32x4.mul(g, d), left);
  }
}

// Four floats at p, or the first `left` (1–3) of them and zeros.
// @ts-ignore: decorator
@inline function loadLanes(p: usize, left: i32): v128 {
  if (left >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (left > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (left > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, left: i32): void {
  if (left >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (left > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (left > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// Applies f to an rows×cols block of z (row stride ld floats) into y: the GEMM's
// epilogue, run on each output tile while it is still in L1.
export function activateTile(kind: i32, slope: f32, z: usize, y: usize, rows: i32, cols: i32, ld: i32): void {
  const stride = <usize>ld << 2;
  for (let r = 0; r < rows; r++) {
    activate(kind, slope, FUSED_THRESHOLD, z, y, cols);
    z += stride;
    y += stride;
  }
}

// @ts-ignore: decorator
@inline function forward4(kind: i32, slope: v128, threshold: v128, z: v128): v128 {
  const zero = f32x4.splat(0);
  if (kind == RELU) return f32x4.max(z, zero);
  if (kind == LEAKY_RELU) return v128.bitselect(z, f32x4.mul(z, slope), f32x4.gt(z, zero));
  if (kind == GELU) return f32x4.mul(z, normalCdf4(z));
  if (kind == TANH) return tanh4(z);
  if (kind == SIGMOID) return sigmoid4(z);
  if (kind == SILU) return f32x4.mul(z, sigmoid4(z));
  // ½z·(1 + tanh u) = z·σ(2u): no cancellation where tanh u nears −1.
  if (kind == GELU_TANH) return f32x4.mul(z, sigmoid4(f32x4.add(geluTanhInner(z), geluTanhInner(z))));
  if (kind == ELU) return v128.bitselect(z, f32x4.mul(slope, expm14(z)), f32x4.gt(z, zero));
  if (kind == RELU6) return f32x4.min(f32x4.max(z, zero), f32x4.splat(6));
  if (kind == SOFTPLUS) {
    const scaled = f32x4.mul(slope, z);
    return v128.bitselect(z, f32x4.div(softplus4(scaled), slope), f32x4.gt(scaled, threshold));
  }
  return z;
}

// @ts-ignore: decorator
@inline function derivative4(kind: i32, slope: v128, threshold: v128, z: v128, y: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  if (kind == RELU) return v128.not(f32x4.le(z, zero)); // a mask (see activateBackward)
  if (kind == LEAKY_RELU) return v128.bitselect(one, slope, f32x4.gt(z, zero));
  if (kind == GELU) {
    // d/dz z·Φ(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
    const density = f32x4.mul(f32x4.splat(0.3989422804014327), exp4(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(z, z))));
    return f32x4.add(normalCdf4(z), f32x4.mul(z, density));
  }
  if (kind == TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (kind == SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  if (kind == SILU) {
    // σ(z)·(1 + z·(1 − σ(z)))
    const s = sigmoid4(z);
    return f32x4.mul(s, f32x4.add(one, f32x4.mul(z, complement(z, s))));
  }
  if (kind == GELU_TANH) {
    // d/dz z·σ(2u) = σ + z·σ·(1 − σ)·2u′, u = √(2/π)·(z + 0.044715·z³), u′ = √(2/π)·(1 + 3·0.044715·z²)
    const u2 = f32x4.add(geluTanhInner(z), geluTanhInner(z));
    const s = sigmoid4(u2);
    const du = f32x4.mul(f32x4.splat(2 * 0.7978845608028654), f32x4.add(one, f32x4.mul(f32x4.splat(0.134145), f32x4.mul(z, z))));
    return f32x4.add(s, f32x4.mul(f32x4.mul(z, f32x4.mul(s, complement(u2, s))), du));
  }
  // ELU below zero: alpha·e^z (from the output, y + alpha, it would cancel far below zero); 1 for NaN, as PyTorch.
  if (kind == ELU) return v128.bitselect(f32x4.mul(slope, exp4(z)), one, f32x4.le(z, zero));
  if (kind == RELU6) return v128.not(v128.or(f32x4.le(z, zero), f32x4.ge(z, f32x4.splat(6)))); // a mask
  if (kind == SOFTPLUS) {
    const scaled = f32x4.mul(slope, z);
    return v128.bitselect(one, sigmoid4(scaled), f32x4.gt(scaled, threshold));
  }
  return one;
}

// 1 − σ(x) given s = σ(x): for x ≥ 0 as e^−x·σ(x), since 1 − s would lose the digits
// of a σ near 1; below zero s < ½ and 1 − s is exact enough.
// @ts-ignore: decorator
@inline function complement(x: v128, s: v128): v128 {
  return v128.bitselect(f32x4.mul(exp4(f32x4.neg(x)), s), f32x4.sub(f32x4.splat(1), s), f32x4.ge(x, f32x4.splat(0)));
}

// √(2/π)·(z + 0.044715·z³)
// @ts-ignore: decorator
@inline function geluTanhInner(z: v128): v128 {
  return f32x4.mul(f32x4.splat(0.7978845608028654), f32x4.add(z, f32x4.mul(f32x4.splat(0.044715), f32x4.mul(z, f32x4.mul(z, z)))));
}

// e^x − 1 without the cancellation of exp4(x) − 1 near zero: below |x| = ½ the Taylor
// series to x⁸/8! (relative error under 2⁻²³ there), else exp4(x) − 1.
function expm14(x: v128): v128 {
  let p = f32x4.splat(1.0 / 40320);
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 5040));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(0.5));
  const series = f32x4.add(x, f32x4.mul(f32x4.mul(p, x), x));
  const large = f32x4.sub(exp4(x), f32x4.splat(1));
  return v128.bitselect(series, large, f32x4.lt(f32x4.abs(x), f32x4.splat(0.5)));
}

// log(1 + e^x) = max(x, 0) + log1p(e^−|x|), which neither overflows nor loses e^x ≪ 1.
function softplus4(x: v128): v128 {
  return f32x4.add(f32x4.max(x, f32x4.splat(0)), log1p4(exp4(f32x4.neg(f32x4.abs(x)))));
}

// log(1 + u) for u ≥ 0: log(w)·u/(w − 1), w = 1 + u rounded, which cancels w's rounding
// error (Goldberg's log1p); u itself where w rounds to 1.
// @ts-ignore: decorator
@inline function log1p4(u: v128): v128 {
  const w = f32x4.add(f32x4.splat(1), u);
  const d = f32x4.sub(w, f32x4.splat(1));
  const corrected = f32x4.mul(log4(w), f32x4.div(u, d));
  return v128.bitselect(u, corrected, f32x4.eq(d, f32x4.splat(0)));
}

// log x for x ≥ 1 (finite) to about 1 ulp: x = m·2^e with m in [√½, √2), log m by
// Cephes' logf polynomial in m − 1, plus e·ln 2 in two parts.
// @ts-ignore: decorator
@inline function log4(x: v128): v128 {
  const bits = x;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // [1, 2)
  const big = f32x4.gt(m, f32x4.splat(1.41421356237));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are −1: e + 1
  const r = f32x4.sub(m, f32x4.splat(1));
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(3.3333331174e-1));
  const r2 = f32x4.mul(r, r);
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, r), r2);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(r2, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(r, y), f32x4.mul(ef, f32x4.splat(0.693359375)));
}

// e^x, to about 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial
// (Cephes' expf), 2^n built in the exponent bits. NaN stays NaN; past ln(FLT_MAX) it is
// +Inf, and below the smallest normal's log it is 0 (not the subnormal it would be),
// so that σ(−∞) = 0 and softplus(−∞) = 0 as in PyTorch.
function exp4(x: v128): v128 {
  const overflow = f32x4.gt(x, f32x4.splat(88.72283935546875));
  const underflow = f32x4.lt(x, f32x4.splat(-87.3365447505531));
  x = f32x4.max(f32x4.min(x, f32x4.splat(88.72283935546875)), f32x4.splat(-87.3365447505531));
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
  const e = f32x4.mul(f32x4.mul(p, i32x4.shl(i32x4.add(h, bias), 23)), i32x4.shl(i32x4.add(i32x4.sub(ni, h), bias), 23));
  return v128.andnot(v128.bitselect(f32x4.splat(Infinity), e, overflow), underflow);
}

// 1 / (1 + e^−x)
// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
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
