import type { HeapArray } from './heap.js';

/**
 * A learnable tensor of a layer: its values and the gradient `backward` accumulates,
 * both live views of the module's memory (re-read them after other calls).
 */
export class Parameter {
  constructor(
    /** PyTorch-style name within its layer: 'weight' or 'bias'. */
    readonly name: string,
    /** Shape as stored here (a Linear weight is inFeatures×outFeatures). */
    readonly shape: readonly number[],
    private readonly values: HeapArray,
    private readonly grads: HeapArray,
    private readonly check: (where: string) => void,
  ) {}

  get value(): Float32Array {
    this.check(`Parameter ${this.name}`);
    return this.values.view;
  }

  get grad(): Float32Array {
    this.check(`Parameter ${this.name}`);
    return this.grads.view;
  }

  get length(): number {
    return this.values.length;
  }

  /** Addresses in the module's memory, for the optimizers' kernels; throws once the layer is disposed. */
  addresses(where: string): { value: number; grad: number } {
    this.check(where);
    return { value: this.values.start, grad: this.grads.start };
  }
}

/**
 * What a layer offers `Sequential`: forward and backward between buffers of the
 * module's memory, so activations pass from layer to layer without copies. An
 * address returned stays valid until the layer's next forward (or backward).
 */
export interface Layer {
  /** The width of the output for rows `inputWidth` wide; throws naming `where` if the layer cannot take them. */
  outputWidth(inputWidth: number, where: string): number;
  /** Runs forward on `batch` rows of `width` floats at `input`; returns the output's address. */
  forwardAt(input: number, batch: number, width: number): number;
  /** Runs backward for dY at `dy` (for the last forwardAt); returns dX's address. */
  backwardAt(dy: number): number;
  parameters(): Parameter[];
  zeroGrad(): void;
  /** An inference-only copy of the layer as it is now, with memory of its own (for Sequential.freeze). */
  freeze?(): Layer;
  dispose(): void;
}
