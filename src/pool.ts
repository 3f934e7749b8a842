// The main thread's side of the GEMM workers: starting them, handing each a block
// of a call's output, waiting for them, and stopping them.
import { CALL_FIELDS, splitCall, type GemmCall, type SplitRules } from './gemm-call.js';
import type { Heap } from './heap.js';
import { SLOT_WORDS, SPIN_CHECKS, State } from './pool-protocol.js';

/** What the pool needs of a worker: Node's worker_threads.Worker and the browser's Worker both fit. */
interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node only: lets the process exit while the worker waits for work. */
  unref?(): void;
}

/** Makes a worker running dist/worker.js, reporting its messages and its exit. */
export type WorkerFactory = (onMessage: (data: { ready?: boolean; error?: string }) => void, onExit: (why: string) => void) => WorkerHandle;

/** Below this many multiply-adds a call stays on one thread: with both threads spinning between calls, two
 *  threads were already 1.5× faster at 16×64×128 (131,072) and slower at 8×64×64 (bench/threads.ts). */
export const PARALLEL_THRESHOLD = 1 << 18;

export class Pool {
  readonly #workers: WorkerHandle[] = [];
  readonly #scratch: number[] = [];
  readonly #words: Int32Array;
  readonly #floats: Float32Array;
  readonly #control: number;
  /** Why the pool cannot be used any more (a worker failed or exited), or null. */
  #broken: string | null = null;
  #mainShareFailureForTesting: Error | null = null;

  private constructor(readonly size: number, private readonly heap: Heap, scratchBytes: number) {
    this.#control = heap.alloc(4 * SLOT_WORDS * size);
    this.#words = new Int32Array(heap.memory.buffer);
    this.#floats = new Float32Array(heap.memory.buffer);
    this.#words.fill(State.Idle, this.#control / 4, this.#control / 4 + SLOT_WORDS * size);
    for (let i = 0; i < size; i++) this.#scratch.push(heap.alloc(scratchBytes));
  }

  /** Starts `size` workers on the module and shared memory; resolves when all are ready. */
  static async start(size: number, module: WebAssembly.Module, heap: Heap, scratchBytes: number, spawn: WorkerFactory): Promise<Pool> {
    const pool = new Pool(size, heap, scratchBytes);
    try {
      await Promise.all(Array.from({ length: size }, (_, slot) => new Promise<void>((resolve, reject) => {
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
        worker.postMessage({ module, memory: heap.memory, control: pool.#control, slot, scratch: pool.#scratch[slot] });
      })));
    } catch (error) {
      pool.stop();
      throw error;
    }
    // Ready workers only wait for calls: they must not keep Node running.
    for (const worker of pool.#workers) worker.unref?.();
    return pool;
  }

  /**
   * Runs `call` split over the workers and the calling thread (which computes the
   * first block with `runHere`). Throws, never hangs, if a worker has failed.
   */
  run(call: GemmCall, rules: SplitRules, runHere: (call: GemmCall) => void): void {
    if (this.#broken) throw new Error(`simd-linear: the thread pool is unusable: ${this.#broken}; call shutdown() and init() again`);
    const [mine, ...theirs] = splitCall(call, this.size + 1, rules);
    theirs.forEach((part, slot) => this.#post(slot, part));
    let hereFailed = true;
    try {
      this.#runHere(mine, runHere);
      hereFailed = false;
    } finally {
      // Even when this thread's share failed: a block left running would answer the
      // next call with its "done", and write staging memory the caller is about to free.
      this.#awaitAll(theirs.length, call, hereFailed);
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
    for (let slot = 0; slot < this.#workers.length; slot++) {
      Atomics.store(this.#words, this.#base(slot), State.Stop);
      Atomics.notify(this.#words, this.#base(slot));
      this.#workers[slot].terminate();
    }
  }

  #base(slot: number): number {
    return this.#control / 4 + slot * SLOT_WORDS;
  }

  #runHere(mine: GemmCall, runHere: (call: GemmCall) => void): void {
    const failure = this.#mainShareFailureForTesting;
    if (failure) {
      this.#mainShareFailureForTesting = null;
      throw failure;
    }
    runHere(mine);
  }

  /**
   * Waits for the first `count` slots, every one of them even after one fails; throws
   * the first failure unless `quiet` (an error of this thread's share is already on its way).
   */
  #awaitAll(count: number, call: GemmCall, quiet: boolean): void {
    // Seconds a worker may take before it is presumed dead: generous (1 GFLOP/s) plus 10.
    const deadline = performance.now() + 10_000 + (2 * call.m * call.n * call.k) / 1e6;
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

  #post(slot: number, call: GemmCall): void {
    const base = this.#base(slot);
    CALL_FIELDS.forEach((field, i) => {
      if (field === 'slope') this.#floats[base + 1 + i] = call.slope;
      else this.#words[base + 1 + i] = call[field];
    });
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
