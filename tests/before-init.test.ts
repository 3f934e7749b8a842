// Runs in a fresh module context: nothing is initialised yet.
import { expect, test } from 'vitest';
import { backendInfo, init, Linear, matmul, memoryStats } from '../dist/index.js';

test('every entry point asks for init() before it', () => {
  const uses: [string, () => unknown][] = [
    ['new Linear', () => new Linear(2, 2)],
    ['matmul', () => matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1)],
    ['backendInfo', () => backendInfo()],
    ['memoryStats', () => memoryStats()],
  ];
  for (const [where, use] of uses) expect(use, where).toThrow(`${where}: simd-linear is not initialised: call \`await init()\` first`);
});

test('options that are not an object are refused by name, changing nothing', async () => {
  for (const [bad, shown] of [['relaxed', 'the string "relaxed"'], [null, 'null'], [2, '2']] as const) {
    await expect(init(bad as never)).rejects.toThrow(`init: options must be an object ({ simd, threads, wasm, worker }); got ${shown}`);
  }
  expect(() => backendInfo()).toThrow(/not initialised/);
});

test('a bad wasm source rejects clearly, and init can then succeed', async () => {
  await expect(init({ wasm: new Uint8Array([60, 104, 116, 109, 108, 62]) })).rejects.toThrow(
    /the bytes given is not a WebAssembly module \(it starts with "<html>"/,
  );
  await expect(init({ wasm: new URL('file:///nonexistent/simd-linear.wasm') })).rejects.toThrow(
    /cannot read the kernels at file:\/\/\/nonexistent\/simd-linear.wasm/,
  );
  await expect(init({ wasm: 42 as unknown as URL })).rejects.toThrow(/init: wasm must be a WebAssembly.Module/);
  await expect(init({ simd: 'fast' as 'fixed' })).rejects.toThrow(`init: simd must be 'auto', 'fixed' or 'relaxed'; got the string "fast"`);
  // A module from another build: it exports ABI_VERSION = 99 and nothing else.
  const name = [...'ABI_VERSION'].map((c) => c.charCodeAt(0));
  const otherBuild = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0xe3, 0x00, 0x0b, // global i32 = 99
    0x07, 0x0f, 0x01, 0x0b, ...name, 0x03, 0x00, // export it as ABI_VERSION
  ]);
  await expect(init({ wasm: otherBuild })).rejects.toThrow(/the .wasm speaks ABI version 99 but this JavaScript expects \d+/);
  const first = init();
  expect(init()).toBe(first); // idempotent: one instance, one promise
  await first;
  expect(matmul(new Float32Array([2]), new Float32Array([3]), 1, 1, 1)).toEqual(new Float32Array([6]));
});
