// The main thread's side of the GEMM workers: starting them, handing each a block
// of a call's output, waiting for them, and stopping them.
import type { WasmModule } from './globals.js';
import type { Heap } from './heap.js';
import type { Runtime, WorkerControl } from './runtime.js';
import { CALL_WORD, EPOCH_WORD, PART_WORD, SLOT_WORDS, SPIN_CHECKS, State } from './pool-protocol.js';

/** What the pool needs of a worker: Node's worker_threads.Worker and the browser's Worker both fit. */
interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node only: lets the process exit while the worker waits for work. */
  unref?(): void;
}

/** Makes a worker running `script` (by default dist/worker.js), reporting its messages and its exit. */
export type WorkerFactory = (
  onMessage: (data: { ready?: boolean; error?: string }) => void,
  onExit: (why: string) => void,
  script?: URL,
) => WorkerHandle;

// Where bench/threads.ts and earlier readers look for it.
export { PARALLEL_THRESHOLD } from './pool-protocol.js';

/**
 * What the runtime needs to run workers: given by the entry points that can (init.ts),
 * so that the single-threaded /inline entry does not carry this module.
 */
export interface ThreadSupport {
  /** How many threads to run for init's options.threads (checked), and why fewer, if so. */
  count(threads: unknown): { count: number; note?: string };
  /** The workers of `runtime` (`size` beside this thread, each instantiating `module`), not started yet. */
  workers(runtime: Runtime, size: number, module: WasmModule, script?: URL): WorkerControl;
}

/**
 * The pool's blocks in the heap: the control slots and each worker's packing scratch.
 * Kept by the runtime across shutdown() and init(), so that restarting the workers
 * allocates nothing; `epoch` tells the workers of one start from those of another.
 */
export interface PoolArea {
  readonly control: number;
  readonly scratch: readonly number[];
  epoch: number;
}

/** Allocates the blocks of a pool of `size` workers. */
export function allocatePoolArea(heap: Heap, size: number, scratchBytes: number): PoolArea {
  const control = heap.alloc(4 * SLOT_WORDS * size);
  const scratch = Array.from({ length: size }, () => heap.alloc(scratchBytes));
  return { control, scratch, epoch: 0 };
}

export class Pool {
  readonly #workers: WorkerHandle[] = [];
  readonly #words: Int32Array;
  readonly #epoch: number;
  /** Why the pool cannot be used any more (a worker failed or exited), or null. */
  #broken: string | null = null;
  /** A worker gave up on may still be writing its block, its scratch and its slot. */
  #abandonedWork = false;
  #mainShareFailureForTesting: Error | null = null;

  private constructor(readonly size: number, private readonly heap: Heap, private readonly area: PoolArea) {
    this.#words = new Int32Array(heap.memory.buffer);
    this.#epoch = ++area.epoch;
    for (let slot = 0; slot < size; slot++) {
      // The epoch first: a worker of an earlier start that sees the new state sees it too, and exits.
      Atomics.store(this.#words, this.#base(slot) + EPOCH_WORD, this.#epoch);
      Atomics.store(this.#words, this.#base(slot), State.Idle);
    }
  }

  /**
   * How long a worker may take to answer its start before init() gives up on it: a script
   * that loads but is not simd-linear's worker (a wrong options.worker) would never answer.
   */
  static startupMs = 30_000;

  /** Starts `size` workers on the module and shared memory, in `area`; resolves when all are ready. */
  static async start(size: number, module: WasmModule, heap: Heap, area: PoolArea, spawn: WorkerFactory): Promise<Pool> {
    const pool = new Pool(size, heap, area);
    const timers: ReturnType<typeof setTimeout>[] = [];
    try {
      await Promise.all(Array.from({ length: size }, (_, slot) => new Promise<void>((resolve, reject) => {
        timers.push(setTimeout(() => {
          pool.#broken ??= `worker ${slot + 1} did not answer within ${Pool.startupMs / 1000} s of starting (is options.worker simd-linear's worker?)`;
          reject(new Error(`simd-linear: ${pool.#broken}`));
        }, Pool.startupMs));
        const worker = spawn(
          (data) => {
            if (data.ready) resolve();
            if (data.error) {
              pool.#broken ??= `worker ${slot + 1} failed: ${data.error}`;
              reject(new Error(`simd-linear: ${pool.#broken}`));
            }
          },
          (why) => {
            pool.#broken ??= `worker ${slot + 1} exited (${why})`;
            reject(new Error(`simd-linear: ${pool.#broken}`));
          },
        );
        pool.#workers.push(worker);
        worker.postMessage({
          module, memory: heap.memory, control: area.control, slot, scratch: area.scratch[slot], epoch: pool.#epoch,
        });
      })));
    } catch (error) {
      pool.stop();
      throw error;
    } finally {
      timers.forEach(clearTimeout);
    }
    // Ready workers only wait for calls: they must not keep Node running.
    for (const worker of pool.#workers) worker.unref?.();
    return pool;
  }

  /**
   * True once a worker was given up on in the middle of a call: it may still write
   * its slot and scratch, so a later pool must not reuse this one's area.
   */
  get abandonedWork(): boolean {
    return this.#abandonedWork;
  }

  /**
   * Runs the `blocks` blocks of the call whose descriptor is at `call` (written for
   * size + 1 parts): blocks 1… on the workers, block 0 on the calling thread with
   * `runHere`. `work`: its multiply-adds. Throws, never hangs, if a worker has failed.
   */
  run(call: number, blocks: number, work: number, runHere: () => void): void {
    if (this.#broken) throw new Error(`simd-linear: the thread pool is unusable: ${this.#broken}; call shutdown() and init() again`);
    const theirs = Math.min(blocks, this.size + 1) - 1;
    for (let slot = 0; slot < theirs; slot++) this.#post(slot, call, slot + 1);
    let hereFailed = true;
    try {
      this.#runHere(runHere);
      hereFailed = false;
    } finally {
      // Even when this thread's share failed: a block left running would answer the
      // next call with its "done", and write staging memory the caller is about to free.
      this.#awaitAll(theirs, work, hereFailed);
    }
  }

  /** Makes the next call's share on this thread throw `error` before computing: for the tests of failure handling. */
  failMainShareForTesting(error: Error): void {
    this.#mainShareFailureForTesting = error;
  }

  /** Ends one worker abruptly, as a crash would: for the tests of failure handling. */
  killForTesting(slot: number): void {
    this.#workers[slot].terminate();
  }

  /** Tells every worker to stop and ends them. */
  stop(): void {
    this.#broken ??= 'the pool was shut down';
    // A later start owns the slots once it has taken a newer epoch: leave them to it.
    const ownsSlots = this.area.epoch === this.#epoch;
    for (let slot = 0; slot < this.#workers.length; slot++) {
      if (ownsSlots) {
        Atomics.store(this.#words, this.#base(slot), State.Stop);
        Atomics.notify(this.#words, this.#base(slot));
      }
      this.#workers[slot].terminate();
    }
  }

  #base(slot: number): number {
    return this.area.control / 4 + slot * SLOT_WORDS;
  }

  #runHere(runHere: () => void): void {
    const failure = this.#mainShareFailureForTesting;
    if (failure) {
      this.#mainShareFailureForTesting = null;
      throw failure;
    }
    runHere();
  }

  /**
   * Waits for the first `count` slots, every one of them even after one fails; throws
   * the first failure unless `quiet` (an error of this thread's share is already on its way).
   */
  #awaitAll(count: number, work: number, quiet: boolean): void {
    // Seconds a worker may take before it is presumed dead: generous (1 GFLOP/s) plus 10.
    const deadline = performance.now() + 10_000 + (2 * work) / 1e6;
    let failure: unknown = null;
    for (let slot = 0; slot < count; slot++) {
      try {
        this.#await(slot, deadline);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure && !quiet) throw failure;
  }

  #post(slot: number, call: number, part: number): void {
    const base = this.#base(slot);
    this.#words[base + CALL_WORD] = call;
    this.#words[base + PART_WORD] = part;
    Atomics.store(this.#words, base, State.Posted);
    Atomics.notify(this.#words, base);
  }

  #await(slot: number, deadline: number): void {
    const base = this.#base(slot);
    for (let spins = 0; ; spins++) {
      const state = Atomics.load(this.#words, base);
      if (state === State.Done) {
        Atomics.store(this.#words, base, State.Idle);
        return;
      }
      if (state === State.Failed) {
        this.#broken ??= `worker ${slot + 1} failed during a call`;
        throw new Error(`simd-linear: worker ${slot + 1} failed during a call`);
      }
      if (spins < SPIN_CHECKS) continue; // a call's blocks finish close together: spin first, cheaply
      if (performance.now() > deadline) {
        this.#broken ??= `worker ${slot + 1} did not finish its part of a call`;
        this.#abandonedWork = true;
        throw new Error(`simd-linear: worker ${slot + 1} did not finish its part of a call`);
      }
      waitBriefly(this.#words, base, state);
    }
  }
}

/** Sleeps until the word changes or 50 ms pass; spins where blocking is not allowed (a page's main thread). */
function waitBriefly(words: Int32Array, index: number, value: number): void {
  try {
    Atomics.wait(words, index, value, 50);
  } catch {
    // Atomics.wait throws on a browser's main thread: poll instead.
  }
}
