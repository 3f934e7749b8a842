// `node --import tsx bench/cold-start.ts [--runs N]`: process start to the first forward result in
// Node (a 64×784 batch through a 784→128 layer), above an empty `node`, for the default entry, /inline
// and the peers (tfjs-wasm, one thread; onnxruntime-web, one thread, the layer as a MatMul model read
// from a file); medians of N fresh processes each, taken in turns so that drift spreads evenly.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { onnxModel } from './peers/onnx-model.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(args.runs);
const dist = new URL('../dist/', import.meta.url).href;
const resolve = (name: string) => import.meta.resolve(name);
const require = createRequire(import.meta.url);
// The model is written beforehand (building it is the bench's business, not the peer's start).
const folder = mkdtempSync(join(tmpdir(), 'cold-start-'));
const modelFile = join(folder, 'layer.onnx');
writeFileSync(modelFile, onnxModel({ opType: 'MatMul' }, [64, 784], new Float32Array(784 * 128).fill(0.01), [784, 128], [64, 128]));

const ours = (entry: string) => `
  const { init, Linear } = await import('${dist}${entry}');
  await init();
  new Linear(784, 128).forward(new Float32Array(64 * 784), 64);`;
const programs: Record<string, string> = {
  'empty node': '',
  'simd-linear': ours('index.js'),
  'simd-linear/inline': ours('inline.js'),
  'tfjs-wasm': `
    const tf = await import('${resolve('@tensorflow/tfjs-core')}');
    const wasm = await import('${resolve('@tensorflow/tfjs-backend-wasm')}');
    wasm.setWasmPaths('${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/');
    wasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    const w = tf.tensor2d(new Float32Array(784 * 128).fill(0.01), [784, 128]);
    tf.matMul(tf.tensor2d(new Float32Array(64 * 784), [64, 784]), w).dataSync();`,
  'onnxruntime-web': `
    const ort = await import('${resolve('onnxruntime-web')}');
    const { readFileSync } = await import('node:fs');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    const session = await ort.InferenceSession.create(readFileSync(${JSON.stringify(modelFile)}));
    await session.run({ A: new ort.Tensor('float32', new Float32Array(64 * 784), [64, 784]) });`,
};

/** Milliseconds from spawning `node` to its exit, for one run of `program`. */
function once(program: string): number {
  const start = performance.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - start;
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(programs).map((name) => [name, []]));
try {
  for (let i = 0; i < runs; i++) for (const [name, program] of Object.entries(programs)) samples[name]!.push(once(program));
} finally {
  rmSync(folder, { recursive: true, force: true });
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const empty = median(samples['empty node']!);
console.log(`cold start, median of ${runs} processes (node ${process.versions.node}); empty node ${empty.toFixed(0)} ms`);
for (const name of Object.keys(programs).slice(1)) console.log(`  ${name.padEnd(20)} +${(median(samples[name]!) - empty).toFixed(0)} ms`);
