// simd-linear/inline: the same API, with the kernels embedded in the JavaScript (as
// hex, compiled asynchronously), for bundlers and hosts that do not serve .wasm files
// next to the code.
import type { SimdLevel } from './loader.js';
import { initWith, type InitOptions } from './startup.js';
import { fixed, relaxed } from './wasm-inline.js';

export * from './api.js';

/** As the default entry's `init`, with the kernels taken from this module unless options.wasm says. */
export function init(options: InitOptions = {}): Promise<void> {
  return initWith(options, { wasm: (simd: SimdLevel) => decodeHex(simd === 'relaxed' ? relaxed : fixed) });
}

/** Lowercase hex to bytes, by character codes: a slice and a parseInt per byte took 6–9 ms of a cold start. */
function decodeHex(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length >> 1);
  const digit = (at: number) => {
    const code = text.charCodeAt(at);
    return code < 97 ? code - 48 : code - 87; // '0'–'9', 'a'–'f'
  };
  for (let i = 0; i < bytes.length; i++) bytes[i] = (digit(2 * i) << 4) | digit(2 * i + 1);
  return bytes;
}
