// init({ wasm }) with each kind of source, each in a fresh module context.
import { readFile } from 'node:fs/promises';
import { beforeEach, expect, test, vi } from 'vitest';

const wasmUrl = new URL('../dist/simd-linear.wasm', import.meta.url);

beforeEach(() => {
  vi.resetModules();
});

async function freshInit(wasm: unknown): Promise<Float32Array> {
  const { init, matmul } = await import('../dist/index.js');
  await init({ wasm: wasm as URL });
  return matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1);
}

test.each([
  ['a URL', () => wasmUrl],
  ['a path string', () => wasmUrl.pathname],
  ['bytes', () => readFile(wasmUrl)],
  ['an ArrayBuffer', async () => (await readFile(wasmUrl)).buffer],
  ['a WebAssembly.Module', async () => WebAssembly.compile(await readFile(wasmUrl))],
  ['a Response with the wasm MIME type', async () => new Response(await readFile(wasmUrl), { headers: { 'Content-Type': 'application/wasm' } })],
  ['a Response with the wrong MIME type', async () => new Response(await readFile(wasmUrl), { headers: { 'Content-Type': 'application/octet-stream' } })],
])('init({ wasm: %s })', async (_, source) => {
  expect(await freshInit(await source())).toEqual(new Float32Array([11]));
});

test('an HTTP error names the URL and status', async () => {
  const response = new Response('not found', { status: 404, statusText: 'Not Found' });
  Object.defineProperty(response, 'url', { value: 'https://example.test/simd-linear.wasm' });
  await expect(freshInit(response)).rejects.toThrow(
    'fetching the kernels from https://example.test/simd-linear.wasm failed: HTTP 404 Not Found',
  );
});

test('an HTML page where the wasm should be is named as such', async () => {
  const response = new Response('<!doctype html><html>', { headers: { 'Content-Type': 'text/html' } });
  await expect(freshInit(response)).rejects.toThrow(/is not a WebAssembly module \(it starts with "<!doctype html><html>"; a server or bundler may be answering with an HTML page/);
});
