// What the tests and the bench reach below the public API: the runtime, its heap, the
// loader and the descriptor's writer. Not exported from package.json; bundled as an
// entry of its own so that it shares the one runtime with the public entry.
export { Runtime, runtime, pairedDepth, type Kernels } from './runtime.js';
export { Heap } from './heap.js';
export { compileKernels, hasRelaxedSimd, type SimdLevel } from './loader.js';
export { defaultWasmUrl } from './init.js';
export { PARALLEL_THRESHOLD, Pool } from './pool.js';
export { uniformGenerator } from './random.js';
export { GEMM_CALL_BYTES, WeightFormat, writeGemmCall, type GemmCall } from './abi.generated.js';
// The public API too, though the tests take it from the entries: with it, the modules both
// public entries load fall into one chunk (one file, one gzip dictionary, no import list
// between two halves of the same code), which makes each entry smaller.
export * from './api.js';
