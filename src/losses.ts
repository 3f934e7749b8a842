import { copyInto, lengthOf, Operand, typedArrayKind } from './arrays.js';
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
  const count = lengthOf(logits);
  if (count === 0 || count % classes !== 0) {
    throw new RangeError(`${where}: logits must hold whole rows of classes = ${classes}; got ${describe(logits)}`);
  }
  const batch = count / classes;
  const kind = typedArrayKind(labels);
  if (kind !== 'Int32Array' && kind !== 'Uint8Array') {
    throw new TypeError(`${where}: labels must be an Int32Array or Uint8Array of ${batch} class indices; got ${describe(labels)}`);
  }
  if (lengthOf(labels) !== batch) {
    throw new RangeError(`${where}: labels must hold one class index per row of logits (${batch}); got ${describe(labels)}`);
  }
  // Checked on a copy, so the indices the kernel reads are the ones checked.
  const indices = new Int32Array(batch);
  copyInto(indices, labels);
  for (let i = 0; i < batch; i++) {
    if (!(indices[i] >= 0 && indices[i] < classes)) {
      throw new RangeError(`${where}: labels[${i}] must be a class index in [0, ${classes}); got ${indices[i]}`);
    }
  }

  const { heap, kernels } = rt;
  const input = new Operand(heap.memory, logits);
  const bytes = alignUp(count * 4);
  const start = heap.alloc(2 * bytes + batch * 4);
  try {
    copyInto(heap.f32(start, count), input.current());
    copyInto(new Int32Array(heap.memory.buffer, start + 2 * bytes, batch), indices);
    const loss = kernels.softmax_cross_entropy(start, start + 2 * bytes, batch, classes, start + bytes);
    return { loss, grad: heap.f32(start + bytes, count).slice() };
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
  const count = lengthOf(pred);
  if (count === 0) throw new RangeError(`${where}: pred must not be empty; got ${describe(pred)}`);
  checkFloat32Array(where, 'target', target, count, 'pred.length');

  const { heap, kernels } = rt;
  const predicted = new Operand(heap.memory, pred);
  const wanted = new Operand(heap.memory, target);
  const bytes = alignUp(count * 4);
  const start = heap.alloc(3 * bytes);
  try {
    copyInto(heap.f32(start, count), predicted.current());
    copyInto(heap.f32(start + bytes, count), wanted.current());
    const loss = kernels.mean_squared_error(start, start + bytes, count, start + 2 * bytes);
    return { loss, grad: heap.f32(start + 2 * bytes, count).slice() };
  } finally {
    heap.release(start);
  }
}
