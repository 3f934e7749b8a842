import { FUSED_THRESHOLD, type Activation } from './activations.js';
import { backwardArguments, checkInputWidth, checkOptions, checkSeed, checkSize, describe, errorFor, forwardArguments } from './errors.js';
import { FrozenLinear, type FreezeOptions } from './frozen-linear.js';
import { alignUp, Allocations, HeapArray, StagingBuffer } from './heap.js';
import { addingGradients, createParameter, ModuleLayer, Tensor, type Parameter, stagedCall } from './layer.js';
import { Linear } from './linear.js';
import { runtime, type Epilogue, type Runtime } from './runtime.js';

export interface LoRAOptions {
  /** r: the adapter's inner width, a positive integer at most min(inFeatures, outFeatures). */
  rank: number;
  /** The adapter's output is scaled by alpha / rank (default alpha = rank: a scale of 1). */
  alpha?: number;
  /** Seed of A's initial values (default: random). */
  seed?: number;
}

/** What an adapter's forward keeps for its backward, at one place of use. */
interface LoRATape {
  memory: Allocations;
  /** Z = X·W + b + s·(X·Aᵀ)·Bᵀ, Y = f(Z) (Z itself without an activation), and U = s·X·Aᵀ. */
  forward: { start: number; capacity: number; z: number; y: number; u: number } | null;
  /** dY (of a call on the adapter itself), dZ (dY itself without an activation), G = s·dZ·B, and dX. */
  backward: { start: number; capacity: number; dy: number; dz: number; g: number; dx: number } | null;
  /** Batch of the last forward; 0 before any, and while (or after) one fails. */
  batch: number;
  /** Where that forward's input is: for dA. */
  input: number;
}

/**
 * A LoRA adapter on a Linear or FrozenLinear layer (PEFT's LoraLayer):
 *   Y = f(X·W + b + (alpha/rank)·(X·Aᵀ)·Bᵀ),
 * W, b and f the base's, A rank×inFeatures and B outFeatures×rank (PyTorch's layout),
 * the adapter's only parameters. The base's weights and gradients never change; the
 * low-rank product joins the base's output inside the module, before the activation.
 */
export class LoRA extends ModuleLayer<LoRATape> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly rank: number;
  readonly alpha: number;
  /** The base's fused activation, or null. */
  readonly activation: Activation | null;
  /** The layer adapted: used, never changed, not freed with the adapter. */
  readonly base: Linear | FrozenLinear;

  readonly #rt: Runtime;
  readonly #a: Tensor;
  readonly #b: Tensor;
  readonly #tensors: readonly Tensor[];
  /** alpha / rank. */
  readonly #scale: number;
  readonly #input: StagingBuffer;
  readonly #tape: LoRATape;
  /** @internal */
  readonly noBackward = null;
  protected readonly lifetimeName = 'LoRA adapter';

  constructor(base: Linear | FrozenLinear, options: LoRAOptions) {
    super();
    const where = 'new LoRA';
    const rt = runtime(where);
    if (base instanceof LoRA) {
      throw new TypeError(`${where}: base is a LoRA adapter; an adapter on an adapter is not supported (merge() the first, then adapt the merged layer)`);
    }
    if (!(base instanceof Linear) && !(base instanceof FrozenLinear)) {
      throw new TypeError(`${where}: base must be a Linear or a FrozenLinear; got ${describe(base)}`);
    }
    if (base.isDisposed()) throw new Error(`${where}: base was disposed`);
    const { rank, alpha = rank, seed = Math.floor(Math.random() * 2 ** 32) } = checkOptions(where, options, 'rank, alpha, seed');
    const { inFeatures, outFeatures } = base;
    checkSize(where, 'options.rank', rank);
    if (rank > Math.min(inFeatures, outFeatures)) {
      throw new RangeError(`${where}: options.rank must be at most min(inFeatures, outFeatures) = ${Math.min(inFeatures, outFeatures)}; got ${rank}`);
    }
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
      throw new (errorFor(alpha))(`${where}: options.alpha must be a finite number; got ${describe(alpha)}`);
    }
    checkSeed(where, seed);
    this.#rt = rt;
    this.base = base;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.rank = rank;
    this.alpha = alpha;
    this.activation = base.activation;
    this.#scale = alpha / rank;

    const heap = rt.heap;
    const memory = this.ownMemory(heap);
    const aCount = rank * inFeatures, bCount = outFeatures * rank;
    const aBytes = alignUp(4 * aCount), bBytes = alignUp(4 * bCount);
    // One block for A, dA, B and dB: the adapter is made whole or not at all.
    const start = memory.alloc(2 * aBytes + 2 * bBytes);
    this.#a = new Tensor(new HeapArray(heap, start, aCount, this), new HeapArray(heap, start + aBytes, aCount, this));
    this.#b = new Tensor(new HeapArray(heap, start + 2 * aBytes, bCount, this), new HeapArray(heap, start + 2 * aBytes + bBytes, bCount, this));
    this.#tensors = [this.#a, this.#b];
    this.#input = new StagingBuffer(memory);
    this.#tape = this.createTape(memory);
    // PEFT: A by kaiming_uniform_(a = √5), which is U(±1/√inFeatures); B zero, so a new adapter changes nothing.
    rt.kernels.fill_uniform(this.#a.values.start, aCount, 1 / Math.sqrt(inFeatures), seed, 0);
    this.#b.values.view.fill(0);
    this.zeroGrad();
  }

  /** A (rank×inFeatures), writable. */
  get loraA(): Float32Array {
    this.checkAlive('loraA');
    return this.#a.values.view;
  }

  /** B (outFeatures×rank), writable. */
  get loraB(): Float32Array {
    this.checkAlive('loraB');
    return this.#b.values.view;
  }

  /** dC/dA accumulated by `backward` since the last `zeroGrad`. */
  get loraAGrad(): Float32Array {
    this.checkAlive('loraAGrad');
    return this.#a.grads.view;
  }

  /** dC/dB accumulated by `backward` since the last `zeroGrad`. */
  get loraBGrad(): Float32Array {
    this.checkAlive('loraBGrad');
    return this.#b.grads.view;
  }

  /**
   * Y = f(X·W + b + (alpha/rank)·(X·Aᵀ)·Bᵀ) for `batch` rows of `x` (default
   * x.length / inFeatures); returns the batch×outFeatures output in `out` or a new
   * array, and keeps a copy of `x` for `backward`.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'LoRA.forward';
    this.#checkUsable(where);
    const { batch: rows, y } = forwardArguments(where, this.inFeatures, this.outFeatures, x, batch, out);
    this.forwardRows(rows);
    if (rows === 0) return y;
    this.#tape.batch = 0;
    return stagedCall(this.#rt.heap, x, y, (count) => this.#input.reserve(count),
      (input) => this.forwardAt(this.#tape, input, rows), rows * this.outFeatures);
  }

  /**
   * For dY of the last forward, accumulates dA += s·(dZ·B)ᵀ·X and dB += s·dZᵀ·(X·Aᵀ)
   * (s = alpha/rank, dZ = dY ⊙ f′(Z)) and returns dX = dZ·Wᵀ + s·dZ·B·A, in `out` or a
   * new array. The base's gradients are not touched.
   */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'LoRA.backward';
    this.#checkUsable(where);
    const empty = this.emptyBackward(where, dy, out);
    if (empty) return empty;
    const tape = this.#tape;
    const { batch } = tape;
    const { inFeatures: din, outFeatures: dout } = this;
    const dx = backwardArguments(where, batch, din, dout, dy, out);
    // The base's backward may grow the memory (a frozen base unpacks W): dy and dx are followed, not held.
    return stagedCall(this.#rt.heap, dy, dx, () => this.#reserveBackward(tape).dy, (at) => addingGradients(this.#tensors, () => this.backwardAt(tape, at)), batch * din);
  }

  /** @internal */
  outputWidth(inputWidth: number, where: string): number {
    checkInputWidth(where, 'a LoRA adapter', this.inFeatures, inputWidth);
    return this.outFeatures;
  }

  /** @internal */
  createTape(memory: Allocations): LoRATape {
    return { memory, forward: null, backward: null, batch: 0, input: 0 };
  }

  /** @internal */
  forwardAt(tape: LoRATape, input: number, batch: number): number {
    this.#checkUsable('LoRA.forward');
    const { inFeatures: din, outFeatures: dout, rank } = this;
    const rt = this.#rt;
    const buffers = this.#reserveForward(tape, batch);
    tape.batch = 0;
    const kind = this.base.kernelActivation;
    this.base.productAt(input, batch, buffers.z);
    // U = s·X·Aᵀ (batch×rank): A read through swapped strides, then scaled (rank floats a row).
    rt.gemm(batch, rank, din, input, din, 1, this.#a.values.start, 1, din, buffers.u, rank, false);
    rt.kernels.scale(buffers.u, batch * rank, this.#scale);
    // Z += U·Bᵀ, then Y = f(Z) in the same call's epilogue.
    const epilogue: Epilogue | undefined = kind ? { kind, slope: this.base.kernelSlope, y: buffers.y } : undefined;
    rt.gemm(batch, dout, rank, buffers.u, rank, 1, this.#b.values.start, 1, rank, buffers.z, dout, true, 0, epilogue);
    tape.input = input;
    tape.batch = batch;
    return buffers.y;
  }

  /** @internal */
  backwardAt(tape: LoRATape, dy: number): number {
    this.#checkUsable('LoRA.backward');
    const { inFeatures: din, outFeatures: dout, rank } = this;
    const { batch } = tape;
    const rt = this.#rt;
    const forward = tape.forward!;
    const buffers = this.#reserveBackward(tape);
    const kind = this.base.kernelActivation;
    let dz = dy;
    if (kind) {
      rt.kernels.activate_backward(kind, this.base.kernelSlope, FUSED_THRESHOLD, forward.z, forward.y, dy, buffers.dz, batch * dout);
      dz = buffers.dz;
    }
    const a = this.#a, b = this.#b;
    // G = s·dZ·B (batch×rank).
    rt.gemm(batch, rank, dout, dz, dout, 1, b.values.start, rank, 1, buffers.g, rank, false);
    rt.kernels.scale(buffers.g, batch * rank, this.#scale);
    // dB += dZᵀ·U and dA += Gᵀ·X (U and G carry s).
    rt.gemm(dout, rank, batch, dz, 1, dout, forward.u, rank, 1, b.grads.start, rank, true);
    rt.gemm(rank, din, batch, buffers.g, 1, rank, tape.input, din, 1, a.grads.start, din, true);
    // dX = dZ·Wᵀ + G·A.
    this.base.inputGradientAt(dz, batch, buffers.dx);
    rt.gemm(batch, din, rank, buffers.g, rank, 1, a.values.start, din, 1, buffers.dx, din, true);
    return buffers.dx;
  }

  /** @internal */
  gradientTensors(): readonly Tensor[] {
    return this.#tensors;
  }

  /** [A, B], named as PEFT names them ('lora_A.weight', 'lora_B.weight') in PyTorch's layout. */
  parameters(): Parameter[] {
    this.checkAlive('LoRA.parameters');
    const check = (where: string) => this.checkAlive(where);
    return [
      createParameter('lora_A.weight', [this.rank, this.inFeatures], this.#a, check),
      createParameter('lora_B.weight', [this.outFeatures, this.rank], this.#b, check),
    ];
  }

  /** Sets dA and dB to zero. */
  zeroGrad(): void {
    this.checkAlive('LoRA.zeroGrad');
    for (const tensor of this.#tensors) {
      tensor.grads.view.fill(0);
      tensor.unfinished = 0;
    }
  }

  /**
   * A new Linear with W + (alpha/rank)·(B·A)ᵀ and the base's bias and activation
   * (PEFT's merge_and_unload); a frozen base's W as its kernels use it (bf16 or int8
   * dequantized). The adapter and the base are unchanged.
   */
  merge(): Linear {
    const where = 'LoRA.merge';
    this.#checkUsable(where);
    const { inFeatures: din, outFeatures: dout, rank } = this;
    const w = this.base.weightValues(), bias = this.base.biasValues();
    const a = this.#a.values.view.slice(), b = this.#b.values.view.slice();
    const s = this.#scale;
    const merged = new Float32Array(din * dout);
    for (let i = 0; i < din; i++) {
      for (let o = 0; o < dout; o++) {
        let sum = 0;
        for (let r = 0; r < rank; r++) sum += b[o * rank + r] * a[r * din + i];
        merged[i * dout + o] = w[i * dout + o] + s * sum;
      }
    }
    const layer = new Linear(din, dout, { bias: bias !== null, seed: 0, negativeSlope: this.base.kernelSlope, ...(this.activation ? { activation: this.activation } : {}) });
    layer.weight.set(merged);
    if (bias) layer.bias!.set(bias);
    return layer;
  }

  /** An inference copy: the merged layer, frozen (`Linear.freeze(options)`). */
  freeze(options?: FreezeOptions): FrozenLinear {
    this.#checkUsable('LoRA.freeze');
    const merged = this.merge();
    try {
      return merged.freeze(options);
    } finally {
      merged.dispose();
    }
  }

  /** Throws, naming `where`, once the adapter or its base is disposed. */
  #checkUsable(where: string): void {
    this.checkAlive(where);
    if (this.base.isDisposed()) throw new Error(`${where}: the base layer of this adapter was disposed`);
  }

  #reserveForward(tape: LoRATape, batch: number) {
    const current = tape.forward;
    if (current && current.capacity >= batch) return current;
    const activated = this.base.kernelActivation !== 0;
    const outputBytes = alignUp(4 * batch * this.outFeatures), rankBytes = alignUp(4 * batch * this.rank);
    const start = tape.memory.alloc((activated ? 2 : 1) * outputBytes + rankBytes);
    if (current) tape.memory.release(current.start);
    const y = activated ? start + outputBytes : start;
    return (tape.forward = { start, capacity: batch, z: start, y, u: y + outputBytes });
  }

  #reserveBackward(tape: LoRATape) {
    const { batch } = tape;
    const current = tape.backward;
    if (current && current.capacity >= batch) return current;
    const activated = this.base.kernelActivation !== 0;
    const outputBytes = alignUp(4 * batch * this.outFeatures), rankBytes = alignUp(4 * batch * this.rank);
    const start = tape.memory.alloc((activated ? 2 : 1) * outputBytes + rankBytes + alignUp(4 * batch * this.inFeatures));
    if (current) tape.memory.release(current.start);
    const dz = activated ? start + outputBytes : start;
    const g = dz + outputBytes;
    return (tape.backward = { start, capacity: batch, dy: start, dz, g, dx: g + rankBytes });
  }
}
