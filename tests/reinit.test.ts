// init() after shutdown() starts the workers again on the same memory; init() with other
// options than the first call rejects, naming the option; backendInfo() is a copy.
import { expect, test, vi } from 'vitest';
import { initOptions, randomArray } from './support.js';

type Api = typeof import('../dist/index.js');

/** A fresh copy of the package (its own runtime), not initialised yet. */
async function freshApi(): Promise<{ api: Api; runtime: typeof import('../dist/internal.js').runtime }> {
  vi.resetModules();
  const api = (await import('../dist/index.js')) as Api;
  const { runtime } = await import('../dist/internal.js');
  return { api, runtime };
}

/** A product large enough to be shared with the workers, and its result on one thread. */
function sharedProduct(api: Api): { run: () => Float32Array; bits: Uint32Array } {
  const [m, k, n] = [256, 300, 512];
  const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
  const run = () => api.matmul(a, b, m, k, n);
  return { run, bits: new Uint32Array(run().buffer) };
}

test('shutdown() then init() starts the workers again; layers made before keep working, and nothing leaks', async () => {
  const { api, runtime } = await freshApi();
  const options = { ...initOptions, threads: 2 };
  await api.init(options);
  const layer = new api.Linear(300, 200, { seed: 3 });
  const x = randomArray(64 * 300, 4);
  const y = layer.forward(x);
  const product = sharedProduct(api);
  const live = api.memoryStats().liveBytes;
  for (let cycle = 0; cycle < 3; cycle++) {
    api.shutdown();
    expect(api.backendInfo().threads).toBe(1);
    expect(runtime('test').pool).toBeNull();
    await api.init(options);
    expect(api.backendInfo().threads, `cycle ${cycle}`).toBe(2);
    expect(runtime('test').pool, `cycle ${cycle}`).not.toBeNull();
    expect(new Uint32Array(product.run().buffer)).toEqual(product.bits);
    expect(new Uint32Array(layer.forward(x).buffer)).toEqual(new Uint32Array(y.buffer));
    expect(api.memoryStats().liveBytes, `cycle ${cycle}: the pool's blocks are reused`).toBe(live);
  }
  expect(api.init(options)).toBe(api.init(options)); // running: one promise, as before
  layer.dispose();
  api.shutdown();
});

test('shutdown() while the workers restart discards them; the next init() starts one pool that computes right', async () => {
  const { api, runtime } = await freshApi();
  const options = { ...initOptions, threads: 2 };
  await api.init(options);
  const product = sharedProduct(api);
  api.shutdown();
  const restarting = api.init(options);
  api.shutdown();
  await restarting;
  expect(runtime('test').pool).toBeNull();
  expect(api.backendInfo().threads).toBe(1);
  await api.init(options);
  expect(api.backendInfo().threads).toBe(2);
  for (let i = 0; i < 5; i++) expect(new Uint32Array(product.run().buffer)).toEqual(product.bits);
  api.shutdown();
});

test('a pool broken by a dead worker works again after shutdown() and init()', async () => {
  const { api, runtime } = await freshApi();
  const options = { ...initOptions, threads: 2 };
  await api.init(options);
  const layer = new api.Linear(512, 512, { seed: 5 });
  const x = randomArray(256 * 512, 6);
  const y = layer.forward(x);
  runtime('test').pool!.killForTesting(0);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the worker's exit event
  expect(() => layer.forward(x)).toThrow(/the thread pool is unusable: worker 1 exited .*call shutdown\(\) and init\(\) again/);
  api.shutdown();
  await api.init(options);
  expect(api.backendInfo().threads).toBe(2);
  expect(new Uint32Array(layer.forward(x).buffer)).toEqual(new Uint32Array(y.buffer));
  layer.dispose();
  api.shutdown();
});

test('init() with other options than the first call rejects, naming the option, what runs and what was asked', async () => {
  const { api } = await freshApi();
  const first = api.init({ ...initOptions, threads: 2 });
  // Checked against the first call even before it has finished.
  await expect(api.init({ ...initOptions, threads: 3 })).rejects.toThrow(
    'init: options.threads differs from the first init(): expected 2, got 3 (one runtime per page or process)',
  );
  await first;
  await expect(api.init({ ...initOptions })).rejects.toThrow('init: options.threads differs from the first init(): expected 2, got 1');
  const other = initOptions.simd === 'fixed' ? 'relaxed' : 'fixed';
  await expect(api.init({ simd: other, threads: 2 })).rejects.toThrow(
    `init: options.simd differs from the first init(): expected '${initOptions.simd}', got '${other}'`,
  );
  await expect(api.init({ ...initOptions, threads: 2, wasm: new URL('file:///elsewhere.wasm') })).rejects.toThrow(
    "init: options.wasm differs from the first init(): expected none, got 'file:///elsewhere.wasm'",
  );
  expect(api.backendInfo().threads).toBe(2); // nothing changed
  expect(api.init({ ...initOptions, threads: 2 })).toBe(first);
  api.shutdown();
});

test("'auto' is compared as written, not as resolved: the message says what it resolved to", async () => {
  const { api } = await freshApi();
  await api.init({ threads: 'auto' });
  const { simd, threads } = api.backendInfo();
  await expect(api.init({ threads: 'auto', simd })).rejects.toThrow(
    `init: options.simd differs from the first init(): expected 'auto' (running '${simd}'), got '${simd}'`,
  );
  await expect(api.init({ threads })).rejects.toThrow(
    `init: options.threads differs from the first init(): expected 'auto' (running ${threads}), got ${threads}`,
  );
  await api.init({ threads: 'auto', simd: 'auto' }); // the defaults, written out, are the same call
  api.shutdown();
});

test('the same wasm location, as a string or a URL, is the same option', async () => {
  const { api } = await freshApi();
  const simd = initOptions.simd === 'relaxed' ? 'relaxed' : 'fixed';
  const location = new URL(`../dist/simd-linear${simd === 'relaxed' ? '-relaxed' : ''}.wasm`, import.meta.url);
  const first = api.init({ simd, wasm: location });
  expect(api.init({ simd, wasm: location.href })).toBe(first);
  await first;
  await expect(api.init({ simd, wasm: new URL('./other.wasm', location) })).rejects.toThrow(/^init: options\.wasm differs/);
});

test('backendInfo() is a copy: changing it changes nothing', async () => {
  const { api } = await freshApi();
  await api.init(initOptions);
  const before = api.backendInfo();
  const info = api.backendInfo();
  info.threads = 8;
  info.simd = before.simd === 'fixed' ? 'relaxed' : 'fixed';
  info.tile.rows = 99;
  info.blocks.depth = 1;
  expect(api.backendInfo()).toEqual(before);
  expect(api.backendInfo()).not.toBe(api.backendInfo());
});

test('init({ worker }) runs the workers from a hosted copy of simd-linear/worker, as a URL or a relative string', async () => {
  const { api } = await freshApi();
  const hosted = new URL('../dist/worker.js', import.meta.url);
  const relative = new URL('../dist/worker.js', import.meta.url).pathname.replace(`${process.cwd()}/`, '');
  await api.init({ ...initOptions, threads: 2, worker: relative });
  expect(api.backendInfo().threads).toBe(2);
  const product = sharedProduct(api);
  expect(new Uint32Array(product.run().buffer)).toEqual(product.bits);
  expect(api.init({ ...initOptions, threads: 2, worker: relative })).toBe(api.init({ ...initOptions, threads: 2, worker: relative }));
  await expect(api.init({ ...initOptions, threads: 2, worker: hosted })).rejects.toThrow(/^init: options\.worker differs/);
  await expect(api.init({ ...initOptions, threads: 2 })).rejects.toThrow(
    `init: options.worker differs from the first init(): expected '${relative}', got none`,
  );
  api.shutdown();
});

test('a worker script that cannot start is named in the error, and init() may be called again', async () => {
  const { api } = await freshApi();
  const missing = new URL('./no-such-worker.js', import.meta.url);
  await expect(api.init({ ...initOptions, threads: 2, worker: missing })).rejects.toThrow(
    `simd-linear: worker 1 exited (`,
  );
  await expect(api.init({ ...initOptions, threads: 2, worker: missing })).rejects.toThrow(`its script: ${missing.href})`);
  await api.init({ ...initOptions, threads: 2 });
  expect(api.backendInfo().threads).toBe(2);
  api.shutdown();
});

test('a worker script that loads but never answers fails init() after the startup deadline, not never', async () => {
  const { api } = await freshApi();
  const { Pool } = await import('../dist/internal.js');
  const deadline = Pool.startupMs;
  Pool.startupMs = 300;
  try {
    const silent = new URL('./fixtures/silent-worker.mjs', import.meta.url);
    await expect(api.init({ ...initOptions, threads: 2, worker: silent })).rejects.toThrow(
      "simd-linear: worker 1 did not answer within 0.3 s of starting (is options.worker simd-linear's worker?)",
    );
  } finally {
    Pool.startupMs = deadline;
  }
  await api.init({ ...initOptions, threads: 2 });
  expect(api.backendInfo().threads).toBe(2);
  api.shutdown();
});

test('shutdown() while the first init({ threads }) starts its workers: they are stopped, and the next init() starts them', async () => {
  const { api } = await freshApi();
  const first = api.init({ ...initOptions, threads: 2 });
  api.shutdown();
  await first;
  expect(api.backendInfo().threads).toBe(1);
  await api.init({ ...initOptions, threads: 2 });
  expect(api.backendInfo().threads).toBe(2);
  api.shutdown();
});

test('init(), shutdown() and init() again, all before the workers have started: the last call wins, they run', async () => {
  const { api } = await freshApi();
  const first = api.init({ ...initOptions, threads: 2 });
  api.shutdown();
  await api.init({ ...initOptions, threads: 2 });
  await first;
  expect(api.backendInfo().threads).toBe(2);
  api.shutdown();
});

test('init({ worker }) that is neither a URL nor a string is a TypeError naming it', async () => {
  const { api } = await freshApi();
  await expect(api.init({ ...initOptions, threads: 2, worker: 42 as unknown as string })).rejects.toThrow(
    new TypeError('init: worker must be a URL or a string; got 42'),
  );
  await api.init(initOptions);
});
