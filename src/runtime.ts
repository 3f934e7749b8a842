// The instantiated kernels and the heap they work in: one per page or process,
// created by `init()`, reached by everything else through `runtime()`.
import type { Epilogue, Kernels } from './abi.js';
import { ABI_VERSION, GEMM_CALL_BYTES, writeGemmCall, type GemmCall } from './abi.generated.js';
import { checkSize, describe } from './errors.js';
import { Heap } from './heap.js';
import type { Pool, PoolArea, ThreadSupport } from './pool.js';
import { PARALLEL_THRESHOLD } from './pool-protocol.js';
import { compileKernels, hasRelaxedSimd, type SimdLevel, type WasmSource } from './loader.js';

export type { Epilogue, Kernels };

export interface InitOptions {
  /**
   * Which build to load: 'relaxed' (fused multiply-add, a wider register tile),
   * 'fixed' (plain SIMD), or 'auto' (default): relaxed where the runtime validates
   * it (Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd).
   */
  simd?: SimdLevel | 'auto';
  /** The compiled kernels or where to get them; by default the .wasm shipped beside this file. */
  wasm?: WasmSource;
  /**
   * Threads for large products (default 1): a count, or 'auto' for every core. Needs
   * SharedArrayBuffer: in a browser, a page served with COOP: same-origin and COEP:
   * require-corp. 'auto' falls back to one thread without it (backendInfo() says why).
   * Results are bitwise identical whatever the count.
   */
  threads?: number | 'auto';
}

/** What `backendInfo()` reports: the build in use and its blocking. */
export interface BackendInfo {
  simd: SimdLevel;
  /** Threads that share large products (1: this thread only). */
  threads: number;
  /** Why fewer threads run than were asked for, when that happened. */
  threadsNote?: string;
  /** Register tile of the microkernel, rows × columns. */
  tile: { rows: number; cols: number };
  /** Cache blocks of the GEMM, in floats: depth KC, rows MC, columns NC. */
  blocks: { depth: number; rows: number; cols: number };
}

/** What starts the workers: kept to start them again after shutdown(). */
export interface WorkerPlan {
  /** Workers beside this thread. */
  size: number;
  /** The threads build, instantiated by each worker over the shared memory. */
  module: WebAssembly.Module;
  support: ThreadSupport;
}

export class Runtime {
  readonly heap: Heap;
  /** Packing scratch of the GEMM on this thread. */
  readonly scratch: number;
  readonly info: BackendInfo;
  /** The workers sharing large products, or null for this thread alone. */
  pool: Pool | null = null;
  /** Multiply-adds from which a product is shared with the workers. */
  parallelThreshold = PARALLEL_THRESHOLD;

  /** Where this thread writes each GEMM call for the kernels (and the workers), and views to write it through. */
  readonly #call: number;
  #words: Int32Array;
  #floats: Float32Array;
  #workerPlan: WorkerPlan | null = null;
  #poolArea: PoolArea | null = null;
  /** Counts starts and stops of the workers: a start that a stop overtook discards its pool. */
  #workerGeneration = 0;

  constructor(readonly kernels: Kernels, memory: WebAssembly.Memory) {
    this.heap = new Heap(memory, kernels.heap_base());
    this.scratch = this.heap.alloc(kernels.gemm_scratch_bytes());
    this.info = {
      simd: kernels.SIMD_LEVEL.value === 2 ? 'relaxed' : 'fixed',
      threads: 1,
      tile: { rows: kernels.TILE_ROWS.value, cols: kernels.TILE_COLS.value },
      blocks: { depth: kernels.BLOCK_DEPTH.value, rows: kernels.BLOCK_ROWS.value, cols: kernels.BLOCK_COLS.value },
    };
    this.#call = this.heap.alloc(GEMM_CALL_BYTES);
    this.#words = new Int32Array(memory.buffer);
    this.#floats = new Float32Array(memory.buffer);
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
    this.#run({
      m, n, k, a, rsA, csA, b, rsB, csB, packedB: 0, c, ldc, accumulate: accumulate ? 1 : 0, bias,
      epilogue: epilogue?.kind ?? 0, slope: epilogue?.slope ?? 0, y: epilogue?.y ?? 0, parts: 1,
    });
  }

  /** Bytes `packB` writes for a k×n B. */
  packedBBytes(k: number, n: number): number {
    return 4 * this.kernels.packed_b_floats(k, n);
  }

  /** Packs op(B) (k×n, op(B)(p, j) = B[p·rsB + j·csB]) at `dst` for `gemmPackedB`. */
  packB(k: number, n: number, b: number, rsB: number, csB: number, dst: number): void {
    this.kernels.pack_b(k, n, b, rsB, csB, dst);
  }

  /** `gemm` with B packed by `packB`: nothing of B is packed per call. */
  gemmPackedB(
    m: number, n: number, k: number,
    a: number, rsA: number, csA: number, b: number,
    c: number, ldc: number, accumulate: boolean, bias = 0, epilogue?: Epilogue,
  ): void {
    this.#run({
      m, n, k, a, rsA, csA, b, rsB: 0, csB: 0, packedB: 1, c, ldc, accumulate: accumulate ? 1 : 0, bias,
      epilogue: epilogue?.kind ?? 0, slope: epilogue?.slope ?? 0, y: epilogue?.y ?? 0, parts: 1,
    });
  }

  /** Starts the workers `plan` describes (again, after `stopWorkers`, with `restartWorkers`). */
  async startWorkers(plan: WorkerPlan): Promise<void> {
    this.#workerPlan = plan;
    const generation = ++this.#workerGeneration;
    const { allocatePoolArea, startPool, spawn } = plan.support;
    const area = (this.#poolArea ??= allocatePoolArea(this.heap, plan.size, this.kernels.gemm_scratch_bytes()));
    const pool = await startPool(plan.size, plan.module, this.heap, area, spawn);
    if (generation !== this.#workerGeneration) {
      pool.stop(); // shutdown() was called while the workers were starting
      return;
    }
    this.pool = pool;
    this.info.threads = plan.size + 1;
  }

  /** True when workers were started once and are stopped now. */
  get workersStopped(): boolean {
    return this.#workerPlan !== null && this.pool === null;
  }

  /** Starts the workers of the last `startWorkers` again, on the same memory. */
  restartWorkers(): Promise<void> {
    return this.startWorkers(this.#workerPlan!);
  }

  /** Ends the workers; large products run on this thread until they start again. */
  stopWorkers(): void {
    this.#workerGeneration++;
    if (!this.pool) return;
    // A worker given up on mid-call may still write the area: leave it to that worker.
    if (this.pool.abandonedWork) this.#poolArea = null;
    this.pool.stop();
    this.pool = null;
    this.info.threads = 1;
  }

  /** Writes `call` where every thread's kernels read it, and runs it: shared with the workers when large. */
  #run(call: GemmCall): void {
    const { kernels, pool, scratch } = this;
    const at = this.#call;
    const work = call.m * call.n * call.k;
    if (pool && work >= this.parallelThreshold) call.parts = pool.size + 1;
    if (this.#words.length === 0) {
      // The memory grew since and detached the views (a shared memory's old views stay
      // valid, and the descriptor is in them). Checked so, not by comparing buffers:
      // memory.buffer costs a call into the engine, a noticeable part of a small product.
      const buffer = this.heap.memory.buffer;
      this.#words = new Int32Array(buffer);
      this.#floats = new Float32Array(buffer);
    }
    writeGemmCall(this.#words, this.#floats, at, call);
    if (call.parts > 1) pool!.run(at, kernels.gemm_blocks(at), work, () => kernels.gemm(at, 0, scratch));
    else kernels.gemm(at, 0, scratch);
  }
}

let current: Runtime | undefined;
let pending: Promise<void> | undefined;
/** The options of the init() call that made `current` (or is making it). */
let first: SettledOptions | undefined;

/**
 * Where each entry point finds its kernels when `init` is not given `wasm` (files
 * beside the code, or embedded bytes), and how it runs GEMM workers, if it can.
 */
export interface KernelLocator {
  wasm(simd: SimdLevel, threaded: boolean): WasmSource;
  workers?: ThreadSupport;
}

/**
 * Compiles and instantiates the kernels, found by `locate` unless options.wasm says.
 * Later calls with the same options return the same promise; after shutdown(), they
 * start the workers again on the same memory (every layer survives). Later calls with
 * other options reject, naming the option: one page or process has one runtime.
 * Rejects with a clear Error where WebAssembly SIMD is missing or the .wasm cannot be
 * loaded (and may then be called again, with any options).
 */
export function initWith(options: InitOptions, locate: KernelLocator): Promise<void> {
  const asked = settleOptions(options ?? {});
  if (first) {
    const mismatch = optionMismatch(first, asked, current);
    if (mismatch) return Promise.reject(mismatch);
  }
  first ??= asked;
  pending ??= current ? restart(current) : start(asked, locate);
  return pending;
}

function start(options: SettledOptions, locate: KernelLocator): Promise<void> {
  return instantiate(options, locate).then(
    (runtime) => { current = runtime; },
    (error: unknown) => { pending = undefined; first = undefined; throw error; },
  );
}

/** Starts again the workers shutdown() ended; on failure this thread carries on alone, and init() may try again. */
function restart(runtime: Runtime): Promise<void> {
  if (!runtime.workersStopped) return Promise.resolve();
  return runtime.restartWorkers().catch((error: unknown) => { pending = undefined; throw error; });
}

/**
 * The options of an init() call with their defaults filled in, but 'auto' kept: two
 * calls are the same when these are, whatever 'auto' resolved to. The rule is about
 * what the caller wrote, so that it does not depend on the machine: init() then
 * init({ simd: 'relaxed' }) is a mismatch even where 'auto' chose 'relaxed'.
 */
interface SettledOptions {
  simd: SimdLevel | 'auto';
  threads: number | 'auto';
  wasm: WasmSource | undefined;
}

function settleOptions({ simd = 'auto', threads = 1, wasm }: InitOptions): SettledOptions {
  return { simd, threads, wasm };
}

/** Why `asked` differs from the options of the first call, naming the option; null when they agree. */
function optionMismatch(running: SettledOptions, asked: SettledOptions, runtime: Runtime | undefined): Error | null {
  for (const name of ['simd', 'threads', 'wasm'] as const) {
    const [want, got] = [running[name], asked[name]];
    if (name === 'wasm' ? sameSource(want, got) : want === got) continue;
    const resolved = runtime && want === 'auto' ? ` (running ${showOption(runtime.info[name as 'simd' | 'threads'])})` : '';
    return new Error(
      `init: options.${name} differs from the first init(): expected ${showOption(want)}${resolved}, got ${showOption(got)} ` +
      '(one runtime per page or process)',
    );
  }
  return null;
}

/** The same object, or URLs and strings of the same text: what init() would load again. */
function sameSource(a: unknown, b: unknown): boolean {
  const isLocation = (source: unknown) => typeof source === 'string' || source instanceof URL;
  return a === b || (isLocation(a) && isLocation(b) && String(a) === String(b));
}

function showOption(value: unknown): string {
  if (value === undefined) return 'none';
  return typeof value === 'string' || value instanceof URL ? `'${String(value)}'` : describe(value);
}

async function instantiate({ simd, wasm, threads }: SettledOptions, locate: KernelLocator): Promise<Runtime> {
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
  const { count, note } = threadCount(threads, locate);
  const threaded = count > 1;
  const module = await compileKernels(wasm ?? locate.wasm(level, threaded));
  const memory = threaded
    ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const version = kernels.ABI_VERSION?.value;
  if (version !== ABI_VERSION) {
    throw new Error(
      `simd-linear: the .wasm speaks ABI version ${String(version)} but this JavaScript expects ${ABI_VERSION}: ` +
      'the two come from different builds (rebuild, or serve the .wasm shipped with this version)',
    );
  }
  const runtime = new Runtime(kernels, memory);
  if (threaded) await runtime.startWorkers({ size: count - 1, module, support: locate.workers! });
  if (note) runtime.info.threadsNote = note;
  return runtime;
}

/** How many threads to run for `threads`, and why fewer, if so. */
function threadCount(threads: number | 'auto', locate: KernelLocator): { count: number; note?: string } {
  if (threads !== 'auto') checkSize('init', 'options.threads', threads);
  const cores = threads === 'auto' ? hardwareThreads() : threads;
  if (cores === 1) return { count: 1 };
  const missing =
    typeof SharedArrayBuffer !== 'function' || globalThis.crossOriginIsolated === false
      ? 'shared memory is unavailable: serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (COOP/COEP) to make it cross-origin isolated'
      : !locate.workers
        ? 'this entry point runs on one thread (simd-linear/inline embeds no threads build): import simd-linear'
        : null;
  if (!missing) return { count: cores };
  if (threads === 'auto') return { count: 1, note: missing };
  throw new Error(`init: threads: ${threads} needs ${missing}`);
}

function hardwareThreads(): number {
  const os = globalThis.process?.getBuiltinModule?.('node:os');
  return Math.max(1, os?.availableParallelism?.() ?? globalThis.navigator?.hardwareConcurrency ?? 1);
}

/**
 * Ends the worker threads started by init({ threads }), so that Node can exit; large
 * products then run on this thread. Does nothing without workers. A later init(),
 * with the same options, starts them again; every layer stays valid throughout.
 */
export function shutdown(): void {
  if (!current) return;
  const hadWorkers = current.pool !== null || current.workersStopped;
  current.stopWorkers();
  if (hadWorkers) pending = undefined; // the next init() restarts the workers
}

/** The initialised runtime; throws, naming `where`, before `init()` has finished. */
export function runtime(where: string): Runtime {
  if (!current) throw new Error(`${where}: simd-linear is not initialised: call \`await init()\` first`);
  return current;
}

/** Which build runs and how it is blocked: a copy, which the caller may change freely. */
export function backendInfo(): BackendInfo {
  const { tile, blocks, ...rest } = runtime('backendInfo').info;
  return { ...rest, tile: { ...tile }, blocks: { ...blocks } };
}

/** The module's memory size and the bytes currently allocated in it, to make leaks visible. */
export function memoryStats(): { memoryBytes: number; liveBytes: number } {
  const { heap } = runtime('memoryStats');
  return { memoryBytes: heap.memory.buffer.byteLength, liveBytes: heap.liveBytes };
}
