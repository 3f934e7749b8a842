import type { Activation } from './activations.js';
import { copyInto, lengthOf, Operand } from './arrays.js';
import { checkInputWidth, forwardArguments } from './errors.js';
import { alignUp, Allocations, StagingBuffer, type HeapArray } from './heap.js';
import { ModuleLayer, type Parameter } from './layer.js';
import type { Epilogue, Runtime } from './runtime.js';

/** What `Linear.freeze()` hands over: the layer's shape, parameters and activation. */
export interface FrozenSource {
  inFeatures: number;
  outFeatures: number;
  weight: HeapArray;
  bias: HeapArray | null;
  activation: Activation | null;
  /** The activation as numbered in assembly/activations.ts (0: none), and its slope. */
  kind: number;
  slope: number;
}

/** A frozen layer keeps nothing for a backward: its tape is where its output goes. */
type FrozenTape = StagingBuffer;

/**
 * A Linear layer frozen for inference by `Linear.freeze()`: Y = f(X·W + b) with the
 * W and b the layer had then, W packed once for the kernels. Forward only: no
 * gradients, and nothing of a call is kept for the next. A layer of Sequential too
 * (Sequential.freeze()), which then refuses backward.
 */
export class FrozenLinear extends ModuleLayer<FrozenTape> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The fused activation, or null. */
  readonly activation: Activation | null;

  readonly #rt: Runtime;
  readonly #memory: Allocations;
  /** W, packed by Runtime.packB. */
  readonly #weight: number;
  /** b's address, or 0 for none. */
  readonly #bias: number;
  readonly #kind: number;
  readonly #slope: number;
  readonly #input: StagingBuffer;
  /** The tape of `forward` called on the layer itself (a model keeps its own). */
  readonly #tape: FrozenTape;
  readonly noBackward = 'is frozen (an inference copy)';
  protected readonly lifetimeName = 'FrozenLinear';

  /** Made by `Linear.freeze()`, from the layer's parameters as they are at the call. */
  constructor(rt: Runtime, source: FrozenSource) {
    super();
    const { inFeatures, outFeatures, weight, bias } = source;
    this.#rt = rt;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.activation = source.activation;
    this.#kind = source.kind;
    this.#slope = source.slope;
    this.#memory = this.ownMemory(rt.heap);
    // One block for packed W and b: the copy is made whole or not at all.
    const weightBytes = alignUp(rt.packedBBytes(inFeatures, outFeatures));
    const start = this.#memory.alloc(weightBytes + (bias ? alignUp(outFeatures * 4) : 0));
    rt.packB(inFeatures, outFeatures, weight.start, outFeatures, 1, start);
    this.#weight = start;
    this.#bias = bias ? start + weightBytes : 0;
    if (bias) rt.heap.f32(this.#bias, outFeatures).set(bias.view);
    this.#input = new StagingBuffer(this.#memory);
    this.#tape = this.createTape(this.#memory);
  }

  /**
   * Y = f(X·W + b), as `Linear.forward` computes it: `x` holds `batch` rows of
   * inFeatures (batch defaults to x.length / inFeatures); the batch×outFeatures
   * output goes to `out` or a new array.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'FrozenLinear.forward';
    this.checkAlive(where);
    const { batch: rows, y } = forwardArguments(where, this.inFeatures, this.outFeatures, x, batch, out);
    const heap = this.#rt.heap;
    const source = new Operand(heap.memory, x);
    const output = out === undefined ? undefined : new Operand(heap.memory, y); // a new y is not in the module's memory
    const count = lengthOf(x);
    const input = this.#input.reserve(count);
    copyInto(heap.f32(input, count), source.current());
    const result = heap.f32(this.forwardAt(this.#tape, input, rows), rows * this.outFeatures);
    const target = output?.current() ?? y;
    copyInto(target, result);
    return target;
  }

  outputWidth(inputWidth: number, where: string): number {
    checkInputWidth(where, 'a FrozenLinear layer', this.inFeatures, inputWidth);
    return this.outFeatures;
  }

  createTape(memory: Allocations): FrozenTape {
    return new StagingBuffer(memory);
  }

  forwardAt(tape: FrozenTape, input: number, batch: number): number {
    this.checkAlive('FrozenLinear.forward');
    const { inFeatures: din, outFeatures: dout } = this;
    const output = tape.reserve(batch * dout);
    // The activation, if any, is applied in place: nothing needs the value before it.
    const epilogue: Epilogue | undefined = this.#kind ? { kind: this.#kind, slope: this.#slope, y: output } : undefined;
    this.#rt.gemmPackedB(batch, dout, din, input, din, 1, this.#weight, output, dout, false, this.#bias, epilogue);
    return output;
  }

  backwardAt(): number {
    throw new Error('FrozenLinear: a frozen layer has no backward; train the Linear it was frozen from');
  }

  /** None to learn: the copy's W and b are fixed. */
  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

}
