/**
 * A seeded generator of uniform floats in [0, 1) (mulberry32). Integer arithmetic
 * only, so the same seed gives the same sequence on every engine and platform. The
 * kernels draw the same sequence by index (assembly/random.ts: a layer's initial weights).
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
