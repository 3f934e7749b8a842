// The instantiated kernels and the heap they work in: one per page or process,
// created by `init()`, reached by everything else through `runtime()`.
import { describe } from './errors.js';
import { Heap } from './heap.js';
import { compileKernels, hasRelaxedSimd, type SimdLevel, type WasmSource } from './loader.js';

/** The ABI this wrapper speaks; must equal the .wasm's ABI_VERSION export. */
const ABI_VERSION = 2;

/** The raw exports: numbers in, numbers out (addresses are byte offsets, strides are in floats). */
export interface Kernels {
  ABI_VERSION: WebAssembly.Global;
  SIMD_LEVEL: WebAssembly.Global;
  TILE_ROWS: WebAssembly.Global;
  TILE_COLS: WebAssembly.Global;
  BLOCK_DEPTH: WebAssembly.Global;
  BLOCK_ROWS: WebAssembly.Global;
  BLOCK_COLS: WebAssembly.Global;
  heap_base(): number;
  gemm_scratch_bytes(): number;
  gemm(
    m: number, n: number, k: number,
    a: number, rsA: number, csA: number,
    b: number, rsB: number, csB: number,
    c: number, ldc: number, accumulate: number, bias: number,
    activation: number, slope: number, y: number, scratch: number,
  ): void;
  add_column_sums(m: number, rows: number, cols: number, out: number): void;
  activate(kind: number, slope: number, z: number, y: number, count: number): void;
  activate_backward(kind: number, slope: number, z: number, y: number, dy: number, dz: number, count: number): void;
  softmax_cross_entropy(logits: number, labels: number, batch: number, classes: number, grad: number): number;
  mean_squared_error(pred: number, target: number, count: number, grad: number): number;
  sgd_step(
    p: number, g: number, buf: number, count: number,
    lr: number, momentum: number, keep: number, weightDecay: number, nesterov: number, first: number,
  ): void;
  adamw_step(
    p: number, g: number, m: number, v: number, count: number,
    decay: number, keep1: number, beta2: number, keep2: number, step: number, root2: number, eps: number,
  ): void;
}

/** An activation applied in the GEMM's epilogue: Y = f(C) written to `y`. */
export interface Epilogue {
  /** Kind as numbered in assembly/activations.ts. */
  kind: number;
  slope: number;
  y: number;
}

export interface InitOptions {
  /**
   * Which build to load: 'relaxed' (fused multiply-add, a wider register tile),
   * 'fixed' (plain SIMD), or 'auto' (default): relaxed where the runtime validates
   * it (Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd).
   */
  simd?: SimdLevel | 'auto';
  /** The compiled kernels or where to get them; by default the .wasm shipped beside this file. */
  wasm?: WasmSource;
}

/** What `backendInfo()` reports: the build in use and its blocking. */
export interface BackendInfo {
  simd: SimdLevel;
  threads: 1;
  /** Register tile of the microkernel, rows × columns. */
  tile: { rows: number; cols: number };
  /** Cache blocks of the GEMM, in floats: depth KC, rows MC, columns NC. */
  blocks: { depth: number; rows: number; cols: number };
}

export class Runtime {
  readonly heap: Heap;
  /** Packing scratch of the GEMM on this thread. */
  readonly scratch: number;
  readonly info: BackendInfo;

  constructor(readonly kernels: Kernels, memory: WebAssembly.Memory) {
    this.heap = new Heap(memory, kernels.heap_base());
    this.scratch = this.heap.alloc(kernels.gemm_scratch_bytes());
    this.info = {
      simd: kernels.SIMD_LEVEL.value === 2 ? 'relaxed' : 'fixed',
      threads: 1,
      tile: { rows: kernels.TILE_ROWS.value, cols: kernels.TILE_COLS.value },
      blocks: { depth: kernels.BLOCK_DEPTH.value, rows: kernels.BLOCK_ROWS.value, cols: kernels.BLOCK_COLS.value },
    };
  }

  /**
   * C (m×n, row stride ldc) = (accumulate ? C : 0) + bias + op(A)·op(B), with
   * op(A)(i, p) = A[i·rsA + p·csA] and op(B)(p, j) = B[p·rsB + j·csB]. bias: 0 for none.
   */
  gemm(
    m: number, n: number, k: number,
    a: number, rsA: number, csA: number,
    b: number, rsB: number, csB: number,
    c: number, ldc: number, accumulate: boolean, bias = 0, epilogue?: Epilogue,
  ): void {
    this.kernels.gemm(
      m, n, k, a, rsA, csA, b, rsB, csB, c, ldc, accumulate ? 1 : 0, bias,
      epilogue?.kind ?? 0, epilogue?.slope ?? 0, epilogue?.y ?? 0, this.scratch,
    );
  }
}

let current: Runtime | undefined;
let pending: Promise<void> | undefined;

/** Where each build's kernels come from when `init` is not given `wasm`: files or embedded bytes. */
export type KernelLocator = (simd: SimdLevel) => WasmSource;

/**
 * Compiles and instantiates the kernels, found by `locate` unless options.wasm says.
 * Later calls return the same promise. Rejects with a clear Error where WebAssembly
 * SIMD is missing or the .wasm cannot be loaded (and may then be called again).
 */
export function initWith(options: InitOptions, locate: KernelLocator): Promise<void> {
  pending ??= instantiate(options ?? {}, locate).then(
    (runtime) => { current = runtime; },
    (error: unknown) => { pending = undefined; throw error; },
  );
  return pending;
}

async function instantiate({ simd = 'auto', wasm }: InitOptions, locate: KernelLocator): Promise<Runtime> {
  if (simd !== 'auto' && simd !== 'fixed' && simd !== 'relaxed') {
    throw new TypeError(`init: simd must be 'auto', 'fixed' or 'relaxed'; got ${describe(simd)}`);
  }
  if (simd === 'relaxed' && !hasRelaxedSimd()) {
    throw new Error(
      "init: simd: 'relaxed' was asked for but this runtime does not support relaxed SIMD " +
      '(Node 20 needs --experimental-wasm-relaxed-simd; Chrome needs version 114)',
    );
  }
  const level: SimdLevel = simd === 'auto' ? (hasRelaxedSimd() ? 'relaxed' : 'fixed') : simd;
  const module = await compileKernels(wasm ?? locate(level));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const version = kernels.ABI_VERSION?.value;
  if (version !== ABI_VERSION) {
    throw new Error(
      `simd-linear: the .wasm speaks ABI version ${String(version)} but this JavaScript expects ${ABI_VERSION}: ` +
      'the two come from different builds (rebuild, or serve the .wasm shipped with this version)',
    );
  }
  return new Runtime(kernels, memory);
}

/** The initialised runtime; throws, naming `where`, before `init()` has finished. */
export function runtime(where: string): Runtime {
  if (!current) throw new Error(`${where}: simd-linear is not initialised: call \`await init()\` first`);
  return current;
}

/** Which build runs and how it is blocked. */
export function backendInfo(): BackendInfo {
  return runtime('backendInfo').info;
}

/** The module's memory size and the bytes currently allocated in it, to make leaks visible. */
export function memoryStats(): { memoryBytes: number; liveBytes: number } {
  const { heap } = runtime('memoryStats');
  return { memoryBytes: heap.memory.buffer.byteLength, liveBytes: heap.liveBytes };
}
