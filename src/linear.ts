import { checkFloat32Array, checkSize, describe } from './errors.js';
import { alignUp, Allocations, HeapArray } from './heap.js';
import { fillUniform, uniformGenerator } from './random.js';
import { runtime, type Runtime } from './runtime.js';

export interface LinearOptions {
  /** Learn an additive bias b (default true). */
  bias?: boolean;
  /** Seed of the initial weights: the same seed gives the same weights everywhere (default: random). */
  seed?: number;
}

/**
 * A fully connected layer, Y = X·W + b, for a batch of B rows.
 *
 * W is inFeatures×outFeatures, row-major. Parameters, gradients and the saved
 * input live in the WebAssembly memory; `weight`, `bias`, `weightGrad` and
 * `biasGrad` are live views of them (re-read the property after other simd-linear
 * calls: a view taken earlier may be detached when the memory grows). `forward`
 * and `backward` return arrays the caller owns.
 */
export class Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;

  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #weight: HeapArray;
  readonly #weightGrad: HeapArray;
  readonly #bias: HeapArray | null;
  readonly #biasGrad: HeapArray | null;
  #workspace: Workspace | null = null;
  /** Batch of the last forward, whose input backward differentiates; 0 before any. */
  #batch = 0;
  #disposed = false;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    const where = 'new Linear';
    const rt = runtime(where);
    checkSize(where, 'inFeatures', inFeatures);
    checkSize(where, 'outFeatures', outFeatures);
    const { bias = true, seed = Math.floor(Math.random() * 2 ** 32) } = options;
    if (typeof bias !== 'boolean') throw new TypeError(`${where}: options.bias must be a boolean; got ${describe(bias)}`);
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new TypeError(`${where}: options.seed must be a finite number; got ${describe(seed)}`);
    }
    this.#rt = rt;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;

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
   * Y = X·W + b. `x` holds `batch` rows of inFeatures (batch defaults to
   * x.length / inFeatures). Returns the batch×outFeatures output in `out` or a new
   * array, and keeps a copy of `x` for `backward`.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'Linear.forward';
    this.#check(where);
    const { inFeatures: din, outFeatures: dout } = this;
    if (batch === undefined) {
      checkFloat32Array(where, 'x', x);
      if (x.length === 0 || x.length % din !== 0) {
        throw new RangeError(`${where}: x must hold whole rows of inFeatures = ${din} floats; got ${describe(x)}`);
      }
      batch = x.length / din;
    } else {
      checkSize(where, 'batch', batch);
      checkFloat32Array(where, 'x', x, batch * din, `batch·inFeatures = ${batch}·${din}`);
    }
    const y = out ?? new Float32Array(batch * dout);
    if (out !== undefined) checkFloat32Array(where, 'out', y, batch * dout, `batch·outFeatures = ${batch}·${dout}`);

    const ws = this.#reserve(batch);
    const heap = this.#rt.heap;
    heap.f32(ws.x, batch * din).set(x);
    this.#rt.gemm(
      batch, dout, din,
      ws.x, din, 1,
      this.#weight.start, dout, 1,
      ws.y, dout, false, this.#bias?.start ?? 0,
    );
    y.set(heap.f32(ws.y, y.length));
    this.#batch = batch;
    return y;
  }

  /**
   * Given dY = dC/dY for the last forward (batch×outFeatures), accumulates
   * dW += Xᵀ·dY and db += column sums of dY, and returns dX = dY·Wᵀ
   * (batch×inFeatures) in `out` or a new array.
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

    const rt = this.#rt;
    rt.heap.f32(ws.dy, dy.length).set(dy);
    // dX = dY·Wᵀ: W read through swapped strides.
    rt.gemm(batch, din, dout, ws.dy, dout, 1, this.#weight.start, 1, dout, ws.dx, din, false);
    // dW += Xᵀ·dY: X read through swapped strides, accumulating.
    rt.gemm(din, dout, batch, ws.x, 1, din, ws.dy, dout, 1, this.#weightGrad.start, dout, true);
    if (this.#biasGrad) rt.kernels.add_column_sums(ws.dy, batch, dout, this.#biasGrad.start);
    dx.set(rt.heap.f32(ws.dx, dx.length));
    return dx;
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
    const next = allocateWorkspace(this.#memory, batch, this.inFeatures, this.outFeatures);
    if (current) this.#memory.release(current.start);
    this.#workspace = next;
    return next;
  }
}

/** Per-layer activation buffers: the saved input X, the output Y, the incoming dY and dX. */
interface Workspace {
  start: number;
  capacity: number;
  x: number;
  y: number;
  dy: number;
  dx: number;
}

function allocateWorkspace(memory: Allocations, capacity: number, din: number, dout: number): Workspace {
  const inputBytes = alignUp(capacity * din * 4);
  const outputBytes = alignUp(capacity * dout * 4);
  const start = memory.alloc(2 * inputBytes + 2 * outputBytes);
  return {
    start,
    capacity,
    x: start,
    y: start + inputBytes,
    dy: start + inputBytes + outputBytes,
    dx: start + inputBytes + 2 * outputBytes,
  };
}
