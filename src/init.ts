import type { SimdLevel } from './loader.js';
import type { WorkerFactory } from './pool.js';
import { describe } from './errors.js';
import { initWith, type InitOptions } from './startup.js';
import { Workers } from './workers.js';

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
    workers: { count: threadCount, workers: (runtime, size, module, script) => new Workers(runtime, size, module, startWorker, script) },
  });
}

/** More threads than any machine has cores is a slip (each worker takes memory of its own), not a request. */
const MAX_THREADS = 256;

/** How many threads to run for options.threads, and why fewer, if so (see ThreadSupport). */
function threadCount(threads: unknown): { count: number; note?: string } {
  if (threads !== 'auto' && !(Number.isSafeInteger(threads) && (threads as number) >= 1 && (threads as number) <= MAX_THREADS)) {
    const Kind = typeof threads === 'number' ? RangeError : TypeError;
    throw new Kind(`init: options.threads must be 'auto' or an integer from 1 to ${MAX_THREADS}; got ${describe(threads)}`);
  }
  const cores = threads === 'auto' ? hardwareThreads() : threads as number;
  if (cores === 1) return { count: 1 };
  const missing = sharedMemoryMissing();
  if (!missing) return { count: cores };
  if (threads === 'auto') return { count: 1, note: missing };
  throw new Error(`init: threads: ${threads} cannot start: ${missing}`);
}

function hardwareThreads(): number {
  const os = globalThis.process?.getBuiltinModule?.('node:os');
  return Math.max(1, os?.availableParallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1);
}

/** Why shared memory, which workers need, is missing here (a page not cross-origin isolated), or null. */
function sharedMemoryMissing(): string | null {
  return typeof SharedArrayBuffer !== 'function' || globalThis.crossOriginIsolated === false
    ? 'shared memory is unavailable: serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (COOP/COEP)'
    : null;
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

/**
 * A GEMM worker running `script` (init's options.worker), or by default the worker.js
 * beside this file: a worker_threads Worker in Node, a module Worker in browsers. The
 * default stays a literal `new Worker(new URL(...))`, the pattern bundlers recognise
 * and emit. Its exit reasons name the script, so that a worker that never loaded says
 * where it was looked for.
 */
const startWorker: WorkerFactory = (onMessage, onExit, script) => {
  const threads = globalThis.process?.getBuiltinModule?.('node:worker_threads');
  if (threads) {
    const url = script ?? new URL('./worker.js', import.meta.url);
    // None of the parent's options: an --eval script or --input-type would break the
    // worker, and engine flags (Node 20's relaxed SIMD) are process-wide anyway.
    const worker = new threads.Worker(url, { execArgv: [] });
    worker.on('message', onMessage);
    worker.on('error', (error: Error) => onExit(`${error.message}; its script: ${url.href}`));
    worker.on('exit', (code: number) => onExit(`exit code ${code}; its script: ${url.href}`));
    return worker;
  }
  const worker = script
    ? new Worker(script, { type: 'module' })
    : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const where = script?.href ?? bundledWorkerUrl();
  worker.onmessage = (event) => onMessage(event.data);
  // A script that fails to load (a 404, a wrong MIME type, a CSP) fires an error without a message.
  worker.onerror = (event) => onExit(`${event.message || 'it failed to load or to start'}; its script: ${where}`);
  return worker;
};

/**
 * Where the default worker was looked for, when the code runs as written or bundled by a
 * tool that keeps import.meta.url (Rollup, esbuild): worker.js beside it. Bundlers that
 * emit the worker themselves rename it, and some bake in a file: URL; those are named
 * as what they are.
 */
function bundledWorkerUrl(): string {
  const here = String(import.meta.url);
  return here.startsWith('file:') && typeof location === 'object'
    ? "the worker the bundler emitted for simd-linear's worker.js"
    : here.replace(/[^/?#]*([?#].*)?$/, 'worker.js');
}
