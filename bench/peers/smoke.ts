// `npx tsx bench/peers/smoke.ts [ortThreads]`: checks every peer's three products against a float64
// loop on a small odd shape, then times them at 256×1024×1024 and the tfjs MLP training step.
// ORT's thread count is fixed once per process, hence the argument rather than two ORT peers.
import { createMlMatrix } from './mlmatrix.js';
import { createOnnxRuntime } from './onnxruntime.js';
import { createTfjsWasm, tfjsTrainingStep } from './tfjs.js';
import type { Peer } from './types.js';

type Product = 'matmul' | 'matmulTransB' | 'matmulTransA';
const products: Product[] = ['matmul', 'matmulTransB', 'matmulTransA'];
const titles: Record<Product, string> = { matmul: 'A·B', matmulTransB: 'A·Bᵀ', matmulTransA: 'Aᵀ·B' };

const random = (length: number) => Float32Array.from({ length }, () => Math.random() * 2 - 1);

/** C = op(A)·op(B) in float64, indexing the operands as each product stores them. */
function reference(product: Product, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const at = (i: number, p: number) => (product === 'matmulTransA' ? a[p * m + i] : a[i * k + p]);
  const bt = (p: number, j: number) => (product === 'matmulTransB' ? b[j * k + p] : b[p * n + j]);
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) c[i * n + j] += at(i, p) * bt(p, j);
  return c;
}

/** What a call gave back (see Peer), as a flat row-major array: typed arrays as they are, ml-matrix via to1DArray. */
function values(result: unknown): ArrayLike<number> {
  if (ArrayBuffer.isView(result)) return result as unknown as ArrayLike<number>;
  if (result && typeof (result as { to1DArray?: unknown }).to1DArray === 'function') {
    return (result as { to1DArray(): number[] }).to1DArray();
  }
  throw new Error('the call returned no result to check');
}

async function maxError(peer: Peer, product: Product, m: number, k: number, n: number): Promise<number> {
  const a = random(m * k), b = random(k * n);
  const expected = reference(product, a, b, m, k, n);
  const actual = values(await peer[product](a, b, m, k, n)());
  if (actual.length !== expected.length) throw new Error(`${peer.name} ${product}: ${actual.length} values, not ${expected.length}`);
  return expected.reduce((worst, e, i) => Math.max(worst, Math.abs(e - actual[i])), 0);
}

/** Median seconds per call after a few warm-up calls; fewer runs when a call takes over half a second. */
async function seconds(call: () => unknown): Promise<number> {
  const time = async () => {
    const start = performance.now();
    await call();
    return (performance.now() - start) / 1e3;
  };
  let first = 0;
  for (let i = 0; i < 4; i++) first = await time();
  const runs: number[] = [];
  for (let i = 0; i < (first > 0.5 ? 3 : 9); i++) runs.push(await time());
  return runs.sort((x, y) => x - y)[runs.length >> 1];
}

const ortThreads = Number(process.argv[2] ?? 1);
const tfjs = await createTfjsWasm();
const peers: Peer[] = [tfjs.transposed, tfjs.pretransposed, createMlMatrix(), await createOnnxRuntime(ortThreads)];
console.log(`tfjs ${tfjs.tf.version_core}: backend ${tfjs.tf.getBackend()}, loaded ${tfjs.build}`);

for (const peer of peers) {
  for (const product of products) {
    const error = await maxError(peer, product, 7, 13, 5);
    if (!(error < 1e-4)) throw new Error(`${peer.name} ${product}: max abs error ${error} on 7×13×5`);
  }
}
console.log('all products match the float64 loop on 7×13×5 (max abs error < 1e-4)\n');

const [m, k, n] = [256, 1024, 1024];
const flops = 2 * m * k * n;
console.log(`GFLOP/s at ${m}×${k}×${n} (median):`);
console.log(['peer'.padEnd(32), ...products.map((p) => titles[p].padStart(8))].join(''));
for (const peer of peers) {
  const cells: string[] = [];
  for (const product of products) {
    // Operands stored as each product expects: A is k×m for Aᵀ·B, B is n×k for A·Bᵀ; same sizes either way.
    const call = peer[product](random(m * k), random(k * n), m, k, n);
    cells.push((flops / (await seconds(call)) / 1e9).toFixed(1).padStart(8));
  }
  console.log(peer.name.padEnd(32) + cells.join(''));
  peer.dispose();
}

const sizes = [784, 128, 10], batch = 64;
const step = tfjsTrainingStep(tfjs.tf, batch, sizes);
const stepSeconds = await seconds(step);
const stepFlops = sizes.slice(1).reduce((sum, out, i) => sum + 3 * 2 * batch * sizes[i] * out, 0);
console.log(`\ntfjs training step [${sizes}] batch ${batch}: ${(stepSeconds * 1e3).toFixed(3)} ms ` +
  `(${(stepFlops / stepSeconds / 1e9).toFixed(1)} GFLOP/s in its products)`);
step.dispose();
