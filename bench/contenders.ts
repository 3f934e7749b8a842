// Everything timed on the three products of a shape, behind one interface: simd-linear's
// kernels (each build), the peers of bench/peers/, and the plain-JS reference.
import { referenceMatmul } from '../dist/reference.js';
import { kernelCalls, loadKernelBuilds, packedForward } from './kernels.js';
import type { Operands } from './operands.js';
import type { Build } from './peak.js';
import { createMlMatrix } from './peers/mlmatrix.js';
import { createOnnxRuntime, createOnnxRuntimeNode } from './peers/onnxruntime.js';
import { createTfjsWasm } from './peers/tfjs.js';
import type { Peer } from './peers/types.js';
import type { Product } from './shapes.js';
import type { Call } from './timing.js';

/** The calls of one contender on one shape; `dispose` frees what `prepare` made. */
export interface Prepared { call(product: Product): Call; dispose(): void }

export interface Contender {
  /** Short column name, e.g. 'tfjs pre-T'. */
  name: string;
  /** What exactly is timed, for latest.json. */
  description: string;
  /** Set for simd-linear's kernels: the build, whose peak the numbers are a share of. */
  build?: Build;
  /** The products it runs, if not all three. */
  passes?: readonly Product['pass'][];
  /**
   * For slow pure-JS code: the longest a call may take before the contender sits the shape out,
   * and an optimistic speed, to skip calls sure to exceed that without spending seconds on a probe.
   */
  limit?: { seconds: number; fastestGflops: number };
  prepare(operands: Operands): Prepared;
}

/**
 * A Peer's three products on the shape's operands, stored as each product expects:
 * dX = dY·Wᵀ is A·Bᵀ with W as the n×k operand; dW = Xᵀ·dY is Aᵀ·B with X as the k×m one.
 */
function peerCalls(peer: Peer, { shape, x, w, dy }: Operands): Prepared {
  const { batch, inFeatures: din, outFeatures: dout } = shape;
  const calls: Record<Product['pass'], Call> = {
    forward: peer.matmul(x, w, batch, din, dout),
    dX: peer.matmulTransB(dy, w, batch, dout, din),
    dW: peer.matmulTransA(x, dy, din, batch, dout),
  };
  return { call: (product) => calls[product.pass], dispose: () => peer.dispose() };
}

/** The float64 oracle from dist/reference.js, with the same operand layouts as the peers. */
function referenceCalls({ shape, x, w, dy }: Operands): Prepared {
  const { batch, inFeatures: din, outFeatures: dout } = shape;
  const calls: Record<Product['pass'], Call> = {
    forward: () => referenceMatmul(x, w, batch, din, dout),
    dX: () => referenceMatmul(dy, w, batch, dout, din, { transposeB: true }),
    dW: () => referenceMatmul(x, dy, din, batch, dout, { transposeA: true }),
  };
  return { call: (product) => calls[product.pass], dispose() {} };
}

const peerContender = (name: string, description: string, peer: Peer, limit?: Contender['limit']): Contender =>
  ({ name, description, limit, prepare: (operands) => peerCalls(peer, operands) });

/** Scalar JS runs at 1–1.3 GFLOP/s on the reference machine (ANCHORS.md); 3 is out of its reach. */
const FASTEST_JS_GFLOPS = 3;

/** Every contender, in table order, and notes on any left out. Peers are set up once per process. */
export async function createContenders(): Promise<{ contenders: Contender[]; notes: string[]; tfjs: Awaited<ReturnType<typeof createTfjsWasm>> }> {
  const { builds, note } = await loadKernelBuilds();
  const tfjs = await createTfjsWasm();
  const ort = await createOnnxRuntime(1);
  const native = await createOnnxRuntimeNode(1);
  const contenders: Contender[] = [
    ...builds.map((kb): Contender => ({
      name: `simd-linear ${kb.build}`,
      description: `simd-linear's ${kb.build} build, bare gemm on operands in its own heap (Runtime.gemm)`,
      build: kb.build,
      prepare: (operands) => kernelCalls(kb, operands),
    })),
    ...builds.slice(-1).map((kb): Contender => ({
      name: 'simd-linear packed',
      description: `simd-linear's ${kb.build} build, forward on W packed once beforehand (Runtime.gemmPackedB, as Linear.freeze())`,
      build: kb.build,
      passes: ['forward'],
      prepare: (operands) => packedForward(kb, operands),
    })),
    peerContender('tfjs', `tfjs-wasm ${tfjs.tf.version_core} (${tfjs.build}, 1 thread): matMul with its own transpose flags, then dataSync`, tfjs.transposed),
    peerContender('tfjs pre-T', 'tfjs-wasm: plain matMul on an operand transposed once beforehand (outside timing), then dataSync', tfjs.pretransposed),
    peerContender('ORT', `${ort.name}, 1 thread: a one-node MatMul or Gemm (transA / transB) model, W as initializer; async run`, ort),
    peerContender('ORT-node', `${native.name} (native MLAS, CPU provider), 1 thread: the same one-node models; async run`, native),
    peerContender('ml-matrix', 'ml-matrix mmul (float64), with transposes inside the call as a user writes them',
      createMlMatrix(), { seconds: 1, fastestGflops: FASTEST_JS_GFLOPS }),
    {
      name: 'JS',
      description: 'referenceMatmul from dist/reference.js, the plain float64 i-k-j loop',
      limit: { seconds: 0.5, fastestGflops: FASTEST_JS_GFLOPS },
      prepare: referenceCalls,
    },
  ];
  return { contenders, notes: note ? [note] : [], tfjs };
}
