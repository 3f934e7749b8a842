// The data of one shape, made once and handed to every contender, which copies it into
// its own form (wasm heap, tensors, matrices) outside the timed calls.
import type { Shape } from './shapes.js';

/** X (batch×d_in), W (d_in×d_out), b (d_out), dY (batch×d_out), row-major, values in ±1. */
export interface Operands { shape: Shape; x: Float32Array; w: Float32Array; bias: Float32Array; dy: Float32Array }

/** Uniform in ±1: dense data, no zeros a kernel could skip. */
export function random(length: number): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

export function makeOperands(shape: Shape): Operands {
  const { batch, inFeatures, outFeatures } = shape;
  return {
    shape,
    x: random(batch * inFeatures),
    w: random(inFeatures * outFeatures),
    bias: random(outFeatures),
    dy: random(batch * outFeatures),
  };
}
