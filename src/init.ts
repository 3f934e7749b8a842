import type { SimdLevel } from './loader.js';
import { allocatePoolArea, Pool, type WorkerFactory } from './pool.js';
import { initWith, type InitOptions } from './startup.js';

/**
 * Compiles and instantiates the kernels: call once, before anything else, and await
 * it. Later calls with the same options (as written: 'auto' is not its resolved value)
 * return the same promise, or after shutdown() start the workers again; with other
 * options they reject, naming the option. The .wasm shipped beside this file is
 * found through import.meta.url (read from disk in Node, fetched in browsers), unless
 * `options.wasm` gives the kernels or their location. Rejects with a clear Error
 * where WebAssembly SIMD is missing or the .wasm cannot be loaded.
 */
export function init(options: InitOptions = {}): Promise<void> {
  return initWith(options, {
    wasm: defaultWasmUrl,
    workers: { spawn: startWorker, allocatePoolArea, startPool: (...args) => Pool.start(...args) },
  });
}

/**
 * The .wasm shipped beside this file for each build: literal URLs, the pattern Vite
 * and webpack recognise and copy. Kept out of the modules the /inline entry loads,
 * so that its bundles carry no .wasm files.
 */
export function defaultWasmUrl(simd: SimdLevel, threaded = false): URL {
  if (threaded) {
    return simd === 'relaxed'
      ? new URL('./simd-linear-relaxed-threads.wasm', import.meta.url)
      : new URL('./simd-linear-threads.wasm', import.meta.url);
  }
  return simd === 'relaxed'
    ? new URL('./simd-linear-relaxed.wasm', import.meta.url)
    : new URL('./simd-linear.wasm', import.meta.url);
}

/** A GEMM worker: a worker_threads Worker in Node, a module Worker in browsers. */
const startWorker: WorkerFactory = (onMessage, onExit) => {
  const threads = globalThis.process?.getBuiltinModule?.('node:worker_threads');
  if (threads) {
    // None of the parent's options: an --eval script or --input-type would break the
    // worker, and engine flags (Node 20's relaxed SIMD) are process-wide anyway.
    const worker = new threads.Worker(new URL('./worker.js', import.meta.url), { execArgv: [] });
    worker.on('message', onMessage);
    worker.on('error', (error: Error) => onExit(error.message));
    worker.on('exit', (code: number) => onExit(`exit code ${code}`));
    return worker;
  }
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => onMessage(event.data);
  worker.onerror = (event) => onExit(event.message || 'a worker error');
  return worker;
};
