// `node --experimental-wasm-relaxed-simd --import tsx bench/compare-builds.ts --baseline <dir> [--set <name>]`:
// a kernel change against the build before it, in one process. The .wasm files in <dir> (a copy of
// an earlier dist/) and those in dist/ are instantiated side by side and their bare gemm timed on
// every product of the set, round by round, with tfjs as the yardstick. What bench/microkernels.md
// quotes when a kernel is kept or dropped.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { defaultWasmUrl, hasRelaxedSimd } from '../dist/internal.js';
import { kernelCalls, loadKernelBuild, packedForward, type KernelBuild } from './kernels.js';
import { makeOperands } from './operands.js';
import type { Build } from './peak.js';
import { createTfjsWasm } from './peers/tfjs.js';
import { label, productFlops, products, selectShapes } from './shapes.js';
import { plans, Timer } from './timing.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    set: { type: 'string', default: 'smallbatch' },
    shapes: { type: 'string' }, // instead of a set: batch×in×out,…
    quick: { type: 'boolean', default: false },
  },
});
if (!args.baseline) throw new Error('--baseline <dir>: a folder holding the .wasm files of the build to compare against');

const builds: Build[] = hasRelaxedSimd() ? ['fixed', 'relaxed'] : ['fixed'];
const contenders: { name: string; kb: KernelBuild }[] = [];
for (const build of builds) {
  const file = defaultWasmUrl(build).pathname.split('/').pop()!;
  contenders.push({ name: `${build} before`, kb: await loadKernelBuild(build, pathToFileURL(join(args.baseline, file))) });
  contenders.push({ name: `${build} now`, kb: await loadKernelBuild(build, defaultWasmUrl(build)) });
}
const tfjs = await createTfjsWasm();
const plan = args.quick ? plans.quick : plans.full;

console.log(['shape', 'pass', ...contenders.map((c) => c.name), 'tfjs pre-T', ...builds.map((b) => `${b} now/before`)].join('\t'));
const shapes = args.shapes
  ? args.shapes.split(',').map((s) => {
    const [batch, inFeatures, outFeatures] = s.split(/[x×]/).map(Number);
    return { name: s, batch, inFeatures, outFeatures };
  })
  : selectShapes(args.set).map((e) => e.shape);
for (const shape of shapes) {
  const operands = makeOperands(shape);
  const prepared = contenders.map(({ kb }) => kernelCalls(kb, operands));
  const frozen = contenders.map(({ kb }) => packedForward(kb, operands));
  const peer = tfjs.pretransposed;
  const { batch, inFeatures: din, outFeatures: dout } = shape;
  const theirs = {
    forward: peer.matmul(operands.x, operands.w, batch, din, dout),
    dX: peer.matmulTransB(operands.dy, operands.w, batch, dout, din),
    dW: peer.matmulTransA(operands.x, operands.dy, din, batch, dout),
  };
  // 'frozen': the forward on W packed beforehand (Linear.freeze()), against the same tfjs call.
  for (const product of [...products(shape), { ...products(shape)[0], pass: 'frozen' as const }]) {
    const ours = product.pass === 'frozen' ? frozen.map((f) => f.call()) : prepared.map((p) => p.call(product));
    const calls = [...ours, theirs[product.pass === 'frozen' ? 'forward' : product.pass]];
    const timers = [];
    for (const call of calls) timers.push((await Timer.start(call, plan)) as Timer);
    for (let round = 0; round < plan.rounds; round++) for (const t of timers) await t.round();
    const gflops = timers.map((t) => productFlops(shape) / (t.result().p50Ms * 1e6));
    const ratios = builds.map((_, i) => (gflops[2 * i + 1] / gflops[2 * i]).toFixed(2));
    console.log([label(shape), product.pass, ...gflops.map((g) => g.toFixed(1)), ...ratios].join('\t'));
  }
  frozen.forEach((f) => f.dispose());
  prepared.forEach((p) => p.dispose());
  peer.dispose();
}
