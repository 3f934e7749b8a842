import type { SimdLevel } from './loader.js';
import { initWith, type InitOptions } from './runtime.js';

/**
 * Compiles and instantiates the kernels: call once, before anything else, and await
 * it; later calls return the same promise. The .wasm shipped beside this file is
 * found through import.meta.url (read from disk in Node, fetched in browsers), unless
 * `options.wasm` gives the kernels or their location. Rejects with a clear Error
 * where WebAssembly SIMD is missing or the .wasm cannot be loaded.
 */
export function init(options: InitOptions = {}): Promise<void> {
  return initWith(options, defaultWasmUrl);
}

/**
 * The .wasm shipped beside this file for each build: literal URLs, the pattern Vite
 * and webpack recognise and copy. Kept out of the modules the /inline entry loads,
 * so that its bundles carry no .wasm files.
 */
export function defaultWasmUrl(simd: SimdLevel): URL {
  return simd === 'relaxed'
    ? new URL('./simd-linear-relaxed.wasm', import.meta.url)
    : new URL('./simd-linear.wasm', import.meta.url);
}
