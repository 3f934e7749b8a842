// Arrays in the module's memory, for operands that the kernels then read in place.
import { derive, isDetached, retire } from './arrays.js';
import { checkSize } from './errors.js';
import { Allocations, HeapArray, type Heap } from './heap.js';
import { runtime } from './runtime.js';

let constructing = false;

/**
 * A Float32Array in the module's memory, from `allocate`: `matmul` reads it in place,
 * with no copy. Its memory is freed by `dispose()` (or `using`), or when the array is
 * garbage-collected; do not use it, or views of it, after `dispose()`.
 *
 * Like a layer's `weight`, it is a view: once the module's memory grows (another
 * allocation, a new layer, a large call), this array is empty and `current` is a new
 * view of the same floats. `matmul` follows it by itself; code that reads or writes
 * the floats directly should take `current` after other calls.
 */
export class ModuleArray extends Float32Array {
  readonly #memory: Allocations;
  /** Its floats, viewed afresh after the memory grows. */
  readonly #values: HeapArray;
  #disposed = false;

  /** Arrays made from it (`map`, `slice`, `subarray`, …) are plain Float32Arrays. */
  static get [Symbol.species](): Float32ArrayConstructor {
    return Float32Array;
  }

  /** A view of part of it, which calls refuse, as they refuse the array, once it is disposed. */
  subarray(begin?: number, end?: number): Float32Array<ArrayBuffer> {
    const view = super.subarray(begin, end);
    derive(view, this);
    return view;
  }

  /** @internal Made by allocate(), which gives it the block at `start`. */
  constructor(heap: Heap, start: number, length: number) {
    if (!constructing) throw new TypeError('ModuleArray: made by allocate(length), not constructed');
    super(heap.memory.buffer, start, length);
    this.#memory = new Allocations(heap, this);
    this.#memory.adopt(start);
    this.#values = new HeapArray(heap, start, length, this);
  }

  /** The floats of this array as the module's memory holds them now (one view until the memory grows). */
  get current(): Float32Array {
    if (this.#disposed) throw new Error('ModuleArray.current: this array was disposed');
    return this.#values.view;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees the array's memory. Calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    retire(this);
    this.#memory.releaseAll();
  }

  /** `using x = allocate(n)` frees the array at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * @internal The current view of `value` if it is a live ModuleArray that growth detached, else `value` itself
   * (which checkFloat32Array refuses if disposed): a call given the array reads, writes and returns the array.
   */
  static follow(value: unknown): unknown {
    if (typeof value !== 'object' || value === null || !(#values in value) || value.#disposed || !isDetached(value)) return value;
    return value.current;
  }
}

/**
 * `length` floats of the module's memory, zero-filled, as a Float32Array that `matmul`
 * reads in place (no copy in, as for a layer's parameters). Free it with `dispose()`.
 */
export function allocate(length: number): ModuleArray {
  const where = 'allocate';
  const { heap } = runtime(where);
  checkSize(where, 'length', length);
  const start = heap.alloc(length * 4);
  constructing = true;
  try {
    const array = new ModuleArray(heap, start, length);
    array.fill(0);
    return array;
  } finally {
    constructing = false;
  }
}
