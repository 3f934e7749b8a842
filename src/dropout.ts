import { checkFloat32Array, checkOptions, checkSeed, describe, elementwiseArguments, outputArray } from './errors.js';
import { alignUp, Allocations } from './heap.js';
import { ModuleLayer, type Parameter, stagedCall } from './layer.js';
import { runtime, type Runtime } from './runtime.js';

/** What a Dropout's forward keeps for its backward, at one place of use: the mask it drew. */
interface DropoutTape {
  memory: Allocations;
  buffers: { start: number; capacity: number; x: number; y: number; mask: number } | null;
  /** Elements of the last forward (0 before any, and while one fails); whether it ran in training mode. */
  count: number;
  training: boolean;
}

/**
 * torch.nn.Dropout: in training mode (the default, as PyTorch) each element is zeroed
 * with probability p and the others scaled by 1/(1 − p); in eval mode it is the identity.
 * Backward applies the same mask. The draws come from a generator seeded by `seed`,
 * advanced by every element of every training forward, so a seed reproduces a run.
 * `Sequential.train()` / `eval()` set every Dropout of a model; a frozen copy runs eval.
 */
export class Dropout extends ModuleLayer<DropoutTape> {
  readonly p: number;
  readonly #rt: Runtime;
  readonly #seed: number;
  /** Draws made so far (mod 2³²): where the next forward's mask starts. */
  #drawn = 0;
  #training = true;
  /** A frozen copy (Sequential.freeze()) stays in eval mode. */
  #frozen = false;
  readonly #tape: DropoutTape;
  /** @internal */
  readonly noBackward = null;
  protected readonly lifetimeName = 'Dropout layer';

  constructor(p = 0.5, options: { seed?: number } = {}) {
    super();
    const where = 'new Dropout';
    this.#rt = runtime(where);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new (typeof p === 'number' ? RangeError : TypeError)(`${where}: p must be a probability in [0, 1]; got ${describe(p)}`);
    const { seed = Math.floor(Math.random() * 2 ** 32) } = checkOptions(where, options, 'seed');
    this.p = p;
    this.#seed = checkSeed(where, seed) >>> 0;
    this.#tape = this.createTape(this.ownMemory(this.#rt.heap));
  }

  /** True in training mode (dropping), false in eval mode (the identity). */
  get training(): boolean {
    return this.#training;
  }

  /** Training mode (or eval mode with `mode` false), as torch.nn.Module.train(mode); returns this layer. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`Dropout.train: mode must be a boolean; got ${describe(mode)}`);
    this.#training = mode && !this.#frozen;
    return this;
  }

  /** Eval mode: the identity. Returns this layer. */
  eval(): this {
    return this.train(false);
  }

  /** Y = X with the mask applied (training) or X itself (eval); `batch` (default 1) rows of x.length / batch. */
  forward(x: Float32Array, batch = 1, out?: Float32Array): Float32Array {
    const where = 'Dropout.forward';
    this.checkAlive(where);
    const { count, y } = elementwiseArguments(where, x, batch, out);
    this.forwardRows(count);
    if (count === 0) return y;
    const tape = this.#tape;
    return stagedCall(this.#rt.heap, x, y, () => {
      const buffers = this.#reserve(tape, count);
      tape.count = 0;
      return buffers.x;
    }, (input) => this.forwardAt(tape, input, batch, count / batch), count);
  }

  /** dX = dY with the last forward's mask (dY itself after an eval-mode forward). */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'Dropout.backward';
    this.checkAlive(where);
    const empty = this.emptyBackward(where, dy, out);
    if (empty) return empty;
    const tape = this.#tape;
    if (tape.count === 0 || tape.buffers === null) throw new Error(`${where}: called before forward, or after a forward that failed; run forward(x) first`);
    checkFloat32Array(where, 'dy', dy, tape.count, 'the length of the last forward input');
    const dx = outputArray(where, 'out', out, tape.count, 'the length of the last forward input');
    // dY is staged in the tape's y, free once forward returned.
    return stagedCall(this.#rt.heap, dy, dx, () => tape.buffers!.y, (at) => this.backwardAt(tape, at), tape.count);
  }

  /** @internal */
  outputWidth(inputWidth: number): number {
    return inputWidth;
  }

  /** @internal */
  createTape(memory: Allocations): DropoutTape {
    return { memory, buffers: null, count: 0, training: true };
  }

  /** @internal */
  forwardAt(tape: DropoutTape, input: number, batch: number, width: number): number {
    this.checkAlive('Dropout.forward');
    const count = batch * width;
    tape.count = 0;
    tape.training = this.#training;
    if (!this.#training || this.p === 0) {
      tape.training = false;
      tape.count = count;
      return input; // the identity: the next layer reads the input where it is
    }
    const buffers = this.#reserve(tape, count);
    const scale = this.p === 1 ? 0 : 1 / (1 - this.p);
    this.#rt.kernels.dropout(input, buffers.y, buffers.mask, count, this.p, scale, this.#seed, this.#drawn);
    this.#drawn = (this.#drawn + count) >>> 0;
    tape.count = count;
    return buffers.y;
  }

  /** @internal */
  backwardAt(tape: DropoutTape, dy: number): number {
    this.checkAlive('Dropout.backward');
    if (!tape.training) return dy;
    const { mask, x } = tape.buffers!;
    // dX = dY·mask, into the tape's x buffer: free once forward has run (it only stages forward's input).
    this.#rt.kernels.dropout_backward(dy, mask, x, tape.count);
    return x;
  }

  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

  /** An inference copy: a Dropout of the same p that stays in eval mode (the identity), whatever train() says. */
  freeze(): Dropout {
    this.checkAlive('Dropout.freeze');
    const copy = new Dropout(this.p, { seed: this.#seed }).eval();
    copy.#frozen = true;
    return copy;
  }

  #reserve(tape: DropoutTape, count: number) {
    const current = tape.buffers;
    if (current && current.capacity >= count) return current;
    const bytes = alignUp(count * 4);
    const start = tape.memory.alloc(3 * bytes);
    if (current) tape.memory.release(current.start);
    return (tape.buffers = { start, capacity: count, x: start, y: start + bytes, mask: start + 2 * bytes });
  }
}
