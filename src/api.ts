// Everything public but `init`, which each entry point (default, /inline) supplies.
export { backendInfo, memoryStats, type BackendInfo } from './runtime.js';
export { shutdown, type InitOptions } from './startup.js';
export type { SimdLevel, WasmSource } from './loader.js';
export type { FetchResponse, WasmModule, WebUrl } from './globals.js';
export { Linear, type LinearOptions, type TorchTensor } from './linear.js';
export { FrozenLinear, type FreezeOptions, type WeightsFormat } from './frozen-linear.js';
export { LoRA, type LoRAOptions } from './lora.js';
export { saveAdapters, loadAdapters, adapterConfig, type AdapterConfig } from './adapters.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { allocate, ModuleArray } from './allocate.js';
export { ReLU, LeakyReLU, GELU, Tanh, Sigmoid, SiLU, ELU, ReLU6, Softplus, type Activation, type ActivationLayer } from './activations.js';
export { Parameter, type Layer, type ModuleLayer } from './layer.js';
export { Sequential, type NamedParameter } from './sequential.js';
export { stateDict, loadStateDict, saveSafetensors, loadSafetensors, type StateDict } from './serialization.js';
export { softmaxCrossEntropy, mse, type LossResult, type CrossEntropyOptions } from './losses.js';
export { SGD, AdamW, type SGDOptions, type AdamWOptions, type ParameterList } from './optimizers.js';
export { clipGradNorm } from './clip.js';
export { Dropout } from './dropout.js';
