// TensorFlow.js 4.22 on its WebAssembly backend (XNNPACK), pinned to one thread so it is
// compared like for like with our single-threaded kernel.
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Peer } from './types.js';

type Tf = typeof tf;

const require = createRequire(import.meta.url);

/** File name of the .wasm binary the backend read, found once per process (the backend initialises once). */
let build: string | undefined;

/**
 * Sets up the wasm backend and returns which binary it loaded. tfjs picks the build itself from feature
 * flags and never reports it, so we watch the one file read it does: in Node, Emscripten reads the
 * binary with fs.readFileSync from the folder given to setWasmPaths.
 */
async function initBackend(): Promise<string> {
  if (build !== undefined) return build;
  // The package's main entry is dist/tf-backend-wasm.node.js, next to the .wasm files.
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  setThreadsCount(1);
  const fs = require('node:fs') as { readFileSync: (...args: unknown[]) => unknown };
  const readFileSync = fs.readFileSync;
  let loaded = 'unknown';
  fs.readFileSync = (...args: unknown[]) => {
    if (String(args[0]).endsWith('.wasm')) loaded = basename(String(args[0]));
    return readFileSync(...args);
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  } finally {
    fs.readFileSync = readFileSync;
  }
  await tf.ready();
  return (build = loaded);
}

/**
 * A Peer whose operand tensors are made once and kept until dispose(). Why two variants: the wasm backend
 * (batch_mat_mul_impl.cc) sends only untransposed products to XNNPACK, and those pack B once per tensor
 * and cache it, so repeated calls on one B skip the packing; any transpose flag takes a scalar blocked loop.
 */
function makePeer(name: string, pretranspose: boolean): Peer {
  const kept: tf.Tensor[] = [];
  const keep = (t: tf.Tensor): tf.Tensor => (kept.push(t), t);
  // The call returns C's values for checking; typed () => void since timing ignores them (see Peer).
  const product = (a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): (() => void) => () => {
    const c = tf.matMul(a, b, transA, transB);
    const values = c.dataSync(); // a copy out of the wasm heap, still valid after dispose
    c.dispose();
    return values;
  };
  return {
    name,
    matmul: (a, b, m, k, n) => product(keep(tf.tensor2d(a, [m, k])), keep(tf.tensor2d(b, [k, n])), false, false),
    matmulTransB(a, b, m, k, n) {
      const ta = keep(tf.tensor2d(a, [m, k])), tb = keep(tf.tensor2d(b, [n, k]));
      return pretranspose ? product(ta, keep(tf.transpose(tb)), false, false) : product(ta, tb, false, true);
    },
    matmulTransA(a, b, m, k, n) {
      const ta = keep(tf.tensor2d(a, [k, m])), tb = keep(tf.tensor2d(b, [k, n]));
      return pretranspose ? product(keep(tf.transpose(ta)), tb, false, false) : product(ta, tb, true, false);
    },
    dispose: () => tf.dispose(kept.splice(0)),
  };
}

/**
 * `transposed` uses matMul's own transpose flags; `pretransposed` feeds plain matMul an operand
 * transposed once beforehand, to show what the flags cost. `build` names the .wasm file loaded.
 */
export async function createTfjsWasm(): Promise<{ transposed: Peer; pretransposed: Peer; tf: Tf; build: string }> {
  const loaded = await initBackend();
  return {
    transposed: makePeer('tfjs-wasm', false),
    pretransposed: makePeer('tfjs-wasm (pre-transposed)', true),
    tf,
    build: loaded,
  };
}

/**
 * One forward + backward pass of a stack of dense layers (no activation), as our Linear layer does it:
 * Y = X·W + b, then dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σ dY, all three for every layer (the first layer's dX
 * included, as Linear.backward computes it). dY of the last layer is a fixed tensor standing in for the loss.
 * Returns the timed call; its `dispose` frees the tensors made once.
 */
export function tfjsTrainingStep(tfjs: Tf, batch: number, sizes: number[]): (() => void) & { dispose(): void } {
  const random = (shape: [number, number] | [number]) => tfjs.randomUniform(shape, -1, 1, 'float32');
  const x = random([batch, sizes[0]]);
  const weights = sizes.slice(1).map((out, i) => random([sizes[i], out]) as tf.Tensor2D);
  const biases = sizes.slice(1).map((out) => random([out]));
  const lossGradient = random([batch, sizes[sizes.length - 1]]) as tf.Tensor2D;
  const step = () => tfjs.tidy(() => {
    const activations: tf.Tensor2D[] = [x as tf.Tensor2D];
    weights.forEach((w, i) => activations.push(tfjs.add(tfjs.matMul(activations[i], w), biases[i])));
    let dy = lossGradient;
    for (let i = weights.length - 1; i >= 0; i--) {
      tfjs.matMul(activations[i], dy, true, false).dataSync(); // dW
      tfjs.sum(dy, 0).dataSync(); // db
      dy = tfjs.matMul(dy, weights[i], false, true); // dX, the next layer down's dY
    }
    dy.dataSync();
  });
  return Object.assign(step, { dispose: () => tfjs.dispose([x, ...weights, ...biases, lossGradient]) });
}
