import { activationKind, checkSlope, type Activation } from './activations.js';
import { checkFloat32Array, checkInputWidth, checkSize, describe, forwardArguments } from './errors.js';
import { FrozenLinear } from './frozen-linear.js';
import { alignUp, Allocations, HeapArray } from './heap.js';
import { Parameter, type Layer } from './layer.js';
import { fillUniform, uniformGenerator } from './random.js';
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
export class Linear implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The fused activation, or null. */
  readonly activation: Activation | null;

  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #weight: HeapArray;
  readonly #weightGrad: HeapArray;
  readonly #bias: HeapArray | null;
  readonly #biasGrad: HeapArray | null;
  readonly #kind: number;
  readonly #slope: number;
  #workspace: Workspace | null = null;
  /** Batch of the last forward, whose input backward differentiates; 0 before any. */
  #batch = 0;
  /** Where that input is: this layer's own copy, or the previous layer's output. */
  #input = 0;
  #disposed = false;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    const where = 'new Linear';
    const rt = runtime(where);
    checkSize(where, 'inFeatures', inFeatures);
    checkSize(where, 'outFeatures', outFeatures);
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`${where}: options must be an object; got ${describe(options)}`);
    }
    const { bias = true, seed = Math.floor(Math.random() * 2 ** 32), activation, negativeSlope = 0.01 } = options;
    if (typeof bias !== 'boolean') throw new TypeError(`${where}: options.bias must be a boolean; got ${describe(bias)}`);
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new TypeError(`${where}: options.seed must be a finite number; got ${describe(seed)}`);
    }
    this.#kind = activationKind(where, activation);
    this.#slope = checkSlope(where, negativeSlope);
    this.#rt = rt;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.activation = activation ?? null;

    const weights = inFeatures * outFeatures;
    const weightBytes = alignUp(weights * 4);
    const biasBytes = bias ? alignUp(outFeatures * 4) : 0;
    const heap = rt.heap;
    this.#memory = new Allocations(heap, this);
    // One block holds W, dW, b and db, so a layer is created whole or not at all.
    const parameters = this.#memory.alloc(2 * weightBytes + 2 * biasBytes);
    this.#weight = new HeapArray(heap, parameters, weights);
    this.#weightGrad = new HeapArray(heap, parameters + weightBytes, weights);
    this.#bias = bias ? new HeapArray(heap, parameters + 2 * weightBytes, outFeatures) : null;
    this.#biasGrad = bias ? new HeapArray(heap, parameters + 2 * weightBytes + biasBytes, outFeatures) : null;

    // PyTorch's nn.Linear default: W and b uniform in ±1/√inFeatures.
    const next = uniformGenerator(seed);
    const bound = 1 / Math.sqrt(inFeatures);
    fillUniform(this.#weight.view, bound, next);
    if (this.#bias) fillUniform(this.#bias.view, bound, next);
    this.zeroGrad();
  }

  /**
   * A layer holding PyTorch nn.Linear tensors: `weight` out×in (as `weight.tolist()`, or
   * `{ shape: [out, in], data }` row-major) and `bias` of out values (or null for none).
   */
  static fromTorch(
    weight: number[][] | TorchTensor, bias: ArrayLike<number> | null = null, options: Omit<LinearOptions, 'bias' | 'seed'> = {},
  ): Linear {
    const where = 'Linear.fromTorch';
    const [outFeatures, inFeatures, data] = torchMatrix(where, weight);
    if (bias !== null && (typeof bias !== 'object' || bias.length !== outFeatures)) {
      throw new RangeError(`${where}: bias must hold outFeatures = ${outFeatures} values or be null; got ${describe(bias)}`);
    }
    const layer = new Linear(inFeatures, outFeatures, { ...options, bias: bias !== null, seed: 0 });
    const w = layer.weight;
    for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) w[i * outFeatures + o] = data(o, i);
    if (bias !== null) layer.bias!.set(Array.from(bias));
    return layer;
  }

  /** The parameters in PyTorch's nn.Linear layout: weight out×in, bias out (or null). */
  toTorch(): { weight: TorchTensor; bias: TorchTensor | null } {
    this.#check('Linear.toTorch');
    const { inFeatures: din, outFeatures: dout } = this;
    const w = this.#weight.view;
    const data = new Float32Array(din * dout);
    for (let o = 0; o < dout; o++) for (let i = 0; i < din; i++) data[o * din + i] = w[i * dout + o];
    return { weight: { shape: [dout, din], data }, bias: this.#bias ? { shape: [dout], data: this.#bias.view.slice() } : null };
  }

  /** W, inFeatures×outFeatures row-major; writable. */
  get weight(): Float32Array {
    this.#check('weight');
    return this.#weight.view;
  }

  /** b, outFeatures long, or null for a layer without bias; writable. */
  get bias(): Float32Array | null {
    this.#check('bias');
    return this.#bias?.view ?? null;
  }

  /** dC/dW accumulated by `backward` since the last `zeroGrad`. */
  get weightGrad(): Float32Array {
    this.#check('weightGrad');
    return this.#weightGrad.view;
  }

  /** dC/db accumulated by `backward`, or null for a layer without bias. */
  get biasGrad(): Float32Array | null {
    this.#check('biasGrad');
    return this.#biasGrad?.view ?? null;
  }

  /**
   * Y = f(X·W + b). `x` holds `batch` rows of inFeatures (batch defaults to
   * x.length / inFeatures). Returns the batch×outFeatures output in `out` or a new
   * array, and keeps a copy of `x` for `backward`.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'Linear.forward';
    this.#check(where);
    const { batch: rows, y } = forwardArguments(where, this.inFeatures, this.outFeatures, x, batch, out);
    const ws = this.#reserve(rows);
    const heap = this.#rt.heap;
    heap.f32(ws.x, x.length).set(x);
    y.set(heap.f32(this.forwardAt(ws.x, rows), y.length));
    return y;
  }

  /**
   * Given dY = dC/dY for the last forward (batch×outFeatures), accumulates
   * dW += Xᵀ·dZ and db += column sums of dZ, where dZ = dY ⊙ f'(Z) (dZ = dY without
   * an activation), and returns dX = dZ·Wᵀ (batch×inFeatures) in `out` or a new array.
   */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'Linear.backward';
    this.#check(where);
    const batch = this.#batch;
    const ws = this.#workspace;
    if (batch === 0 || ws === null) throw new Error(`${where}: called before forward; run forward(x) first`);
    const { inFeatures: din, outFeatures: dout } = this;
    checkFloat32Array(where, 'dy', dy, batch * dout, `batch·outFeatures = ${batch}·${dout}, from the last forward`);
    const dx = out ?? new Float32Array(batch * din);
    if (out !== undefined) checkFloat32Array(where, 'out', dx, batch * din, `batch·inFeatures = ${batch}·${din}`);

    this.#rt.heap.f32(ws.dy, dy.length).set(dy);
    dx.set(this.#rt.heap.f32(this.backwardAt(ws.dy), dx.length));
    return dx;
  }

  outputWidth(inputWidth: number, where: string): number {
    checkInputWidth(where, 'a Linear layer', this.inFeatures, inputWidth);
    return this.outFeatures;
  }

  forwardAt(input: number, batch: number): number {
    const { inFeatures: din, outFeatures: dout } = this;
    const ws = this.#reserve(batch);
    const epilogue: Epilogue | undefined = this.#kind ? { kind: this.#kind, slope: this.#slope, y: ws.y } : undefined;
    this.#rt.gemm(batch, dout, din, input, din, 1, this.#weight.start, dout, 1, ws.z, dout, false, this.#bias?.start ?? 0, epilogue);
    this.#input = input;
    this.#batch = batch;
    return epilogue ? ws.y : ws.z;
  }

  backwardAt(dy: number): number {
    const { inFeatures: din, outFeatures: dout } = this;
    const batch = this.#batch;
    const ws = this.#workspace!;
    const rt = this.#rt;
    let dz = dy;
    if (this.#kind) {
      rt.kernels.activate_backward(this.#kind, this.#slope, ws.z, ws.y, dy, ws.dz, batch * dout);
      dz = ws.dz;
    }
    // dX = dZ·Wᵀ: W read through swapped strides.
    rt.gemm(batch, din, dout, dz, dout, 1, this.#weight.start, 1, dout, ws.dx, din, false);
    // dW += Xᵀ·dZ: X read through swapped strides, accumulating.
    rt.gemm(din, dout, batch, this.#input, 1, din, dz, dout, 1, this.#weightGrad.start, dout, true);
    if (this.#biasGrad) rt.kernels.add_column_sums(dz, batch, dout, this.#biasGrad.start);
    return ws.dx;
  }

  /**
   * An inference-only copy of this layer as it is now, with W packed once into the
   * panels the kernels read, so that no call packs W again. Later changes to this
   * layer do not reach the copy (freeze again to take them); it has its own memory,
   * freed by its `dispose`.
   */
  freeze(): FrozenLinear {
    this.#check('Linear.freeze');
    const { inFeatures, outFeatures, activation } = this;
    return new FrozenLinear(this.#rt, {
      inFeatures, outFeatures, weight: this.#weight, bias: this.#bias, activation, kind: this.#kind, slope: this.#slope,
    });
  }

  /** The learnable tensors, named as PyTorch names them: 'weight' (stored in×out here) and 'bias'. */
  parameters(): Parameter[] {
    this.#check('Linear.parameters');
    const check = (where: string) => this.#check(where);
    const list = [new Parameter('weight', [this.inFeatures, this.outFeatures], this.#weight, this.#weightGrad, check)];
    if (this.#bias) list.push(new Parameter('bias', [this.outFeatures], this.#bias, this.#biasGrad!, check));
    return list;
  }

  /** Sets weightGrad and biasGrad to zero. */
  zeroGrad(): void {
    this.#check('Linear.zeroGrad');
    this.#weightGrad.view.fill(0);
    this.#biasGrad?.view.fill(0);
  }

  /**
   * Frees the layer's memory; any later use throws. Calling it again does nothing.
   * A layer that is garbage-collected without it is freed all the same, later.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#memory.releaseAll();
    this.#workspace = null;
  }

  /** `using layer = new Linear(...)` disposes the layer at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #check(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this Linear layer was disposed`);
  }

  /** The activation buffers for `batch` rows, grown (never shrunk) as batches grow. */
  #reserve(batch: number): Workspace {
    const current = this.#workspace;
    if (current && current.capacity >= batch) return current;
    const next = allocateWorkspace(this.#memory, batch, this.inFeatures, this.outFeatures, this.#kind !== 0);
    if (current) this.#memory.release(current.start);
    this.#workspace = next;
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
    return [rows, cols, (r, c) => weight[r][c]];
  }
  const shape = (weight as TorchTensor | null)?.shape;
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new TypeError(`${where}: weight must be number[][] or { shape: [out, in], data: Float32Array }; got ${describe(weight)}`);
  }
  const [rows, cols] = shape;
  checkSize(where, 'weight.shape[0]', rows);
  checkSize(where, 'weight.shape[1]', cols);
  checkFloat32Array(where, 'weight.data', weight.data, rows * cols, `out·in = ${rows}·${cols}`);
  return [rows, cols, (r, c) => weight.data[r * cols + c]];
}

/**
 * Per-layer activation buffers: the input X (when copied in), Z = X·W + b, Y = f(Z)
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
