// The control block shared by the main thread and the GEMM workers: one slot of
// SLOT_WORDS int32 words per worker: its state, the epoch of the workers that may
// serve it, the address of the call's descriptor and which block of it to compute.

export const SLOT_WORDS = 32;

/** Word of a slot holding its state. */
export const STATE_WORD = 0;
/**
 * Word of a slot holding the epoch of the pool that owns it. A pool started again on
 * the same control block (shutdown() then init()) takes a new epoch, so that a worker
 * of an earlier pool not yet terminated exits instead of running a later pool's call.
 */
export const EPOCH_WORD = 1;
/** Word of a slot holding the byte address of the GEMM call descriptor (Runtime writes it: src/runtime.ts). */
export const CALL_WORD = 2;
/** Word of a slot holding the block of the call the worker computes (the kernels derive its range). */
export const PART_WORD = 3;

export const State = {
  Idle: 0,
  /** The main thread wrote a call: the worker runs it. */
  Posted: 1,
  Done: 2,
  Failed: 3,
  /** The pool is shutting down: the worker exits its loop. */
  Stop: 4,
} as const;

/** Checks of a slot's state before a thread sleeps on it: roughly 50 µs of spinning. */
export const SPIN_CHECKS = 20_000;

/** Below this many multiply-adds a call stays on one thread: with both threads spinning between calls, two
 *  threads were already 1.5× faster at 16×64×128 (131,072) and slower at 8×64×64 (bench/threads.ts). */
export const PARALLEL_THRESHOLD = 1 << 18;
