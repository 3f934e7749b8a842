// mulberry32 (src/random.ts's uniformGenerator) as a function of the draw's index: the
// n-th output from a seed is a hash of seed + (n + 1)·0x6d2b79f5, so any element's draw
// is computed alone, and the same seed gives the same values here and in JavaScript.

// The n-th output (n ≥ 0) of mulberry32 from `seed`, in [0, 1).
// @ts-ignore: decorator
@inline export function uniform(seed: u32, n: u32): f64 {
  let t = seed + (n + 1) * 0x6d2b79f5;
  t = (t ^ (t >>> 15)) * (t | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return <f64>(t ^ (t >>> 14)) / 4294967296.0;
}

// out[i] = (2·u − 1)·bound with u the (offset + i)-th draw, in float64 and then rounded,
// as JavaScript's (2 * next() - 1) * bound stored to a Float32Array.
export function fillUniform(out: usize, count: i32, bound: f64, seed: u32, offset: u32): void {
  for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), <f32>((2 * uniform(seed, offset + <u32>i) - 1) * bound));
}
