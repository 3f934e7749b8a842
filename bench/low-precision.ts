// `npm run bench -- --set lowprecision` (and part of a full `npm run bench`): the frozen
// forward with W kept as f32, bf16 and int8 (Linear.freeze({ weights })), on both builds
// side by side, round by round, as FrozenLinear calls the kernels (int8: the input rows
// quantized in every call). Reports µs, the speed-up over the f32 frozen forward of the
// same build, and, where W is streamed once (batch ≤ WEIGHT_BOUND_BATCH), the GB/s of
// weights read against a plain read loop over as many bytes.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pairedDepth, WeightFormat } from '../dist/internal.js';
import { loadKernelBuilds, type KernelBuild } from './kernels.js';
import { random } from './operands.js';
import { readLoop } from './peak.js';
import { WEIGHT_BOUND_BATCH } from './results.js';
import { plans, Timer, type Call } from './timing.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--set' && a !== 'lowprecision'),
  strict: false,
  options: { quick: { type: 'boolean', default: false }, shapes: { type: 'string' } },
});
const plan = args.quick ? plans.quick : plans.full;
const shapes = (typeof args.shapes === 'string' ? args.shapes : '1x1024x1024,1x4096x4096,1x784x128,16x1024x1024,64x1024x1024')
  .split(',').map((s) => s.split(/[x×]/).map(Number) as [number, number, number]);

const formats = { f32: WeightFormat.packedF32, bf16: WeightFormat.packedBf16, int8: WeightFormat.packedInt8 } as const;
type Format = keyof typeof formats;

/** One frozen forward of `format` on the build's runtime, as FrozenLinear.forwardAt runs it. */
function frozenForward({ rt }: KernelBuild, format: Format, m: number, k: number, n: number, x: Float32Array, w: Float32Array, bias: Float32Array) {
  const { heap } = rt;
  const put = (data: Float32Array) => { const at = heap.alloc(data.byteLength); heap.f32(at, data.length).set(data); return at; };
  const px = put(x), pw = put(w), pb = put(bias), py = heap.alloc(4 * m * n);
  const packedAt = heap.alloc(rt.packedWeightBytes(formats[format], k, n));
  const packed = rt.packWeights(formats[format], k, n, pw, n, 1, packedAt);
  const rows = heap.alloc(rt.quantizedRowsBytes(m, k));
  const call: Call = format === 'int8'
    ? () => rt.gemmPackedB(m, n, k, rows, pairedDepth(k), 1, packed, py, n, false, pb, undefined, rt.quantizeRows(m, k, px, k, 1, rows))
    : () => rt.gemmPackedB(m, n, k, px, k, 1, packed, py, n, false, pb);
  return { call, dispose: () => [px, pw, pb, py, packedAt, rows].forEach((at) => heap.release(at)) };
}

const { builds } = await loadKernelBuilds();
const bytesPerWeight: Record<Format, number> = { f32: 4, bf16: 2, int8: 1 };
const rows: Record<string, string>[] = [];
const results = [];
console.log(`simd-linear frozen forward by weights format, ${builds.map((b) => b.build).join(' and ')} builds side by side; p50 of ${plan.rounds} rounds`);
for (const [m, k, n] of shapes) {
  const x = random(m * k), w = random(k * n), bias = random(n);
  const calls = builds.flatMap((kb) => (Object.keys(formats) as Format[]).map((format) => ({ build: kb.build, format, ...frozenForward(kb, format, m, k, n, x, w, bias) })));
  const streamed = m <= WEIGHT_BOUND_BATCH;
  const loops = streamed ? await Promise.all((Object.keys(formats) as Format[]).map(async (format) => ({ format, call: await readLoop(k * n * bytesPerWeight[format]) }))) : [];
  const timers: Timer[] = [];
  for (const c of [...calls, ...loops]) timers.push((await Timer.start(c.call, plan)) as Timer);
  for (let round = 0; round < plan.rounds; round++) for (const t of timers) await t.round();
  const ms = timers.map((t) => t.result().p50Ms);
  const readGBps = Object.fromEntries(loops.map((l, i) => [l.format, (k * n * bytesPerWeight[l.format]) / (ms[calls.length + i] * 1e6)]));
  for (const kb of builds) {
    const at = (format: Format) => calls.findIndex((c) => c.build === kb.build && c.format === format);
    const f32Ms = ms[at('f32')];
    const row: Record<string, string> = { shape: `${m}×${k}×${n}`, build: kb.build };
    const entry: Record<string, unknown> = { shape: [m, k, n], build: kb.build };
    for (const format of Object.keys(formats) as Format[]) {
      const t = ms[at(format)];
      row[`${format} µs`] = (t * 1e3).toFixed(1);
      if (format !== 'f32') row[`${format} ×f32`] = `${(f32Ms / t).toFixed(2)}×`;
      const gbps = streamed ? (k * n * bytesPerWeight[format]) / (t * 1e6) : undefined;
      if (gbps !== undefined) row[`${format} W GB/s (read loop)`] = `${gbps.toFixed(1)} (${readGBps[format]!.toFixed(1)})`;
      entry[format] = { ms: t, speedup: f32Ms / t, weightGBps: gbps, readLoopGBps: readGBps[format] };
    }
    rows.push(row);
    results.push(entry);
  }
  calls.forEach((c) => c.dispose());
}
console.table(rows);
const out = new URL('./results/low-precision.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, quick: plan === plans.quick, results }, null, 1)}\n`);
console.log(`wrote ${out.pathname}`);
