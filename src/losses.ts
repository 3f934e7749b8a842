import { checkFloat32Array, checkSize, describe } from './errors.js';
import { alignUp } from './heap.js';
import { runtime } from './runtime.js';

/** A loss value and its gradient with respect to the predictions (a new array). */
export interface LossResult {
  loss: number;
  grad: Float32Array;
}

/**
 * Mean softmax cross-entropy of `logits` (batch×classes, row-major) against class
 * indices `labels` (batch of them), as PyTorch's nn.CrossEntropyLoss(): the loss is
 * averaged over the batch and `grad` = (softmax(logits) − one-hot) / batch. Each row
 * subtracts its maximum before exponentiating, so large logits do not overflow.
 */
export function softmaxCrossEntropy(
  logits: Float32Array, labels: Int32Array | Uint8Array, classes: number,
): LossResult {
  const where = 'softmaxCrossEntropy';
  const rt = runtime(where);
  checkFloat32Array(where, 'logits', logits);
  checkSize(where, 'classes', classes);
  if (logits.length === 0 || logits.length % classes !== 0) {
    throw new RangeError(`${where}: logits must hold whole rows of classes = ${classes}; got ${describe(logits)}`);
  }
  const batch = logits.length / classes;
  if (!(labels instanceof Int32Array || labels instanceof Uint8Array)) {
    throw new TypeError(`${where}: labels must be an Int32Array or Uint8Array of ${batch} class indices; got ${describe(labels)}`);
  }
  if (labels.length !== batch) {
    throw new RangeError(`${where}: labels must hold one class index per row of logits (${batch}); got ${describe(labels)}`);
  }
  for (let i = 0; i < batch; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) {
      throw new RangeError(`${where}: labels[${i}] must be a class index in [0, ${classes}); got ${labels[i]}`);
    }
  }

  const { heap, kernels } = rt;
  const bytes = alignUp(logits.byteLength);
  const start = heap.alloc(2 * bytes + batch * 4);
  try {
    heap.f32(start, logits.length).set(logits);
    new Int32Array(heap.memory.buffer, start + 2 * bytes, batch).set(labels);
    const loss = kernels.softmax_cross_entropy(start, start + 2 * bytes, batch, classes, start + bytes);
    return { loss, grad: heap.f32(start + bytes, logits.length).slice() };
  } finally {
    heap.release(start);
  }
}

/**
 * Mean squared error, as PyTorch's nn.MSELoss(): mean over every element of
 * (pred − target)², and grad = 2·(pred − target) / pred.length.
 */
export function mse(pred: Float32Array, target: Float32Array): LossResult {
  const where = 'mse';
  const rt = runtime(where);
  checkFloat32Array(where, 'pred', pred);
  if (pred.length === 0) throw new RangeError(`${where}: pred must not be empty; got ${describe(pred)}`);
  checkFloat32Array(where, 'target', target, pred.length, 'pred.length');

  const { heap, kernels } = rt;
  const bytes = alignUp(pred.byteLength);
  const start = heap.alloc(3 * bytes);
  try {
    heap.f32(start, pred.length).set(pred);
    heap.f32(start + bytes, target.length).set(target);
    const loss = kernels.mean_squared_error(start, start + bytes, pred.length, start + 2 * bytes);
    return { loss, grad: heap.f32(start + 2 * bytes, pred.length).slice() };
  } finally {
    heap.release(start);
  }
}
