// @ts-nocheck: AssemblyScript (v128, f32x4, i32 …), compiled by asc from bench/peak.ts, not by tsc,
// whose tsconfig.json includes all of bench/.
//
// The arithmetic ceiling of one core for WebAssembly SIMD in this engine: twelve
// independent f32x4 multiply-add chains that never touch memory. Twelve, because one
// chain is latency-bound and V8 (x86) allocates only xmm0–xmm14: 12 accumulators plus
// the two loop invariants fit, 14 chains would spill (see /work/shared/ANCHORS.md).

// x·m + c: one fused op in the relaxed build, a multiply then an add in the plain one,
// the same pair the GEMM microkernel issues. 8 flops per call either way.
// @ts-ignore: decorator
@inline function madd(x: v128, m: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(x, m, c) : f32x4.add(f32x4.mul(x, m), c);
}

/** Independent chains in `peak`; the host counts CHAINS · 8 flops per iteration. */
export const CHAINS: i32 = 12;

/**
 * Runs every chain `iterations` times through x ← x·m + c. The multiply is on the chain
 * on purpose: with acc ← acc + a·b and loop-invariant a, b, Binaryen/V8 compute a·b once
 * and the loop is twelve adds and one multiply (seen with node --print-wasm-code).
 * With m < 1 the values settle at c / (1 − m) instead of overflowing or going subnormal
 * (either would slow the arithmetic down). m and c are parameters, splatted once before
 * the loop, so nothing folds away. Returns the sum of all lanes so the chains stay live.
 */
export function peak(iterations: i32, m: f32, c: f32): f32 {
  const vm = f32x4.splat(m);
  const vc = f32x4.splat(c);
  let x0 = f32x4.splat(0.0), x1 = f32x4.splat(0.1), x2 = f32x4.splat(0.2), x3 = f32x4.splat(0.3);
  let x4 = f32x4.splat(0.4), x5 = f32x4.splat(0.5), x6 = f32x4.splat(0.6), x7 = f32x4.splat(0.7);
  let x8 = f32x4.splat(0.8), x9 = f32x4.splat(0.9), x10 = f32x4.splat(1.0), x11 = f32x4.splat(1.1);
  for (let i = 0; i < iterations; i++) {
    x0 = madd(x0, vm, vc); x1 = madd(x1, vm, vc); x2 = madd(x2, vm, vc); x3 = madd(x3, vm, vc);
    x4 = madd(x4, vm, vc); x5 = madd(x5, vm, vc); x6 = madd(x6, vm, vc); x7 = madd(x7, vm, vc);
    x8 = madd(x8, vm, vc); x9 = madd(x9, vm, vc); x10 = madd(x10, vm, vc); x11 = madd(x11, vm, vc);
  }
  const sum = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7))),
    f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11)),
  );
  return f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1) + f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3);
}

/** Grows this module's memory by at least `bytes` and returns where they start: room for `read`. */
export function reserve(bytes: i32): usize {
  const start = <usize>memory.size() << 16;
  memory.grow((bytes + 0xffff) >>> 16);
  return start;
}

/**
 * The plain read loop the GEMVs are held against: every 16 bytes of [at, at + bytes)
 * loaded once, in order, into four independent xor chains (so the loop is bound by
 * the loads, not by a chain), folded into an i32 so nothing is dead.
 */
export function read(at: usize, bytes: i32): i32 {
  let a = i32x4.splat(0), b = a, c = a, d = a;
  const end = at + <usize>bytes;
  for (let p = at; p < end; p += 64) {
    a = v128.xor(a, v128.load(p));
    b = v128.xor(b, v128.load(p, 16));
    c = v128.xor(c, v128.load(p, 32));
    d = v128.xor(d, v128.load(p, 48));
  }
  const all = v128.xor(v128.xor(a, b), v128.xor(c, d));
  return i32x4.extract_lane(all, 0) ^ i32x4.extract_lane(all, 3);
}
