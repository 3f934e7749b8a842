// The model and its training loop, as examples/train-mnist.ts runs them in Node: a 784-128-10 MLP
// (ReLU fused into the first layer), AdamW lr 3e-3, batches of 64, softmax cross-entropy. Training
// runs in slices of a few milliseconds so that the page can redraw between them.
import { AdamW, Linear, Sequential, softmaxCrossEntropy } from 'simd-linear';
import { IMAGE_SIZE, type DigitSet } from './mnist-data.js';

export const HIDDEN = 128;
export const CLASSES = 10;
export const BATCH = 64;
export const LR = 3e-3;
/**
 * Floating-point operations per training sample: three products per layer (forward X·W, then
 * dX = dY·Wᵀ and dW = Xᵀ·dY), each one multiply and one add per weight.
 */
export const FLOPS_PER_SAMPLE = 3 * 2 * (IMAGE_SIZE * HIDDEN + HIDDEN * CLASSES);

export class Trainer {
  readonly model: Sequential;
  readonly optimizer: AdamW;
  steps = 0;
  samples = 0;
  /** Time spent in training steps only (not evaluation or drawing), for the throughput. */
  trainMs = 0;
  readonly #order: Uint32Array;
  readonly #shuffleState = new Uint32Array(1);
  #cursor: number;
  readonly #x = new Float32Array(BATCH * IMAGE_SIZE);
  readonly #labels = new Int32Array(BATCH);
  readonly #logits = new Float32Array(BATCH * CLASSES);
  readonly #dx = new Float32Array(BATCH * IMAGE_SIZE); // backward's dC/dX: a buffer spares an array per step

  constructor(readonly train: DigitSet, readonly test: DigitSet, seed = 42) {
    this.model = new Sequential([
      new Linear(IMAGE_SIZE, HIDDEN, { seed, activation: 'relu' }),
      new Linear(HIDDEN, CLASSES, { seed: seed + 1 }),
    ]);
    this.optimizer = new AdamW(this.model.parameters(), { lr: LR, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    this.#order = Uint32Array.from({ length: train.count }, (_, i) => i);
    this.#shuffleState[0] = seed * 2654435761 || 1; // any non-zero start
    this.#cursor = train.count; // an epoch "just ended": the first step shuffles
  }

  /** Steps of whole batches in one pass over the training digits (the remainder is skipped). */
  get stepsPerEpoch(): number {
    return Math.floor(this.train.count / BATCH);
  }

  /** Passes over the training digits so far, fractional. */
  get epoch(): number {
    return this.steps / this.stepsPerEpoch;
  }

  /** Trains until `budgetMs` has passed (at least one step) or `maxSteps` are done; returns each step's loss. */
  trainFor(budgetMs: number, maxSteps = Infinity): number[] {
    const losses: number[] = [];
    const start = performance.now();
    do losses.push(this.#step());
    while (performance.now() - start < budgetMs && losses.length < maxSteps);
    this.trainMs += performance.now() - start;
    return losses;
  }

  /** Held-out accuracy over every test digit, and the class predicted for each. */
  evaluate(): { accuracy: number; predictions: Uint8Array } {
    const { pixels, labels, count } = this.test;
    const logits = this.model.forward(pixels, count);
    const predictions = new Uint8Array(count);
    let correct = 0;
    for (let row = 0; row < count; row++) {
      let best = 0;
      for (let c = 1; c < CLASSES; c++) if (logits[row * CLASSES + c] > logits[row * CLASSES + best]) best = c;
      predictions[row] = best;
      if (best === labels[row]) correct++;
    }
    return { accuracy: correct / count, predictions };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }

  #step(): number {
    // Whole batches only (8,000 digits make 125 of them): every step costs the same, so the rates compare.
    if (this.#cursor + BATCH > this.#order.length) {
      shuffle(this.#order, this.#shuffleState);
      this.#cursor = 0;
    }
    const { pixels, labels } = this.train;
    for (let row = 0; row < BATCH; row++) {
      const sample = this.#order[this.#cursor + row];
      this.#x.set(pixels.subarray(sample * IMAGE_SIZE, (sample + 1) * IMAGE_SIZE), row * IMAGE_SIZE);
      this.#labels[row] = labels[sample];
    }
    this.#cursor += BATCH;
    const { loss, grad } = softmaxCrossEntropy(this.model.forward(this.#x, BATCH, this.#logits), this.#labels, CLASSES);
    this.model.zeroGrad();
    this.model.backward(grad, this.#dx);
    this.optimizer.step();
    this.steps++;
    this.samples += BATCH;
    return loss;
  }
}

/**
 * Fisher–Yates, in place: a new order of the digits each epoch, from a xorshift32 stream
 * seeded by the trainer's seed, so that a run (and its final accuracy) is reproducible.
 */
function shuffle(indices: Uint32Array, state: Uint32Array): void {
  for (let i = indices.length - 1; i > 0; i--) {
    let x = state[0]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    state[0] = x;
    const j = Math.floor((state[0]! / 2 ** 32) * (i + 1));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
}
