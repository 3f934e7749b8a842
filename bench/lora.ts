// `npm run bench -- --set lora` (and part of a full `npm run bench`): a LoRA training step
// (forward, backward, AdamW on A and B) on a frozen base, f32 and int8, against a full
// fine-tuning step of the same Linear (forward, dX, dW, AdamW on W and b), round by round in
// one process; and the adapter's cost over the frozen forward alone.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdamW, init, Linear, LoRA, shutdown, type FrozenLinear } from '../dist/index.js';
import { random } from './operands.js';
import { plans, Timer, type Call } from './timing.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--set' && a !== 'lora'),
  strict: false,
  options: { quick: { type: 'boolean', default: false } },
});
const plan = args.quick ? plans.quick : plans.full;
const RANK = 8;

await init();
const disposers: (() => void)[] = [];

/** One training step of `layer` with AdamW over `parameters`, on fixed x and dY. */
function step(layer: Linear | LoRA, batch: number, parameters: ReturnType<Linear['parameters']>): Call {
  const x = random(batch * layer.inFeatures), dy = random(batch * layer.outFeatures);
  const y = new Float32Array(batch * layer.outFeatures), dx = new Float32Array(batch * layer.inFeatures);
  const optimizer = new AdamW(parameters, { lr: 1e-4 });
  disposers.push(() => optimizer.dispose());
  return () => {
    layer.forward(x, batch, y);
    layer.zeroGrad();
    layer.backward(dy, dx);
    optimizer.step();
  };
}

function forward(layer: Linear | LoRA | FrozenLinear, batch: number): Call {
  const x = random(batch * layer.inFeatures), y = new Float32Array(batch * layer.outFeatures);
  return () => layer.forward(x, batch, y);
}

const rows: Record<string, string>[] = [];
const results: Record<string, unknown>[] = [];
for (const [batch, din, dout] of [[64, 1024, 1024], [16, 1024, 1024], [1, 1024, 1024]] as const) {
  const full = new Linear(din, dout, { seed: 1 });
  const frozen = { f32: full.freeze(), int8: full.freeze({ weights: 'int8' }) };
  const adapters = { f32: new LoRA(frozen.f32, { rank: RANK, seed: 2 }), int8: new LoRA(frozen.int8, { rank: RANK, seed: 2 }) };
  for (const a of Object.values(adapters)) a.loraB.set(random(dout * RANK));
  const calls: Record<string, Call> = {
    'full step': step(full, batch, full.parameters()),
    'LoRA step, f32 base': step(adapters.f32, batch, adapters.f32.parameters()),
    'LoRA step, int8 base': step(adapters.int8, batch, adapters.int8.parameters()),
    'frozen forward, f32': forward(frozen.f32, batch),
    'LoRA forward, f32 base': forward(adapters.f32, batch),
    'frozen forward, int8': forward(frozen.int8, batch),
    'LoRA forward, int8 base': forward(adapters.int8, batch),
  };
  const timers: [string, Timer][] = [];
  for (const [name, call] of Object.entries(calls)) timers.push([name, (await Timer.start(call, plan)) as Timer]);
  for (let round = 0; round < plan.rounds; round++) for (const [, t] of timers) await t.round();
  const ms = Object.fromEntries(timers.map(([name, t]) => [name, t.result().p50Ms]));
  const ratio = (a: string, b: string) => `${(ms[a]! / ms[b]!).toFixed(2)}×`;
  rows.push({
    shape: `${batch}×${din}×${dout}, rank ${RANK}`,
    'full step ms': ms['full step']!.toFixed(3),
    'LoRA f32 / full': ratio('LoRA step, f32 base', 'full step'),
    'LoRA int8 / full': ratio('LoRA step, int8 base', 'full step'),
    'adapter overhead f32 (forward)': ratio('LoRA forward, f32 base', 'frozen forward, f32'),
    'adapter overhead int8 (forward)': ratio('LoRA forward, int8 base', 'frozen forward, int8'),
  });
  results.push({ shape: [batch, din, dout], rank: RANK, ms });
  for (const dispose of disposers.splice(0)) dispose();
  for (const l of [...Object.values(adapters), ...Object.values(frozen), full]) l.dispose();
}
console.log(`LoRA (rank ${RANK}) against full fine-tuning, one thread, p50 of ${plan.rounds} rounds (time ratios: lower is faster)`);
console.table(rows);
const out = new URL('./results/lora.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, quick: plan === plans.quick, results }, null, 1)}\n`);
console.log(`wrote ${out.pathname}`);
shutdown();
