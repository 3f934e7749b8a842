// `npm start`: builds a layer, runs forward and backward on random data, checks
// them against the float64 reference and prints the throughput.
import { init, Linear } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';

const [batch, din, dout] = [256, 1024, 1024];

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let error = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    error = Math.max(error, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return error / scale;
}

function timeIt(fn: () => void, repeats: number): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

await init();
const layer = new Linear(din, dout, { seed: 42 });
const x = Float32Array.from({ length: batch * din }, () => Math.random() * 2 - 1);
const dy = Float32Array.from({ length: batch * dout }, () => Math.random() * 2 - 1);
console.log(`simd-linear: Linear(${din} → ${dout}) on a batch of ${batch}`);

const y = layer.forward(x);
const dx = layer.backward(dy);
const want = referenceBackward(x, layer.weight, dy, batch, din, dout);
const errors = {
  Y: relativeError(y, referenceForward(x, layer.weight, layer.bias, batch, din, dout)),
  dX: relativeError(dx, want.dx),
  dW: relativeError(layer.weightGrad, want.dw),
  db: relativeError(layer.biasGrad!, want.db),
};
for (const [name, error] of Object.entries(errors)) {
  console.log(`  ${name.padEnd(2)} max error ${error.toExponential(1)} × max|reference|`);
}

const flops = 2 * batch * din * dout;
const yOut = new Float32Array(batch * dout), dxOut = new Float32Array(batch * din);
const forwardMs = timeIt(() => layer.forward(x, batch, yOut), 20);
const backwardMs = timeIt(() => layer.backward(dy, dxOut), 20);
console.log(`  forward  ${forwardMs.toFixed(2)} ms  ${(flops / forwardMs / 1e6).toFixed(1)} GFLOP/s`);
console.log(`  backward ${backwardMs.toFixed(2)} ms  ${((2 * flops) / backwardMs / 1e6).toFixed(1)} GFLOP/s (dX and dW)`);
layer.dispose();

const worst = Math.max(...Object.values(errors));
if (!(worst <= 1e-4)) {
  console.error(`FAILED: error ${worst} exceeds 1e-4 × max|reference|`);
  process.exit(1);
}
console.log('OK: forward and backward match the reference');
