// Measures a shape: each product with every contender (the layer API alongside), contenders
// taking turns round by round (see timing.ts), rather than one contender over all shapes and
// then the next; then the MLP training step the same way.
import type * as tf from '@tensorflow/tfjs-core';
import type { Contender } from './contenders.js';
import { layerCalls, trainingStep } from './layer.js';
import { makeOperands } from './operands.js';
import { readLoop, type Build } from './peak.js';
import { tfjsTrainingStep } from './peers/tfjs.js';
import { READ_LOOP, WEIGHT_BOUND_BATCH, type Measurement } from './results.js';
import { label, latencySets, productFlops, products, trainingMlp, type Entry } from './shapes.js';
import { Timer, type Call, type Plan } from './timing.js';

/** One thing to time: what the Measurement will say, the call, and the contender's skip limit. */
interface Task {
  fields: Pick<Measurement, 'set' | 'shape' | 'pass' | 'contender' | 'build' | 'flops'>;
  call: Call;
  limit?: Contender['limit'];
}

/** Probes every task, samples the kept ones in rounds, and returns a Measurement per task. */
async function measureGroup(tasks: Task[], plan: Plan): Promise<Measurement[]> {
  const started: (Timer | { skipped: string })[] = [];
  for (const { fields, call, limit } of tasks) {
    const seconds = limit && limit.seconds * plan.limitScale;
    const atBest = limit && fields.flops / (limit.fastestGflops * 1e9);
    // A call sure to exceed the limit is not even probed: that would cost seconds.
    started.push(seconds && atBest && atBest > seconds
      ? { skipped: `a call needs ≥ ${atBest.toFixed(2)} s even at ${limit.fastestGflops} GFLOP/s (limit ${seconds} s)` }
      : await Timer.start(call, plan, seconds));
  }
  for (let round = 0; round < plan.rounds; round++) {
    for (const timer of started) if (timer instanceof Timer) await timer.round();
  }
  return tasks.map(({ fields }, i) => {
    const timer = started[i];
    if (!(timer instanceof Timer)) return { ...fields, skipped: timer.skipped };
    const timing = timer.result();
    const m: Measurement = { ...fields, ...timing, gflops: fields.flops / (timing.p50Ms * 1e6) };
    const shown = latencySets.has(fields.set) ? `${(timing.p50Ms * 1e3).toFixed(2)} µs` : `${m.gflops!.toFixed(1)} GFLOP/s`;
    console.error(`  ${fields.shape} ${fields.pass.padEnd(14)} ${fields.contender.padEnd(20)} ${shown}`);
    return m;
  });
}

/** All measurements of one shape; latency sets (per-call overhead) run the forward product only. */
export async function measureShape({ set, shape }: Entry, contenders: Contender[], plan: Plan, layerBuild: Build): Promise<Measurement[]> {
  const operands = makeOperands(shape);
  const flops = productFlops(shape);
  const forwardOnly = latencySets.has(set);
  const prepared = contenders.map((c) => c.prepare(operands));
  const layer = layerCalls(operands);
  const base = { set, shape: label(shape), flops };
  const ours = { ...base, contender: 'simd-linear layer', build: layerBuild };
  // The layer's calls ride along with the product they contain (backward with dW, the last).
  const layerTasks: Record<string, Task[]> = {
    forward: [
      { fields: { ...ours, pass: 'layer forward' }, call: layer.forward },
      { fields: { ...ours, pass: 'frozen forward' }, call: layer.frozenForward },
    ],
    dX: [{ fields: { ...ours, pass: 'matmul dX' }, call: layer.matmulDx }],
    dW: [{ fields: { ...ours, pass: 'layer backward', flops: 2 * flops }, call: layer.backward }],
  };
  // Where W is streamed once, a plain read loop over as many bytes rides with the forward: what streaming could reach.
  if (!forwardOnly && shape.batch <= WEIGHT_BOUND_BATCH) {
    layerTasks.forward!.push({ fields: { ...base, pass: 'forward', contender: READ_LOOP }, call: await readLoop(4 * shape.inFeatures * shape.outFeatures) });
  }
  const out: Measurement[] = [];
  try {
    for (const product of products(shape).filter((p) => !forwardOnly || p.pass === 'forward')) {
      const runs = (c: Contender) => !c.passes || c.passes.includes(product.pass);
      out.push(...(await measureGroup([
        ...contenders.flatMap((c, i) => (runs(c) ? [{ fields: { ...base, pass: product.pass, contender: c.name, build: c.build }, call: prepared[i].call(product), limit: c.limit }] : [])),
        ...(layerTasks[product.pass] ?? []),
      ], plan)));
    }
  } finally {
    prepared.forEach((p) => p.dispose());
    layer.dispose();
  }
  return out;
}

/** The MLP training step: simd-linear's Linear layers against tfjs's ops. */
export async function measureTrainingStep(tfjs: typeof tf, plan: Plan, layerBuild: Build): Promise<Measurement[]> {
  const { sizes, batch } = trainingMlp;
  const ours = trainingStep(sizes, batch);
  const theirs = tfjsTrainingStep(tfjs, batch, [...sizes]);
  const base = { set: 'mlp', shape: `${batch}×${sizes.join('-')}`, pass: 'training step', flops: ours.flops };
  try {
    return await measureGroup([
      { fields: { ...base, contender: 'simd-linear layer', build: layerBuild }, call: ours.call },
      { fields: { ...base, contender: 'tfjs' }, call: theirs },
    ], plan);
  } finally {
    ours.dispose();
    theirs.dispose();
  }
}
