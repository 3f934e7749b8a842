// Typed arrays as the engine sees them, not as they describe themselves. A subclass or
// a Proxy can override `length`, `byteLength` or `buffer`; a size computed from those
// would let a copy run past a staging block into another layer's memory. Every size,
// buffer and copy here goes through %TypedArray%.prototype's own accessors, which read
// the array's internal slots (and throw, or answer undefined, for anything else).
import type { WasmMemory } from './globals.js';

const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;

function getter(prototype: object, key: string | symbol): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(prototype, key)!.get as (this: unknown) => unknown;
}

/** `read` applied to `value`, or undefined where the engine refuses it (not the kind of object `read` reads). */
function attempt(read: ((this: unknown) => unknown) | undefined, value: unknown): unknown {
  if (read === undefined || typeof value !== 'object' || value === null) return undefined;
  try {
    return read.call(value);
  } catch {
    return undefined;
  }
}

const tagGetter = getter(TypedArrayPrototype, Symbol.toStringTag);
const lengthGetter = getter(TypedArrayPrototype, 'length');
const bufferGetter = getter(TypedArrayPrototype, 'buffer');
const byteOffsetGetter = getter(TypedArrayPrototype, 'byteOffset');
const intrinsicSet = (TypedArrayPrototype as { set: (this: unknown, source: unknown, offset?: number) => void }).set;
const byteLengthGetter = getter(ArrayBuffer.prototype, 'byteLength');
const sharedByteLengthGetter = typeof SharedArrayBuffer === 'function' ? getter(SharedArrayBuffer.prototype, 'byteLength') : undefined;
const dataViewByteLengthGetter = getter(DataView.prototype, 'byteLength');
// ArrayBuffer.prototype.detached is newer than Node 20; without it, see isDetachedBuffer.
const detachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get;

/** Any typed array of this realm or another: what the intrinsic accessors accept. */
export type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The constructor name of a real typed array ('Float32Array', …), from any realm; undefined for anything else. */
export function typedArrayKind(value: unknown): string | undefined {
  return tagGetter.call(value) as string | undefined;
}

/** The element count of a real typed array (0 once its buffer is detached). */
export function lengthOf(array: TypedArray): number {
  return lengthGetter.call(array) as number;
}

export function bufferOf(array: TypedArray): ArrayBufferLike {
  return bufferGetter.call(array) as ArrayBufferLike;
}

export function byteOffsetOf(array: TypedArray): number {
  return byteOffsetGetter.call(array) as number;
}

/** The bit patterns of a Float32Array's elements (NaN payloads included), found through the engine's accessors. */
export function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(bufferOf(values), byteOffsetOf(values), lengthOf(values));
}

/** The byte length of a real ArrayBuffer (not shared); undefined for anything else. */
export function arrayBufferBytes(value: unknown): number | undefined {
  return attempt(byteLengthGetter, value) as number | undefined;
}

/** The byte length of a SharedArrayBuffer; undefined for anything else. */
export function sharedBufferBytes(value: unknown): number | undefined {
  return attempt(sharedByteLengthGetter, value) as number | undefined;
}

/** The byte length of a DataView; undefined for anything else. */
export function dataViewBytes(value: unknown): number | undefined {
  return attempt(dataViewByteLengthGetter, value) as number | undefined;
}

/** True for an ArrayBuffer transferred away (postMessage, structuredClone, transfer(), memory growth); false for a SharedArrayBuffer. */
export function isDetachedBuffer(buffer: unknown): boolean {
  const bytes = arrayBufferBytes(buffer);
  if (bytes === undefined) return false;
  if (detachedGetter) return detachedGetter.call(buffer) as boolean;
  if (bytes !== 0) return false;
  // An empty buffer is detached if no view can be made of it.
  try {
    new Uint8Array(buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/** Whether a real typed array's buffer was detached (transferred, or left behind by memory growth). */
export function isDetached(array: TypedArray): boolean {
  return lengthOf(array) === 0 && isDetachedBuffer(bufferOf(array));
}

/** What gave its memory back (a disposed layer or ModuleArray): it may hold another layer's floats by now. */
const retired = new WeakSet<object>();
/**
 * The views handed out of such an object's memory (a layer's weight, a ModuleArray's subarrays), each with
 * the object: retired with it, and keeping it alive while held (a WeakMap's values live as long as their keys).
 */
const parents = new WeakMap<object, object>();

export function retire(array: object): void {
  retired.add(array);
}

/** Records that `view` shows part of `parent`'s memory, so that it is retired with it. */
export function derive(view: object, parent: object): void {
  parents.set(view, parent);
}

export function isRetired(array: object): boolean {
  return retired.has(array) || retired.has(parents.get(array)!);
}

/** dst.set(src) by the intrinsic, so an overridden `set` is never called. */
export function copyInto(dst: TypedArray, src: TypedArray): void {
  intrinsicSet.call(dst, src);
}

/**
 * An array whose contents stay reachable while the module's memory grows. A view of
 * that memory (a layer's weight, say) is detached by growth; it is remembered by
 * address and viewed afresh from the current buffer each time `current()` is called.
 * Any other array is kept as it is.
 */
export class Operand<T extends TypedArray> {
  readonly #array: T;
  readonly #memory: WasmMemory;
  readonly #offset: number;
  readonly #length: number;
  readonly #inMemory: boolean;

  constructor(memory: WasmMemory, array: T) {
    this.#array = array;
    this.#memory = memory;
    this.#inMemory = bufferOf(array) === memory.buffer;
    this.#offset = this.#inMemory ? byteOffsetOf(array) : 0;
    this.#length = this.#inMemory ? lengthOf(array) : 0;
  }

  /**
   * The elements, viewed over the memory's buffer as it is now: the array itself until growth detached it
   * (growing a shared memory detaches nothing: a view of its old buffer still shows the same floats).
   */
  current(): T {
    const array = this.#array;
    if (!this.#inMemory || !isDetached(array)) return array;
    const Kind = VIEW_CONSTRUCTORS[typedArrayKind(array) as keyof typeof VIEW_CONSTRUCTORS];
    const view = new Kind(this.#memory.buffer, this.#offset, this.#length) as T;
    derive(view, parents.get(array) ?? array); // retired with what the array showed
    return view;
  }
}

const VIEW_CONSTRUCTORS = { Float32Array, Int32Array, Uint8Array };
