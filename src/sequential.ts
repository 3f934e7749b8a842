import { checkFloat32Array, checkSize, describe } from './errors.js';
import { Allocations, StagingBuffer } from './heap.js';
import { FrozenLinear } from './frozen-linear.js';
import { Linear } from './linear.js';
import type { Layer, Parameter } from './layer.js';
import { runtime, type Runtime } from './runtime.js';
import { loadStateDict, stateDict, type StateDict } from './serialization.js';

/** A parameter with the name PyTorch's nn.Sequential gives it: `<layer index>.<name>`. */
export interface NamedParameter {
  name: string;
  parameter: Parameter;
}

/**
 * Layers applied in order. Activations stay in the module's memory from layer to
 * layer; only the model's input and output cross into JavaScript.
 */
export class Sequential {
  readonly layers: readonly Layer[];
  readonly #rt: Runtime;
  readonly #memory: Allocations;
  /**
   * Staging for the model's input and, separately, for the incoming dY: the first
   * layer keeps its input's address for backward, so dY must not overwrite it.
   */
  readonly #input: StagingBuffer;
  readonly #gradient: StagingBuffer;
  /** Shapes of the last forward: batch, and the width entering each layer (and leaving the last). */
  #batch = 0;
  #widths: number[] = [];
  /** The first frozen layer (Linear.freeze()), which has no backward; -1 for none. */
  readonly #frozenAt: number;
  #disposed = false;

  constructor(layers: Layer[]) {
    const where = 'new Sequential';
    this.#rt = runtime(where);
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new TypeError(`${where}: layers must be a non-empty array of layers; got ${describe(layers)}`);
    }
    layers.forEach((layer, i) => {
      if (!layer || typeof (layer as Layer).forwardAt !== 'function') {
        throw new TypeError(`${where}: layers[${i}] must be a layer (Linear, ReLU, …); got ${describe(layer)}`);
      }
    });
    // Widths must chain: each Linear's inFeatures is the width reaching it.
    let width: number | undefined;
    layers.forEach((layer, i) => {
      if (width !== undefined) width = layer.outputWidth(width, `new Sequential: layers[${i}]`);
      else if (layer instanceof Linear || layer instanceof FrozenLinear) width = layer.outFeatures;
    });
    this.layers = [...layers];
    this.#frozenAt = layers.findIndex((layer) => layer instanceof FrozenLinear);
    this.#memory = new Allocations(this.#rt.heap, this);
    this.#input = new StagingBuffer(this.#memory);
    this.#gradient = new StagingBuffer(this.#memory);
  }

  /** The width of the model's input rows: the first Linear's inFeatures (undefined if it has none). */
  get inFeatures(): number | undefined {
    for (const layer of this.layers) if (layer instanceof Linear || layer instanceof FrozenLinear) return layer.inFeatures;
    return undefined;
  }

  /**
   * Runs every layer on `batch` rows of x (batch defaults to x.length / inFeatures).
   * Returns the last layer's output in `out` or a new array.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'Sequential.forward';
    this.#check(where);
    checkFloat32Array(where, 'x', x);
    const inFeatures = this.inFeatures;
    if (batch === undefined) {
      if (inFeatures === undefined) batch = 1;
      else if (x.length === 0 || x.length % inFeatures !== 0) {
        throw new RangeError(`${where}: x must hold whole rows of inFeatures = ${inFeatures} floats; got ${describe(x)}`);
      } else batch = x.length / inFeatures;
    } else {
      checkSize(where, 'batch', batch);
      if (x.length % batch !== 0 || (inFeatures !== undefined && x.length !== batch * inFeatures)) {
        throw new RangeError(
          `${where}: x must be a Float32Array of length ${inFeatures === undefined ? `a multiple of batch = ${batch}` : `${batch * inFeatures} (batch·inFeatures = ${batch}·${inFeatures})`}; got ${describe(x)}`,
        );
      }
    }
    const widths = [x.length / batch];
    this.layers.forEach((layer, i) => widths.push(layer.outputWidth(widths[i], `${where}: layers[${i}]`)));
    const outputLength = batch * widths[widths.length - 1];
    const y = out ?? new Float32Array(outputLength);
    if (out !== undefined) checkFloat32Array(where, 'out', y, outputLength, `batch·output width = ${batch}·${widths[widths.length - 1]}`);

    const staging = this.#input.reserve(x.length);
    const heap = this.#rt.heap;
    heap.f32(staging, x.length).set(x);
    let at = staging;
    this.layers.forEach((layer, i) => { at = layer.forwardAt(at, batch, widths[i]); });
    y.set(heap.f32(at, outputLength));
    this.#batch = batch;
    this.#widths = widths;
    return y;
  }

  /** Backpropagates dY of the last forward through every layer; returns dX in `out` or a new array. */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'Sequential.backward';
    this.#check(where);
    const batch = this.#batch;
    if (batch === 0) throw new Error(`${where}: called before forward; run forward(x) first`);
    if (this.#frozenAt >= 0) throw new Error(`${where}: layers[${this.#frozenAt}] is frozen (an inference copy): this model has no backward`);
    const widths = this.#widths;
    const outWidth = widths[widths.length - 1];
    checkFloat32Array(where, 'dy', dy, batch * outWidth, `batch·output width = ${batch}·${outWidth}, from the last forward`);
    const dx = out ?? new Float32Array(batch * widths[0]);
    if (out !== undefined) checkFloat32Array(where, 'out', dx, batch * widths[0], `batch·input width = ${batch}·${widths[0]}`);

    const heap = this.#rt.heap;
    const staging = this.#gradient.reserve(dy.length);
    heap.f32(staging, dy.length).set(dy);
    let at = staging;
    for (let i = this.layers.length - 1; i >= 0; i--) at = this.layers[i].backwardAt(at);
    dx.set(heap.f32(at, dx.length));
    return dx;
  }

  /** Every parameter, in layer order. */
  parameters(): Parameter[] {
    return this.namedParameters().map(({ parameter }) => parameter);
  }

  /** Every parameter with its PyTorch name ('0.weight', '0.bias', '2.weight', …). */
  namedParameters(): NamedParameter[] {
    this.#check('Sequential.parameters');
    return this.layers.flatMap((layer, i) => layer.parameters().map((parameter) => ({ name: `${i}.${parameter.name}`, parameter })));
  }

  /** A copy of every parameter, named and laid out as PyTorch's `model.state_dict()` (weights out×in). */
  stateDict(): StateDict {
    return stateDict(this);
  }

  /** Sets every parameter from a state dict with exactly this model's names and PyTorch's shapes; unchanged on any error. */
  loadStateDict(state: StateDict): void {
    loadStateDict(this, state);
  }

  zeroGrad(): void {
    this.#check('Sequential.zeroGrad');
    for (const layer of this.layers) layer.zeroGrad();
  }

  /**
   * An inference-only copy of the model as it is now: a Sequential of every layer's
   * frozen copy (a Linear's W packed once: Linear.freeze()), with memory of its own.
   * Later changes to this model do not reach it; it refuses backward.
   */
  freeze(): Sequential {
    const where = 'Sequential.freeze';
    this.#check(where);
    const copies: Layer[] = [];
    try {
      this.layers.forEach((layer, i) => {
        if (typeof layer.freeze !== 'function') throw new TypeError(`${where}: layers[${i}] has no freeze(), so it cannot be copied`);
        copies.push(layer.freeze());
      });
      return new Sequential(copies);
    } catch (error) {
      copies.forEach((copy) => copy.dispose()); // nothing half-made is left behind
      throw error;
    }
  }

  /** Frees the model and every layer in it. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const layer of this.layers) layer.dispose();
    this.#memory.releaseAll();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #check(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this Sequential model was disposed`);
  }

}
