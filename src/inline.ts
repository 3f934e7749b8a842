// simd-linear/inline: the same API, with the kernels embedded in the JavaScript (both builds
// deflated together, in base64: scripts/embed-wasm.mjs), for bundlers and hosts that do not
// serve .wasm files next to the code.
import type { SimdLevel } from './loader.js';
import { initWith, type InitOptions } from './startup.js';
import { kernels, piece, sizes } from './wasm-inline.js';

export * from './api.js';

/** As the default entry's `init`, with the kernels taken from this module unless options.wasm says. */
export function init(options: InitOptions = {}): Promise<void> {
  return initWith(options, { wasm: async (simd: SimdLevel) => (await embeddedBuilds())[simd === 'relaxed' ? 1 : 0]! });
}

let builds: Promise<Uint8Array<ArrayBuffer>[]> | undefined;

/** The fixed and the relaxed build, inflated once. */
function embeddedBuilds(): Promise<Uint8Array<ArrayBuffer>[]> {
  builds ??= inflate(base64Bytes(kernels)).then(separate, (error: unknown) => {
    builds = undefined;
    throw error;
  });
  return builds;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * zlib's inflate: Node's own where there is one (synchronous; in Node the Response global would load its fetch,
 * about 30 ms), else DecompressionStream.
 */
async function inflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const zlib = globalThis.process?.getBuiltinModule?.('node:zlib');
  if (zlib) return zlib.inflateSync(bytes);
  if (typeof DecompressionStream !== 'function') {
    throw new Error(
      'simd-linear/inline: this runtime lacks DecompressionStream (Chrome 80, Firefox 113, Safari 16.4), ' +
      'which unpacks the embedded kernels: import simd-linear, which fetches the .wasm, instead',
    );
  }
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

/** The builds out of their interleaved pieces. */
function separate(joint: Uint8Array): Uint8Array<ArrayBuffer>[] {
  const out = sizes.map((size) => new Uint8Array(size));
  let from = 0;
  for (let at = 0; at < Math.max(...sizes); at += piece) {
    for (const build of out) {
      const length = Math.max(0, Math.min(piece, build.length - at));
      build.set(joint.subarray(from, from + length), at);
      from += length;
    }
  }
  return out;
}
