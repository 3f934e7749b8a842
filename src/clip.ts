import { describe, errorFor } from './errors.js';
import { eachChecked, parameterAddresses, parameterList, parameterTensor, type Parameter } from './layer.js';
import { runtime } from './runtime.js';

/**
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm, normType)`: the p-norm of all the
 * gradients taken together (normType 2 by default, any p > 0, or Infinity / 'inf' for the
 * largest |g|); when maxNorm / (norm + 1e-6) < 1, every gradient is scaled by it, in
 * place. Returns the norm before clipping. `params`: a list of parameters or a model.
 * A gradient left incomplete by a failed backward is refused, as the optimizers do.
 */
export function clipGradNorm(params: Parameter[] | { parameters(): Parameter[] }, maxNorm: number, normType: number | 'inf' = 2): number {
  const where = 'clipGradNorm';
  const rt = runtime(where);
  const list = parameterList(where, params);
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) {
    throw new (errorFor(maxNorm))(`${where}: maxNorm must be a number ≥ 0; got ${describe(maxNorm)}`);
  }
  const p = normType === 'inf' ? Infinity : normType;
  if (typeof p !== 'number' || !(p > 0)) {
    throw new (errorFor(p))(`${where}: normType must be a number > 0, Infinity or 'inf'; got ${describe(normType)}`);
  }
  // Each tensor once (two handles on one tensor would count and scale it twice); every address checked before any write.
  const addresses = eachChecked(where, list, parameterAddresses);
  const seen = new Set<unknown>();
  const tensors = list.map((p, i) => ({ tensor: parameterTensor(p), grad: addresses[i].grad, count: p.length }))
    .filter(({ tensor }) => !seen.has(tensor) && seen.add(tensor));
  let total = 0;
  for (const { grad, count } of tensors) {
    if (p === 2) total += rt.kernels.sum_of_squares(grad, count);
    else for (const g of rt.heap.f32(grad, count)) total = p === Infinity ? Math.max(total, Math.abs(g)) : total + Math.abs(g) ** p;
  }
  const norm = Math.fround(p === Infinity ? total : total ** (1 / p));
  const coefficient = Math.fround(maxNorm / (norm + 1e-6));
  // As PyTorch: a NaN norm makes every gradient NaN, an infinite one scales them by 0.
  if (!(coefficient >= 1)) for (const { grad, count } of tensors) rt.kernels.scale(grad, count, coefficient);
  return norm;
}
