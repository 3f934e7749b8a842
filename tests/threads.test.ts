// Several threads over one shared memory: results bitwise identical to one thread,
// clear errors instead of hangs, fallbacks where shared memory is missing.
import { execFileSync } from 'node:child_process';
import { afterEach, expect, test, vi } from 'vitest';
import { initOptions, randomArray } from './support.js';

type Api = typeof import('../dist/index.js');

/** A fresh copy of the package (its own runtime), initialised with `threads`. */
async function fresh(threads: number | 'auto'): Promise<Api> {
  vi.resetModules();
  const api = (await import('../dist/index.js')) as Api;
  await api.init({ ...initOptions, threads });
  return api;
}

/** '' when both arrays hold the same bits, else where they first differ (cheaper than toEqual on 10⁶ elements). */
function bitsDiffer(got: Float32Array, want: Float32Array): string {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length), w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let differ = 0, firstAt = -1;
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i]) { differ++; if (firstAt < 0) firstAt = i; }
  return differ ? `${differ} of ${g.length} differ, the first at ${firstAt}: got ${got[firstAt]}, want ${want[firstAt]}` : '';
}

afterEach(() => {
  delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
});

/** Products and a training step large enough to be split, on shapes that do not divide evenly. */
function workload(api: Api): Float32Array[] {
  const out: Float32Array[] = [];
  // [13, 2000, 12]: a last row block of one row; [8, 2000, 20] (Aᵀ): column blocks around gemm's thin path.
  // Small batches: [3, 1024, 1030] and [12, 777, 2049] stream B in place (rows of B, or dot products with
  // transposeB), [1031, 5, 1024] with transposeA streams C (a small depth).
  const shapes = [[256, 300, 1024], [1, 1024, 1027], [97, 501, 203], [1500, 64, 3], [7, 300, 2049], [13, 2000, 12], [8, 2000, 20], [2000, 64, 10],
    [3, 1024, 1030], [12, 777, 2049], [16, 2048, 1000], [1031, 5, 1024]];
  for (const [m, k, n] of shapes) {
    for (const options of [{}, { transposeA: true }, { transposeB: true }]) {
      out.push(api.matmul(randomArray(m * k, m + k), randomArray(k * n, k + n), m, k, n, options));
    }
  }
  const layer = new api.Linear(333, 517, { seed: 1, activation: 'gelu' });
  out.push(layer.forward(randomArray(130 * 333, 2)), layer.backward(randomArray(130 * 517, 3)), layer.weightGrad.slice(), layer.biasGrad!.slice());
  // Packed W: batch 1 split by columns into panels, and the blocked product without packing B.
  const frozen = layer.freeze();
  out.push(frozen.forward(randomArray(333, 4)), frozen.forward(randomArray(130 * 333, 5)));
  const wideLayer = new api.Linear(1024, 1027, { seed: 6 });
  const wide = wideLayer.freeze();
  out.push(wide.forward(randomArray(1024, 7)), wide.forward(randomArray(3 * 1024, 8)), wide.forward(randomArray(12 * 1024, 9)));
  out.push(wide.forward(randomArray(17 * 1024, 13)), wide.forward(randomArray(32 * 1024, 14))); // panels streamed whole past 12 rows
  // Low-precision panels, split by columns the same way (int8's column scales with them).
  for (const weights of ['bf16', 'int8'] as const) {
    const low = wideLayer.freeze({ weights });
    out.push(low.forward(randomArray(1024, 10)), low.forward(randomArray(5 * 1024, 11)), low.forward(randomArray(130 * 1024, 12)));
    low.dispose();
  }
  wide.dispose();
  wideLayer.dispose();
  frozen.dispose();
  layer.dispose();
  return out;
}

test('1, 2 and 3 threads give bitwise identical results', async () => {
  const runs: Float32Array[][] = [];
  for (const threads of [1, 2, 3]) {
    const api = await fresh(threads);
    expect(api.backendInfo().threads).toBe(threads);
    runs.push(workload(api));
    api.shutdown();
  }
  for (const run of runs.slice(1)) {
    run.forEach((result, i) => expect(new Uint32Array(result.buffer), `result ${i}`).toEqual(new Uint32Array(runs[0][i].buffer)));
  }
}, 120_000);

test("a view over the shared memory's buffer from before a growth is the module's memory still: read inside a live layer, refused elsewhere", async () => {
  const api = await fresh(2);
  const layer = new api.Linear(16, 16, { seed: 1 });
  const other = new api.Linear(16, 16, { seed: 2 });
  const { buffer } = layer.weight; // a SharedArrayBuffer: growth does not detach its views
  const grown = api.allocate(api.memoryStats().memoryBytes / 4 + 1);
  expect(layer.weight.buffer).not.toBe(buffer);
  const old = (view: Float32Array, length = view.length) => new Float32Array(buffer, view.byteOffset, length);
  const x = randomArray(16, 3);
  const w = old(layer.weight);
  expect(api.matmul(x, w, 1, 16, 16)).toEqual(api.matmul(x, layer.weight, 1, 16, 16));
  // Past the layer's block, and the block once freed: as input and as out.
  const beyond = old(layer.weight, 2 * 16 * 16 + 64);
  expect(() => api.matmul(beyond, new Float32Array(1), beyond.length, 1, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
  const before = other.weight.slice();
  layer.dispose();
  expect(() => api.matmul(w, x, 16, 16, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
  expect(() => new api.Tanh().forward(x.subarray(0, 16), 1, w.subarray(0, 16))).toThrow(/Tanh\.forward: out shows memory that is freed or simd-linear's own/);
  expect(other.weight).toEqual(before);
  [other, grown].forEach((a) => a.dispose());
  api.shutdown();
});

test('a killed worker makes the next call throw, not hang; shutdown() then continues on one thread', async () => {
  const api = await fresh(2);
  const { runtime } = await import('../dist/internal.js');
  runtime('test').pool!.killForTesting(0);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the worker's exit event
  const a = randomArray(256 * 256, 1);
  expect(() => api.matmul(a, a, 256, 256, 256)).toThrow(/the thread pool is unusable: worker 1 exited .*call shutdown\(\)/);
  api.shutdown();
  expect(api.backendInfo().threads).toBe(1);
  expect(api.matmul(a, a, 256, 256, 256)).toHaveLength(256 * 256);
});

test("without cross-origin isolation, 'auto' falls back to one thread and says why; a count is an error naming COOP/COEP", async () => {
  (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated = false;
  const api = await fresh('auto');
  expect(api.backendInfo().threads).toBe(1);
  expect(api.backendInfo().threadsNote).toMatch(/Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
  vi.resetModules();
  const again = (await import('../dist/index.js')) as Api;
  await expect(again.init({ threads: 2 })).rejects.toThrow(/init: threads: 2 cannot start: shared memory is unavailable: .*COOP\/COEP/);
  for (const [bad, shown] of [[0, '0'], [257, '257'], [1e9, '1000000000'], [1.5, '1.5'], ['all', 'the string "all"']]) {
    await expect(again.init({ threads: bad as number })).rejects.toThrow(`init: options.threads must be 'auto' or an integer from 1 to 256; got ${shown}`);
  }
});

test('Node exits with workers running, with or without shutdown()', () => {
  const script = (stop: boolean) => `
    const { init, matmul, shutdown } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
    await init({ threads: 2 });
    matmul(new Float32Array(512 * 512), new Float32Array(512 * 512), 512, 512, 512);
    ${stop ? 'shutdown();' : ''}
    console.log('done');`;
  for (const stop of [true, false]) {
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script(stop)], { timeout: 20_000 }).toString().trim()).toBe('done');
  }
});

test("when this thread's share of a call throws, the workers' blocks are awaited: the next calls are right", async () => {
  const api = await fresh(2);
  const { runtime } = await import('../dist/internal.js');
  const pool = runtime('test').pool!;
  const side = 1024;
  const a = randomArray(side * side, 1), b = randomArray(side * side, 2), c = randomArray(side * side, 3);
  const want = [api.matmul(a, c, side, side, side), api.matmul(b, c, side, side, side)];
  // 2048×2048 by 2048×512: the worker's half (10⁹ multiply-adds) is still running when the share here fails at once.
  const big = randomArray(4 * side * side, 4);
  for (let attempt = 0; attempt < 3; attempt++) {
    pool.failMainShareForTesting(new Error('the main share failed'));
    expect(() => api.matmul(big, b, 2 * side, 2 * side, side / 2)).toThrow('the main share failed');
    expect(bitsDiffer(api.matmul(a, c, side, side, side), want[0]), `attempt ${attempt}: the call after`).toBe('');
    expect(bitsDiffer(api.matmul(b, c, side, side, side), want[1]), `attempt ${attempt}: the call after that`).toBe('');
  }
  api.shutdown();
}, 60_000);

test('a worker dead when Sequential.backward reaches it: the call throws, the gradients it began are marked, step() refuses until zeroGrad()', async () => {
  const api = await fresh(2);
  const { runtime } = await import('../dist/internal.js');
  // The last layer's products are too small to split; the first layer's dX is split, and meets the dead worker.
  const model = new api.Sequential([new api.Linear(256, 256, { seed: 1 }), new api.Linear(256, 4, { seed: 2 })]);
  const sgd = new api.SGD(model, { lr: 0.1 });
  const x = randomArray(16 * 256, 3), dy = randomArray(16 * 4, 4);
  model.forward(x);
  runtime('test').pool!.killForTesting(0);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the worker's exit event
  expect(() => model.backward(dy)).toThrow(/the thread pool is unusable: worker 1 exited/);
  const weights = model.parameters().map((p) => p.value.slice());
  expect(() => sgd.step()).toThrow(/SGD\.step: params\[0\]: the gradient of parameter weight is incomplete/);
  expect(model.parameters().map((p) => p.value.slice())).toEqual(weights);
  api.shutdown();
  model.zeroGrad();
  model.forward(x);
  model.backward(dy);
  sgd.step();
  expect(model.parameters()[0].value).not.toEqual(weights[0]);
  model.dispose();
});
