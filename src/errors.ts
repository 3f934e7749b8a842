// Argument checks shared by the public entry points. Every message names where the
// check happened, the argument, what was expected and what was given.
import { arrayBufferBytes, dataViewBytes, isDetached, isDetachedBuffer, isRetired, lengthOf, sharedBufferBytes, typedArrayKind } from './arrays.js';
import { currentRuntime } from './runtime.js';

/** The longest description a message quotes: messages stay short whatever they are given. */
const DESCRIPTION_CHARS = 200;

/**
 * A short, human description of a value for error messages. Arrays and buffers are
 * described by what the engine says they hold (not by their own, overridable,
 * properties); an object that even inspecting throws on (a revoked Proxy) is named as such.
 */
export function describe(value: unknown): string {
  try {
    return clipped(describeUnsafely(value), DESCRIPTION_CHARS);
  } catch {
    return 'an object that cannot be inspected (a revoked Proxy?)';
  }
}

/** `text` cut to `max` characters, marked with … where cut. */
export const clipped = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function describeUnsafely(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  const kind = typedArrayKind(value);
  if (kind !== undefined) {
    const array = value as Float32Array;
    if (isDetached(array)) return `${article(kind)} ${kind} whose ArrayBuffer was detached (transferred away, or a view taken before the module's memory grew: take it again)`;
    return `${article(kind)} ${kind} of length ${lengthOf(array)}`;
  }
  const bytes = arrayBufferBytes(value);
  if (bytes !== undefined) return isDetachedBuffer(value) ? 'a detached ArrayBuffer' : `an ArrayBuffer of ${bytes} bytes`;
  const shared = sharedBufferBytes(value);
  if (shared !== undefined) return `a SharedArrayBuffer of ${shared} bytes`;
  const viewed = dataViewBytes(value);
  if (viewed !== undefined) return `a DataView of ${viewed} bytes`;
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

/** 'an' before a vowel sound: an Int32Array, an Array, a Uint8Array. */
function article(word: string): string {
  return /^[AEIO]/.test(word) ? 'an' : 'a';
}

/**
 * `options` if it is an object whose keys are all among `names` (as messages list them: 'lr, betas, eps'):
 * a misspelt or foreign key would otherwise be ignored and the call quietly do something else
 * (`{ transposeb: true }` multiplies by B, not Bᵀ; PyTorch's `weight_decay` leaves AdamW's at 0.01).
 */
export function checkOptions<T>(where: string, options: T, names: string): T {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object ({ ${names} }); got ${describe(options)}`);
  }
  let known: string[] | undefined; // split only when there is a key to look up: most calls pass none
  for (const key in options) {
    if (!(known ??= names.split(', ')).includes(key)) throw new TypeError(`${where}: options.${key} is not an option; expected ${names}`);
  }
  return options;
}

/** The error for a bad option: a RangeError for a number outside what it may be, a TypeError for anything else. */
export const errorFor = (value: unknown) => (typeof value === 'number' ? RangeError : TypeError);

/** Checks that `value` is a non-negative integer: a matrix dimension, which may be empty. */
export function checkDimension(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${where}: ${name} must be a non-negative integer; got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${where}: ${name} must be a non-negative integer; got ${describe(value)}`);
  }
}

/** Checks that `value` is a positive integer, the only valid size or count. */
export function checkSize(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${where}: ${name} must be a positive integer; got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${where}: ${name} must be a positive integer; got ${describe(value)}`);
  }
}

/**
 * A seed: an integer (a fraction, such as Math.random()'s, would be cut to the same seed
 * every time), of which the generator takes the low 32 bits.
 */
export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new (typeof seed === 'number' ? RangeError : TypeError)(`${where}: options.seed must be an integer; got ${describe(seed)}`);
  }
  return seed;
}

/**
 * True for real Float32Arrays, from this realm or another (a worker, an iframe, a vm
 * context), subclasses included; false for a Proxy or an object that only claims to be one.
 */
export function isFloat32Array(value: unknown): value is Float32Array {
  return typedArrayKind(value) === 'Float32Array';
}

/**
 * A view of the module's memory outside every block the package hands out (parameters,
 * ModuleArrays): memory freed since, or the package's own (staging, scratch), which a
 * call may write over while it reads the view.
 */
function isStray(value: unknown): boolean {
  const heap = currentRuntime()?.heap;
  return !!heap && isFloat32Array(value) && !isDetached(value) && heap.shows(value) && heap.addressOf(value) === undefined;
}

/**
 * Checks that `value` is a Float32Array and, when `length` is given, that it holds
 * exactly `length` elements; `formula` explains where that length comes from.
 */
export function checkFloat32Array(
  where: string, name: string, value: unknown, length?: number, formula?: string,
): asserts value is Float32Array {
  const expected = length === undefined ? 'a Float32Array' : `a Float32Array of length ${length}${formula ? ` (${formula})` : ''}`;
  if (isRetired(value as object) || isStray(value)) {
    throw new Error(`${where}: ${name} shows memory that is freed or simd-linear's own, or runs past the live array it starts in: it may hold other floats by now; got ${describe(value)}`);
  }
  if (!isFloat32Array(value) || isDetached(value)) {
    throw new TypeError(`${where}: ${name} must be ${expected}; got ${describe(value)}`);
  }
  if (length !== undefined && lengthOf(value) !== length) {
    throw new RangeError(`${where}: ${name} must be ${expected}; got ${describe(value)}`);
  }
}

/**
 * Checks the arguments of a layer's forward for rows of `inFeatures` in and
 * `outFeatures` out: `x` holds `batch` rows (batch defaults to x.length / inFeatures),
 * and `out`, if given, exactly batch rows of output. Returns the batch and the array
 * the output goes to (`out`, or a new one).
 */
export function forwardArguments(
  where: string, inFeatures: number, outFeatures: number, x: Float32Array, batch?: number, out?: Float32Array,
): { batch: number; y: Float32Array } {
  const rows = batchOf(where, x, inFeatures, batch);
  return { batch: rows, y: outputArray(where, 'out', out, rows * outFeatures, `batch·outFeatures = ${rows}·${outFeatures}`) };
}

/**
 * The batch of a forward on `x`: `batch` if given (x must then hold batch rows of
 * inFeatures, or a whole number of rows when the width is not known), else
 * x.length / inFeatures (1 when the width is not known).
 */
/**
 * Checks a layer's backward arguments for the batch of its last forward (0: none ran, or
 * it failed): dy of batch·outFeatures floats, and returns dX, `out` or a new array of
 * batch·inFeatures.
 */
export function backwardArguments(
  where: string, batch: number, inFeatures: number, outFeatures: number, dy: Float32Array, out?: Float32Array,
): Float32Array {
  if (batch === 0) throw new Error(`${where}: called before forward, or after a forward that failed; run forward(x) first`);
  checkFloat32Array(where, 'dy', dy, batch * outFeatures, `batch·outFeatures = ${batch}·${outFeatures}, from the last forward`);
  return outputArray(where, 'out', out, batch * inFeatures, `batch·inFeatures = ${batch}·${inFeatures}`);
}

/**
 * The arguments of an elementwise layer's forward (an activation, Dropout): `batch`
 * rows of equal width in x, which may be empty (no rows); y, `out` or a new array of x's length.
 */
export function elementwiseArguments(where: string, x: Float32Array, batch: number, out?: Float32Array): { count: number; y: Float32Array } {
  checkFloat32Array(where, 'x', x);
  checkDimension(where, 'batch', batch);
  const count = lengthOf(x);
  if (count !== 0 || batch > 1) {
    if (count === 0 || count % batch !== 0) throw new RangeError(`${where}: x must hold batch = ${batch} rows of equal width; got ${describe(x)}`);
  }
  return { count, y: outputArray(where, 'out', out, count, 'x.length') };
}

export function batchOf(where: string, x: Float32Array, inFeatures: number | undefined, batch?: number): number {
  checkFloat32Array(where, 'x', x);
  const length = lengthOf(x);
  if (batch === undefined) {
    if (inFeatures === undefined) return 1;
    // An empty x is a batch of 0 rows (as PyTorch's empty batches).
    if (length % inFeatures !== 0) {
      throw new RangeError(`${where}: x must hold whole rows of inFeatures = ${inFeatures} floats; got ${describe(x)}`);
    }
    return length / inFeatures;
  }
  checkDimension(where, 'batch', batch);
  if (inFeatures !== undefined) checkFloat32Array(where, 'x', x, batch * inFeatures, `batch·inFeatures = ${batch}·${inFeatures}`);
  else if (batch === 0 ? length !== 0 : length === 0 || length % batch !== 0) {
    throw new RangeError(`${where}: x must be a Float32Array of length a multiple of batch = ${batch} (non-zero unless batch is 0); got ${describe(x)}`);
  }
  return batch;
}

/**
 * The array a result goes to: `out` when it is given (anything but undefined, so
 * null is refused), checked to hold `length` floats; otherwise a new array.
 */
export function outputArray(where: string, name: string, out: unknown, length: number, formula: string): Float32Array {
  if (out === undefined) return new Float32Array(length);
  checkFloat32Array(where, name, out, length, formula);
  return out;
}

/** Checks that rows `inputWidth` wide can enter `layer` (e.g. 'a Linear layer'), which takes inFeatures. */
export function checkInputWidth(where: string, layer: string, inFeatures: number, inputWidth: number): void {
  if (inputWidth !== inFeatures) {
    throw new RangeError(`${where}: ${layer} with inFeatures = ${inFeatures} cannot take rows of ${inputWidth} floats`);
  }
}
