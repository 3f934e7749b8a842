// Memory comes back: after dispose, after `using`, and after a forgotten layer is collected.
import { beforeAll, expect, test } from 'vitest';
import { allocate, init, Linear, LoRA, matmul, memoryStats, Sequential, Tanh } from '../dist/index.js';
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

test("a view taken before dispose() is refused by every call: its memory may be another layer's by now", () => {
  const ones = new Float32Array(256).fill(1);
  const freed = /shows memory that is freed or simd-linear's own, or runs past the live array it starts in/;
  const owner = new Linear(16, 16, { seed: 1 });
  const adapted = new LoRA(new Linear(16, 16, { seed: 2 }), { rank: 2 });
  const array = allocate(256);
  const stale = [owner.weight, owner.bias!, owner.weightGrad, owner.biasGrad!, adapted.loraA, adapted.loraBGrad, array.current];
  owner.dispose();
  adapted.dispose();
  array.dispose();
  // New owners of the memory those views show.
  const victims = [new Linear(16, 16, { seed: 3 }), new Linear(16, 16, { seed: 4 }), new Linear(16, 16, { seed: 5 })];
  const before = victims.map((v) => [v.weight.slice(), v.weightGrad.slice(), v.bias!.slice()]);
  for (const view of stale) {
    const n = view.length;
    expect(() => matmul(view, ones, 1, n, 1), `a = ${n} floats`).toThrow(freed);
    expect(() => matmul(ones.subarray(0, n), new Float32Array(1), n, 1, 1, { out: view })).toThrow(/options\.out shows memory that is freed or simd-linear's own/);
    expect(() => new Tanh().forward(view, 1)).toThrow(/x shows memory that is freed or simd-linear's own/);
  }
  victims.forEach((v, i) => {
    expect(v.weight).toEqual(before[i][0]);
    expect(v.weightGrad).toEqual(before[i][1]);
  });
  victims.forEach((v) => v.dispose());
});

test('a view taken before dispose() and kept across memory growth is refused too, whatever the growth did to it', () => {
  const owner = new Linear(64, 64, { seed: 1 });
  const stale = [owner.weight, owner.weightGrad, owner.bias!];
  owner.dispose();
  const grown = allocate(memoryStats().memoryBytes / 4 + 1); // more than the memory holds: it grows
  const victim = new Linear(64, 64, { seed: 2 });
  const before = [victim.weight.slice(), victim.weightGrad.slice()];
  const ones = new Float32Array(64 * 64).fill(1);
  for (const view of stale) {
    // Detached by the growth (0 floats) or not: refused either way, never read nor written.
    expect(() => matmul(view, ones, 1, view.length, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
    expect(() => matmul(ones.subarray(0, 1), ones.subarray(0, 64), 1, 1, 64, { out: view })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own/);
  }
  expect(victim.weight).toEqual(before[0]);
  expect(victim.weightGrad).toEqual(before[1]);
  victim.dispose();
  grown.dispose();
});

test('what a call returns for an out in module memory is out, or a view refused with it after dispose()', () => {
  const x = new Float32Array(64).fill(0.5);
  const layer = new Linear(8, 8, { seed: 1 });
  const other = new Linear(8, 8, { seed: 2, bias: false });
  expect(layer.forward(x, 8, other.weight)).toBe(other.weight);
  const array = allocate(64);
  const returned = [matmul(x, x, 8, 8, 8, { out: array }), layer.forward(x, 8, array), new Sequential([layer]).forward(x, 8, array)];
  other.dispose();
  array.dispose();
  const victims = [new Linear(4, 8, { seed: 3, bias: false }), new Linear(4, 8, { seed: 4, bias: false })];
  const before = victims.map((v) => v.weight.slice());
  for (const view of returned) expect(() => layer.forward(x, 8, view)).toThrow(/out shows memory that is freed or simd-linear's own/);
  victims.forEach((v, i) => expect(v.weight).toEqual(before[i]));
  [layer, ...victims].forEach((l) => l.dispose());
});

test('loadStateDict refuses a view taken before dispose(), or one of memory not handed out, as every call does', () => {
  const first = new Linear(16, 16, { bias: false, seed: 6 });
  const model = new Sequential([first]);
  const owner = new Linear(16, 16, { seed: 7 });
  const stale = owner.weight;
  owner.dispose();
  const victim = new Linear(16, 16, { seed: 8 }); // may own the memory stale shows by now
  const before = first.weight.slice();
  for (const data of [stale, new Float32Array(stale.buffer, 0, 256)]) {
    expect(() => model.loadStateDict({ '0.weight': { shape: [16, 16], data } })).toThrow(/0\.weight.*\.data shows memory that is freed or simd-linear's own/);
  }
  expect(first.weight).toEqual(before);
  victim.dispose();
  model.dispose();
});

test("a view reaching past an array the package handed out is refused, though it stays inside that array's block", () => {
  const x = allocate(3);
  x.set([1, 2, 3]);
  const layer = new Linear(4, 1, { seed: 9 }); // W's 4 floats, padding, then dW's in the same block
  const ones = new Float32Array(16).fill(1);
  const inside = new Float32Array(x.buffer, x.byteOffset, 3);
  expect(matmul(inside, ones.subarray(0, 3), 1, 3, 1)[0]).toBe(6);
  expect(() => matmul(new Float32Array(x.buffer, x.byteOffset, 16), ones, 1, 16, 1)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
  const grad = layer.weightGrad.slice();
  const intoGrad = new Float32Array(layer.weight.buffer, layer.weight.byteOffset, 20);
  expect(() => matmul(new Float32Array(20), new Float32Array(1), 20, 1, 1, { out: intoGrad })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own/);
  expect(layer.weightGrad).toEqual(grad);
  x.dispose();
  layer.dispose();
});

test("views you make of memory that is free or the package's own are refused, however they were made", () => {
  const array = allocate(3 * 256);
  const parts = [array.subarray(0, 128).subarray(0, 64), array.current.subarray(64, 128), new Float32Array(array.buffer, array.byteOffset + 512, 64)];
  array.dispose();
  const ones = new Float32Array(64).fill(1);
  for (const view of parts) {
    expect(() => matmul(view, ones, 8, 8, 8)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
    expect(() => matmul(ones, ones, 8, 8, 8, { out: view })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own/);
  }
  // The whole memory, staging and scratch included.
  expect(() => new Tanh().forward(new Float32Array(parts[0].buffer), 1)).toThrow(/Tanh\.forward: x shows memory that is freed or simd-linear's own/);
});

test('a subclass that lies about its buffer or offset is checked for what it shows, not what it claims', () => {
  const live = new Linear(8, 8, { seed: 1 });
  const array = allocate(64);
  const { buffer, byteOffset } = array;
  array.dispose();
  class Liar extends Float32Array {
    get byteOffset() { return live.weight.byteOffset; } // claims the live layer's weight
    get buffer() { return live.weight.buffer as ArrayBuffer; }
  }
  const liar = new Liar(buffer, byteOffset, 64);
  const ones = new Float32Array(64).fill(1);
  expect(() => matmul(liar, ones, 8, 8, 8)).toThrow(/matmul: a shows memory that is freed or simd-linear's own/);
  expect(() => matmul(ones, ones, 8, 8, 8, { out: liar })).toThrow(/matmul: options\.out shows memory that is freed or simd-linear's own/);
  live.dispose();
});
