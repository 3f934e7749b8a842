import { defaultWasmUrl } from './loader.js';
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
