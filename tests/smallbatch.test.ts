// Small batches through the layers, as users meet them: every batch from 1 to 17 (the
// streaming kernels take up to 12 or 16 rows, the blocked product beyond), on widths
// around 4 KiB rows (1024 floats) and around the streaming kernels' minimum width, in
// place and frozen, with an activation, against the float64 reference; dW of up to 17
// samples (a small depth) too.
import { beforeAll, describe, test } from 'vitest';
import { GELU, init, Linear, ReLU } from '../dist/index.js';
import { referenceBackward, referenceForward } from '../dist/reference.js';
import { expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

const batches = Array.from({ length: 17 }, (_, i) => i + 1);
// [in, out]: rows of W 4 KiB apart and either side (forward), columns so (dX), a narrow
// output either side of the streaming minimum (16).
const widths = [[33, 1023], [33, 1024], [31, 1025], [1024, 29], [1025, 24], [70, 15], [70, 16], [70, 17]];

/** |y − reference| within the float32 bound of its products, with the bias as an extra term. */
function expectForward(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array, batch: number, din: number, dout: number, label: string) {
  const want = referenceForward(x, w, bias, batch, din, dout);
  expectWithin(y, want, productBound(x, w, batch, din, dout, {}, (_, j) => bias[j]), label);
}

describe.each(widths)('%i → %i', (din, dout) => {
  test('forward in place and frozen, every batch 1–17', () => {
    const layer = new Linear(din, dout, { seed: din + dout });
    const frozen = layer.freeze();
    const w = layer.weight.slice(), bias = layer.bias!.slice();
    for (const batch of batches) {
      const x = randomArray(batch * din, batch);
      expectForward(layer.forward(x, batch), x, w, bias, batch, din, dout, `forward, batch ${batch}`);
      expectForward(frozen.forward(x, batch), x, w, bias, batch, din, dout, `frozen, batch ${batch}`);
    }
    frozen.dispose();
    layer.dispose();
  });

  test('backward: dX, dW and db, every batch 1–17', () => {
    for (const batch of batches) {
      const layer = new Linear(din, dout, { seed: batch });
      const w = layer.weight.slice();
      const x = randomArray(batch * din, 2 * batch), dy = randomArray(batch * dout, 3 * batch);
      layer.forward(x, batch);
      const dx = layer.backward(dy);
      const want = referenceBackward(x, w, dy, batch, din, dout);
      expectWithin(dx, want.dx, productBound(dy, w, batch, dout, din, { transposeB: true }), `dX, batch ${batch}`);
      expectWithin(layer.weightGrad, want.dw, productBound(x, dy, din, batch, dout, { transposeA: true }), `dW, batch ${batch}`);
      expectWithin(layer.biasGrad!, want.db, productBound(new Float32Array(batch).fill(1), dy, 1, batch, dout), `db, batch ${batch}`);
      layer.dispose();
    }
  });
});

test('a fused activation at every small batch, in place and frozen: f applied to the plain product, bit for bit', () => {
  const [din, dout] = [257, 1024];
  for (const [activation, alone] of [['relu', new ReLU()], ['gelu', new GELU()]] as const) {
    const layer = new Linear(din, dout, { seed: 5, activation });
    const plain = new Linear(din, dout);
    plain.weight.set(layer.weight);
    plain.bias!.set(layer.bias!);
    const [frozen, plainFrozen] = [layer.freeze(), plain.freeze()];
    for (const batch of batches) {
      const x = randomArray(batch * din, 7 * batch);
      expectSameBits(layer.forward(x, batch), alone.forward(plain.forward(x, batch), batch), `${activation}, batch ${batch}`);
      expectSameBits(frozen.forward(x, batch), alone.forward(plainFrozen.forward(x, batch), batch), `${activation} frozen, batch ${batch}`);
    }
    [frozen, plainFrozen, plain, layer].forEach((l) => l.dispose());
  }
});

test('a row of a frozen batch has the bits it has alone: up to 12 rows, and 32 over a W of 2 MiB or more', () => {
  for (const [din, dout, batch] of [[300, 1000, 12], [1031, 520, 32]]) {
    const layer = new Linear(din, dout, { seed: 12 });
    const frozen = layer.freeze();
    const x = randomArray(batch * din, 13);
    const y = frozen.forward(x, batch).slice();
    for (let i = 0; i < batch; i++) {
      expectSameBits(frozen.forward(x.subarray(i * din, (i + 1) * din), 1), y.subarray(i * dout, (i + 1) * dout), `${din}→${dout}, row ${i} of ${batch}`);
    }
    frozen.dispose();
    layer.dispose();
  }
});

test('a row of a small batch has the bits it has alone (forward and dX in place)', () => {
  const [din, dout] = [300, 1000];
  const layer = new Linear(din, dout, { seed: 9 });
  const batch = 12;
  const x = randomArray(batch * din, 10), dy = randomArray(batch * dout, 11);
  const y = layer.forward(x, batch).slice();
  const dx = layer.backward(dy).slice();
  for (let i = 0; i < batch; i++) {
    expectSameBits(layer.forward(x.subarray(i * din, (i + 1) * din), 1), y.subarray(i * dout, (i + 1) * dout), `forward row ${i}`);
    expectSameBits(layer.backward(dy.subarray(i * dout, (i + 1) * dout)), dx.subarray(i * din, (i + 1) * din), `dX row ${i}`);
  }
  layer.dispose();
});
