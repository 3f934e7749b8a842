// The allocator alone, over memories of a chosen maximum: how it grows, and how it fails.
import { expect, test } from 'vitest';
import { Heap } from '../dist/internal.js';

const PAGE = 65536;

/** Allocates one page at a time until `pages` are in use; returns the sizes the memory went through. */
function fillPages(heap: Heap, pages: number): number[] {
  const sizes = [heap.memory.buffer.byteLength];
  for (let i = 0; i < pages; i++) {
    heap.alloc(PAGE);
    const now = heap.memory.buffer.byteLength;
    if (now !== sizes[sizes.length - 1]) sizes.push(now);
  }
  return sizes;
}

test('a memory without a declared maximum grows geometrically, by at least half its size', () => {
  const heap = new Heap(new WebAssembly.Memory({ initial: 1 }), 0);
  const sizes = fillPages(heap, 1000);
  expect(sizes.length).toBeLessThanOrEqual(20); // log1.5(1000) ≈ 17
  for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThanOrEqual(1.5 * sizes[i - 1]);
});

test('a declared maximum refuses the geometric grow: the heap falls back to what is needed, then fills it to the last page', () => {
  // The heap is not told the maximum: the engine's refusal is what it meets.
  const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 100 }), 0);
  const sizes = fillPages(heap, 100);
  expect(sizes[sizes.length - 1]).toBe(100 * PAGE);
  expect(sizes.length).toBeLessThan(30); // geometric up to 64 pages (7 steps), then page by page
  expect(() => heap.alloc(1)).toThrow(RangeError);
  expect(() => heap.alloc(1)).toThrow(/^simd-linear: cannot allocate 1 bytes: growing WebAssembly memory from 6553600 to 6553664 bytes failed/);
  expect(heap.liveBytes).toBe(100 * PAGE);
});

test('a maximum the heap is told of caps the geometric grow: no refused grow, and the memory ends exactly full', () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 100 });
  const heap = new Heap(memory, 0, 100);
  const grow = memory.grow.bind(memory);
  let refused = 0;
  memory.grow = (pages: number) => {
    try { return grow(pages); } catch (error) { refused++; throw error; }
  };
  const sizes = fillPages(heap, 100);
  expect(refused).toBe(0);
  expect(sizes[sizes.length - 1]).toBe(100 * PAGE);
  expect(sizes.length).toBeLessThanOrEqual(14); // log1.5(100) ≈ 11.4
});
