// Where a GEMM call is written for the kernels: one descriptor in the module's memory,
// laid out as scripts/abi.mjs says (writeGemmCall is generated from it). Every thread
// reads the same descriptor; the kernels split it among them (assembly/threads.ts).
import { GEMM_CALL_BYTES, writeGemmCall, type GemmCall } from './abi.generated.js';
import type { Heap } from './heap.js';

export type { GemmCall };

export class CallDescriptor {
  /** Byte address of the descriptor. */
  readonly at: number;
  #words: Int32Array;
  #floats: Float32Array;

  constructor(private readonly heap: Heap) {
    this.at = heap.alloc(GEMM_CALL_BYTES);
    this.#words = new Int32Array(heap.memory.buffer);
    this.#floats = new Float32Array(heap.memory.buffer);
  }

  /** Writes `call` and returns its address. */
  write(call: GemmCall): number {
    const buffer = this.heap.memory.buffer;
    if (this.#words.buffer !== buffer) {
      // The memory grew since: views of the old buffer are detached (or too short).
      this.#words = new Int32Array(buffer);
      this.#floats = new Float32Array(buffer);
    }
    writeGemmCall(this.#words, this.#floats, this.at, call);
    return this.at;
  }
}
