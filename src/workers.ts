// The GEMM workers of the runtime across its life: started by init({ threads }), ended by
// shutdown(), started again by the next init() on the same memory and the same blocks.
// Only the default entry has threads, so only it carries this module (init.ts).
import type { WasmModule } from './globals.js';
import { allocatePoolArea, Pool, type PoolArea, type WorkerFactory } from './pool.js';
import type { Runtime, WorkerControl } from './runtime.js';

export class Workers implements WorkerControl {
  #area: PoolArea | null = null;
  /** Counts starts and stops: a start that a stop overtook discards its pool. */
  #generation = 0;
  #started = false;

  readonly #runtime: Runtime;
  readonly #size: number;
  /** A pool of the workers over the area (which start() makes first). */
  readonly #startPool: () => Promise<Pool>;

  constructor(runtime: Runtime, size: number, module: WasmModule, spawn: WorkerFactory, script?: URL) {
    this.#runtime = runtime;
    this.#size = size;
    this.#startPool = () => Pool.start(size, module, runtime.heap, this.#area!, (onMessage, onExit) => spawn(onMessage, onExit, script));
  }

  /** Starts the workers (again, after `stop`). */
  async start(): Promise<void> {
    this.#started = true;
    const generation = ++this.#generation;
    const runtime = this.#runtime, size = this.#size;
    this.#area ??= allocatePoolArea(runtime.heap, size, runtime.kernels.gemm_scratch_bytes());
    const pool = await this.#startPool();
    if (generation !== this.#generation) {
      pool.stop(); // shutdown() was called while the workers were starting
      return;
    }
    runtime.pool = pool;
    runtime.info.threads = size + 1;
  }

  /** True when the workers were started once and are stopped now. */
  get stopped(): boolean {
    return this.#started && this.#runtime.pool === null;
  }

  /** Ends the workers; large products run on the main thread until they start again. */
  stop(): void {
    this.#generation++;
    const runtime = this.#runtime;
    const pool = runtime.pool;
    if (!pool) return;
    // A worker given up on mid-call may still write the area: leave it to that worker.
    if (pool.abandonedWork) this.#area = null;
    pool.stop();
    runtime.pool = null;
    runtime.info.threads = 1;
  }
}
