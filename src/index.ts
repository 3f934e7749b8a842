// simd-linear: the kernels load from the .wasm files shipped beside this module.
export * from './api.js';
export { init } from './init.js';
