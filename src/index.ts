/**
 * A neural-network Linear layer, the training pieces around it and a float32 `matmul`,
 * on a cache-blocked SIMD WebAssembly GEMM. The kernels load from the .wasm files
 * shipped beside this module; `simd-linear/inline` has the same API with them embedded.
 * Call {@link init} first.
 *
 * @module simd-linear
 */
export * from './api.js';
export { init } from './init.js';
