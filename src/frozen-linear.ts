import type { Activation } from './activations.js';
import { copyInto, lengthOf, Operand } from './arrays.js';
import { WeightFormat } from './abi.generated.js';
import { checkInputWidth, describe, forwardArguments } from './errors.js';
import { alignUp, Allocations, StagingBuffer, type HeapArray } from './heap.js';
import { ModuleLayer, type Parameter } from './layer.js';
import { pairedDepth, type Epilogue, type PackedB, type Runtime } from './runtime.js';

/**
 * How a frozen layer keeps W: 'f32' as it is; 'bf16' rounded to the nearest bfloat16
 * (half the bytes); 'int8' quantized per output feature, with each input row quantized
 * per call (a quarter of the bytes). README: "Low-precision weights" gives the bounds.
 */
export type WeightsFormat = 'f32' | 'bf16' | 'int8';

/** Options of `Linear.freeze` and `Sequential.freeze`. */
export interface FreezeOptions {
  /** How W is kept; 'f32' by default. */
  weights?: WeightsFormat;
}

/**
 * int8 products are summed exactly in int32: k products of at most 127·127 each fit
 * below 2³¹ up to this depth.
 */
export const INT8_MAX_IN_FEATURES = Math.floor((2 ** 31 - 1) / (127 * 127));

const FORMATS: Record<WeightsFormat, number> = {
  f32: WeightFormat.packedF32,
  bf16: WeightFormat.packedBf16,
  int8: WeightFormat.packedInt8,
};

/**
 * The weights format `options` asks for a layer of `inFeatures` (all layers of a model
 * when undefined), checked: a clear error naming what is wrong.
 */
export function weightsFormat(where: string, options: unknown, inFeatures?: number): WeightsFormat {
  if (options === undefined) return 'f32';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object; got ${describe(options)}`);
  }
  const given: unknown = (options as FreezeOptions).weights; // read once
  const weights = given === undefined ? 'f32' : given;
  if (typeof weights !== 'string' || !Object.hasOwn(FORMATS, weights)) {
    throw new TypeError(`${where}: options.weights must be 'f32', 'bf16' or 'int8'; got ${describe(weights)}`);
  }
  if (weights === 'int8' && inFeatures !== undefined && inFeatures > INT8_MAX_IN_FEATURES) {
    throw new RangeError(`${where}: int8 weights need inFeatures ≤ ${INT8_MAX_IN_FEATURES} (their products are summed exactly in int32); got ${inFeatures}`);
  }
  return weights as WeightsFormat;
}

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
 * W and b the layer had then, W packed once for the kernels (as f32, bf16 or int8:
 * `weights`). Forward only: no gradients, and nothing of a call is kept for the next.
 * A layer of Sequential too (Sequential.freeze()), which then refuses backward.
 */
export class FrozenLinear extends ModuleLayer<FrozenTape> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The fused activation, or null. */
  readonly activation: Activation | null;
  /** How W is kept. */
  readonly weights: WeightsFormat;

  readonly #rt: Runtime;
  readonly #memory: Allocations;
  /** W, packed by Runtime.packWeights. */
  readonly #weight: PackedB;
  /** b's address, or 0 for none. */
  readonly #bias: number;
  readonly #kind: number;
  readonly #slope: number;
  readonly #input: StagingBuffer;
  /** int8: the input rows quantized for the call at hand. */
  readonly #quantized: StagingBuffer;
  /** The tape of `forward` called on the layer itself (a model keeps its own). */
  readonly #tape: FrozenTape;
  readonly noBackward = 'is frozen (an inference copy)';
  protected readonly lifetimeName = 'FrozenLinear';

  /** Made by `Linear.freeze()`, from the layer's parameters as they are at the call. */
  constructor(rt: Runtime, source: FrozenSource, weights: WeightsFormat = 'f32') {
    super();
    const { inFeatures, outFeatures, weight, bias } = source;
    this.#rt = rt;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.activation = source.activation;
    this.weights = weights;
    this.#kind = source.kind;
    this.#slope = source.slope;
    this.#memory = this.ownMemory(rt.heap);
    // One block for packed W and b: the copy is made whole or not at all.
    const format = FORMATS[weights];
    const weightBytes = alignUp(rt.packedWeightBytes(format, inFeatures, outFeatures));
    const start = this.#memory.alloc(weightBytes + (bias ? alignUp(outFeatures * 4) : 0));
    this.#weight = rt.packWeights(format, inFeatures, outFeatures, weight.start, outFeatures, 1, start);
    this.#bias = bias ? start + weightBytes : 0;
    if (bias) rt.heap.f32(this.#bias, outFeatures).set(bias.view);
    this.#input = new StagingBuffer(this.#memory);
    this.#quantized = new StagingBuffer(this.#memory);
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
    const rt = this.#rt;
    if (this.weights === 'int8') {
      // Each row quantized with its own scale, into a buffer no other call is using.
      const rows = this.#quantized.reserve(rt.quantizedRowsBytes(batch, din) / 4);
      const scales = rt.quantizeRows(batch, din, input, din, 1, rows);
      rt.gemmPackedB(batch, dout, din, rows, pairedDepth(din), 1, this.#weight, output, dout, false, this.#bias, epilogue, scales);
    } else {
      rt.gemmPackedB(batch, dout, din, input, din, 1, this.#weight, output, dout, false, this.#bias, epilogue);
    }
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
