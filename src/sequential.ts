import { copyInto, isDetached, lengthOf, Operand } from './arrays.js';
import { batchOf, checkFloat32Array, checkInputWidth, describe, isFloat32Array, outputArray } from './errors.js';
import { Allocations, StagingBuffer } from './heap.js';
import { addingGradients, checkParameter, ModuleLayer, Parameter, parameterTensor, stagedCall, stageIn, type Layer, type Tensor, zeroGradient } from './layer.js';
import { requestedFormat, type FreezeOptions } from './frozen-linear.js';
import { runtime, type Runtime } from './runtime.js';
import { loadStateDict, stateDict, type StateDict } from './serialization.js';

/** A parameter with the name PyTorch's nn.Sequential gives it: `<layer index>.<name within the layer>`. */
export interface NamedParameter {
  name: string;
  parameter: Parameter;
}

/**
 * One position of the model and what its last forward left for backward. A layer of
 * this package keeps that on a tape of the position's own, so the same layer at two
 * positions differentiates both uses; a user's layer goes through copies.
 */
type Step =
  | { native: true; layer: ModuleLayer; tape: unknown }
  | {
    native: false; layer: Layer; output: StagingBuffer; dx: StagingBuffer;
    /** The widths it declares (read once, at construction), if it does. */
    declared: Widths | undefined;
    /** The widths of its last forward. */
    inputWidth: number; outputWidth: number;
    /** A nested Sequential's count of forwards when it ran this model's (see #forwards). */
    seen: number;
  };

/** The fixed widths of a layer's rows in and out. */
interface Widths { inFeatures: number; outFeatures: number }

/**
 * Layers applied in order. Activations stay in the module's memory from layer to
 * layer; only the model's input and output cross into JavaScript (and the input and
 * output of layers of the user's own, which take Float32Arrays).
 */
export class Sequential {
  readonly layers: readonly Layer[];
  /** The width of the model's input rows: the first Linear's inFeatures (undefined if a layer of unknown width comes first). */
  readonly inFeatures: number | undefined;
  /** The width of its output rows: the last Linear's outFeatures (undefined if a layer of unknown width comes after it). */
  readonly outFeatures: number | undefined;
  readonly #rt: Runtime;
  readonly #memory: Allocations;
  readonly #steps: Step[];
  /** Which layer has no backward and why ('layers[0] is frozen (an inference copy)'), or null. */
  readonly #noBackward: string | null;
  /**
   * Every gradient a backward adds to, the layers' of yours and nested models' included (found at the first
   * backward): a backward that fails part-way leaves them all marked incomplete, wherever it stopped.
   */
  #tensors: readonly Tensor[] | undefined;
  /**
   * Staging for the model's input and, separately, for the incoming dY: the first
   * layer keeps its input's address for backward, so dY must not overwrite it.
   */
  readonly #input: StagingBuffer;
  readonly #gradient: StagingBuffer;
  /** Shapes of the last forward that succeeded: batch (0: none), and the width entering each layer (and leaving the last). */
  #batch = 0;
  #widths: readonly number[] = [];
  /** The widths planned for the last input width (see #plannedWidths). */
  #plan: readonly number[] = [];
  /** A forward or backward is running: a layer of the user's own must not re-enter it. */
  #running = false;
  #disposed = false;
  #training = true;
  /** The last forward had no rows. */
  #emptyForward = false;
  /**
   * Forwards run (empty or failed ones too). A model nested in this one keeps its last forward only: if it ran another since
   * this model's (at a second position, or in another model), its backward would differentiate that one.
   */
  #forwards = 0;

  constructor(layers: Layer[]) {
    const where = 'new Sequential';
    this.#rt = runtime(where);
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new TypeError(`${where}: layers must be a non-empty array of layers; got ${describe(layers)}`);
    }
    const list = [...layers];
    list.forEach((layer, i) => {
      if (!ModuleLayer.isModuleLayer(layer) && typeof (layer as Partial<Layer> | null)?.forward !== 'function') {
        throw new TypeError(
          `${where}: layers[${i}] must be a layer (Linear, ReLU, …, or an object with forward(x, batch) and backward(dy)); got ${describe(layer)}`,
        );
      }
    });
    this.layers = Object.freeze(list);
    this.#memory = new Allocations(this.#rt.heap, this);
    this.#steps = list.map((layer) => ModuleLayer.isModuleLayer(layer)
      ? { native: true, layer, tape: layer.createTape(this.#memory) }
      : {
        native: false, layer, output: new StagingBuffer(this.#memory), dx: new StagingBuffer(this.#memory),
        declared: fixedWidths(layer), inputWidth: 0, outputWidth: 0, seen: 0,
      });
    // Widths must chain: each layer of fixed width takes the width reaching it.
    let width: number | undefined;
    this.#steps.forEach((step, i) => { width = nextWidth(step, width, `${where}: layers[${i}]`); });
    this.inFeatures = edgeWidth(this.#steps, 'inFeatures');
    this.outFeatures = edgeWidth([...this.#steps].reverse(), 'outFeatures');
    this.#noBackward = firstWithoutBackward(this.#steps);
    this.#input = new StagingBuffer(this.#memory);
    this.#gradient = new StagingBuffer(this.#memory);
  }


  /**
   * Runs every layer on `batch` rows of x (batch defaults to x.length / inFeatures).
   * Returns the last layer's output in `out` or a new array.
   */
  forward(x: Float32Array, batch?: number, out?: Float32Array): Float32Array {
    const where = 'Sequential.forward';
    this.#checkUsable(where);
    const rows = batchOf(where, x, this.inFeatures, batch);
    const length = lengthOf(x);
    if (rows === 0) {
      // No rows: no layer runs, and backward gives no rows either (gradients unchanged); a refused out changes nothing.
      const y = outputArray(where, 'out', out, 0, 'batch·output width = 0');
      this.#forwards++;
      this.#emptyForward = true;
      this.#batch = 0;
      return y;
    }
    this.#emptyForward = false;
    // Widths are known up front unless a layer of the user's own decides one.
    const planned = this.#plannedWidths(where, length / rows);
    const steps = this.#steps;
    const known = planned.length === steps.length + 1;
    // out is checked before any layer runs wherever the output's width is known.
    const expected = known ? planned[planned.length - 1] : this.outFeatures;
    if (out !== undefined && expected !== undefined) outputArray(where, 'out', out, rows * expected, `batch·output width = ${rows}·${expected}`);
    else if (out !== undefined) checkFloat32Array(where, 'out', out);

    const heap = this.#rt.heap;
    const output = out === undefined ? undefined : new Operand(heap.memory, out);
    this.#batch = 0; // until this forward succeeds, there is none to differentiate
    this.#forwards++;
    this.#running = true;
    try {
      let at = stageIn(heap, x, (count) => this.#input.reserve(count));
      const widths = known ? (planned as number[]) : [...planned]; // a known plan is read, never added to
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        const width = widths[i];
        // Past the plan (after a layer of unknown width), each width is checked as it comes.
        const planned = i + 1 < widths.length;
        if (step.native) {
          if (!planned) widths.push(step.layer.outputWidth(width, `${where}: layers[${i}]`));
          at = step.layer.forwardAt(step.tape, at, rows, width);
        } else {
          if (!planned) nextWidth(step, width, `${where}: layers[${i}]`);
          at = this.#forwardUser(step, i, at, rows, width);
          if (!planned) widths.push(step.outputWidth);
        }
      }
      const outputWidth = widths[widths.length - 1];
      const y = output ? output.current() : new Float32Array(rows * outputWidth);
      if (output) checkFloat32Array(where, 'out', y, rows * outputWidth, `batch·output width = ${rows}·${outputWidth}`);
      copyInto(y, heap.f32(at, rows * outputWidth));
      this.#batch = rows;
      this.#widths = widths;
      return y;
    } finally {
      this.#running = false;
    }
  }

  /**
   * Backpropagates dY of the last forward through every layer; returns dX in `out` or
   * a new array. If it fails part-way, the gradients it had begun to change stay
   * marked incomplete: optimizers refuse to step until zeroGrad().
   */
  backward(dy: Float32Array, out?: Float32Array): Float32Array {
    const where = 'Sequential.backward';
    this.#checkUsable(where);
    if (this.#emptyForward) {
      checkFloat32Array(where, 'dy', dy, 0, 'the last forward had no rows');
      return outputArray(where, 'out', out, 0, 'the last forward had no rows');
    }
    const batch = this.#batch;
    if (batch === 0) throw new Error(`${where}: called before forward, or after a forward that failed; run forward(x) first`);
    if (this.#noBackward) throw new Error(`${where}: ${this.#noBackward}: this model has no backward`);
    const widths = this.#widths;
    const outWidth = widths[widths.length - 1];
    checkFloat32Array(where, 'dy', dy, batch * outWidth, `batch·output width = ${batch}·${outWidth}, from the last forward`);
    const dx = outputArray(where, 'out', out, batch * widths[0], `batch·input width = ${batch}·${widths[0]}`);

    for (let i = 0; i < this.#steps.length; i++) {
      const step = this.#steps[i];
      if (!step.native && step.layer instanceof Sequential && step.layer.#forwards !== step.seen) {
        throw new Error(`${where}: layers[${i}] (a Sequential) ran another forward since this model's: at two positions or in two models, use its layers`);
      }
    }
    const tensors = (this.#tensors ??= this.#allTensors());
    this.#running = true;
    try {
      return stagedCall(this.#rt.heap, dy, dx, (count) => this.#gradient.reserve(count), (at) => addingGradients(tensors, () => {
        for (let i = this.#steps.length - 1; i >= 0; i--) {
          const step = this.#steps[i];
          at = step.native ? step.layer.backwardAt(step.tape, at) : this.#backwardUser(step, i, at, batch);
        }
        return at;
      }), batch * widths[0]);
    } finally {
      this.#running = false;
    }
  }

  /** Every parameter, in layer order, each once (a layer used twice gives its parameters once, as PyTorch). */
  parameters(): Parameter[] {
    return this.namedParameters().map(({ parameter }) => parameter);
  }

  /**
   * Every parameter with its PyTorch name ('0.weight', '0.bias', '2.weight', …; '1.0.weight' in a
   * model nested at 1), each once, under its first name.
   */
  namedParameters(): NamedParameter[] {
    const where = 'Sequential.parameters';
    this.#checkUsable(where);
    const seen = new Set<Tensor>();
    const names = new Set<string>();
    return this.#steps.flatMap(({ layer }, i) => namedParametersOf(where, layer, i).flatMap(({ name, parameter }) => {
      const tensor = parameterTensor(parameter);
      if (seen.has(tensor)) return [];
      seen.add(tensor);
      const full = `${i}.${name}`;
      if (names.has(full)) throw new TypeError(`${where}: layers[${i}] has two parameters named '${name}': give it namedParameters() naming each`);
      names.add(full);
      return [{ name: full, parameter }];
    }));
  }

  /** A copy of every parameter, named and laid out as PyTorch's `model.state_dict()` (weights out×in). */
  stateDict(): StateDict {
    return stateDict(this);
  }

  /** Sets every parameter from a state dict with exactly this model's names and PyTorch's shapes; unchanged on any error. */
  loadStateDict(state: StateDict): void {
    loadStateDict(this, state);
  }

  /** True in training mode (the default, as PyTorch), false after eval(). */
  get training(): boolean {
    return this.#training;
  }

  /**
   * Training mode, or eval mode with `mode` false, for every layer that has one (Dropout
   * drops in training mode only), as torch.nn.Module.train(mode). Returns the model.
   */
  train(mode = true): this {
    const where = 'Sequential.train';
    this.#checkUsable(where);
    if (typeof mode !== 'boolean') throw new TypeError(`${where}: mode must be a boolean; got ${describe(mode)}`);
    for (const layer of new Set(this.layers)) if (typeof layer.train === 'function') layer.train(mode);
    this.#training = mode;
    return this;
  }

  /** Eval mode (`train(false)`): Dropout is the identity. Returns the model. */
  eval(): this {
    return this.train(false);
  }

  /** Sets every gradient to zero (and makes gradients left incomplete by a failed backward whole again). */
  zeroGrad(): void {
    // As PyTorch's Module.zero_grad(): every parameter, those of your layers included, whether or
    // not they have a zeroGrad() (called after, for what else it resets); all alive before any is zeroed.
    const parameters = this.#allParameters('Sequential.zeroGrad');
    for (const p of parameters) zeroGradient(p);
    for (const { layer, native } of this.#steps) if (!native) layer.zeroGrad?.();
  }

  /**
   * Every parameter of the model's layers, nested models' and yours, each checked alive, without
   * the names parameters() gives (zeroing needs none, and a layer of yours may give none).
   */
  #allParameters(where: string): Parameter[] {
    this.#checkUsable(where);
    return this.#steps.flatMap(({ layer }, i) => {
      const at = `${where}: layers[${i}]`;
      if (layer instanceof Sequential) return layer.#allParameters(at);
      const own = listedParameters(layer);
      for (const p of own) checkParameter(p, at);
      return own;
    });
  }

  /**
   * An inference-only copy of the model as it is now: a Sequential of every layer's
   * frozen copy (a Linear's W packed once, as `options.weights` says: Linear.freeze();
   * a layer frozen already keeps its format unless `options.weights` names one), with
   * memory of its own. Later changes to this model do not reach it; its backward
   * returns dX and changes nothing.
   */
  freeze(options?: FreezeOptions): Sequential {
    const where = 'Sequential.freeze';
    this.#checkUsable(where);
    const weights = requestedFormat(where, options);
    // A layer used twice is frozen once: its copy is used twice too.
    const copies = new Map<Layer, Layer>();
    try {
      const layers = this.layers.map((layer, i) => {
        if (typeof layer.freeze !== 'function') throw new TypeError(`${where}: layers[${i}] has no freeze(), so it cannot be copied`);
        if (!copies.has(layer)) copies.set(layer, layer.freeze({ weights }));
        return copies.get(layer)!;
      });
      return new Sequential(layers).eval(); // an inference copy: Dropout is the identity
    } catch (error) {
      for (const copy of copies.values()) copy.dispose?.(); // nothing half-made is left behind
      throw error;
    }
  }

  /** Frees the model and every layer in it. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const layer of new Set(this.layers)) layer.dispose?.();
    this.#memory.releaseAll();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Throws, naming `where`, if the model or any of its layers was disposed, or the model is already running. */
  #checkUsable(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this Sequential model was disposed`);
    if (this.#running) throw new Error(`${where}: called from inside a layer of this same model`);
    this.#checkLayers(where);
  }

  /** Throws, naming `where` and the index, if a layer of this package in the model was disposed. */
  #checkLayers(where: string): void {
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (step.native && step.layer.isDisposed()) step.layer.checkAlive(`${where}: layers[${i}]`);
    }
  }

  /**
   * The width entering each layer (and leaving the last), as far as layers of this
   * package decide them; the last plan is kept (layers' widths never change), so a
   * model run on rows of one width plans once.
   */
  #plannedWidths(where: string, inputWidth: number): readonly number[] {
    if (this.#plan[0] === inputWidth) return this.#plan;
    const widths = [inputWidth];
    for (const [i, step] of this.#steps.entries()) {
      const width = nextWidth(step, widths[i], `${where}: layers[${i}]`);
      if (width === undefined) break;
      widths.push(width);
    }
    this.#plan = widths;
    return widths;
  }

  /** A user's layer forward: its input copied out of the module's memory, its output copied in. */
  #forwardUser(step: Step & { native: false }, i: number, at: number, batch: number, width: number): number {
    const heap = this.#rt.heap;
    const y: unknown = step.layer.forward(heap.f32(at, batch * width).slice(), batch);
    this.#checkAfterUserCall('Sequential.forward');
    const declared = step.declared && batch * step.declared.outFeatures;
    const count = checkUserResult(`Sequential.forward: layers[${i}].forward`, y, batch, declared);
    const to = stageIn(heap, y as Float32Array, (count) => step.output.reserve(count));
    step.inputWidth = width;
    step.outputWidth = count / batch;
    if (step.layer instanceof Sequential) step.seen = step.layer.#forwards;
    return to;
  }

  /** A user's layer backward, through copies as its forward. */
  #backwardUser(step: Step & { native: false }, i: number, at: number, batch: number): number {
    const heap = this.#rt.heap;
    const dx: unknown = step.layer.backward!(heap.f32(at, batch * step.outputWidth).slice());
    this.#checkAfterUserCall('Sequential.backward');
    checkUserResult(`Sequential.backward: layers[${i}].backward`, dx, batch, batch * step.inputWidth);
    return stageIn(heap, dx as Float32Array, (count) => step.dx.reserve(count));
  }

  /**
   * Every gradient a backward of this model may add to: its layers', nested models' and your layers' parameters
   * (found without their names, which backward does not need).
   */
  #allTensors(): Tensor[] {
    return this.#steps.flatMap((step) => step.native ? step.layer.gradientTensors()
      : step.layer instanceof Sequential ? step.layer.#allTensors()
      : listedParameters(step.layer).map(parameterTensor));
  }

  /** A user's layer may have disposed this model or its layers while it ran. */
  #checkAfterUserCall(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this Sequential model was disposed by one of its layers`);
    this.#checkLayers(where);
  }
}

/** What a layer of yours lists in parameters(), if it has one: this package's parameters only. */
function listedParameters(layer: Layer): Parameter[] {
  return [layer.parameters?.()].flat().filter((p) => Parameter.isParameter(p));
}

/** The first layer without a backward, named with its index and why; null if every layer has one. */
function firstWithoutBackward(steps: readonly Step[]): string | null {
  for (const [i, step] of steps.entries()) {
    const missing = step.native ? step.layer.noBackward : typeof step.layer.backward === 'function' ? null : 'has no backward(dy)';
    if (missing) return `layers[${i}] ${missing}`;
  }
  return null;
}

/**
 * The model's input width (steps in order, `inFeatures`) or output width (steps reversed,
 * `outFeatures`): the first fixed one, if only width-keeping layers of this package come before it.
 */
function edgeWidth(steps: readonly Step[], side: keyof Widths): number | undefined {
  for (const step of steps) {
    const widths = step.native ? fixedWidths(step.layer) : step.declared;
    if (widths) return widths[side];
    if (!step.native) return undefined;
  }
  return undefined;
}

/**
 * The width leaving a step that rows `width` wide enter (undefined: not known before
 * it runs); throws, naming `where`, if the step cannot take them.
 */
function nextWidth(step: Step, width: number | undefined, where: string): number | undefined {
  if (step.native) return width === undefined ? fixedWidths(step.layer)?.outFeatures : step.layer.outputWidth(width, where);
  const { declared } = step;
  if (declared && width !== undefined) checkInputWidth(where, 'a layer', declared.inFeatures, width);
  return declared?.outFeatures;
}

/**
 * A layer's parameters with their names within it: from its namedParameters() where it has
 * one (a nested Sequential, a layer of yours wrapping several), else parameters() under the
 * names they have in their own layer. Each entry's fields are read once.
 */
function namedParametersOf(where: string, layer: Layer, i: number): NamedParameter[] {
  if (typeof layer.namedParameters === 'function') {
    const list: unknown = layer.namedParameters();
    const entries = Array.isArray(list) ? list.map((entry: { name?: unknown; parameter?: unknown } | null) => ({ name: entry?.name, parameter: entry?.parameter })) : null;
    if (!entries?.every(({ name, parameter }) => typeof name === 'string' && name !== '' && Parameter.isParameter(parameter))) {
      throw new TypeError(`${where}: layers[${i}].namedParameters() must return { name, parameter } entries: non-empty names, this package's parameters; got ${describe(list)}`);
    }
    return entries as NamedParameter[];
  }
  const list: unknown = layer.parameters?.() ?? [];
  if (!Array.isArray(list) || !list.every((p) => Parameter.isParameter(p))) {
    throw new TypeError(`${where}: layers[${i}].parameters() must return parameters of this package's layers; got ${describe(list)}`);
  }
  return list.map((parameter: Parameter) => ({ name: parameter.name, parameter }));
}

/** The widths a layer declares: inFeatures and outFeatures, both positive integers, or none. */
function fixedWidths(layer: Layer): Widths | undefined {
  const { inFeatures, outFeatures } = layer;
  const valid = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
  return valid(inFeatures) && valid(outFeatures) ? { inFeatures, outFeatures } : undefined;
}

/** Checks what a user's layer returned: a Float32Array of whole rows (exactly `length` floats, if given); returns its length. */
function checkUserResult(where: string, value: unknown, batch: number, length?: number): number {
  const count = isFloat32Array(value) && !isDetached(value) ? lengthOf(value) : -1;
  const rows = count > 0 && count % batch === 0;
  if (!rows || (length !== undefined && count !== length)) {
    const expected = length === undefined ? `whole rows for batch = ${batch}` : `${length} floats`;
    throw new TypeError(`${where} must return a Float32Array of ${expected}; got ${describe(value)}`);
  }
  return count;
}
