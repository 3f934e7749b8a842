// The demo page: loads the kernels and the digits, then trains while drawing the loss, the
// held-out accuracy and the throughput. window.__demo mirrors the state for tests/demo.test.ts.
import { backendInfo, init } from 'simd-linear';
import { drawChart, drawDigits } from './chart.js';
import { fetchMnist, type DigitSet } from './mnist-data.js';
import { BATCH, FLOPS_PER_SAMPLE, Trainer } from './train.js';

const EPOCHS = 10;
/** Steps between two evaluations on the 2,000 held-out digits (about a fifth of an epoch). */
const EVAL_EVERY = 25;
/** Training time per slice; the page redraws between slices. */
const SLICE_MS = 50;
/** Slices in the moving window the samples/s figure is measured over (about a second). */
const RATE_WINDOW = 20;
const SHOWN_DIGITS = 16;

declare global {
  interface Window {
    __demo: { crossOriginIsolated: boolean; accuracy: number; epoch: number; done: boolean; error?: string };
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
window.__demo = { crossOriginIsolated, accuracy: 0, epoch: 0, done: false };
let generation = 0; // bumped by Restart: a running loop sees it changed and stops

function setText(id: string, text: string): void {
  $(id).textContent = text;
}

/** Loss per step (faint), its moving average (bold) and each evaluation's accuracy, by epoch. */
class History {
  constructor(readonly stepsPerEpoch: number) {}
  readonly step: number[] = [];
  readonly loss: number[] = [];
  readonly smooth: number[] = [];
  readonly evalAt: number[] = [];
  readonly accuracy: number[] = [];

  addLosses(losses: number[], firstStep: number): void {
    losses.forEach((loss, i) => {
      const previous = this.smooth.at(-1) ?? loss;
      this.step.push((firstStep + i + 1) / this.stepsPerEpoch);
      this.loss.push(loss);
      this.smooth.push(0.95 * previous + 0.05 * loss);
    });
  }
}

function draw(history: History): void {
  drawChart($<HTMLCanvasElement>('loss-chart'), {
    xMax: EPOCHS, yMin: 0, yMax: 2.5, yStep: 0.5, formatY: (v) => v.toFixed(1),
    series: [
      { xs: history.step, ys: history.loss, color: 'rgba(99, 102, 241, 0.25)', width: 1 },
      { xs: history.step, ys: history.smooth, color: '#4f46e5', width: 2 },
    ],
  });
  // From 80%: the interesting part of the curve; the first, near-chance evaluations enter from below.
  drawChart($<HTMLCanvasElement>('accuracy-chart'), {
    xMax: EPOCHS, yMin: 80, yMax: 100, yStep: 5, formatY: (v) => `${v}%`,
    series: [{ xs: history.evalAt, ys: history.accuracy, color: '#059669', width: 2, dots: true }],
    guide: { y: 90, label: '90%' },
  });
}

function evaluate(trainer: Trainer, history: History, test: DigitSet): void {
  const { accuracy, predictions } = trainer.evaluate();
  history.evalAt.push(trainer.epoch);
  history.accuracy.push(100 * accuracy);
  const shown = $('accuracy');
  shown.textContent = `${(100 * accuracy).toFixed(1)}%`;
  shown.dataset.value = String(accuracy);
  window.__demo.accuracy = accuracy;
  drawDigits($<HTMLCanvasElement>('digits'), test.pixels, test.labels, predictions, SHOWN_DIGITS);
}

async function train(data: { train: DigitSet; test: DigitSet }): Promise<void> {
  const mine = ++generation;
  const trainer = new Trainer(data.train, data.test);
  const history = new History(trainer.stepsPerEpoch);
  const recent: { ms: number; samples: number }[] = [];
  const totalSteps = EPOCHS * trainer.stepsPerEpoch;
  window.__demo.done = false;
  try {
    evaluate(trainer, history, data.test);
    while (trainer.steps < totalSteps && mine === generation) {
      const before = { steps: trainer.steps, ms: trainer.trainMs };
      history.addLosses(trainer.trainFor(SLICE_MS, totalSteps - trainer.steps), before.steps);
      recent.push({ ms: trainer.trainMs - before.ms, samples: (trainer.steps - before.steps) * BATCH });
      if (recent.length > RATE_WINDOW) recent.shift();
      if (Math.floor(trainer.steps / EVAL_EVERY) > Math.floor(before.steps / EVAL_EVERY) || trainer.steps === totalSteps) {
        evaluate(trainer, history, data.test);
      }
      const ms = recent.reduce((sum, w) => sum + w.ms, 0), samples = recent.reduce((sum, w) => sum + w.samples, 0);
      const rate = (samples / ms) * 1000;
      setText('epoch', `${trainer.epoch.toFixed(1)} / ${EPOCHS}`);
      setText('loss', history.smooth.at(-1)!.toFixed(3));
      setText('rate', Math.round(rate).toLocaleString('en-US'));
      setText('gflops', ((rate * FLOPS_PER_SAMPLE) / 1e9).toFixed(1));
      window.__demo.epoch = trainer.epoch;
      draw(history);
      await new Promise((resolve) => setTimeout(resolve)); // let the browser paint
    }
    if (mine === generation) {
      window.__demo.done = true;
      setText('status', `Done: ${EPOCHS} epochs, ${(trainer.trainMs / 1000).toFixed(1)} s of training.`);
    }
  } finally {
    trainer.dispose();
  }
}

async function main(): Promise<void> {
  setText('isolated', crossOriginIsolated ? 'yes' : 'no');
  setText('status', 'Compiling the WebAssembly kernels…');
  await init();
  const { simd, tile } = backendInfo();
  setText('backend', `${simd === 'relaxed' ? 'relaxed' : 'fixed'} SIMD, ${tile.rows}×${tile.cols} tile`);
  setText('status', 'Loading 10,000 digits…');
  const data = await fetchMnist('/data/mnist.bin');
  drawDigits($<HTMLCanvasElement>('digits'), data.test.pixels, data.test.labels, null, SHOWN_DIGITS);
  const restart = $<HTMLButtonElement>('restart');
  restart.disabled = false;
  restart.onclick = () => void run();
  const run = async () => {
    setText('status', `Training on ${data.train.count.toLocaleString('en-US')} digits, testing on ${data.test.count.toLocaleString('en-US')} others.`);
    await train(data);
  };
  await run();
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  window.__demo.error = message;
  setText('status', `Error: ${message}`);
  $('status').classList.add('error');
});
