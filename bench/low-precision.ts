// `npm run bench -- --set lowprecision` (and part of a full `npm run bench`): the frozen
// forward with W kept as f32, bf16 and int8 (Linear.freeze({ weights })), on both builds
// side by side, round by round, as FrozenLinear calls the kernels (int8: the input rows
// quantized in every call). Reports µs, the speed-up over the f32 frozen forward of the
// same build, and, where W is streamed once (batch ≤ WEIGHT_BOUND_BATCH), the GB/s of
// weights read against a plain read loop over as many bytes. Beside them, onnxruntime-web
// (one thread) on the same layer as f32, as a dynamically quantized int8 model and as
// 4-bit MatMulNBits (bench/peers/onnx-quantized.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pairedDepth, WeightFormat } from '../dist/internal.js';
import { loadKernelBuilds, type KernelBuild } from './kernels.js';
import { random } from './operands.js';
import { writeLowPrecisionChart, type LowPrecisionEntry } from './low-precision-chart.js';
import { readLoop } from './peak.js';
import { createOnnxRuntime, createOnnxRuntimeQuantized } from './peers/onnxruntime.js';
import { WEIGHT_BOUND_BATCH } from './results.js';
import { plans, Timer, type Call } from './timing.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--set' && a !== 'lowprecision'),
  strict: false,
  options: { quick: { type: 'boolean', default: false }, shapes: { type: 'string' }, out: { type: 'string' } },
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
const ortF32 = await createOnnxRuntime(1);
const ortQuantized = await createOnnxRuntimeQuantized();
const peers = {
  'ORT f32': (x: Float32Array, w: Float32Array, m: number, k: number, n: number) => ortF32.matmul(x, w, m, k, n),
  'ORT int8': ortQuantized.int8,
  'ORT int4': ortQuantized.int4,
};
type PeerName = keyof typeof peers;
let warm = false;
const bytesPerWeight: Record<Format, number> = { f32: 4, bf16: 2, int8: 1 };
const rows: Record<string, string>[] = [];
const results = [];
console.log(`simd-linear frozen forward by weights format, ${builds.map((b) => b.build).join(' and ')} builds side by side; p50 of ${plan.rounds} rounds`);
for (const [m, k, n] of shapes) {
  const x = random(m * k), w = random(k * n), bias = random(n);
  const calls = builds.flatMap((kb) => (Object.keys(formats) as Format[]).map((format) => ({ build: kb.build, format, ...frozenForward(kb, format, m, k, n, x, w, bias) })));
  const streamed = m <= WEIGHT_BOUND_BATCH;
  const loops = streamed ? await Promise.all((Object.keys(formats) as Format[]).map(async (format) => ({ format, call: await readLoop(k * n * bytesPerWeight[format]) }))) : [];
  const peerCalls = (Object.keys(peers) as PeerName[]).map((name) => ({ name, call: peers[name](x, w, m, k, n) }));
  if (!warm) {
    // V8 tiers ORT's large wasm up over about two seconds of calls: before that it reads low.
    for (const start = performance.now(); performance.now() - start < (plan === plans.quick ? 500 : 2500);) {
      for (const { call } of peerCalls) await call();
    }
    warm = true;
  }
  const timers: Timer[] = [];
  for (const c of [...calls, ...loops, ...peerCalls]) timers.push((await Timer.start(c.call, plan)) as Timer);
  for (let round = 0; round < plan.rounds; round++) for (const t of timers) await t.round();
  const ms = timers.map((t) => t.result().p50Ms);
  const readGBps = Object.fromEntries(loops.map((l, i) => [l.format, (k * n * bytesPerWeight[l.format]) / (ms[calls.length + i] * 1e6)]));
  const peerMs = Object.fromEntries(peerCalls.map((p, i) => [p.name, ms[calls.length + loops.length + i]!])) as Record<PeerName, number>;
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
    // Our int8 against each of ORT's forms of the same layer.
    for (const name of Object.keys(peers) as PeerName[]) row[`int8 vs ${name}`] = `${(peerMs[name] / ms[at('int8')]).toFixed(2)}×`;
    entry.peers = peerMs;
    rows.push(row);
    results.push(entry);
  }
  calls.forEach((c) => c.dispose());
}
console.table(rows);
ortF32.dispose();
ortQuantized.dispose();
// --out <dir>: where low-precision.json and .svg go (default bench/results), e.g. another Node's run beside the default one.
const dir = typeof args.out === 'string' ? pathToFileURL(`${resolve(args.out)}/`) : new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const out = new URL('low-precision.json', dir);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, quick: plan === plans.quick, results }, null, 1)}\n`);
const chart = new URL('low-precision.svg', dir);
writeLowPrecisionChart(chart.pathname, results as unknown as LowPrecisionEntry[],
  `Frozen forward by weights format, and onnxruntime-web — node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`);
console.log(`wrote ${out.pathname} and ${chart.pathname}`);
