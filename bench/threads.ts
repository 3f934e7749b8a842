// `npm run bench:threads`: one thread against two on the same runtime (its worker pool
// switched off and on, call by call), and against onnxruntime-web and onnxruntime-node (native) on two threads, for
// forward, dX and dW; then small products, to place the size below which a call
// stays on one thread (PARALLEL_THRESHOLD in src/pool.ts).
import { writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { init, backendInfo, shutdown } from '../dist/index.js';
import { PARALLEL_THRESHOLD, runtime, type Runtime } from '../dist/internal.js';
import { random } from './operands.js';
import { createOnnxRuntime, createOnnxRuntimeNode } from './peers/onnxruntime.js';

const shapes: [number, number, number][] = [[32, 784, 128], [64, 512, 512], [256, 1024, 1024], [1024, 1024, 1024], [128, 4096, 1024]];
const small: [number, number, number][] = [[8, 64, 64], [16, 64, 128], [32, 128, 128], [32, 256, 256], [64, 256, 256]];

/** The three products of a Linear layer on operands in the module's memory. */
function products(rt: Runtime, m: number, k: number, n: number): Record<string, () => void> {
  const put = (data: Float32Array) => { const at = rt.heap.alloc(data.byteLength); rt.heap.f32(at, data.length).set(data); return at; };
  const x = put(random(m * k)), w = put(random(k * n)), dy = put(random(m * n));
  const y = put(new Float32Array(m * n)), dx = put(new Float32Array(m * k)), dw = put(new Float32Array(k * n));
  return {
    forward: () => rt.gemm(m, n, k, x, k, 1, w, n, 1, y, n, false),
    dX: () => rt.gemm(m, k, n, dy, n, 1, w, 1, n, dx, k, false),
    dW: () => rt.gemm(k, n, m, x, 1, k, dy, n, 1, dw, n, true),
  };
}

/** Median milliseconds of each task, measured by tinybench after a warm-up. */
async function medians(tasks: Record<string, () => unknown>, timeMs: number): Promise<Record<string, number>> {
  const bench = new Bench({ time: timeMs, iterations: 5, warmupTime: 100, warmupIterations: 5 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return Object.fromEntries(bench.tasks.map((task) => {
    if (task.result.state !== 'completed') throw new Error(`${task.name}: ${task.result.state}`);
    return [task.name, task.result.latency.p50];
  }));
}

await init({ threads: 2 });
const rt = runtime('bench');
const pool = rt.pool!;
const onThreads = (count: 1 | 2, call: () => void) => () => { rt.pool = count === 2 ? pool : null; call(); };
const ort = await createOnnxRuntime(2);
const native = await createOnnxRuntimeNode(2);
console.log(`simd-linear ${backendInfo().simd} SIMD, 1 vs 2 threads, onnxruntime-web and onnxruntime-node on 2 threads; GFLOP/s (median)`);

const rows = [];
for (const [m, k, n] of shapes) {
  const calls = products(rt, m, k, n);
  const a = random(m * k), b = random(k * n), bT = random(n * k), aT = random(k * m), dyData = random(m * n);
  const peerCalls = (peer: typeof ort): Record<string, () => unknown> => ({
    forward: peer.matmul(a, b, m, k, n),
    dX: peer.matmulTransB(dyData, bT, m, n, k),
    dW: peer.matmulTransA(aT, dyData, k, m, n),
  });
  const ortCalls = peerCalls(ort), nativeCalls = peerCalls(native);
  for (const pass of ['forward', 'dX', 'dW'] as const) {
    const t = await medians({ one: onThreads(1, calls[pass]), two: onThreads(2, calls[pass]), ort: ortCalls[pass]!, native: nativeCalls[pass]! }, 400);
    const gflops = (ms: number) => (2 * m * k * n) / ms / 1e6;
    rows.push({
      shape: `${m}×${k}×${n}`, pass,
      '1 thread': gflops(t.one).toFixed(1), '2 threads': gflops(t.two).toFixed(1), speedup: `${(t.one / t.two).toFixed(2)}×`,
      'ORT 2 threads': gflops(t.ort).toFixed(1), 'vs ORT': `${(t.ort / t.two).toFixed(2)}×`,
      'ORT-node 2 threads': gflops(t.native).toFixed(1), 'vs ORT-node': `${(t.native / t.two).toFixed(2)}×`,
    });
  }
}
console.table(rows);

// Small products, on one thread and split in two regardless of the threshold.
const threshold = [];
for (const [m, k, n] of small) {
  const { forward } = products(rt, m, k, n);
  const split = () => { rt.pool = pool; rt.parallelThreshold = 0; forward(); rt.parallelThreshold = PARALLEL_THRESHOLD; };
  const t = await medians({ one: onThreads(1, forward), two: split }, 200);
  threshold.push({
    shape: `${m}×${k}×${n}`, 'multiply-adds': m * k * n,
    '1 thread µs': (t.one * 1e3).toFixed(1), '2 threads µs': (t.two * 1e3).toFixed(1), speedup: `${(t.one / t.two).toFixed(2)}×`,
  });
}
console.log(`Small products (PARALLEL_THRESHOLD = ${PARALLEL_THRESHOLD} multiply-adds):`);
console.table(threshold);
const out = new URL('./results/threads.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, build: backendInfo().simd, products: rows, small: threshold }, null, 1)}\n`);
console.log(`wrote ${out.pathname}`);
ort.dispose();
native.dispose();
shutdown();
