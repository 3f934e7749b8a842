// Fine-tuning on the device with LoRA: trains the MNIST MLP of `npm start`, freezes it (f32 and
// int8 weights), then adapts the frozen model to a shifted task with rank-4 adapters on both
// layers, and prints held-out accuracy before and after, the adapters' size against the model's,
// and the time per epoch.
//
//   tsx examples/finetune-mnist.ts [--task shift|invert] [--epochs N] [--rank N] [--seed N]
import { parseArgs } from 'node:util';
import {
  AdamW, init, Linear, LoRA, saveAdapters, Sequential, softmaxCrossEntropy, type FrozenLinear, type WeightsFormat,
} from '../dist/index.js';
import { uniformGenerator } from '../dist/internal.js';
import { IMAGE_SIZE, loadMnist, shuffle, toBatch, type Digits } from './mnist.js';

const CLASSES = 10, HIDDEN = 128, BATCH = 64;

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'shift' },
    epochs: { type: 'string', default: '6' },
    rank: { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
  },
});
const task = values.task;
if (task !== 'invert' && task !== 'shift') throw new Error(`--task must be invert or shift; got '${task}'`);
const epochs = Number(values.epochs), rank = Number(values.rank), seed = Number(values.seed);

/** The digits as the shifted task draws them: inverted (1 − pixel), or moved three pixels right and down. */
function shifted(digits: Digits): Digits {
  const images = new Uint8Array(digits.images.length);
  for (let d = 0; d < digits.count; d++) {
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        const to = d * IMAGE_SIZE + r * 28 + c;
        if (task === 'invert') images[to] = 255 - digits.images[to];
        else images[to] = r >= 3 && c >= 3 ? digits.images[d * IMAGE_SIZE + (r - 3) * 28 + (c - 3)] : 0;
      }
    }
  }
  return { ...digits, images };
}

/** One pass of AdamW over `digits` in a new order; returns the milliseconds it took. */
function trainEpoch(model: Sequential, optimizer: AdamW, digits: Digits, order: Uint32Array, random: () => number): number {
  const x = new Float32Array(BATCH * IMAGE_SIZE), labels = new Int32Array(BATCH), logits = new Float32Array(BATCH * CLASSES);
  shuffle(order, random);
  const start = performance.now();
  for (let at = 0; at + BATCH <= order.length; at += BATCH) {
    toBatch(digits, order, at, BATCH, x, labels);
    const { grad } = softmaxCrossEntropy(model.forward(x, BATCH, logits), labels, CLASSES);
    model.zeroGrad();
    model.backward(grad);
    optimizer.step();
  }
  return performance.now() - start;
}

function accuracy(model: Sequential, digits: Digits): number {
  const order = Uint32Array.from({ length: digits.count }, (_, i) => i);
  const x = new Float32Array(BATCH * IMAGE_SIZE), labels = new Int32Array(BATCH), logits = new Float32Array(BATCH * CLASSES);
  let correct = 0;
  for (let at = 0; at < digits.count; at += BATCH) {
    const n = Math.min(BATCH, digits.count - at);
    toBatch(digits, order, at, n, x, labels);
    model.forward(x.subarray(0, n * IMAGE_SIZE), n, logits.subarray(0, n * CLASSES));
    for (let row = 0; row < n; row++) {
      let best = 0;
      for (let k = 1; k < CLASSES; k++) if (logits[row * CLASSES + k] > logits[row * CLASSES + best]) best = k;
      if (best === labels[row]) correct++;
    }
  }
  return correct / digits.count;
}

const percent = (v: number) => `${(100 * v).toFixed(2)}%`;

await init();
const { train, test } = await loadMnist();
const random = uniformGenerator(seed);
const order = Uint32Array.from({ length: train.count }, (_, i) => i);

// 1. Pretrain as `npm start` does.
const model = new Sequential([new Linear(IMAGE_SIZE, HIDDEN, { seed, activation: 'relu' }), new Linear(HIDDEN, CLASSES, { seed: seed + 1 })]);
const pretrain = new AdamW(model.parameters(), { lr: 3e-3 });
for (let epoch = 0; epoch < 8; epoch++) trainEpoch(model, pretrain, train, order, random);
pretrain.dispose();
const original = accuracy(model, test);
const shiftedTrain = shifted(train), shiftedTest = shifted(test);
console.log(`pretrained ${IMAGE_SIZE}-${HIDDEN}-${CLASSES} MLP: ${percent(original)} held-out accuracy; task: digits ${task === 'invert' ? 'inverted (1 − pixel)' : 'shifted by three pixels'}`);

// 2. Freeze, adapt the frozen layers with LoRA, train only the adapters on the shifted digits.
for (const weights of ['f32', 'int8'] as WeightsFormat[]) {
  const frozen = model.freeze({ weights });
  const before = accuracy(frozen, shiftedTest);
  const adapters = frozen.layers.map((layer) => new LoRA(layer as FrozenLinear, { rank, alpha: 2 * rank, seed }));
  const adapted = new Sequential(adapters);
  const optimizer = new AdamW(adapted.parameters(), { lr: 1e-2 });
  const times: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) times.push(trainEpoch(adapted, optimizer, shiftedTrain, order, random));
  const after = accuracy(adapted, shiftedTest);
  const adapterBytes = saveAdapters(adapted).byteLength;
  const modelBytes = 4 * (IMAGE_SIZE * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES);
  console.log(
    `${weights.padEnd(4)} frozen base + rank-${rank} LoRA: shifted-digit accuracy ${percent(before)} → ${percent(after)}` +
      ` (${(100 * after / original).toFixed(1)}% of the unshifted ${percent(original)});` +
      ` adapters ${(adapterBytes / 1024).toFixed(1)} KiB = ${(100 * adapterBytes / modelBytes).toFixed(1)}% of the f32 model's ${(modelBytes / 1024).toFixed(0)} KiB;` +
      ` ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(0)} ms per epoch of ${train.count} digits`,
  );
  optimizer.dispose();
  adapted.dispose(); // the adapters; their frozen bases are the frozen model's
  frozen.dispose();
}
model.dispose();
