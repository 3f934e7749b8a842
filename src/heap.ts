// The one place that allocates in the module's linear memory. The kernels never
// allocate: every buffer, scratch included, comes from here, so a memory shared by
// several instances (threads) still has a single owner.
import type { WasmMemory } from './globals.js';
import { bufferOf, byteOffsetOf, derive, lengthOf } from './arrays.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 65536 * PAGE;
/** Cache-line alignment: packed panels and SIMD rows never straddle more lines than they must. */
const ALIGN = 64;
/**
 * How much larger than now the memory grows, at least: each memory.grow costs
 * milliseconds (the engine commits the pages, and every view of the old buffer is
 * detached), so growing by each request alone made creating many layers several
 * times slower than allocating into memory already grown. Geometric growth makes
 * that cost O(log) steps; 1.5× leaves at most a third of the memory unused.
 */
const GROWTH_FACTOR = 1.5;

interface FreeBlock { start: number; size: number }

/**
 * A first-fit allocator with coalescing over a WebAssembly.Memory. Its bookkeeping
 * lives in JS, so the kernels' memory holds only data. Growing the memory detaches
 * every Float32Array made before: use `f32` (or a HeapArray) to get a current view.
 */
export class Heap {
  readonly memory: WasmMemory;
  /** Free blocks below `top`, sorted by address, never adjacent (adjacent ones merge). */
  readonly #free: FreeBlock[] = [];
  readonly #sizes = new Map<number, number>();
  /**
   * Starts of the arrays whose views the package hands out (parameters, gradients, ModuleArrays),
   * sorted, and their bytes: an operand inside one is read in place (see addressOf), never one
   * reaching past it (into a block's padding or the next array) or anything else (scratch).
   */
  readonly #handedOut: number[] = [];
  readonly #extents = new Map<number, number>();
  /**
   * Every buffer the memory has had: with threads (shared memory) a view of an older one is
   * not detached by growth, and still shows the memory it showed.
   */
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  /** End of the region handed out so far; memory above it is untouched. */
  #top: number;
  #live = 0;
  /** Frees the blocks of owners collected without releasing them (see Allocations). */
  readonly finalizer = new FinalizationRegistry<Set<number>>((blocks) => {
    for (const start of blocks) this.release(start);
  });

  /** Bytes the memory may grow to: 4 GiB, or less where it was declared with a smaller maximum. */
  readonly #maximumBytes: number;

  constructor(memory: WasmMemory, base: number, maximumPages = MAX_BYTES / PAGE) {
    this.memory = memory;
    this.#buffers.add(memory.buffer);
    this.#top = alignUp(base);
    this.#maximumBytes = Math.min(MAX_BYTES, maximumPages * PAGE);
  }

  /** Bytes currently allocated (after alignment). */
  get liveBytes(): number {
    return this.#live;
  }

  /** Reserves `bytes` (≥ 1) and returns the address of the block, 64-byte aligned. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    const start = this.#takeFree(size) ?? this.#takeTop(size, bytes);
    this.#sizes.set(start, size);
    this.#live += size;
    return start;
  }

  /** Marks `bytes` at `start`, in an allocated block, as an array whose views users are given (HeapArray). */
  handOut(start: number, bytes: number): void {
    this.#handedOut.splice(this.#handedOutBefore(start), 0, start);
    this.#extents.set(start, bytes);
  }

  /** Returns a block from `alloc` for reuse. */
  release(start: number): void {
    const size = this.#sizes.get(start);
    if (size === undefined) throw new Error(`Heap.release: ${start} is not an allocated block`);
    this.#sizes.delete(start);
    this.#live -= size;
    const first = this.#handedOutBefore(start);
    for (const array of this.#handedOut.splice(first, this.#handedOutBefore(start + size) - first)) this.#extents.delete(array);
    this.#insertFree(start, size);
  }

  /**
   * The address of `array` if it is a view of this memory lying inside one array the
   * package handed out: a kernel may then read it in place, as nothing the call
   * allocates can overlap it. Undefined for any other array (it must be copied in).
   */
  addressOf(array: Float32Array): number | undefined {
    if (!this.shows(array)) return undefined;
    const start = byteOffsetOf(array);
    const handed = this.#handedOut[this.#handedOutBefore(start + 1) - 1];
    if (handed === undefined || start + 4 * lengthOf(array) > handed + this.#extents.get(handed)!) return undefined;
    return start;
  }

  /** Whether `array` is a view of this memory, over its buffer now or (shared) an earlier one. */
  shows(array: Float32Array): boolean {
    const buffer = bufferOf(array);
    return buffer === this.memory.buffer || this.#buffers.has(buffer);
  }

  /** How many handed-out arrays start below `address` (binary search). */
  #handedOutBefore(address: number): number {
    let low = 0, high = this.#handedOut.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#handedOut[middle] < address) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** A view of `length` floats at `start` over the memory's current buffer. */
  f32(start: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, start, length);
  }

  #takeFree(size: number): number | undefined {
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i];
      if (block.size < size) continue;
      const start = block.start;
      if (block.size === size) this.#free.splice(i, 1);
      else { block.start += size; block.size -= size; }
      return start;
    }
    return undefined;
  }

  #takeTop(size: number, requested: number): number {
    // A free block that ends at the top is extended instead of left behind.
    const last = this.#free[this.#free.length - 1];
    const start = last && last.start + last.size === this.#top ? last.start : this.#top;
    const end = start + size;
    if (end > MAX_BYTES) {
      throw new RangeError(
        `simd-linear: cannot allocate ${requested} bytes: WebAssembly memory is limited to 4 GiB ` +
        `(${this.#live} bytes in use, ${MAX_BYTES - start} available at most)`,
      );
    }
    if (end > this.memory.buffer.byteLength) this.#growTo(end, requested);
    if (start !== this.#top) this.#free.pop();
    this.#top = end;
    return start;
  }

  /**
   * Grows the memory to hold `end` bytes: geometrically where the engine allows, else
   * by exactly what is needed (a refused large grow may still leave room for the request).
   */
  #growTo(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    const needed = Math.ceil((end - have) / PAGE);
    const ample = Math.ceil((Math.min(this.#maximumBytes, Math.max(end, have * GROWTH_FACTOR)) - have) / PAGE);
    if (!(ample > needed && this.#tryGrow(ample))) {
      try {
        this.memory.grow(needed);
      } catch (cause) {
        throw new RangeError(
          `simd-linear: cannot allocate ${requested} bytes: growing WebAssembly memory from ${have} ` +
          `to ${end} bytes failed (${(cause as Error).message})`,
        );
      }
    }
    this.#buffers.add(this.memory.buffer);
  }

  #tryGrow(pages: number): boolean {
    try {
      this.memory.grow(pages);
      return true;
    } catch {
      return false;
    }
  }

  #insertFree(start: number, size: number): void {
    let i = 0;
    while (i < this.#free.length && this.#free[i].start < start) i++;
    const before = this.#free[i - 1];
    const after = this.#free[i];
    if (before && before.start + before.size === start) {
      before.size += size;
      if (after && before.start + before.size === after.start) {
        before.size += after.size;
        this.#free.splice(i, 1);
      }
    } else if (after && start + size === after.start) {
      after.start = start;
      after.size += size;
    } else {
      this.#free.splice(i, 0, { start, size });
    }
  }
}

/** Rounds a byte count up to the heap's alignment. */
export function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/**
 * The blocks one object owns, released together by `releaseAll`, or by the heap's
 * finalizer if the owner is garbage-collected first: a forgotten `dispose()` does
 * not leak.
 */
export class Allocations {
  readonly #blocks = new Set<number>();
  readonly #heap: Heap;

  constructor(heap: Heap, owner: object) {
    this.#heap = heap;
    heap.finalizer.register(owner, this.#blocks, this);
  }

  alloc(bytes: number): number {
    const start = this.#heap.alloc(bytes);
    this.#blocks.add(start);
    return start;
  }

  /** Takes over a block already allocated from the heap, as if by alloc. */
  adopt(start: number): void {
    this.#blocks.add(start);
  }

  release(start: number): void {
    this.#blocks.delete(start);
    this.#heap.release(start);
  }

  releaseAll(): void {
    for (const start of this.#blocks) this.#heap.release(start);
    this.#blocks.clear();
    this.#heap.finalizer.unregister(this);
  }
}

/** A buffer of floats from an owner's allocations that grows (never shrinks) on demand. */
export class StagingBuffer {
  #start = 0;
  #capacity = 0;
  readonly #memory: Allocations;

  constructor(memory: Allocations) {
    this.#memory = memory;
  }

  /** The buffer's address, with room for at least `count` floats; earlier contents are not kept. */
  reserve(count: number): number {
    if (count > this.#capacity) {
      const start = this.#memory.alloc(count * 4);
      if (this.#capacity) this.#memory.release(this.#start);
      this.#start = start;
      this.#capacity = count;
    }
    return this.#start;
  }
}

/**
 * A Float32Array in the heap whose view survives memory growth: `view` is rebuilt
 * from the current buffer whenever the memory has grown since it was made.
 */
export class HeapArray {
  #cached: Float32Array;
  readonly #heap: Heap;
  /** What frees the floats when it is collected (a layer); every view handed out keeps it alive. */
  readonly #owner: object | undefined;

  /** owner: the layer or ModuleArray whose floats these are, which hands them out to users; none for the package's own. */
  constructor(heap: Heap, readonly start: number, readonly length: number, owner?: object) {
    this.#heap = heap;
    this.#owner = owner;
    if (owner) heap.handOut(start, 4 * length);
    this.#cached = this.#viewed();
  }

  get view(): Float32Array {
    if (this.#cached.buffer !== this.#heap.memory.buffer) this.#cached = this.#viewed();
    return this.#cached;
  }

  #viewed(): Float32Array {
    const view = this.#heap.f32(this.start, this.length);
    // A view kept after its layer is dropped must not see the block freed and given to another;
    // one kept after its layer's dispose() is refused by every call.
    if (this.#owner) derive(view, this.#owner);
    return view;
  }
}
