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

  constructor(
    private readonly runtime: Runtime, private readonly size: number, private readonly module: WasmModule,
    private readonly spawn: WorkerFactory, private readonly script?: URL,
  ) {}

  /** Starts the workers (again, after `stop`). */
  async start(): Promise<void> {
    this.#started = true;
    const generation = ++this.#generation;
    const { runtime, size } = this;
    const area = (this.#area ??= allocatePoolArea(runtime.heap, size, runtime.kernels.gemm_scratch_bytes()));
    const pool = await Pool.start(size, this.module, runtime.heap, area, (onMessage, onExit) => this.spawn(onMessage, onExit, this.script));
    if (generation !== this.#generation) {
      pool.stop(); // shutdown() was called while the workers were starting
      return;
    }
    runtime.pool = pool;
    runtime.info.threads = size + 1;
  }

  /** True when the workers were started once and are stopped now. */
  get stopped(): boolean {
    return this.#started && this.runtime.pool === null;
  }

  /** Ends the workers; large products run on the main thread until they start again. */
  stop(): void {
    this.#generation++;
    const { runtime } = this;
    const pool = runtime.pool;
    if (!pool) return;
    // A worker given up on mid-call may still write the area: leave it to that worker.
    if (pool.abandonedWork) this.#area = null;
    pool.stop();
    runtime.pool = null;
    runtime.info.threads = 1;
  }
}
