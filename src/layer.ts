import { copyInto, lengthOf, Operand, retire } from './arrays.js';
import { checkFloat32Array, describe, outputArray } from './errors.js';
import { Allocations, type Heap, type HeapArray } from './heap.js';
import type { FreezeOptions } from './frozen-linear.js';
import type { NamedParameter } from './sequential.js';

/**
 * A learnable tensor's memory: its values, the gradient backward accumulates, and
 * whether that gradient is whole. One per tensor of a layer, however many
 * `Parameter` handles `parameters()` hands out for it.
 */
export class Tensor {
  /**
   * Backwards begun on the gradient and not ended: non-zero while one runs, and for good
   * after one that threw part-way (until zeroGrad()).
   */
  unfinished = 0;

  constructor(readonly values: HeapArray, readonly grads: HeapArray) {}

  get gradientComplete(): boolean {
    return this.unfinished === 0;
  }
}

let constructing = false;
let internalsOf: (parameter: Parameter) => { tensor: Tensor; check: (where: string) => void; transposedInTorch: boolean };

/** How a parameter is laid out in PyTorch: its shape there, and whether its data is our matrix transposed. */
export interface TorchLayout {
  shape: readonly number[];
  transposed: boolean;
}

/**
 * A learnable tensor of a layer: its values and the gradient `backward` accumulates,
 * both live views of the module's memory (re-read them after other calls). Only a
 * layer's `parameters()` makes them: a Parameter is a capability to write that
 * layer's memory, so it cannot be constructed (or imitated) by other code.
 */
export class Parameter {
  readonly #tensor: Tensor;
  readonly #check: (where: string) => void;
  readonly #transposedInTorch: boolean;
  /** Its shape in PyTorch's layout (a Linear weight is out×in there), as state dicts and safetensors files hold it. */
  readonly torchShape: readonly number[];

  static {
    internalsOf = (parameter) => ({ tensor: parameter.#tensor, check: parameter.#check, transposedInTorch: parameter.#transposedInTorch });
  }

  /** @hidden Made by layers (createParameter); throws for anyone else. */
  constructor(
    /** PyTorch-style name within its layer: 'weight' or 'bias'. */
    readonly name: string,
    /** Shape as stored here (a Linear weight is inFeatures×outFeatures). */
    readonly shape: readonly number[],
    tensor: Tensor,
    check: (where: string) => void,
    torch: TorchLayout,
  ) {
    if (!constructing) throw new TypeError("new Parameter: parameters come from a layer's parameters(); they cannot be constructed");
    this.#tensor = tensor;
    this.#check = check;
    this.#transposedInTorch = torch.transposed;
    this.torchShape = Object.freeze([...torch.shape]);
    Object.freeze(this.shape);
  }

  /** True for a Parameter made by a layer of this package (not an object that only inherits its prototype). */
  static isParameter(value: unknown): value is Parameter {
    return typeof value === 'object' && value !== null && #tensor in value;
  }

  get value(): Float32Array {
    this.#check(`Parameter ${this.name}`);
    return this.#tensor.values.view;
  }

  get grad(): Float32Array {
    this.#check(`Parameter ${this.name}`);
    return this.#tensor.grads.view;
  }

  get length(): number {
    return this.#tensor.values.length;
  }
}

/**
 * A handle on `tensor` for `parameters()`; `check` throws once its layer is disposed.
 * `torch` says how PyTorch lays it out (by default as here).
 */
export function createParameter(
  name: string, shape: number[], tensor: Tensor, check: (where: string) => void, torch: TorchLayout = { shape, transposed: false },
): Parameter {
  constructing = true;
  try {
    return new Parameter(name, shape, tensor, check, torch);
  } finally {
    constructing = false;
  }
}

/** The parameters `params` gives: a list of them, or a layer or model whose `parameters()` lists them. */
export function parameterList(where: string, params: unknown): Parameter[] {
  const list: unknown = Array.isArray(params) ? params
    : typeof (params as { parameters?: unknown } | null)?.parameters === 'function' ? (params as { parameters(): unknown }).parameters() : undefined;
  if (!Array.isArray(list) || !list.every((p) => Parameter.isParameter(p))) {
    throw new TypeError(`${where}: params must be a list of parameters (model.parameters()) or a model; got ${describe(params)}`);
  }
  return list;
}

/** Whether PyTorch holds the parameter's matrix transposed (a Linear weight: in×out here, out×in there). */
export function transposedInTorch(parameter: Parameter): boolean {
  return internalsOf(parameter).transposedInTorch;
}

/** The tensor behind a parameter: two handles on one tensor share it. */
export function parameterTensor(parameter: Parameter): Tensor {
  return internalsOf(parameter).tensor;
}

/**
 * Addresses in the module's memory for the optimizers' kernels. Throws, naming
 * `where`, once the layer is disposed or while the gradient is incomplete (a
 * backward failed part-way: stepping on it would apply half a gradient).
 */
export function parameterAddresses(parameter: Parameter, where: string): { value: number; grad: number } {
  const { tensor, check } = internalsOf(parameter);
  check(where);
  if (!tensor.gradientComplete) {
    throw new Error(
      `${where}: the gradient of parameter ${parameter.name} is incomplete (a backward failed part-way); ` +
      'call zeroGrad() and run backward again before stepping',
    );
  }
  return { value: tensor.values.start, grad: tensor.grads.start };
}

/**
 * `run`, a backward adding to the gradients of `tensors`: they are marked as being added to
 * until it returns, so one that throws part-way leaves them incomplete, and no optimizer
 * steps on half a gradient until zeroGrad().
 */
export function addingGradients<T>(tensors: readonly Tensor[], run: () => T): T {
  for (const tensor of tensors) tensor.unfinished++;
  const result = run();
  for (const tensor of tensors) tensor.unfinished--;
  return result;
}

/** `check` of each parameter; the index goes into the message only of one that fails (no text built otherwise). */
export function eachChecked<T>(where: string, params: readonly Parameter[], check: (parameter: Parameter, where: string) => T): T[] {
  return params.map((p, i) => { try { return check(p, where); } catch { return check(p, `${where}: params[${i}]`); } });
}

/** Throws, naming `where`, once the parameter's layer is disposed. */
export function checkParameter(parameter: Parameter, where: string): void {
  internalsOf(parameter).check(where);
}

/** Zeroes a parameter's gradient, which makes it whole again. */
export function zeroGradient(parameter: Parameter): void {
  parameter.grad.fill(0);
  internalsOf(parameter).tensor.unfinished = 0;
}

/**
 * A layer of the user's own, for `Sequential`: forward and backward on Float32Arrays,
 * as `Linear.forward(x, batch)` and `Linear.backward(dy)` take them. The model copies
 * activations in and out of the module's memory around it. Only `forward` is required:
 * without `backward` the model has no backward; `parameters()` may return parameters of
 * this package's layers (a layer wrapping a Linear), `zeroGrad`, `freeze` and `dispose`
 * are called when the model's are.
 */
export interface Layer {
  /** The width of the rows it takes and gives, if fixed: a model checks that widths chain before it runs. */
  readonly inFeatures?: number;
  readonly outFeatures?: number;
  forward(x: Float32Array, batch: number): Float32Array;
  backward?(dy: Float32Array): Float32Array;
  parameters?(): Parameter[];
  /**
   * Its parameters with a name each (`a.weight`, `b.weight`): what a model names them by
   * (`<index>.<name>`) where the layer wraps several layers whose own names would repeat.
   */
  namedParameters?(): NamedParameter[];
  zeroGrad?(): void;
  /** An inference copy; `Sequential.freeze(options)` passes its options on. */
  freeze?(options?: FreezeOptions): Layer;
  /** Training mode (mode true) or eval mode, as torch.nn.Module.train: `Sequential.train()` / `eval()` call it. */
  train?(mode?: boolean): unknown;
  dispose?(): void;
}

/**
 * The library's own layers. They pass activations to `Sequential` as addresses in the
 * module's memory, without copies; the brand makes sure no other object does (an
 * address from a user object could read or write any layer's memory).
 *
 * The state a forward keeps for its backward lives on a tape, one per place the layer
 * is used (its own, for `forward`/`backward`, and one per position in each model), so a
 * layer used twice in a model differentiates both uses.
 */
export abstract class ModuleLayer<TapeState = unknown> implements Layer {
  readonly #brand = true;

  /** @internal True for the layers of this package (not for objects that merely share their methods). */
  static isModuleLayer(value: unknown): value is ModuleLayer {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** @internal The width of the output for rows `inputWidth` wide; throws naming `where` if the layer cannot take them. */
  abstract outputWidth(inputWidth: number, where: string): number;
  /** @internal A tape for one place of use, whose buffers come from `memory` (its owner's). */
  abstract createTape(memory: Allocations): TapeState;
  /**
   * @internal Runs forward on `batch` rows of `width` floats at `input`, saving on `tape` what
   * backward needs; returns the output's address, valid until the tape's next forward.
   */
  abstract forwardAt(tape: TapeState, input: number, batch: number, width: number): number;
  /** @internal Runs backward for dY at `dy`, for the tape's last forward; returns dX's address. */
  abstract backwardAt(tape: TapeState, dy: number): number;
  /** @internal Why this layer has no backward (an inference copy), or null if it has one. */
  abstract readonly noBackward: string | null;
  #disposed = false;
  #memory: Allocations | null = null;
  /** The last forward on the layer itself had no rows: its backward has none either. */
  #emptyForward = false;

  /** What errors call the layer once it is disposed ('Linear layer': "this Linear layer was disposed"). */
  protected abstract readonly lifetimeName: string;

  /** The layer's memory, made once (by the constructor), freed by `dispose()` or when the layer is collected. */
  protected ownMemory(heap: Heap): Allocations {
    return (this.#memory ??= new Allocations(heap, this));
  }

  /** Throws, naming `where`, once the layer is disposed. */
  checkAlive(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this ${this.lifetimeName} was disposed`);
  }

  /** Records whether the forward now running has rows; an empty one returns `y` (0 floats) at once. */
  protected forwardRows(rows: number): void {
    this.#emptyForward = rows === 0;
  }

  /**
   * The backward of an empty forward: dy must be empty too, nothing is learned, and the
   * result is `out` (of length 0) or a new empty array. Null after a forward with rows.
   */
  protected emptyBackward(where: string, dy: Float32Array, out: Float32Array | undefined): Float32Array | null {
    if (!this.#emptyForward) return null;
    checkFloat32Array(where, 'dy', dy, 0, 'the last forward had no rows');
    return outputArray(where, 'out', out, 0, 'the last forward had no rows');
  }

  /** Whether `dispose()` was called. */
  isDisposed(): boolean {
    return this.#disposed;
  }

  /**
   * Frees the layer's memory; any later use throws. Calling it again does nothing.
   * A layer that is garbage-collected without it is freed all the same, later.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    retire(this); // and with it every view of its memory handed out
    this.#memory?.releaseAll();
  }

  /** `using layer = …` disposes the layer at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** @internal The tensors whose gradients backward adds to (none for a layer without parameters). */
  gradientTensors(): readonly Tensor[] {
    return [];
  }

  abstract forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array;
  abstract parameters(): Parameter[];
  abstract zeroGrad(): void;
  freeze?(options?: FreezeOptions): ModuleLayer;
}

/**
 * A layer's own forward or backward on arrays: the input copied into the module's memory
 * at the address `stage(input.length)` reserves, `run` on it, and the `length` floats at the
 * address it returns copied to `output`. Both may be views of the module's memory: they are
 * followed across the growth staging and running may cause.
 */
export function stagedCall(
  heap: Heap, input: Float32Array, output: Float32Array,
  stage: (count: number) => number, run: (at: number) => number, length: number,
): Float32Array {
  const target = new Operand(heap.memory, output);
  const result = heap.f32(run(stageIn(heap, input, stage)), length);
  const array = target.current();
  copyInto(array, result);
  return array;
}

/** Copies `array` (which may be a view of the module's memory) to the address `stage(array.length)` reserves; returns it. */
export function stageIn(heap: Heap, array: Float32Array, stage: (count: number) => number): number {
  const source = new Operand(heap.memory, array); // followed across the growth reserving may cause
  const count = lengthOf(array);
  const at = stage(count);
  copyInto(heap.f32(at, count), source.current());
  return at;
}
