import { checkFloat32Array, checkSize, describe } from './errors.js';
import { Allocations } from './heap.js';
import type { Layer, Parameter } from './layer.js';
import { runtime, type Runtime } from './runtime.js';

/**
 * Activation functions, fused into Linear or as layers of their own.
 * 'gelu' is the exact form, z·Φ(z) with Φ the standard normal CDF (PyTorch's default
 * `nn.GELU()`, not the tanh approximation). 'leakyRelu' multiplies negatives by
 * `negativeSlope` (default 0.01, as PyTorch).
 */
export type Activation = 'relu' | 'leakyRelu' | 'gelu' | 'tanh' | 'sigmoid';

/** The kernels' numbering (assembly/activations.ts). */
const KINDS: Record<Activation, number> = { relu: 1, leakyRelu: 2, gelu: 3, tanh: 4, sigmoid: 5 };

/** The kernel number of `activation` (0 for none), or a TypeError naming `where`. */
export function activationKind(where: string, activation: unknown): number {
  if (activation === undefined || activation === null) return 0;
  if (typeof activation !== 'string' || !(activation in KINDS)) {
    throw new TypeError(
      `${where}: options.activation must be one of ${Object.keys(KINDS).map((k) => `'${k}'`).join(', ')}; got ${describe(activation)}`,
    );
  }
  return KINDS[activation as Activation];
}

/** Checks a leaky ReLU slope: a finite number. */
export function checkSlope(where: string, slope: unknown): number {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) {
    throw new TypeError(`${where}: options.negativeSlope must be a finite number; got ${describe(slope)}`);
  }
  return slope;
}

/**
 * An elementwise activation as a layer: forward(x, batch?) and backward(dy) with the
 * shapes of Linear's. Its input is any width; `batch` only says how many rows.
 */
class ActivationLayer implements Layer {
  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #activation: Activation;
  readonly #kind: number;
  readonly #slope: number;
  #buffers: { start: number; capacity: number; x: number; y: number; dx: number } | null = null;
  /** Input of the last forward (its own copy, or the previous layer's output) and its size. */
  #input = 0;
  #count = 0;
  #disposed = false;

  constructor(readonly name: string, activation: Activation, negativeSlope = 0.01) {
    const where = `new ${name}`;
    this.#rt = runtime(where);
    this.#activation = activation;
    this.#kind = KINDS[activation];
    this.#slope = checkSlope(where, negativeSlope);
    this.#memory = new Allocations(this.#rt.heap, this);
  }

  /** y = f(x) elementwise; `batch` (default 1) rows of x.length / batch. Returns `out` or a new array. */
  forward(x: Float32Array, batch = 1, out?: Float32Array): Float32Array {
    const where = `${this.name}.forward`;
    this.#check(where);
    checkFloat32Array(where, 'x', x);
    checkSize(where, 'batch', batch);
    if (x.length === 0 || x.length % batch !== 0) {
      throw new RangeError(`${where}: x must hold batch = ${batch} rows of equal width; got ${describe(x)}`);
    }
    const y = out ?? new Float32Array(x.length);
    if (out !== undefined) checkFloat32Array(where, 'out', y, x.length, 'x.length');
    const buffers = this.#reserve(x.length);
    this.#rt.heap.f32(buffers.x, x.length).set(x);
    y.set(this.#rt.heap.f32(this.forwardAt(buffers.x, batch, x.length / batch), x.length));
    return y;
  }

  /** dX = dY ⊙ f'(x) for the last forward; returns `out` or a new array. */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = `${this.name}.backward`;
    this.#check(where);
    if (this.#count === 0 || this.#buffers === null) throw new Error(`${where}: called before forward; run forward(x) first`);
    checkFloat32Array(where, 'dy', dy, this.#count, 'the length of the last forward input');
    const dx = out ?? new Float32Array(this.#count);
    if (out !== undefined) checkFloat32Array(where, 'out', dx, this.#count, 'the length of the last forward input');
    const staged = this.#buffers.dx; // dY is staged where dX will be written: the kernel works in place
    this.#rt.heap.f32(staged, dy.length).set(dy);
    dx.set(this.#rt.heap.f32(this.backwardAt(staged), this.#count));
    return dx;
  }

  outputWidth(inputWidth: number): number {
    return inputWidth;
  }

  forwardAt(input: number, batch: number, width: number): number {
    const count = batch * width;
    const buffers = this.#reserve(count);
    this.#rt.kernels.activate(this.#kind, this.#slope, input, buffers.y, count);
    this.#input = input;
    this.#count = count;
    return buffers.y;
  }

  backwardAt(dy: number): number {
    const buffers = this.#buffers!;
    this.#rt.kernels.activate_backward(this.#kind, this.#slope, this.#input, buffers.y, dy, buffers.dx, this.#count);
    return buffers.dx;
  }

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

  /** A fresh layer of the same activation: there are no parameters to copy. */
  freeze(): ActivationLayer {
    this.#check(`${this.name}.freeze`);
    return new ActivationLayer(this.name, this.#activation, this.#slope);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#memory.releaseAll();
    this.#buffers = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #check(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this ${this.name} layer was disposed`);
  }

  #reserve(count: number) {
    const current = this.#buffers;
    if (current && current.capacity >= count) return current;
    const bytes = Math.ceil(count / 16) * 64; // each buffer a whole number of cache lines
    const start = this.#memory.alloc(3 * bytes);
    if (current) this.#memory.release(current.start);
    this.#buffers = { start, capacity: count, x: start, y: start + bytes, dx: start + 2 * bytes };
    return this.#buffers;
  }
}

/** max(x, 0) */
export class ReLU extends ActivationLayer {
  constructor() { super('ReLU', 'relu'); }
}

/** x for x > 0, negativeSlope·x below (default slope 0.01). */
export class LeakyReLU extends ActivationLayer {
  constructor(options: { negativeSlope?: number } = {}) { super('LeakyReLU', 'leakyRelu', options.negativeSlope ?? 0.01); }
}

/** x·Φ(x), exact (erf) form. */
export class GELU extends ActivationLayer {
  constructor() { super('GELU', 'gelu'); }
}

export class Tanh extends ActivationLayer {
  constructor() { super('Tanh', 'tanh'); }
}

/** 1 / (1 + e^−x) */
export class Sigmoid extends ActivationLayer {
  constructor() { super('Sigmoid', 'sigmoid'); }
}
