// The instantiated kernels and the heap they work in, and the host side of their ABI
// (the GEMM descriptor, the workers sharing a call): one per page or process, made by
// `init()` (startup.ts), reached by everything else through `runtime()`.
import type { WasmMemory } from './globals.js';
import type { Epilogue, Kernels } from './abi.js';
import { GEMM_CALL_BYTES, WeightFormat, writeGemmCall, type GemmCall } from './abi.generated.js';
import { alignUp, Heap } from './heap.js';
import type { Pool } from './pool.js';
import { PARALLEL_THRESHOLD } from './pool-protocol.js';
import { hasExactFusedDot, type SimdLevel } from './loader.js';

export type { Epilogue, Kernels };

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

/** The runtime's workers as init() and shutdown() drive them (src/workers.ts, for the entries with threads). */
export interface WorkerControl {
  start(): Promise<void>;
  stop(): void;
  /** Started once, and stopped now. */
  readonly stopped: boolean;
}

/** B as a packer left it (`packWeights`): its layout (a WeightFormat), where it is, and int8's column scales. */
export interface PackedB {
  format: number;
  at: number;
  /** int8: n floats (readable to a whole panel), else 0. */
  scales: number;
}

/** The width of the panels weights are packed in (NR); int8 column scales are padded to it. */
const PANEL = 8;

/** int8 products take depth in pairs: quantized rows are k rounded up to even long. */
export const pairedDepth = (k: number) => k + (k & 1);

export class Runtime {
  readonly heap: Heap;
  /** Packing scratch of the GEMM on this thread. */
  readonly scratch: number;
  readonly info: BackendInfo;
  /** The workers sharing large products, or null for this thread alone. */
  pool: Pool | null = null;
  /** What starts and stops them, once init({ threads }) made them. */
  workers: WorkerControl | null = null;
  /** Multiply-adds from which a product is shared with the workers. */
  parallelThreshold = PARALLEL_THRESHOLD;

  /** Where this thread writes each GEMM call for the kernels (and the workers), and views to write it through. */
  readonly #call: number;
  #words: Int32Array;
  #floats: Float32Array;
  /** GemmCall.fusedDot: whether this engine's fused int8 dot product is exact. */
  readonly #fusedDot: number;

  constructor(readonly kernels: Kernels, memory: WasmMemory) {
    this.heap = new Heap(memory, kernels.heap_base());
    this.scratch = this.heap.alloc(kernels.gemm_scratch_bytes());
    this.info = {
      simd: kernels.SIMD_LEVEL.value === 2 ? 'relaxed' : 'fixed',
      threads: 1,
      tile: { rows: kernels.TILE_ROWS.value, cols: kernels.TILE_COLS.value },
      blocks: { depth: kernels.BLOCK_DEPTH.value, rows: kernels.BLOCK_ROWS.value, cols: kernels.BLOCK_COLS.value },
    };
    this.#fusedDot = this.info.simd === 'relaxed' && hasExactFusedDot() ? 1 : 0;
    this.#call = this.heap.alloc(GEMM_CALL_BYTES);
    this.#words = new Int32Array(memory.buffer);
    this.#floats = new Float32Array(memory.buffer);
  }

  /**
   * C (m×n, row stride ldc) = beta·C + bias + op(A)·op(B), with op(A)(i, p) =
   * A[i·rsA + p·csA] and op(B)(p, j) = B[p·rsB + j·csB]. bias: 0 for none. beta: a
   * number, or true for 1 (accumulate) and false for 0 (C only written, never read).
   */
  gemm(
    m: number, n: number, k: number,
    a: number, rsA: number, csA: number,
    b: number, rsB: number, csB: number,
    c: number, ldc: number, beta: number | boolean, bias = 0, epilogue?: Epilogue,
  ): void {
    this.#run({
      m, n, k, a, rsA, csA, b, rsB, csB, packedB: 0, scaleA: 0, scaleB: 0, fusedDot: 0, c, ldc, beta: Number(beta), bias,
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

  /** Bytes `packWeights` writes for a k×n B in `format` (int8: its scales too). */
  packedWeightBytes(format: number, k: number, n: number): number {
    const { kernels } = this;
    if (format === WeightFormat.packedBf16) return kernels.packed_b_bf16_bytes(k, n);
    if (format === WeightFormat.packedInt8) return alignUp(kernels.packed_b_int8_bytes(k, n)) + 4 * Math.ceil(n / PANEL) * PANEL;
    return this.packedBBytes(k, n);
  }

  /** Packs op(B) as `packB` does, in `format`, into packedWeightBytes(format, k, n) at `dst`. */
  packWeights(format: number, k: number, n: number, b: number, rsB: number, csB: number, dst: number): PackedB {
    const { kernels } = this;
    if (format === WeightFormat.packedBf16) kernels.pack_b_bf16(k, n, b, rsB, csB, dst);
    else if (format === WeightFormat.packedInt8) {
      const scales = dst + alignUp(kernels.packed_b_int8_bytes(k, n));
      this.heap.f32(scales, Math.ceil(n / PANEL) * PANEL).fill(0); // the padding is read, never used
      kernels.pack_b_int8(k, n, b, rsB, csB, dst, scales);
      return { format, at: dst, scales };
    } else kernels.pack_b(k, n, b, rsB, csB, dst);
    return { format, at: dst, scales: 0 };
  }

  /** Bytes `quantizeRows` writes for m rows of depth k: int16 rows of even length, then m scales. */
  quantizedRowsBytes(m: number, k: number): number {
    return alignUp(2 * m * pairedDepth(k)) + 4 * m;
  }

  /**
   * Quantizes op(A) (m×k) at `dst` for an int8 `gemmPackedB`, as rows of
   * pairedDepth(k) int16s; returns where the rows' scales are.
   */
  quantizeRows(m: number, k: number, a: number, rsA: number, csA: number, dst: number): number {
    const scales = dst + alignUp(2 * m * pairedDepth(k));
    this.kernels.quantize_rows(m, k, a, rsA, csA, dst, scales);
    return scales;
  }

  /**
   * `gemm` with B packed by `packB` (an address) or `packWeights`: nothing of B is
   * packed per call. int8 B takes A as `quantizeRows` left it (rsA its stride, csA 1)
   * and its scales at scaleA.
   */
  gemmPackedB(
    m: number, n: number, k: number,
    a: number, rsA: number, csA: number, b: number | PackedB,
    c: number, ldc: number, beta: number | boolean, bias = 0, epilogue?: Epilogue, scaleA = 0,
  ): void {
    const packed = typeof b === 'number' ? null : b;
    this.#run({
      m, n, k, a, rsA, csA, b: packed ? packed.at : (b as number), rsB: 0, csB: 0,
      packedB: packed ? packed.format : WeightFormat.packedF32, scaleA, scaleB: packed ? packed.scales : 0, fusedDot: this.#fusedDot,
      c, ldc, beta: Number(beta), bias,
      epilogue: epilogue?.kind ?? 0, slope: epilogue?.slope ?? 0, y: epilogue?.y ?? 0, parts: 1,
    });
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

/** Makes `rt` the runtime every call reaches (init does, once). */
export function setRuntime(rt: Runtime): void {
  current = rt;
}

/** The runtime, or undefined before init() has finished. */
export function currentRuntime(): Runtime | undefined {
  return current;
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
