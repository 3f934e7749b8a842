// Typed arrays as the engine sees them, not as they describe themselves. A subclass or
// a Proxy can override `length`, `byteLength` or `buffer`; a size computed from those
// would let a copy run past a staging block into another layer's memory. Every size,
// buffer and copy here goes through %TypedArray%.prototype's own accessors, which read
// the array's internal slots (and throw, or answer undefined, for anything else).

const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;

function intrinsicGetter(key: string | symbol): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get as (this: unknown) => unknown;
}

const tagGetter = intrinsicGetter(Symbol.toStringTag);
const lengthGetter = intrinsicGetter('length');
const bufferGetter = intrinsicGetter('buffer');
const byteOffsetGetter = intrinsicGetter('byteOffset');
const intrinsicSet = (TypedArrayPrototype as { set: (this: unknown, source: unknown, offset?: number) => void }).set;
const detachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get;

/** Any typed array of this realm or another: what the intrinsic accessors accept. */
export type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The constructor name of a real typed array ('Float32Array', …), from any realm; undefined for anything else. */
export function typedArrayKind(value: unknown): string | undefined {
  return Reflect.apply(tagGetter, value, []) as string | undefined;
}

/** The element count of a real typed array (0 once its buffer is detached). */
export function lengthOf(array: TypedArray): number {
  return Reflect.apply(lengthGetter, array, []) as number;
}

/** Whether a real typed array's buffer was detached (transferred, or left behind by memory growth). */
export function isDetached(array: TypedArray): boolean {
  if (lengthOf(array) !== 0) return false;
  const buffer = Reflect.apply(bufferGetter, array, []) as ArrayBuffer;
  if (detachedGetter) return Object.prototype.toString.call(buffer) === '[object ArrayBuffer]' && (Reflect.apply(detachedGetter, buffer, []) as boolean);
  // Engines without ArrayBuffer.prototype.detached (Node 20): slicing a detached buffer throws, an empty one does not.
  if (Object.prototype.toString.call(buffer) !== '[object ArrayBuffer]') return false;
  try {
    Reflect.apply(ArrayBuffer.prototype.slice, buffer, [0, 0]);
    return false;
  } catch {
    return true;
  }
}

/** dst.set(src) by the intrinsic, so an overridden `set` is never called. */
export function copyInto(dst: TypedArray, src: TypedArray): void {
  Reflect.apply(intrinsicSet, dst, [src]);
}

/**
 * An array whose contents stay reachable while the module's memory grows. A view of
 * that memory (a layer's weight, say) is detached by growth; it is remembered by
 * address and viewed afresh from the current buffer each time `current()` is called.
 * Any other array is kept as it is.
 */
export class Operand<T extends TypedArray> {
  readonly #array: T;
  readonly #memory: WebAssembly.Memory;
  readonly #offset: number;
  readonly #length: number;
  readonly #inMemory: boolean;

  constructor(memory: WebAssembly.Memory, array: T) {
    this.#array = array;
    this.#memory = memory;
    this.#offset = Reflect.apply(byteOffsetGetter, array, []) as number;
    this.#length = lengthOf(array);
    this.#inMemory = Reflect.apply(bufferGetter, array, []) === memory.buffer;
  }

  /** The elements, viewed over the memory's buffer as it is now. */
  current(): T {
    if (!this.#inMemory) return this.#array;
    const Kind = VIEW_CONSTRUCTORS[typedArrayKind(this.#array) as keyof typeof VIEW_CONSTRUCTORS];
    return new Kind(this.#memory.buffer, this.#offset, this.#length) as T;
  }
}

const VIEW_CONSTRUCTORS = { Float32Array, Int32Array, Uint8Array };
