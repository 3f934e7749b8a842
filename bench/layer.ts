// simd-linear through its public API, as an application uses it: Linear.forward and
// Linear.backward (copies in and out of the wasm heap included), and a whole training step.
import { allocate, Linear, matmul } from '../dist/index.js';
import { random, type Operands } from './operands.js';
import type { Call } from './timing.js';

/**
 * forward: Y = X·W + b (one product); backward: dX, dW += Xᵀ·dY and db (two products);
 * frozenForward: forward of the layer's frozen copy (Linear.freeze(), W packed once);
 * matmulDx: dX = dY·Wᵀ through matmul, W in an array from allocate() (read in place).
 */
export function layerCalls({ shape, x, w, dy }: Operands): { forward: Call; backward: Call; frozenForward: Call; matmulDx: Call; dispose(): void } {
  const { batch, inFeatures, outFeatures } = shape;
  const layer = new Linear(inFeatures, outFeatures, { seed: 1 });
  const frozen = layer.freeze();
  const y = new Float32Array(batch * outFeatures), dx = new Float32Array(batch * inFeatures);
  layer.forward(x, batch, y); // backward differentiates the last forward: there must be one
  const resident = allocate(w.length);
  resident.set(w);
  return {
    forward: () => layer.forward(x, batch, y),
    // Gradients accumulate call after call, which is what backward does; they grow linearly, never overflow here.
    backward: () => layer.backward(dy, dx),
    frozenForward: () => frozen.forward(x, batch, y),
    matmulDx: () => matmul(dy, resident, batch, outFeatures, inFeatures, { transposeB: true, out: dx }),
    dispose: () => { resident.dispose(); frozen.dispose(); layer.dispose(); },
  };
}

/**
 * One training step of a stack of Linear layers (no activation, as tfjsTrainingStep): forward
 * through all, then backward through all from a fixed dC/dY, every dX included. 3 products per layer.
 */
export function trainingStep(sizes: readonly number[], batch: number): { call: Call; flops: number; dispose(): void } {
  const layers = sizes.slice(1).map((out, i) => new Linear(sizes[i], out, { seed: i }));
  const rows = (features: number) => random(batch * features);
  const activations = sizes.map(rows); // activations[i] feeds layers[i]; [0] is the input batch
  const gradients = sizes.map(rows); // gradients[i] = dC/d activations[i]; the last is the loss's
  const last = sizes.length - 1;
  const call = () => {
    layers.forEach((layer, i) => layer.forward(activations[i], batch, activations[i + 1]));
    for (let i = last - 1; i >= 0; i--) layers[i].backward(gradients[i + 1], gradients[i]);
  };
  const flops = layers.reduce((sum, l) => sum + 3 * 2 * batch * l.inFeatures * l.outFeatures, 0);
  return { call, flops, dispose: () => layers.forEach((l) => l.dispose()) };
}
