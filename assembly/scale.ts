// x *= factor over count floats: the alpha / rank of a LoRA adapter, applied to its
// rank-wide intermediate (a few floats a row) rather than to every output.
export function scaleInPlace(x: usize, count: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const count4 = count & ~3;
  for (let i = 0; i < count4; i += 4) {
    const at = x + (<usize>i << 2);
    v128.store(at, f32x4.mul(v128.load(at), f));
  }
  for (let i = count4; i < count; i++) {
    const at = x + (<usize>i << 2);
    store<f32>(at, load<f32>(at) * factor);
  }
}
