import { ActivationKind } from './abi.generated.js';
import { checkFloat32Array, checkOptions, describe, elementwiseArguments, outputArray } from './errors.js';
import { Allocations } from './heap.js';
import { ModuleLayer, type Parameter, stagedCall } from './layer.js';
import { runtime, type Runtime } from './runtime.js';

/**
 * Activation functions, fused into Linear or as layers of their own, with PyTorch's
 * definitions. 'gelu' is the exact form, z·Φ(z) with Φ the standard normal CDF
 * (`nn.GELU()`); 'geluTanh' is `nn.GELU(approximate='tanh')`. 'leakyRelu' multiplies
 * negatives by `negativeSlope` (default 0.01). Fused, 'elu' has alpha 1 and 'softplus'
 * beta 1 and threshold 20 (their layers take other values).
 */
export type Activation = 'relu' | 'leakyRelu' | 'gelu' | 'tanh' | 'sigmoid' | 'silu' | 'geluTanh' | 'elu' | 'relu6' | 'softplus';

/** Softplus's threshold, PyTorch's default: fused, and for the layer unless given. */
export const FUSED_THRESHOLD = 20;

/** The kernels' numbering, from scripts/abi.mjs (its `none` is no activation, not a name users give). */
const { none, ...KINDS }: Record<Activation | 'none', number> = ActivationKind;

/** The kernel number of `activation` (0 for none), or a TypeError naming `where`. */
export function activationKind(where: string, activation: unknown): number {
  if (activation === undefined || activation === null) return 0;
  if (typeof activation !== 'string' || !Object.hasOwn(KINDS, activation)) {
    throw new TypeError(
      `${where}: options.activation must be one of ${Object.keys(KINDS).map((k) => `'${k}'`).join(', ')}; got ${describe(activation)}`,
    );
  }
  return KINDS[activation as Activation];
}

/** Checks a leaky ReLU slope: a finite number. */
export function checkSlope(where: string, slope: unknown, name = 'options.negativeSlope'): number {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) {
    throw new TypeError(`${where}: ${name} must be a finite number; got ${describe(slope)}`);
  }
  return slope;
}

/**
 * The number the kernels take beside a fused activation's kind: the leaky ReLU's slope;
 * ELU's alpha and Softplus's beta, which are 1 when fused.
 */
export function fusedSlope(kind: number, negativeSlope: number): number {
  return kind === KINDS.elu || kind === KINDS.softplus ? 1 : negativeSlope;
}

/** What an activation's forward keeps for its backward, at one place of use. */
interface ActivationTape {
  memory: Allocations;
  buffers: { start: number; capacity: number; x: number; y: number; dx: number } | null;
  /** Input of the last forward (the tape's copy, or the previous layer's output). */
  input: number;
  /** Its size in floats; 0 before any forward, and while (or after) one fails. */
  count: number;
}

/**
 * An elementwise activation as a layer: forward(x, batch?) and backward(dy) with the
 * shapes of Linear's. Its input is any width; `batch` only says how many rows.
 */
export class ActivationLayer extends ModuleLayer<ActivationTape> {
  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #activation: Activation;
  readonly #kind: number;
  /** The leaky ReLU's slope, ELU's alpha or Softplus's beta. */
  readonly #slope: number;
  /** Softplus's threshold. */
  readonly #threshold: number;
  /** The tape of `forward`/`backward` called on the layer itself (a model keeps its own). */
  readonly #tape: ActivationTape;
  /** @internal */
  readonly noBackward = null;

  protected get lifetimeName(): string {
    return `${this.name} layer`;
  }

  constructor(readonly name: string, activation: Activation, slope = 0.01, threshold = FUSED_THRESHOLD) {
    super();
    const where = `new ${name}`;
    this.#rt = runtime(where);
    this.#activation = activation;
    this.#kind = KINDS[activation];
    this.#slope = slope;
    this.#threshold = threshold;
    this.#memory = this.ownMemory(this.#rt.heap);
    this.#tape = this.createTape(this.#memory);
  }

  /** y = f(x) elementwise; `batch` (default 1) rows of x.length / batch. Returns `out` or a new array. */
  forward(x: Float32Array, batch = 1, out?: Float32Array): Float32Array {
    const where = `${this.name}.forward`;
    this.checkAlive(where);
    const { count, y } = elementwiseArguments(where, x, batch, out);
    this.forwardRows(count);
    if (count === 0) return y;
    const tape = this.#tape;
    return stagedCall(this.#rt.heap, x, y, () => {
      // A failed allocation changes nothing; from the first write on, until this forward succeeds, there is none to differentiate.
      const buffers = this.#reserve(tape, count);
      tape.count = 0;
      return buffers.x;
    }, (input) => this.forwardAt(tape, input, batch, count / batch), count);
  }

  /** dX = dY ⊙ f'(x) for the last forward; returns `out` or a new array. */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = `${this.name}.backward`;
    this.checkAlive(where);
    const empty = this.emptyBackward(where, dy, out);
    if (empty) return empty;
    const tape = this.#tape;
    const { count, buffers } = tape;
    if (count === 0 || buffers === null) throw new Error(`${where}: called before forward, or after a forward that failed; run forward(x) first`);
    checkFloat32Array(where, 'dy', dy, count, 'the length of the last forward input');
    const dx = outputArray(where, 'out', out, count, 'the length of the last forward input');
    // dY is staged where dX will be written: the kernel works in place.
    return stagedCall(this.#rt.heap, dy, dx, () => buffers.dx, (at) => this.backwardAt(tape, at), count);
  }

  /** @internal */
  outputWidth(inputWidth: number): number {
    return inputWidth;
  }

  /** @internal */
  createTape(memory: Allocations): ActivationTape {
    return { memory, buffers: null, input: 0, count: 0 };
  }

  /** @internal */
  forwardAt(tape: ActivationTape, input: number, batch: number, width: number): number {
    this.checkAlive(`${this.name}.forward`);
    const count = batch * width;
    const buffers = this.#reserve(tape, count);
    tape.count = 0;
    this.#rt.kernels.activate(this.#kind, this.#slope, this.#threshold, input, buffers.y, count);
    tape.input = input;
    tape.count = count;
    return buffers.y;
  }

  /** @internal */
  backwardAt(tape: ActivationTape, dy: number): number {
    this.checkAlive(`${this.name}.backward`);
    const buffers = tape.buffers!;
    this.#rt.kernels.activate_backward(this.#kind, this.#slope, this.#threshold, tape.input, buffers.y, dy, buffers.dx, tape.count);
    return buffers.dx;
  }

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

  /** A fresh layer of the same activation: there are no parameters to copy. */
  freeze(): ActivationLayer {
    this.checkAlive(`${this.name}.freeze`);
    return new ActivationLayer(this.name, this.#activation, this.#slope, this.#threshold);
  }


  #reserve(tape: ActivationTape, count: number) {
    const current = tape.buffers;
    if (current && current.capacity >= count) return current;
    const bytes = Math.ceil(count / 16) * 64; // each buffer a whole number of cache lines
    const start = tape.memory.alloc(3 * bytes);
    if (current) tape.memory.release(current.start);
    tape.buffers = { start, capacity: count, x: start, y: start + bytes, dx: start + 2 * bytes };
    return tape.buffers;
  }
}

/** max(x, 0) */
export class ReLU extends ActivationLayer {
  constructor() { super('ReLU', 'relu'); }
}

/** x for x > 0, negativeSlope·x below (default slope 0.01). */
export class LeakyReLU extends ActivationLayer {
  constructor(options: { negativeSlope?: number } = {}) {
    const { negativeSlope = 0.01 } = checkOptions('new LeakyReLU', options, 'negativeSlope');
    super('LeakyReLU', 'leakyRelu', checkSlope('new LeakyReLU', negativeSlope));
  }
}

/** x·Φ(x), exact (erf) form; `{ approximate: 'tanh' }`: ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export class GELU extends ActivationLayer {
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    const { approximate = 'none' } = checkOptions('new GELU', options, 'approximate');
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new TypeError(`new GELU: options.approximate must be 'none' or 'tanh'; got ${describe(approximate)}`);
    }
    super('GELU', approximate === 'tanh' ? 'geluTanh' : 'gelu');
  }
}

/** x·σ(x) (also called swish). */
export class SiLU extends ActivationLayer {
  constructor() { super('SiLU', 'silu'); }
}

/** x above zero, alpha·(e^x − 1) below (default alpha 1). */
export class ELU extends ActivationLayer {
  constructor(options: { alpha?: number } = {}) {
    const { alpha = 1 } = checkOptions('new ELU', options, 'alpha');
    super('ELU', 'elu', checkSlope('new ELU', alpha, 'options.alpha'));
  }
}

/** min(max(x, 0), 6) */
export class ReLU6 extends ActivationLayer {
  constructor() { super('ReLU6', 'relu6'); }
}

/** log(1 + e^(βx))/β, and x itself where βx > threshold (defaults β = 1, threshold = 20). */
export class Softplus extends ActivationLayer {
  constructor(options: { beta?: number; threshold?: number } = {}) {
    const { beta = 1, threshold = FUSED_THRESHOLD } = checkOptions('new Softplus', options, 'beta, threshold');
    checkSlope('new Softplus', beta, 'options.beta');
    if (beta <= 0) throw new RangeError(`new Softplus: options.beta must be positive; got ${describe(beta)}`);
    super('Softplus', 'softplus', beta, checkSlope('new Softplus', threshold, 'options.threshold'));
  }
}

export class Tanh extends ActivationLayer {
  constructor() { super('Tanh', 'tanh'); }
}

/** 1 / (1 + e^−x) */
export class Sigmoid extends ActivationLayer {
  constructor() { super('Sigmoid', 'sigmoid'); }
}
