import { activationKind, checkSlope, FUSED_THRESHOLD, fusedSlope, type Activation } from './activations.js';
import { copyInto, lengthOf } from './arrays.js';
import { backwardArguments, checkFloat32Array, checkInputWidth, checkOptions, checkSeed, checkSize, describe, forwardArguments } from './errors.js';
import { FrozenLinear, requestedFormat, type FreezeOptions } from './frozen-linear.js';
import { alignUp, Allocations, HeapArray } from './heap.js';
import { addingGradients, createParameter, ModuleLayer, Tensor, type Parameter, stagedCall } from './layer.js';
import { runtime, type Epilogue, type Runtime } from './runtime.js';

export interface LinearOptions {
  /** Learn an additive bias b (default true). */
  bias?: boolean;
  /** Seed of the initial weights: the same seed gives the same weights everywhere (default: random). */
  seed?: number;
  /** An activation applied to the output inside the GEMM's epilogue (default none). */
  activation?: Activation;
  /** Slope below zero for activation 'leakyRelu' (default 0.01). */
  negativeSlope?: number;
}

/**
 * A fully connected layer, Y = f(X·W + b), for a batch of B rows (f: the optional
 * fused activation; none by default).
 *
 * W is inFeatures×outFeatures, row-major. Parameters, gradients and the saved
 * input live in the WebAssembly memory; `weight`, `bias`, `weightGrad` and
 * `biasGrad` are live views of them (re-read the property after other simd-linear
 * calls: a view taken earlier may be detached when the memory grows). `forward`
 * and `backward` return arrays the caller owns.
 */
export class Linear extends ModuleLayer<LinearTape> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The fused activation, or null. */
  readonly activation: Activation | null;

  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #weight: Tensor;
  readonly #bias: Tensor | null;
  /** W and b, the tensors backward adds gradients to. */
  readonly #tensors: readonly Tensor[];
  readonly #kind: number;
  readonly #slope: number;
  /** The tape of `forward`/`backward` called on the layer itself (a model keeps its own). */
  readonly #tape: LinearTape;
  /** @internal */
  readonly noBackward = null;
  protected readonly lifetimeName = 'Linear layer';

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const where = 'new Linear';
    const rt = runtime(where);
    checkSize(where, 'inFeatures', inFeatures);
    checkSize(where, 'outFeatures', outFeatures);
    const { bias = true, seed = Math.floor(Math.random() * 2 ** 32), activation, negativeSlope = 0.01 } = checkOptions(where, options, 'bias, seed, activation, negativeSlope');
    if (typeof bias !== 'boolean') throw new TypeError(`${where}: options.bias must be a boolean; got ${describe(bias)}`);
    checkSeed(where, seed);
    this.#kind = activationKind(where, activation);
    this.#slope = fusedSlope(this.#kind, checkSlope(where, negativeSlope));
    this.#rt = rt;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.activation = activation ?? null;

    const weights = inFeatures * outFeatures;
    const weightBytes = alignUp(weights * 4);
    const biasBytes = bias ? alignUp(outFeatures * 4) : 0;
    const heap = rt.heap;
    this.#memory = this.ownMemory(heap);
    // One block holds W, dW, b and db, so a layer is created whole or not at all.
    const parameters = this.#memory.alloc(2 * weightBytes + 2 * biasBytes);
    this.#weight = new Tensor(new HeapArray(heap, parameters, weights, this), new HeapArray(heap, parameters + weightBytes, weights, this));
    this.#bias = bias
      ? new Tensor(
        new HeapArray(heap, parameters + 2 * weightBytes, outFeatures, this),
        new HeapArray(heap, parameters + 2 * weightBytes + biasBytes, outFeatures, this),
      )
      : null;
    this.#tensors = this.#bias ? [this.#weight, this.#bias] : [this.#weight];
    this.#tape = this.createTape(this.#memory);

    // PyTorch's nn.Linear default: W and b uniform in ±1/√inFeatures.
    // Drawn in the kernels (as uniformGenerator(seed) would, W then b): a JavaScript loop
    // was most of a cold start's first layer (15–20 ms for 784×128).
    const bound = 1 / Math.sqrt(inFeatures);
    rt.kernels.fill_uniform(this.#weight.values.start, weights, bound, seed, 0);
    if (this.#bias) rt.kernels.fill_uniform(this.#bias.values.start, outFeatures, bound, seed, weights);
    this.zeroGrad();
  }

  /**
   * A layer holding PyTorch nn.Linear tensors: `weight` out×in (as `weight.tolist()`, or
   * `{ shape: [out, in], data }` row-major) and `bias` of out numbers (`bias.tolist()`, a
   * typed array, or `{ shape: [out], data }`; null for none): what `toTorch()` gives back.
   */
  static fromTorch(
    weight: number[][] | TorchTensor, bias: ArrayLike<number> | TorchTensor | null = null, options: Omit<LinearOptions, 'bias' | 'seed'> = {},
  ): Linear {
    const where = 'Linear.fromTorch';
    // Both read into copies before the layer allocates: they may be views of the module's memory, which allocating can detach.
    const [outFeatures, inFeatures, data] = torchMatrix(where, weight);
    const biasValues = bias === null ? null : torchVector(where, bias, outFeatures);
    const { activation, negativeSlope } = checkOptions(where, options, 'activation, negativeSlope');
    const layer = new Linear(inFeatures, outFeatures, { activation, negativeSlope, bias: bias !== null, seed: 0 });
    const w = layer.weight;
    for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) w[i * outFeatures + o] = data(o, i);
    if (biasValues !== null) layer.bias!.set(biasValues);
    return layer;
  }

  /** The parameters in PyTorch's nn.Linear layout: weight out×in, bias out (or null). */
  toTorch(): { weight: TorchTensor; bias: TorchTensor | null } {
    this.checkAlive('Linear.toTorch');
    const { inFeatures: din, outFeatures: dout } = this;
    const w = this.#weight.values.view;
    const data = new Float32Array(din * dout);
    for (let o = 0; o < dout; o++) for (let i = 0; i < din; i++) data[o * din + i] = w[i * dout + o];
    return { weight: { shape: [dout, din], data }, bias: this.#bias ? { shape: [dout], data: this.#bias.values.view.slice() } : null };
  }

  /** W, inFeatures×outFeatures row-major; writable. */
  get weight(): Float32Array {
    this.checkAlive('weight');
    return this.#weight.values.view;
  }

  /** b, outFeatures long, or null for a layer without bias; writable. */
  get bias(): Float32Array | null {
    this.checkAlive('bias');
    return this.#bias?.values.view ?? null;
  }

  /** dC/dW accumulated by `backward` since the last `zeroGrad`. */
  get weightGrad(): Float32Array {
    this.checkAlive('weightGrad');
    return this.#weight.grads.view;
  }

  /** dC/db accumulated by `backward`, or null for a layer without bias. */
  get biasGrad(): Float32Array | null {
    this.checkAlive('biasGrad');
    return this.#bias?.grads.view ?? null;
  }

  /**
   * Y = f(X·W + b). `x` holds `batch` rows of inFeatures (batch defaults to
   * x.length / inFeatures). Returns the batch×outFeatures output in `out` or a new
   * array, and keeps a copy of `x` for `backward`. `x` and `out` may be any arrays,
   * views of this package's memory (another layer's weight) included.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'Linear.forward';
    this.checkAlive(where);
    const { batch: rows, y } = forwardArguments(where, this.inFeatures, this.outFeatures, x, batch, out);
    this.forwardRows(rows);
    if (rows === 0) return y;
    const tape = this.#tape;
    return stagedCall(this.#rt.heap, x, y, () => {
      // A failed allocation changes nothing; from the first write on, until this forward succeeds, there is none to differentiate.
      const ws = this.#reserve(tape, rows);
      tape.batch = 0;
      return ws.x;
    }, (input) => this.forwardAt(tape, input, rows), rows * this.outFeatures);
  }

  /**
   * Given dY = dC/dY for the last forward (batch×outFeatures), accumulates
   * dW += Xᵀ·dZ and db += column sums of dZ, where dZ = dY ⊙ f'(Z) (dZ = dY without
   * an activation), and returns dX = dZ·Wᵀ (batch×inFeatures) in `out` or a new array.
   */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'Linear.backward';
    this.checkAlive(where);
    const empty = this.emptyBackward(where, dy, out);
    if (empty) return empty;
    const tape = this.#tape;
    const { inFeatures: din, outFeatures: dout } = this;
    const batch = tape.workspace === null ? 0 : tape.batch;
    const dx = backwardArguments(where, batch, din, dout, dy, out);
    return stagedCall(this.#rt.heap, dy, dx, () => tape.workspace!.dy, (at) => addingGradients(this.#tensors, () => this.backwardAt(tape, at)), batch * din);
  }

  /** @internal */
  outputWidth(inputWidth: number, where: string): number {
    checkInputWidth(where, 'a Linear layer', this.inFeatures, inputWidth);
    return this.outFeatures;
  }

  /** @internal */
  createTape(memory: Allocations): LinearTape {
    return { memory, workspace: null, batch: 0, input: 0 };
  }

  /** @internal */
  forwardAt(tape: LinearTape, input: number, batch: number): number {
    this.checkAlive('Linear.forward');
    const ws = this.#reserve(tape, batch);
    tape.batch = 0;
    const epilogue: Epilogue | undefined = this.#kind ? { kind: this.#kind, slope: this.#slope, y: ws.y } : undefined;
    this.productAt(input, batch, ws.z, epilogue);
    tape.input = input;
    tape.batch = batch;
    return epilogue ? ws.y : ws.z;
  }

  /** @internal */
  backwardAt(tape: LinearTape, dy: number): number {
    this.checkAlive('Linear.backward');
    const { inFeatures: din, outFeatures: dout } = this;
    const { batch } = tape;
    const ws = tape.workspace!;
    const rt = this.#rt;
    let dz = dy;
    if (this.#kind) {
      rt.kernels.activate_backward(this.#kind, this.#slope, FUSED_THRESHOLD, ws.z, ws.y, dy, ws.dz, batch * dout);
      dz = ws.dz;
    }
    this.inputGradientAt(dz, batch, ws.dx);
    // dW += Xᵀ·dZ: X read through swapped strides, accumulating.
    rt.gemm(din, dout, batch, tape.input, 1, din, dz, dout, 1, this.#weight.grads.start, dout, true);
    if (this.#bias) rt.kernels.add_column_sums(dz, batch, dout, this.#bias.grads.start);
    return ws.dx;
  }

  /** @internal */
  gradientTensors(): readonly Tensor[] {
    return this.#tensors;
  }

  /** @internal Z = X·W + b for `batch` rows at `input`, written to z, then Y = f(Z) if an epilogue is given. */
  productAt(input: number, batch: number, z: number, epilogue?: Epilogue): void {
    const { inFeatures: din, outFeatures: dout } = this;
    this.#rt.gemm(batch, dout, din, input, din, 1, this.#weight.values.start, dout, 1, z, dout, false, this.#bias?.values.start ?? 0, epilogue);
  }

  /** @internal dX = dZ·Wᵀ (batch×inFeatures) written to dx: W read through swapped strides. */
  inputGradientAt(dz: number, batch: number, dx: number): void {
    const { inFeatures: din, outFeatures: dout } = this;
    this.#rt.gemm(batch, din, dout, dz, dout, 1, this.#weight.values.start, 1, dout, dx, din, false);
  }

  /** @internal A copy of W (in×out row-major). */
  weightValues(): Float32Array {
    return this.#weight.values.view.slice();
  }

  /** @internal A copy of b, or null. */
  biasValues(): Float32Array | null {
    return this.#bias?.values.view.slice() ?? null;
  }

  /** @internal The activation as the kernels number it (0: none). */
  get kernelActivation(): number {
    return this.#kind;
  }

  /** @internal The leaky ReLU's slope. */
  get kernelSlope(): number {
    return this.#slope;
  }

  /**
   * An inference-only copy of this layer as it is now, with W packed once into the
   * panels the kernels read, so that no call packs W again: as float32, or with
   * `{ weights: 'bf16' }` or `'int8'` in half or a quarter of the bytes, and faster
   * where reading W is the bound (README: "Low-precision weights"). Later changes to
   * this layer do not reach the copy (freeze again to take them); it has its own
   * memory, freed by its `dispose`.
   */
  freeze(options?: FreezeOptions): FrozenLinear {
    const where = 'Linear.freeze';
    this.checkAlive(where);
    const { inFeatures, outFeatures, activation } = this;
    const weights = requestedFormat(where, options, inFeatures) ?? 'f32';
    return new FrozenLinear(this.#rt, {
      inFeatures, outFeatures, weight: this.#weight.values, bias: this.#bias?.values ?? null, activation, kind: this.#kind, slope: this.#slope,
    }, weights);
  }

  /** The learnable tensors, named as PyTorch names them: 'weight' (stored in×out here) and 'bias'. */
  parameters(): Parameter[] {
    this.checkAlive('Linear.parameters');
    const check = (where: string) => this.checkAlive(where);
    const { inFeatures, outFeatures } = this;
    const torch = { shape: [outFeatures, inFeatures], transposed: true }; // nn.Linear's weight is out×in
    const list = [createParameter('weight', [inFeatures, outFeatures], this.#weight, check, torch)];
    if (this.#bias) list.push(createParameter('bias', [this.outFeatures], this.#bias, check));
    return list;
  }

  /** Sets weightGrad and biasGrad to zero (which also makes gradients left incomplete by a failed backward whole again). */
  zeroGrad(): void {
    this.checkAlive('Linear.zeroGrad');
    for (const tensor of this.#tensors) {
      tensor.grads.view.fill(0);
      tensor.unfinished = 0;
    }
  }


  /** The tape's activation buffers for `batch` rows, grown (never shrunk) as batches grow. */
  #reserve(tape: LinearTape, batch: number): Workspace {
    const current = tape.workspace;
    if (current && current.capacity >= batch) return current;
    const next = allocateWorkspace(tape.memory, batch, this.inFeatures, this.outFeatures, this.#kind !== 0);
    if (current) tape.memory.release(current.start);
    tape.workspace = next;
    return next;
  }
}

/** A row-major float32 tensor with its shape, as PyTorch would hold it. */
export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

/** Rows, columns and an element reader of a PyTorch weight given either way. */
function torchMatrix(where: string, weight: number[][] | TorchTensor): [number, number, (r: number, c: number) => number] {
  if (Array.isArray(weight)) {
    const rows = weight.length, cols = Array.isArray(weight[0]) ? weight[0].length : 0;
    if (rows === 0 || cols === 0 || !weight.every((row) => Array.isArray(row) && row.length === cols)) {
      throw new TypeError(`${where}: weight must be a non-empty out×in array of equal rows; got ${describe(weight)}`);
    }
    const data = new Float32Array(rows * cols);
    // By index: forEach would skip a hole.
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = numberAt(where, `weight[${r}][${c}]`, weight[r]![c]);
    return [rows, cols, (r, c) => data[r * cols + c]];
  }
  const shape = (weight as TorchTensor | null)?.shape;
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new TypeError(`${where}: weight must be number[][] or { shape: [out, in], data: Float32Array }; got ${describe(weight)}`);
  }
  const [rows, cols] = shape;
  checkSize(where, 'weight.shape[0]', rows);
  checkSize(where, 'weight.shape[1]', cols);
  const source = weight.data;
  checkFloat32Array(where, 'weight.data', source, rows * cols, `out·in = ${rows}·${cols}`);
  // A copy made now, by the engine (not the array's own methods): the layer's allocation may detach a view of the module's memory.
  const data = new Float32Array(lengthOf(source));
  copyInto(data, source);
  return [rows, cols, (r, c) => data[r * cols + c]];
}

/** A bias of `length` numbers given as PyTorch's (`bias.tolist()`, a typed array, or toTorch()'s { shape: [out], data }), copied. */
function torchVector(where: string, bias: ArrayLike<number> | TorchTensor, length: number): Float32Array {
  const expected = `bias must hold outFeatures = ${length} numbers or be null`;
  if (typeof bias !== 'object' || bias === null) throw new TypeError(`${where}: ${expected}; got ${describe(bias)}`);
  if ('shape' in bias) {
    const { shape, data } = bias; // each read once
    if (!Array.isArray(shape) || shape.length !== 1 || shape[0] !== length) {
      throw new RangeError(`${where}: bias.shape must be [${length}]; got ${describe(shape)}`);
    }
    checkFloat32Array(where, 'bias.data', data, length, 'outFeatures');
    const copy = new Float32Array(length);
    copyInto(copy, data);
    return copy;
  }
  const values = Array.from(bias as ArrayLike<unknown>);
  if (values.length !== length) throw new RangeError(`${where}: ${expected}; got ${describe(bias)}`);
  return Float32Array.from(values, (value, i) => numberAt(where, `bias[${i}]`, value));
}

/** `value`, which must be a number (NaN and ±Inf are numbers: PyTorch's tensors hold them too). */
function numberAt(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: ${name} must be a number; got ${describe(value)}`);
  return value;
}

/** What a Linear's forward keeps for its backward, at one place of use. */
interface LinearTape {
  /** Where the buffers come from: the memory of the tape's owner. */
  memory: Allocations;
  workspace: Workspace | null;
  /** Batch of the last forward; 0 before any, and while (or after) one fails. */
  batch: number;
  /** Where that forward's input is: the workspace's copy, or the previous layer's output. */
  input: number;
}

/**
 * Activation buffers of a tape: the input X (when copied in), Z = X·W + b, Y = f(Z)
 * (Z itself without an activation), the incoming dY, dZ = dY ⊙ f'(Z), and dX.
 */
interface Workspace {
  start: number;
  capacity: number;
  x: number;
  z: number;
  y: number;
  dy: number;
  dz: number;
  dx: number;
}

function allocateWorkspace(memory: Allocations, capacity: number, din: number, dout: number, activated: boolean): Workspace {
  const inputBytes = alignUp(capacity * din * 4);
  const outputBytes = alignUp(capacity * dout * 4);
  const outputs = activated ? 4 : 2;
  const start = memory.alloc(2 * inputBytes + outputs * outputBytes);
  const z = start + inputBytes;
  const y = activated ? z + outputBytes : z;
  const dy = y + outputBytes;
  const dz = activated ? dy + outputBytes : dy;
  return { start, capacity, x: start, z, y, dy, dz, dx: dz + outputBytes };
}
