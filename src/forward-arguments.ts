import { checkFloat32Array, checkSize, describe } from './errors.js';

/**
 * Checks the arguments of a layer's forward for rows of `inFeatures` in and
 * `outFeatures` out: `x` holds `batch` rows (batch defaults to x.length / inFeatures),
 * and `out`, if given, exactly batch rows of output. Returns the batch and the array
 * the output goes to (`out`, or a new one).
 */
export function forwardArguments(
  where: string, inFeatures: number, outFeatures: number, x: Float32Array, batch?: number, out?: Float32Array,
): { batch: number; y: Float32Array } {
  if (batch === undefined) {
    checkFloat32Array(where, 'x', x);
    if (x.length === 0 || x.length % inFeatures !== 0) {
      throw new RangeError(`${where}: x must hold whole rows of inFeatures = ${inFeatures} floats; got ${describe(x)}`);
    }
    batch = x.length / inFeatures;
  } else {
    checkSize(where, 'batch', batch);
    checkFloat32Array(where, 'x', x, batch * inFeatures, `batch·inFeatures = ${batch}·${inFeatures}`);
  }
  if (out === undefined) return { batch, y: new Float32Array(batch * outFeatures) };
  checkFloat32Array(where, 'out', out, batch * outFeatures, `batch·outFeatures = ${batch}·${outFeatures}`);
  return { batch, y: out };
}
