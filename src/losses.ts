import { copyInto, lengthOf, Operand, typedArrayKind } from './arrays.js';
import { checkFloat32Array, checkOptions, checkSize, describe, errorFor } from './errors.js';
import { alignUp } from './heap.js';
import { runtime } from './runtime.js';

/** A loss value and its gradient with respect to the predictions (a new array). */
export interface LossResult {
  loss: number;
  grad: Float32Array;
}

/** Options of `softmaxCrossEntropy`, as torch.nn.CrossEntropyLoss names them. */
export interface CrossEntropyOptions {
  /** A weight per class (classes of them, finite): the loss of a row is scaled by its target's weight. */
  weight?: Float32Array;
  /** Rows whose label is this contribute nothing, to the loss or to the mean (default −100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·one-hot + ε/classes (default 0). */
  labelSmoothing?: number;
}

/**
 * Mean softmax cross-entropy of `logits` (batch×classes, row-major) against class
 * indices `labels` (batch of them), as PyTorch's nn.CrossEntropyLoss(weight,
 * ignore_index, label_smoothing) with the mean reduction: each row's loss is weighted
 * by its target class's weight, and the mean divides by the sum of the weights of the
 * rows kept (their count without weights); rows labelled `ignoreIndex` count for
 * nothing (their gradient is 0; if every row is ignored the loss is NaN); label
 * smoothing mixes in the cross-entropy against the uniform target, weighted by class.
 * `grad` is the gradient of the loss with respect to the logits. Each row subtracts its
 * maximum before exponentiating, so large logits do not overflow.
 */
export function softmaxCrossEntropy(
  logits: Float32Array, labels: Int32Array | Uint8Array, classes: number, options: CrossEntropyOptions = {},
): LossResult {
  const where = 'softmaxCrossEntropy';
  const rt = runtime(where);
  checkFloat32Array(where, 'logits', logits);
  checkSize(where, 'classes', classes);
  const count = lengthOf(logits);
  if (count % classes !== 0) {
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
  const { weight, ignoreIndex = -100, labelSmoothing = 0 } = checkOptions(where, options, 'weight, ignoreIndex, labelSmoothing'); // each read once
  if (!Number.isSafeInteger(ignoreIndex)) {
    throw new (errorFor(ignoreIndex))(`${where}: options.ignoreIndex must be an integer; got ${describe(ignoreIndex)}`);
  }
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new (errorFor(labelSmoothing))(`${where}: options.labelSmoothing must be a number in [0, 1]; got ${describe(labelSmoothing)}`);
  }
  let weights: Float32Array | null = null;
  if (weight !== undefined) {
    checkFloat32Array(where, 'options.weight', weight, classes, 'one per class');
    weights = new Float32Array(classes);
    copyInto(weights, weight);
    // Any finite weight, negative ones too, as PyTorch's (which checks none).
    const bad = weights.findIndex((w) => !Number.isFinite(w));
    if (bad >= 0) throw new RangeError(`${where}: options.weight[${bad}] must be a finite number; got ${describe(weights[bad])}`);
  }
  // Checked on a copy, so the indices the kernel reads are the ones checked.
  const indices = new Int32Array(batch);
  copyInto(indices, labels);
  for (let i = 0; i < batch; i++) {
    if (indices[i] !== ignoreIndex && !(indices[i] >= 0 && indices[i] < classes)) {
      throw new RangeError(`${where}: labels[${i}] must be a class index in [0, ${classes}) or ignoreIndex (${ignoreIndex}); got ${indices[i]}`);
    }
  }

  // No rows: the mean of nothing, as PyTorch's (NaN), and no gradient.
  if (batch === 0) return { loss: NaN, grad: new Float32Array(0) };
  const { heap, kernels } = rt;
  const input = new Operand(heap.memory, logits);
  const bytes = alignUp(count * 4), labelBytes = alignUp(batch * 4);
  const start = heap.alloc(2 * bytes + labelBytes + classes * 4);
  try {
    copyInto(heap.f32(start, count), input.current());
    copyInto(new Int32Array(heap.memory.buffer, start + 2 * bytes, batch), indices);
    const weightsAt = weights ? start + 2 * bytes + labelBytes : 0;
    if (weights) heap.f32(weightsAt, classes).set(weights);
    // An ignoreIndex outside int32 matches no label; −1, which no checked label is, says so to the kernel.
    const ignored = ignoreIndex >= -(2 ** 31) && ignoreIndex < 2 ** 31 ? ignoreIndex : -1;
    const loss = kernels.softmax_cross_entropy(start, start + 2 * bytes, batch, classes, start + bytes, weightsAt, ignored, labelSmoothing);
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
  checkFloat32Array(where, 'target', target, count, 'pred.length');
  if (count === 0) return { loss: NaN, grad: new Float32Array(0) }; // as softmaxCrossEntropy's

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
