import { checkOptions, describe, errorFor } from './errors.js';
import { alignUp, Allocations } from './heap.js';
import { checkParameter, eachChecked, type Parameter, parameterAddresses, parameterList, parameterTensor, zeroGradient } from './layer.js';
import { runtime, type Runtime } from './runtime.js';

/** Something with parameters: a layer, a model, or the list itself. */
/** What an optimizer updates: parameters, or a layer or model whose `parameters()` lists them. */
export type ParameterList = Parameter[] | { parameters(): Parameter[] };

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Shared by the optimizers: the parameter list, per-parameter state in the module's memory. */
abstract class Optimizer {
  protected readonly rt: Runtime;
  protected readonly params: Parameter[];
  protected readonly memory: Allocations;
  #lr = 0;
  #disposed = false;

  constructor(protected readonly name: string, params: ParameterList) {
    const where = `new ${name}`;
    this.rt = runtime(where);
    const list = parameterList(where, params);
    // Two handles on one tensor would step it twice per step.
    const seen = new Map<unknown, number>();
    list.forEach((p, i) => {
      const first = seen.get(parameterTensor(p));
      if (first !== undefined) throw new Error(`${where}: params[${i}] is the same tensor as params[${first}] (${p.name}); give each parameter once`);
      seen.set(parameterTensor(p), i);
    });
    if (list.length === 0) throw new TypeError(`${where}: got an empty parameter list (a frozen model has none; optimize the layers that train)`);
    this.params = [...list];
    this.memory = new Allocations(this.rt.heap, this);
  }

  /** The learning rate; may be changed between steps (a schedule), as a PyTorch param group's lr. */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    this.#lr = checkNumber(`${this.name}.lr`, 'lr', value, 0);
  }

  /** Sets every parameter's gradient to zero. */
  zeroGrad(): void {
    const where = `${this.name}.zeroGrad`;
    this.check(where);
    eachChecked(where, this.params, checkParameter); // every one alive before any is zeroed
    for (const p of this.params) zeroGradient(p);
  }

  /** Frees the optimizer's state (momentum, moments); any later use throws. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.memory.releaseAll();
  }

  protected check(where: string): void {
    if (this.#disposed) throw new Error(`${where}: this ${this.name} optimizer was disposed`);
  }

  /**
   * Zero-filled state buffers, `count` per parameter, made on first use: in one block,
   * so that running out of memory leaves nothing allocated.
   */
  protected allocateState(count: number): number[][] {
    const bytes = this.params.reduce((sum, p) => sum + count * alignUp(p.length * 4), 0);
    let at = this.memory.alloc(bytes);
    this.rt.heap.f32(at, bytes / 4).fill(0);
    return this.params.map((p) => Array.from({ length: count }, () => {
      const start = at;
      at += alignUp(p.length * 4);
      return start;
    }));
  }

  /** Every parameter's addresses, checked (alive, gradient whole) before any is stepped. */
  protected addresses(where: string): { value: number; grad: number }[] {
    return eachChecked(where, this.params, parameterAddresses);
  }
}

/** Checks an option is a finite number within [min, max), naming it. */
function checkNumber(where: string, name: string, value: unknown, min: number, max = Infinity, minOpen = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (minOpen && value === min) || value >= max) {
    const range = `${minOpen ? '(' : '['}${min}, ${max === Infinity ? '∞' : max})`;
    throw new (errorFor(value))(`${where}: ${name} must be a number in ${range}; got ${describe(value)}`);
  }
  return value;
}

/** Stochastic gradient descent with PyTorch's torch.optim.SGD update rule. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  #buffers: number[][] | null = null;

  constructor(params: ParameterList, options: SGDOptions) {
    super('SGD', params);
    const where = 'new SGD';
    // Defaults for what is left out only: null is a wrong type, as in every other call.
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = checkOptions(where, options, 'lr, momentum, dampening, weightDecay, nesterov');
    this.lr = checkNumber(where, 'options.lr', lr, 0);
    this.momentum = checkNumber(where, 'options.momentum', momentum, 0);
    this.dampening = checkNumber(where, 'options.dampening', dampening, 0);
    this.weightDecay = checkNumber(where, 'options.weightDecay', weightDecay, 0);
    this.nesterov = nesterov;
    if (typeof this.nesterov !== 'boolean') throw new TypeError(`${where}: options.nesterov must be a boolean; got ${describe(this.nesterov)}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(`${where}: nesterov needs momentum > 0 and dampening = 0; got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
  }

  /** Updates every parameter in place from its gradient. */
  step(): void {
    this.check('SGD.step');
    const addresses = this.addresses('SGD.step');
    const first = this.#buffers === null;
    if (this.momentum !== 0) this.#buffers ??= this.allocateState(1);
    const keep = 1 - this.dampening;
    this.params.forEach((p, i) => {
      const { value, grad } = addresses[i];
      this.rt.kernels.sgd_step(
        value, grad, this.#buffers?.[i][0] ?? 0, p.length,
        this.lr, this.momentum, keep, this.weightDecay, this.nesterov ? 1 : 0, first ? 1 : 0,
      );
    });
  }
}

/** Adam with decoupled weight decay, with PyTorch's torch.optim.AdamW update rule. */
export class AdamW extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  #steps = 0;
  #moments: number[][] | null = null;

  constructor(params: ParameterList, options: AdamWOptions = {}) {
    super('AdamW', params);
    const where = 'new AdamW';
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2 } = checkOptions(where, options, 'lr, betas, eps, weightDecay');
    this.lr = checkNumber(where, 'options.lr', lr, 0);
    if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`${where}: options.betas must be [beta1, beta2]; got ${describe(betas)}`);
    this.betas = [checkNumber(where, 'options.betas[0]', betas[0], 0, 1), checkNumber(where, 'options.betas[1]', betas[1], 0, 1)];
    this.eps = checkNumber(where, 'options.eps', eps, 0);
    this.weightDecay = checkNumber(where, 'options.weightDecay', weightDecay, 0);
  }

  /** Steps taken so far (for bias correction); may be set, to a whole number, when resuming a run. */
  get steps(): number {
    return this.#steps;
  }

  set steps(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`AdamW.steps: steps must be a non-negative integer; got ${describe(value)}`);
    this.#steps = value;
  }

  /** Updates every parameter in place from its gradient. */
  step(): void {
    this.check('AdamW.step');
    const addresses = this.addresses('AdamW.step');
    this.#moments ??= this.allocateState(2);
    const steps = ++this.#steps;
    const [beta1, beta2] = this.betas;
    // The scalars, in double precision as PyTorch computes them.
    const correction1 = 1 - beta1 ** steps;
    const correction2 = 1 - beta2 ** steps;
    this.params.forEach((p, i) => {
      const { value, grad } = addresses[i];
      const [m, v] = this.#moments![i];
      this.rt.kernels.adamw_step(
        value, grad, m, v, p.length,
        1 - this.lr * this.weightDecay, 1 - beta1, beta2, 1 - beta2, this.lr / correction1, Math.sqrt(correction2), this.eps,
      );
    });
  }
}
