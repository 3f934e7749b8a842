// ONNX Runtime Web 1.30 on its WebAssembly execution provider (MLAS kernels), each product a one-node
// model. In Node, `onnxruntime-web` resolves to dist/ort.node.min.mjs, which loads
// ort-wasm-simd-threaded.{mjs,wasm} from its own dist folder (next to import.meta.url): no network.
import * as ort from 'onnxruntime-web';
import { onnxModel, type OnnxNode } from './onnx-model.js';
import { dynamicInt8Model, int4Model } from './onnx-quantized.js';
import type { Peer } from './types.js';

let initialised: { requested: number; actual: number } | undefined;

/**
 * ORT reads env.wasm once, when its first session starts the wasm module, so that is done here with a
 * 1×1 model. Returns the thread count ORT settled on (it resets numThreads to 1 when it falls back).
 */
async function initWasm(threads: number): Promise<number> {
  if (initialised) {
    if (initialised.requested !== threads) {
      throw new Error(`onnxruntime-web is already running with ${initialised.actual} thread(s) in this process`);
    }
    return initialised.actual;
  }
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true; // 1.30 ships only SIMD builds; this only makes ORT check the engine supports SIMD
  ort.env.logLevel = 'error';
  const one = new Float32Array([1]);
  await (await ort.InferenceSession.create(onnxModel({ opType: 'MatMul' }, [1, 1], one, [1, 1], [1, 1]))).release();
  initialised = { requested: threads, actual: ort.env.wasm.numThreads ?? 1 };
  return initialised.actual;
}

/**
 * Plain products are a MatMul node; the transposed ones a Gemm node with transA / transB set, so ORT's
 * own transposed GEMM does the work (no Transpose node, no operand transposed beforehand).
 * B is the model's initializer and A its input, fed as a tensor made once outside timing; being constant,
 * B may be pre-packed by ORT when the session is created, as it would be in a deployed model.
 * `threads` > 1 needs SharedArrayBuffer and worker threads; ORT falls back to 1 (with a warning) without them.
 */
export async function createOnnxRuntime(threads = 1): Promise<Peer> {
  const actual = await initWasm(threads);
  return sessionPeer(actual === 1 ? 'onnxruntime-web' : `onnxruntime-web (${actual} threads)`, ort, { executionProviders: ['wasm'] });
}

/**
 * onnxruntime-node 1.30, native MLAS on the CPU execution provider (AVX-512 where the CPU has it), the
 * library a Node user would pick instead. Its postinstall would download a CUDA provider; the project's
 * .npmrc skips it, and the CPU binaries it ships run as they are. Loaded only when asked for, so a bench
 * in a browser or without the package still runs.
 */
export async function createOnnxRuntimeNode(threads = 1): Promise<Peer> {
  const native = await import('onnxruntime-node');
  return sessionPeer(threads === 1 ? 'onnxruntime-node' : `onnxruntime-node (${threads} threads)`, native, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
}

/** A one-layer forward, C = A·W, of a model made by `model(w, m, k, n)`. */
export type ModelForward = (a: Float32Array, w: Float32Array, m: number, k: number, n: number) => () => Promise<unknown>;

/**
 * onnxruntime-web, one thread, running the layer as quantized models: int8 as
 * quantize_dynamic writes it (fused into DynamicQuantizeMatMul) and 4-bit MatMulNBits.
 */
export async function createOnnxRuntimeQuantized(): Promise<{ int8: ModelForward; int4: ModelForward; dispose(): void }> {
  await initWasm(1);
  const sessions: ort.InferenceSession[] = [];
  const forward = (model: typeof int4Model): ModelForward => (a, w, m, k, n) => {
    const ready = ort.InferenceSession.create(model(w, m, k, n), { executionProviders: ['wasm'] });
    void ready.then((s) => sessions.push(s), () => {});
    const input = new ort.Tensor('float32', a, [m, k]);
    return async () => (await (await ready).run({ A: input })).C!.data as Float32Array;
  };
  return {
    int8: forward(dynamicInt8Model),
    int4: forward(int4Model),
    dispose: () => void Promise.all(sessions.splice(0).map((s) => s.release())).catch(() => {}),
  };
}

/** The two packages' shared API (onnxruntime-common), as far as the peer uses it. */
interface OnnxRuntime {
  InferenceSession: { create(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => ort.Tensor;
}

function sessionPeer(name: string, runtime: OnnxRuntime, options: ort.InferenceSession.SessionOptions): Peer {
  const sessions: ort.InferenceSession[] = [];

  // Peer methods return their call synchronously but sessions are created asynchronously: creation starts
  // here, outside timing, and the call awaits that (by then settled) promise, which costs one microtask.
  // The first warm-up call is where a failed session would surface.
  const product = (node: OnnxNode, a: Float32Array, aDims: number[], b: Float32Array, bDims: number[], cDims: number[]) => {
    const ready = runtime.InferenceSession.create(onnxModel(node, aDims, b, bDims, cDims), options);
    void ready.then((s) => sessions.push(s), () => {});
    const input = new runtime.Tensor('float32', a, aDims);
    // run() resolves once C has been copied out of the runtime's memory.
    return async () => (await (await ready).run({ A: input })).C!.data as Float32Array;
  };

  return {
    name,
    matmul: (a, b, m, k, n) => product({ opType: 'MatMul' }, a, [m, k], b, [k, n], [m, n]),
    matmulTransB: (a, b, m, k, n) =>
      product({ opType: 'Gemm', attributes: { transB: 1 } }, a, [m, k], b, [n, k], [m, n]),
    matmulTransA: (a, b, m, k, n) =>
      product({ opType: 'Gemm', attributes: { transA: 1 } }, a, [k, m], b, [k, n], [m, n]),
    // release() is async and Peer.dispose is not; a failed release only leaks memory.
    dispose: () => void Promise.all(sessions.splice(0).map((s) => s.release())).catch(() => {}),
  };
}
