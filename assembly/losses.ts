// Losses with the mean reduction (PyTorch's default), each returning the loss and
// writing its gradient with respect to the predictions.

// Softmax cross-entropy over `classes` logits per row, as torch.nn.CrossEntropyLoss with
// the mean reduction: labels are class indices (int32, checked by the host to be in
// range or equal to ignoreIndex), weights per class (or 0 for none), label smoothing ε:
//   loss = ((1 − ε)·Σᵢ w_yᵢ·(−log pᵢ,yᵢ) + (ε/C)·Σᵢ Σ_c w_c·(−log pᵢ,c)) / Σᵢ w_yᵢ
// over the rows not ignored (w = 1 without weights, so the divisor is their count), and
//   grad_ic = (pᵢc·((1 − ε)·w_yᵢ + (ε/C)·Σ_c w_c) − (1 − ε)·w_yᵢ·[c = yᵢ] − (ε/C)·w_c) / Σᵢ w_yᵢ,
// 0 on ignored rows. Each row subtracts its max before exponentiating.
export function softmaxCrossEntropy(
  logits: usize, labels: usize, batch: i32, classes: i32, grad: usize, weights: usize, ignoreIndex: i32, smoothing: f32,
): f64 {
  const rowBytes = <usize>classes << 2;
  let kept: f64 = 0;
  for (let i = 0; i < batch; i++) {
    const label = load<i32>(labels + (<usize>i << 2));
    if (label != ignoreIndex) kept += weights != 0 ? <f64>load<f32>(weights + (<usize>label << 2)) : 1;
  }
  let weightTotal: f32 = <f32>classes;
  if (weights != 0) {
    weightTotal = 0;
    for (let j = 0; j < classes; j++) weightTotal += load<f32>(weights + (<usize>j << 2));
  }
  const scale = <f32>(1 / kept);
  const keep: f32 = 1 - smoothing, spread: f32 = smoothing / <f32>classes;
  let nll: f64 = 0, smooth: f64 = 0;
  for (let i = 0; i < batch; i++, logits += rowBytes, grad += rowBytes, labels += 4) {
    const label = load<i32>(labels);
    if (label == ignoreIndex) {
      memory.fill(grad, 0, rowBytes);
      continue;
    }
    let max = load<f32>(logits);
    for (let j = 1; j < classes; j++) max = Mathf.max(max, load<f32>(logits + (<usize>j << 2)));
    let sum: f32 = 0;
    for (let j = 0; j < classes; j++) {
      const e = Mathf.exp(load<f32>(logits + (<usize>j << 2)) - max);
      store<f32>(grad + (<usize>j << 2), e);
      sum += e;
    }
    // −log p = log Σ − (z − max), as PyTorch's log_softmax: adding max back to log Σ
    // first would round the loss to max's ulp (0 for logits [1e8, 1e8], not ln 2).
    const logSum = Mathf.log(sum);
    const wy: f32 = weights != 0 ? load<f32>(weights + (<usize>label << 2)) : 1;
    nll += <f64>wy * <f64>(logSum - (load<f32>(logits + (<usize>label << 2)) - max));
    if (smoothing != 0) {
      for (let j = 0; j < classes; j++) {
        const wc: f64 = weights != 0 ? <f64>load<f32>(weights + (<usize>j << 2)) : 1;
        smooth += wc * <f64>(logSum - (load<f32>(logits + (<usize>j << 2)) - max));
      }
    }
    const toGrad = (keep * wy + spread * weightTotal) * scale / sum;
    const target = keep * wy;
    for (let j = 0; j < classes; j++) {
      const o = <usize>j << 2;
      const wc: f32 = weights != 0 ? load<f32>(weights + o) : 1;
      store<f32>(grad + o, load<f32>(grad + o) * toGrad - ((j == label ? target : 0) + spread * wc) * scale);
    }
  }
  // Each mean divided as PyTorch's: nothing kept (every row ignored, or of weight 0) is 0/0, NaN,
  // smoothing or not; weights (negative ones) summing to 0 under a loss that is not, ±∞.
  return smoothing != 0 ? <f64>keep * (nll / kept) + <f64>spread * (smooth / kept) : nll / kept;
}

// Mean squared error over all `count` elements: mean((p − t)²), grad = 2(p − t)/count.
export function meanSquaredError(pred: usize, target: usize, count: i32, grad: usize): f64 {
  const scale: f32 = <f32>2 / <f32>count;
  let total: f64 = 0;
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(pred + o) - load<f32>(target + o);
    total += <f64>d * <f64>d;
    store<f32>(grad + o, scale * d);
  }
  return total / <f64>count;
}
