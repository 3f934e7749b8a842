import { FUSED_THRESHOLD, type Activation } from './activations.js';
import { WeightFormat } from './abi.generated.js';
import { backwardArguments, checkInputWidth, checkOptions, describe, forwardArguments } from './errors.js';
import { alignUp, Allocations, HeapArray, StagingBuffer } from './heap.js';
import { ModuleLayer, type Parameter, stagedCall } from './layer.js';
import { pairedDepth, Runtime, type Epilogue, type PackedB } from './runtime.js';

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
 * when undefined), checked: a clear error naming what is wrong; undefined where none is named.
 */
export function requestedFormat(where: string, options: unknown, inFeatures?: number): WeightsFormat | undefined {
  if (options === undefined) return undefined;
  const weights: unknown = checkOptions(where, options as FreezeOptions, 'weights').weights; // read once
  if (weights === undefined) return undefined;
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
  /** W (in×out row-major) to pack, or a frozen layer's W already packed in the format asked for, to copy. */
  weight: HeapArray | PackedB;
  bias: HeapArray | null;
  activation: Activation | null;
  /** The activation as numbered in assembly/activations.ts (0: none), and its slope. */
  kind: number;
  slope: number;
}

/**
 * What a frozen layer's forward keeps for its backward, at one place of use: Z and Y,
 * not the input (there is no weight gradient). The backward's buffers are made by the
 * first backward, so a layer used only for inference never holds them.
 */
interface FrozenTape {
  memory: Allocations;
  /** Z = X·W + b and Y = f(Z) (Z itself without an activation). */
  forward: { start: number; capacity: number; z: number; y: number } | null;
  /** The incoming dY (of a call on the layer itself), dZ = dY ⊙ f′(Z) (dY itself without an activation), and dX. */
  backward: { start: number; capacity: number; dy: number; dz: number; dx: number } | null;
  /** Batch of the last forward; 0 before any, and while (or after) one fails. */
  batch: number;
}

/** Columns of W unpacked at a time for dZ·Wᵀ: the GEMM's depth block, so the blocks add no pass over dX. */
const UNPACKED_COLUMNS = 256;

/**
 * A Linear layer frozen by `Linear.freeze()`: Y = f(X·W + b) with the W and b the
 * layer had then, W packed once for the kernels (as f32, bf16 or int8: `weights`).
 * No parameters and no gradients; `backward` gives dX through the frozen weights, so
 * a frozen backbone under a trainable head (or LoRA adapters) trains in a Sequential.
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
  /** Columns of W unpacked to float32 for the backward at hand. */
  readonly #unpacked: StagingBuffer;
  /** The tape of `forward` called on the layer itself (a model keeps its own). */
  readonly #tape: FrozenTape;
  /** @internal */
  readonly noBackward = null;
  protected readonly lifetimeName = 'FrozenLinear';

  /** @hidden Made by `Linear.freeze()`, from the layer's parameters as they are at the call. */
  constructor(rt: Runtime, source: FrozenSource, weights: WeightsFormat = 'f32') {
    if (!(rt instanceof Runtime)) throw new TypeError('FrozenLinear: made by layer.freeze(), not constructed');
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
    if ('format' in weight) {
      const bytes = (at: number) => new Uint8Array(rt.heap.memory.buffer, at, weightBytes);
      bytes(start).set(bytes(weight.at));
      this.#weight = { format, at: start, scales: weight.scales && start + (weight.scales - weight.at) };
    } else {
      this.#weight = rt.packWeights(format, inFeatures, outFeatures, weight.start, outFeatures, 1, start);
    }
    this.#bias = bias ? start + weightBytes : 0;
    if (bias) rt.heap.f32(this.#bias, outFeatures).set(bias.view);
    this.#input = new StagingBuffer(this.#memory);
    this.#quantized = new StagingBuffer(this.#memory);
    this.#unpacked = new StagingBuffer(this.#memory);
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
    this.forwardRows(rows);
    if (rows === 0) return y;
    return stagedCall(this.#rt.heap, x, y, (count) => this.#input.reserve(count),
      (input) => this.forwardAt(this.#tape, input, rows), rows * this.outFeatures);
  }

  /**
   * dX = (dY ⊙ f′(Z))·Wᵀ for dY (batch×outFeatures) of the last forward, through the
   * frozen weights (bf16 and int8 as the forward used them); nothing is learned.
   * Returns the batch×inFeatures dX in `out` or a new array.
   */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'FrozenLinear.backward';
    this.checkAlive(where);
    const empty = this.emptyBackward(where, dy, out);
    if (empty) return empty;
    const tape = this.#tape;
    const { batch } = tape;
    const { inFeatures: din, outFeatures: dout } = this;
    const dx = backwardArguments(where, batch, din, dout, dy, out);
    return stagedCall(this.#rt.heap, dy, dx, () => {
      // Everything the call needs is reserved before dY is copied in: from there on nothing allocates.
      const buffers = this.#reserveBackward(tape);
      this.#unpacked.reserve(din * Math.min(UNPACKED_COLUMNS, dout));
      return buffers.dy;
    }, (at) => this.backwardAt(tape, at), batch * din);
  }

  /** @internal */
  outputWidth(inputWidth: number, where: string): number {
    checkInputWidth(where, 'a FrozenLinear layer', this.inFeatures, inputWidth);
    return this.outFeatures;
  }

  /** @internal */
  createTape(memory: Allocations): FrozenTape {
    return { memory, forward: null, backward: null, batch: 0 };
  }

  /** @internal */
  forwardAt(tape: FrozenTape, input: number, batch: number): number {
    this.checkAlive('FrozenLinear.forward');
    const buffers = this.#reserveForward(tape, batch);
    tape.batch = 0;
    const epilogue: Epilogue | undefined = this.#kind ? { kind: this.#kind, slope: this.#slope, y: buffers.y } : undefined;
    this.productAt(input, batch, buffers.z, epilogue);
    tape.batch = batch;
    return buffers.y;
  }

  /** @internal */
  backwardAt(tape: FrozenTape, dy: number): number {
    this.checkAlive('FrozenLinear.backward');
    const { batch } = tape;
    const { z, y } = tape.forward!;
    const buffers = this.#reserveBackward(tape);
    let dz = dy;
    if (this.#kind) {
      this.#rt.kernels.activate_backward(this.#kind, this.#slope, FUSED_THRESHOLD, z, y, dy, buffers.dz, batch * this.outFeatures);
      dz = buffers.dz;
    }
    this.inputGradientAt(dz, batch, buffers.dx);
    return buffers.dx;
  }

  /**
   * @internal Z = X·W + b for `batch` rows at `input`, written to z, then Y = f(Z) if
   * an epilogue is given (LoRA adds its product to Z before the activation).
   */
  productAt(input: number, batch: number, z: number, epilogue?: Epilogue): void {
    const { inFeatures: din, outFeatures: dout } = this;
    const rt = this.#rt;
    if (this.weights === 'int8') {
      // Each row quantized with its own scale, into a buffer no other call is using.
      const rows = this.#quantized.reserve(rt.quantizedRowsBytes(batch, din) / 4);
      const scales = rt.quantizeRows(batch, din, input, din, 1, rows);
      rt.gemmPackedB(batch, dout, din, rows, pairedDepth(din), 1, this.#weight, z, dout, false, this.#bias, epilogue, scales);
    } else {
      rt.gemmPackedB(batch, dout, din, input, din, 1, this.#weight, z, dout, false, this.#bias, epilogue);
    }
  }

  /**
   * @internal dX = dZ·Wᵀ (batch×inFeatures, written to dx) through the packed W, unpacked
   * to float32 a block of UNPACKED_COLUMNS columns at a time.
   */
  inputGradientAt(dz: number, batch: number, dx: number): void {
    const { inFeatures: din, outFeatures: dout } = this;
    const rt = this.#rt;
    const block = Math.min(UNPACKED_COLUMNS, dout);
    const unpacked = this.#unpacked.reserve(din * block);
    const { format, at, scales } = this.#weight;
    for (let j0 = 0; j0 < dout; j0 += block) {
      const width = Math.min(block, dout - j0);
      rt.kernels.unpack_b(format, din, at, scales, j0, width, unpacked);
      // The block is din×width row-major: Wᵀ read through swapped strides; blocks after the first accumulate.
      rt.gemm(batch, din, width, dz + 4 * j0, dout, 1, unpacked, 1, width, dx, din, j0 > 0);
    }
  }

  /**
   * A copy of this layer with memory of its own (what `Sequential.freeze` makes of it):
   * W as it is kept here, byte for byte; or, where `options.weights` names another
   * format, the values this layer computes with (bf16 expanded, int8 as q·s) kept in that one.
   */
  freeze(options?: FreezeOptions): FrozenLinear {
    const where = 'FrozenLinear.freeze';
    this.checkAlive(where);
    const { inFeatures, outFeatures, activation } = this;
    const weights = requestedFormat(where, options, inFeatures) ?? this.weights;
    const rt = this.#rt;
    const bias = this.#bias ? new HeapArray(rt.heap, this.#bias, outFeatures) : null;
    const source = { inFeatures, outFeatures, bias, activation, kind: this.#kind, slope: this.#slope };
    if (weights === this.weights) return new FrozenLinear(rt, { ...source, weight: this.#weight }, weights);
    return this.#withValues((values) => new FrozenLinear(rt, { ...source, weight: values }, weights));
  }

  /** @internal W as float32 (in×out row-major), as the kernels use it: bf16 expanded, int8 as q·s. */
  weightValues(): Float32Array {
    return this.#withValues((values) => values.view.slice());
  }

  /** `use` applied to W as float32 (weightValues) in a block of the heap, freed after. */
  #withValues<T>(use: (values: HeapArray) => T): T {
    const { inFeatures: din, outFeatures: dout } = this;
    const rt = this.#rt;
    const scratch = rt.heap.alloc(4 * din * dout);
    try {
      const { format, at, scales } = this.#weight;
      rt.kernels.unpack_b(format, din, at, scales, 0, dout, scratch);
      return use(new HeapArray(rt.heap, scratch, din * dout));
    } finally {
      rt.heap.release(scratch);
    }
  }

  /** @internal A copy of b, or null. */
  biasValues(): Float32Array | null {
    return this.#bias ? this.#rt.heap.f32(this.#bias, this.outFeatures).slice() : null;
  }

  /** @internal The activation as the kernels number it (0: none). */
  get kernelActivation(): number {
    return this.#kind;
  }

  /** @internal The leaky ReLU's slope. */
  get kernelSlope(): number {
    return this.#slope;
  }

  #reserveForward(tape: FrozenTape, batch: number) {
    const current = tape.forward;
    if (current && current.capacity >= batch) return current;
    const bytes = alignUp(batch * this.outFeatures * 4);
    const start = tape.memory.alloc(this.#kind ? 2 * bytes : bytes);
    if (current) tape.memory.release(current.start);
    return (tape.forward = { start, capacity: batch, z: start, y: this.#kind ? start + bytes : start });
  }

  /** The backward's buffers for the tape's last batch (made, or grown, here: the only allocation of a backward). */
  #reserveBackward(tape: FrozenTape) {
    const { batch } = tape;
    const current = tape.backward;
    if (current && current.capacity >= batch) return current;
    const outputBytes = alignUp(batch * this.outFeatures * 4);
    const start = tape.memory.alloc((this.#kind ? 2 : 1) * outputBytes + alignUp(batch * this.inFeatures * 4));
    if (current) tape.memory.release(current.start);
    const dz = this.#kind ? start + outputBytes : start;
    return (tape.backward = { start, capacity: batch, dy: start, dz, dx: dz + outputBytes });
  }


  /** None to learn: the copy's W and b are fixed. */
  parameters(): Parameter[] {
    return [];
  }

  zeroGrad(): void {}

}
