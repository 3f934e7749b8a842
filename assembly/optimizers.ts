// Parameter updates in place, four floats at a time, following PyTorch's update
// rules step for step (torch.optim.SGD and AdamW, single-tensor implementations).

// SGD: d = g + wd·p; with momentum, buf = first ? d : momentum·buf + (1 − dampening)·d,
// and d = nesterov ? d + momentum·buf : buf; then p −= lr·d.
// keep = 1 − dampening, computed by the host in double precision.
export function sgdStep(
  p: usize, g: usize, buf: usize, count: i32,
  lr: f32, momentum: f32, keep: f32, weightDecay: f32, nesterov: bool, first: bool,
): void {
  const vLr = f32x4.splat(lr), vMomentum = f32x4.splat(momentum);
  const vKeep = f32x4.splat(keep), vDecay = f32x4.splat(weightDecay);
  const end = <usize>(count & ~3) << 2;
  for (let o: usize = 0; o < end; o += 16) {
    const param = v128.load(p + o);
    let d = v128.load(g + o);
    if (weightDecay != 0) d = f32x4.add(d, f32x4.mul(vDecay, param));
    if (momentum != 0) {
      const b = first ? d : f32x4.add(f32x4.mul(v128.load(buf + o), vMomentum), f32x4.mul(d, vKeep));
      v128.store(buf + o, b);
      d = nesterov ? f32x4.add(d, f32x4.mul(vMomentum, b)) : b;
    }
    v128.store(p + o, f32x4.sub(param, f32x4.mul(vLr, d)));
  }
  for (let o = end; o < (<usize>count << 2); o += 4) {
    const param = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (weightDecay != 0) d += weightDecay * param;
    if (momentum != 0) {
      const b = first ? d : load<f32>(buf + o) * momentum + d * keep;
      store<f32>(buf + o, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + o, param - lr * d);
  }
}

// AdamW: p ·= 1 − lr·wd; m = lerp(m, g, 1 − β1); v = β2·v + (1 − β2)·g²;
// p −= (lr / c1) · m / (√v / √c2 + eps), with c1 = 1 − β1^t and c2 = 1 − β2^t.
// lerp as ATen's: m + w·(g − m) for a weight w below 0.5, else g + (w − 1)·(g − m)
// (so that β1 = 0 gives g itself); the last product as addcdiv's, (step·m) / denom.
// The scalars come from the host, computed in double precision as PyTorch does:
// decay = 1 − lr·wd, keep1 = 1 − β1, keep2 = 1 − β2, step = lr / c1, root2 = √c2.
export function adamwStep(
  p: usize, g: usize, m: usize, v: usize, count: i32,
  decay: f32, keep1: f32, beta2: f32, keep2: f32, step: f32, root2: f32, eps: f32,
): void {
  const vDecay = f32x4.splat(decay), vBeta2 = f32x4.splat(beta2);
  const vKeep2 = f32x4.splat(keep2), vStep = f32x4.splat(step), vRoot2 = f32x4.splat(root2), vEps = f32x4.splat(eps);
  const fromGradient = keep1 >= 0.5, toward: f32 = fromGradient ? keep1 - 1 : keep1, vToward = f32x4.splat(toward);
  const end = <usize>(count & ~3) << 2;
  for (let o: usize = 0; o < end; o += 16) {
    const grad = v128.load(g + o);
    let mo = v128.load(m + o);
    mo = f32x4.add(fromGradient ? grad : mo, f32x4.mul(vToward, f32x4.sub(grad, mo)));
    const ve = f32x4.add(f32x4.mul(v128.load(v + o), vBeta2), f32x4.mul(f32x4.mul(vKeep2, grad), grad));
    v128.store(m + o, mo);
    v128.store(v + o, ve);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(ve), vRoot2), vEps);
    v128.store(p + o, f32x4.sub(f32x4.mul(v128.load(p + o), vDecay), f32x4.div(f32x4.mul(vStep, mo), denom)));
  }
  for (let o = end; o < (<usize>count << 2); o += 4) {
    const grad = load<f32>(g + o);
    let mo = load<f32>(m + o);
    mo = (fromGradient ? grad : mo) + toward * (grad - mo);
    const ve = load<f32>(v + o) * beta2 + keep2 * grad * grad;
    store<f32>(m + o, mo);
    store<f32>(v + o, ve);
    const denom = Mathf.sqrt(ve) / root2 + eps;
    store<f32>(p + o, load<f32>(p + o) * decay - step * mo / denom);
  }
}
