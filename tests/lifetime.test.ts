// Memory comes back: after dispose, after `using`, and after a forgotten layer is collected.
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, matmul, memoryStats } from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Cycles of create → forward → backward → dispose; 10⁵ with SIMD_LINEAR_LONG=1. */
const cycles = process.env.SIMD_LINEAR_LONG ? 100_000 : 2_000;

test(`${cycles} create → forward → backward → dispose cycles keep memory flat`, () => {
  const cycle = (i: number) => {
    const batch = 1 + (i % 9);
    const layer = new Linear(16 + (i % 13), 8 + (i % 11), { seed: i, bias: i % 2 === 0 });
    layer.forward(randomArray(batch * layer.inFeatures, i));
    layer.backward(randomArray(batch * layer.outFeatures, i + 1));
    matmul(randomArray(3 * layer.inFeatures, i), layer.weight, 3, layer.inFeatures, layer.outFeatures);
    layer.dispose();
  };
  for (let i = 0; i < 200; i++) cycle(i);
  const warm = memoryStats();
  for (let i = 0; i < cycles; i++) cycle(i);
  expect(memoryStats()).toEqual(warm);
}, 600_000);

test('`using` disposes at the end of the block', () => {
  const before = memoryStats().liveBytes;
  {
    using layer = new Linear(100, 50);
    layer.forward(randomArray(100, 1));
    expect(memoryStats().liveBytes).toBeGreaterThan(before);
  }
  expect(memoryStats().liveBytes).toBe(before);
});

test('a layer collected without dispose() gives its memory back', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(gc, 'run with --expose-gc (vitest.config.ts)').toBeTypeOf('function');
  const before = memoryStats().liveBytes;
  (() => {
    for (let i = 0; i < 10; i++) new Linear(256, 256).forward(randomArray(256 * 4, i));
  })();
  expect(memoryStats().liveBytes).toBeGreaterThan(before);
  for (let attempt = 0; attempt < 50 && memoryStats().liveBytes > before; attempt++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(memoryStats().liveBytes).toBe(before);
});

test("a view of a layer's weights keeps the layer's memory while it is kept, and lets it go after", async () => {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const collect = async () => { for (let i = 0; i < 10; i++) { gc(); await new Promise((resolve) => setTimeout(resolve, 10)); } };
  const before = memoryStats().liveBytes;
  let kept: Float32Array | null = (() => new Linear(64, 32, { seed: 3 }).weight)(); // the layer itself dropped
  const values = kept.slice();
  await collect();
  // Its block is not freed, so a new allocation cannot take it and write into what the view shows.
  const others = Array.from({ length: 8 }, (_, i) => new Linear(64, 32, { seed: 10 + i }));
  expect(kept).toEqual(values);
  expect(matmul(new Float32Array(64).fill(1), kept, 1, 64, 32)).toEqual(matmul(new Float32Array(64).fill(1), values, 1, 64, 32));
  for (const other of others) other.dispose();
  kept = null;
  for (let attempt = 0; attempt < 50 && memoryStats().liveBytes > before; attempt++) await collect();
  expect(memoryStats().liveBytes).toBe(before);
});
