// The control block shared by the main thread and the GEMM workers: one slot of
// SLOT_WORDS int32 words per worker, the first its state, then a GemmCall.

export const SLOT_WORDS = 32;

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
