// NaN and ±Infinity propagate as IEEE arithmetic says, to exactly the outputs that
// depend on them; and with beta = 0 the kernels never read the old output.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, matmul } from '../dist/index.js';
import { referenceMatmul } from '../dist/reference.js';
import { Runtime, defaultWasmUrl, compileKernels } from '../dist/internal.js';
import { initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Same NaN and infinite positions as the float64 reference, finite values within the bound. */
function expectIeee(got: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number, options = {}) {
  const want = referenceMatmul(a, b, m, k, n, options);
  const finiteA = a.map((v) => (Number.isFinite(v) ? v : 0)), finiteB = b.map((v) => (Number.isFinite(v) ? v : 0));
  const bound = productBound(finiteA, finiteB, m, k, n, options);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `[${i}]`).toBeNaN();
    else if (!Number.isFinite(want[i])) expect(got[i], `[${i}]`).toBe(want[i]);
    else expect(Math.abs(got[i] - want[i]), `[${i}]`).toBeLessThanOrEqual(bound[i]);
  }
}

test.each([
  [1, 40, 33], [7, 13, 9], [12, 300, 70], [3, 9, 1024],
])('NaN and ±Infinity in A or B reach only the outputs that use them: %i×%i×%i', (m, k, n) => {
  for (const options of [{}, { transposeA: true }, { transposeB: true }]) {
    const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
    a[0] = NaN;
    a[a.length - 1] = Infinity;
    b[Math.floor(b.length / 2)] = -Infinity;
    b[1 % b.length] = NaN;
    expectIeee(matmul(a, b, m, k, n, options), a, b, m, k, n, options);
  }
});

test('Infinity times zero is NaN, as IEEE says', () => {
  expect(matmul(new Float32Array([Infinity]), new Float32Array([0]), 1, 1, 1)[0]).toBeNaN();
  const big = new Float32Array(8).fill(3e38);
  expect(matmul(big, big, 1, 8, 1)[0]).toBe(Infinity); // overflow, not a wrap or a crash
});

test('a NaN weight poisons its own output column only', () => {
  const layer = new Linear(6, 5, { seed: 1 });
  layer.weight[2 * 5 + 3] = NaN; // row 2, column 3
  const y = layer.forward(randomArray(4 * 6, 3));
  for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) {
    expect(Number.isNaN(y[i * 5 + j]), `y[${i}][${j}]`).toBe(j === 3);
  }
  layer.dispose();
});

test('with beta = 0 the kernels never read C: an output full of NaN is overwritten cleanly', async () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = await compileKernels(defaultWasmUrl(initOptions.simd === 'relaxed' ? 'relaxed' : 'fixed'));
  const { instance } = { instance: await WebAssembly.instantiate(module, { env: { memory } }) };
  const rt = new Runtime(instance.exports as never, memory);
  for (const [m, k, n, transposeB] of [[1, 17, 33, false], [1, 17, 33, true], [7, 300, 29, false], [13, 5, 1024, false]] as const) {
    const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
    const pa = rt.heap.alloc(a.byteLength), pb = rt.heap.alloc(b.byteLength), pc = rt.heap.alloc(m * n * 4);
    rt.heap.f32(pa, a.length).set(a);
    rt.heap.f32(pb, b.length).set(b);
    rt.heap.f32(pc, m * n).fill(NaN);
    rt.gemm(m, n, k, pa, k, 1, pb, transposeB ? 1 : n, transposeB ? k : 1, pc, n, false);
    const c = rt.heap.f32(pc, m * n);
    expect(c.some(Number.isNaN), `${m}×${k}×${n}`).toBe(false);
  }
});
