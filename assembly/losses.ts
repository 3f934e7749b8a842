// Losses with the mean reduction (PyTorch's default), each returning the loss and
// writing its gradient with respect to the predictions.

// Softmax cross-entropy over `classes` logits per row, labels as class indices
// (int32, already checked to be in range). grad = (softmax − one-hot) / batch.
// Each row subtracts its max before exponentiating, so no logit overflows.
export function softmaxCrossEntropy(logits: usize, labels: usize, batch: i32, classes: i32, grad: usize): f64 {
  const rowBytes = <usize>classes << 2;
  const scale: f32 = <f32>1 / <f32>batch;
  let total: f64 = 0;
  for (let i = 0; i < batch; i++) {
    let max = load<f32>(logits);
    for (let j = 1; j < classes; j++) max = Mathf.max(max, load<f32>(logits + (<usize>j << 2)));
    let sum: f32 = 0;
    for (let j = 0; j < classes; j++) {
      const e = Mathf.exp(load<f32>(logits + (<usize>j << 2)) - max);
      store<f32>(grad + (<usize>j << 2), e);
      sum += e;
    }
    const label = load<i32>(labels);
    total += <f64>(Mathf.log(sum) + max - load<f32>(logits + (<usize>label << 2)));
    const toGrad = scale / sum;
    for (let j = 0; j < classes; j++) {
      const o = <usize>j << 2;
      store<f32>(grad + o, load<f32>(grad + o) * toGrad - (j == label ? scale : 0));
    }
    logits += rowBytes;
    grad += rowBytes;
    labels += 4;
  }
  return total / <f64>batch;
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
