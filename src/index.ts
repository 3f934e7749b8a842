export { init, backendInfo, memoryStats, type InitOptions, type BackendInfo } from './runtime.js';
export type { SimdLevel, WasmSource } from './loader.js';
export { Linear, type LinearOptions } from './linear.js';
export { matmul, type MatmulOptions } from './matmul.js';
