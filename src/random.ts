/**
 * A seeded generator of uniform floats in [0, 1) (mulberry32). Integer arithmetic
 * only, so the same seed gives the same sequence on every engine and platform.
 */
export function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with values uniform in [-bound, bound). */
export function fillUniform(out: Float32Array, bound: number, next: () => number): void {
  for (let i = 0; i < out.length; i++) out[i] = (2 * next() - 1) * bound;
}
