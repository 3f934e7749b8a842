// Inverted dropout: each element kept with probability 1 − p and scaled by 1/(1 − p), or
// zeroed. Element i's draw is the (offset + i)-th output of the layer's seeded generator
// (mulberry32, src/random.ts's uniformGenerator), computed from its index alone, so a
// call's mask depends only on the seed and how many elements came before it.
import { uniform } from "./random";

// y[i] = x[i]·mask[i], mask[i] = scale if element i is kept (its draw ≥ p), else 0.
export function dropout(x: usize, y: usize, mask: usize, count: i32, p: f64, scale: f32, seed: u32, offset: u32): void {
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const m: f32 = uniform(seed, offset + <u32>i) >= p ? scale : 0;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

// dx = dy·mask: the forward's mask applied to the incoming gradient.
export function dropoutBackward(dy: usize, mask: usize, dx: usize, count: i32): void {
  const count4 = count & ~3;
  for (let i = 0; i < count4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), v128.load(mask + o)));
  }
  for (let i = count4; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(dy + o) * load<f32>(mask + o));
  }
}
