// simd-linear/inline: the same API, with the kernels embedded in the JavaScript (as
// base64, compiled asynchronously), for bundlers and hosts that do not serve .wasm
// files next to the code.
import type { SimdLevel } from './loader.js';
import { initWith, type InitOptions } from './runtime.js';
import { fixed, relaxed } from './wasm-inline.js';

export * from './api.js';

/** As the default entry's `init`, with the kernels taken from this module unless options.wasm says. */
export function init(options: InitOptions = {}): Promise<void> {
  return initWith(options, { wasm: (simd: SimdLevel) => decodeBase64(simd === 'relaxed' ? relaxed : fixed) });
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
