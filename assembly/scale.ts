// y = factor·x over count floats (y may be x): the alpha / rank of a LoRA adapter,
// applied to its rank-wide intermediate (a few floats a row) rather than to every
// output; matmul's alpha, folded into a copy of its smaller operand.
export function scaleInto(x: usize, y: usize, count: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const count4 = count & ~3;
  for (let i = 0; i < count4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(x + o), f));
  }
  for (let i = count4; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * factor);
  }
}
